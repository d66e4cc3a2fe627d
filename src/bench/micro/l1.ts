/**
 * Layer-1 micro-benchmark: nanoseconds per path with ~100 realistic rules, compiled once.
 * Cold: every path is new to the matcher (memo misses, evictions included). Warm: a working set
 * seen again and again, as a busy workspace's hot files are. Prints nothing; the runner reports.
 */
import { compileRules, parseRules, type RuleSet } from '../../core/classify/rules.js';

/** A realistic mix: extensions, base names, directory names, anchored and deep globs. */
const RULE_LINES = [
  // extensions and suffixes
  ...['swp', 'swo', 'swn', 'bak', 'orig', 'rej', 'tmp', 'temp', 'log', 'pyc', 'pyo', 'class', 'o', 'so', 'a', 'obj', 'exe',
    'dll', 'dylib', 'tsbuildinfo', 'crdownload', 'part', 'kate-swp', 'lock', 'pid', 'sock', 'cache', 'dump', 'prof', 'trace',
    'out', 'err', 'sqlite-journal', 'db-wal', 'db-shm', 'iml', 'suo', 'user', 'map', 'min.js'].map((e) => `BLOCK:*.${e}:ext ${e}`),
  'BLOCK:*~:backup', 'BLOCK:*___jb_tmp___:jetbrains', 'BLOCK:*___jb_old___:jetbrains',
  // base names and prefixes
  ...['.DS_Store', 'Thumbs.db', 'ehthumbs.db', 'desktop.ini', '.directory', '4913', '.eslintcache', '.coverage', 'npm-debug.log',
    'yarn-error.log', '.netrc', 'core'].map((n) => `BLOCK:${n}:name ${n}`),
  'BLOCK:.#*:emacs lock', 'BLOCK:._*:resource fork', 'BLOCK:.goutputstream-*:gedit', 'BLOCK:#*#:emacs autosave',
  'BLOCK:*.log.[0-9]*:rotated', 'BLOCK:.~lock.*#:libreoffice',
  // directory names at any depth
  ...['node_modules', 'bower_components', '.venv', 'venv', '__pycache__', '.pytest_cache', '.mypy_cache', '.ruff_cache', '.tox',
    'dist', 'build', 'target', '.next', '.nuxt', '.svelte-kit', '.turbo', '.cache', '.parcel-cache', '.gradle', 'coverage',
    '.nyc_output', 'htmlcov', '.terraform', '.idea'].map((d) => `BLOCK:${d}/:dir ${d}`),
  // anchored and deep globs (the claude-workspace layout and friends)
  'BLOCK:.claude/autonomous/service-status.json:status',
  'BLOCK:.claude/memory/enhanced-context.json:context',
  'BLOCK:.claude/intelligence/**/*.log:intelligence logs',
  'BLOCK:logs/**/*.log:system logs',
  'BLOCK:.claude/sync-cache/:sync cache',
  'BLOCK:out/generated/:generated',
  'ALLOW:scripts/**/*.sh:scripts',
  'ALLOW:docs/**/*.md:docs',
  'ALLOW:projects/**:projects',
  'ALLOW:/CLAUDE.md:main config',
  'ALLOW:src/**/*.{ts,tsx}:sources',
  'ALLOW:test/**/*.test.ts:tests',
  'ANALYZE:.claude/contexts/**:contexts',
  'ANALYZE:.claude/decisions/**:decisions',
  'ANALYZE:**/*.{json,yml,yaml}:data files',
  'BLOCK:**/fixtures/*/snapshots/**:snapshots',
  'BLOCK:packages/*/lib/**:package builds',
  'ALLOW:packages/*/src/**:package sources',
  'BLOCK:*.generated.*:generated',
  'ANALYZE:notes/**/*.[mM][dD]:notes',
];

const DIRS = [
  'src', 'src/components', 'src/components/button', 'src/lib/util', 'src/server/routes', 'test', 'test/unit', 'docs', 'docs/guide',
  'scripts', 'scripts/ops', 'projects/alpha', 'projects/beta/src', '.claude/contexts', '.claude/decisions', '.claude/autonomous',
  '.claude/intelligence/daily', 'logs', 'logs/2025', 'node_modules/react/cjs', 'node_modules/@types/node', 'packages/core/src',
  'packages/core/lib', 'notes', 'notes/2025/06', 'build', 'dist/assets', '.venv/lib/python3.12', 'app/__pycache__', 'assets/img', '',
];
const NAMES = ['index', 'main', 'utils', 'README', 'config', 'service-status', 'project-x', 'deploy', 'button', 'a', 'notes',
  'CLAUDE', 'data', 'schema', 'handler', 'types', 'model', 'chapter-1', 'todo', 'enhanced-context'];
const EXTS = ['.ts', '.tsx', '.js', '.md', '.json', '.log', '.sh', '.py', '.pyc', '.swp', '.txt', '.yml', '.png', '', '.css', '.tmp'];

/** Deterministic PRNG (mulberry32) so that every run measures the same paths. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` distinct workspace-relative paths shaped like a real tree. */
export function realisticPaths(n: number, seed = 1): string[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const out = new Set<string>();
  while (out.size < n) {
    const dir = pick(DIRS);
    const name = `${r() < 0.3 ? '.' : ''}${pick(NAMES)}${r() < 0.6 ? `-${Math.floor(r() * 100_000)}` : ''}${pick(EXTS)}`;
    const sub = r() < 0.3 ? `${pick(['x', 'deep', 'v2', 'nested/more'])}/` : '';
    out.add(dir ? `${dir}/${sub}${name}` : `${sub}${name}`);
  }
  // Flat strings, as a watcher adapter hands over (template concatenation leaves ropes behind).
  return JSON.parse(JSON.stringify([...out])) as string[];
}

export function realisticRules(n = 100): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const base = RULE_LINES[i % RULE_LINES.length]!;
    // Past the list's end, vary the literal so that extra rules are distinct but of the same kinds.
    if (i < RULE_LINES.length) {
      out.push(base);
      continue;
    }
    const [action, glob, desc] = base.split(':') as [string, string, string];
    const n = Math.floor(i / RULE_LINES.length);
    out.push(`${action}:${glob.replace(/[A-Za-z_]+/, (w) => `${w}${n}`)}:${desc} (${n})`);
  }
  return out;
}

function timeRound(rs: RuleSet, paths: readonly string[], repeat: number): { ns: number; sink: number } {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < repeat; k++) for (const p of paths) sink += rs.match(p).action.length;
  const ns = Number(process.hrtime.bigint() - t0);
  return { ns: ns / (paths.length * repeat), sink };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * @example const { l1NsPerPath, l1NsPerPathWarm } = await measureL1(); // both in ns per path
 */
export async function measureL1(opts: { rules?: number; paths?: number } = {}): Promise<{
  l1NsPerPath: number;
  l1NsPerPathWarm: number;
  rules: number;
}> {
  const nRules = opts.rules ?? 100;
  const nPaths = opts.paths ?? 100_000;
  const rules = parseRules(realisticRules(nRules).join('\n'), 'bench');
  const rounds = 7;
  const cold: number[] = [];
  const warm: number[] = [];
  let sink = 0;
  // JIT warm-up on a separate set, so that round one does not pay for compilation.
  sink += timeRound(compileRules(rules, 'ANALYZE'), realisticPaths(20_000, 999), 1).sink;
  for (let round = 0; round < rounds; round++) {
    const paths = realisticPaths(nPaths, round + 1);
    // A fresh RuleSet each round: an empty memo, so every path is a miss.
    const c = timeRound(compileRules(rules, 'ANALYZE'), paths, 1);
    cold.push(c.ns);
    const hot = paths.slice(0, 1000);
    const rs = compileRules(rules, 'ANALYZE');
    timeRound(rs, hot, 1);
    const w = timeRound(rs, hot, 200);
    warm.push(w.ns);
    sink += c.sink + w.sink;
    await new Promise<void>((r) => setImmediate(r));
  }
  if (sink === 42) process.stdout.write('');
  return { l1NsPerPath: round1(median(cold)), l1NsPerPathWarm: round1(median(warm)), rules: rules.length };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
