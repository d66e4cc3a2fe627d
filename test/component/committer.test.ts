import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCommitter, RECHECK_MS, type CommitterDeps } from '../../src/daemon/commit/committer.js';
import { ManualClock, flushMicrotasks } from '../helpers/clock.js';
import { mergeConfig } from '../../src/core/config/schema.js';
import type { ConfigInput } from '../../src/core/config/schema.js';
import type { FileStat, Fs, Git, GitStep, Logger, RepoBlock } from '../../src/ports/index.js';
import type { GitRunner } from '../../src/ports/index.js';
import type { Decision } from '../../src/core/decision.js';

const ROOT = '/ws';
const GITDIR = '/ws/.git';
const PRIVATE_KEY = '-----BEGIN RSA PRIVATE KEY-----\nMIIEow' + 'A'.repeat(64) + '\n-----END RSA PRIVATE KEY-----\n';

type Entry = { kind: 'file' | 'fifo' | 'symlink' | 'dir'; content: Buffer };

/** In-memory file system keyed by absolute path. */
class FakeFs implements Fs {
  files = new Map<string, Entry>();
  free = 10 * 1024 ** 3;
  removed: string[] = [];
  constructor() {
    this.files.set(ROOT, { kind: 'dir', content: Buffer.alloc(0) });
  }
  put(rel: string, content = 'x', kind: Entry['kind'] = 'file') {
    this.files.set(`${ROOT}/${rel}`, { kind, content: Buffer.from(content) });
  }
  del(rel: string) {
    this.files.delete(`${ROOT}/${rel}`);
  }
  async readFile(abs: string) {
    const e = this.files.get(abs);
    if (!e) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return e.content;
  }
  async stat(abs: string): Promise<FileStat | null> {
    const e = this.files.get(abs);
    if (!e) return null;
    return {
      size: e.content.length,
      mtimeMs: 0,
      isFile: e.kind === 'file',
      isDirectory: e.kind === 'dir',
      isSymlink: e.kind === 'symlink',
      isSpecial: e.kind === 'fifo',
    };
  }
  async writeFileAtomic(abs: string, data: string | Buffer) {
    this.files.set(abs, { kind: 'file', content: Buffer.from(data) });
  }
  async mkdirp() {}
  async remove(abs: string) {
    this.removed.push(abs);
    this.files.delete(abs);
  }
  async freeBytes() {
    return this.free;
  }
}

interface Failure {
  code: number | null;
  stderr: string;
  timedOut: boolean;
  stdout?: string;
}

/** A Git that records the steps it is given and keeps a tracked set; failures are scripted. */
class FakeGit implements Git {
  readonly root = ROOT;
  readonly gitDir = GITDIR;
  tracked_ = new Set<string>(['README.md']);
  steps: GitStep[] = [];
  commits: { sha: string; paths: string[]; message: string }[] = [];
  failures: Failure[] = [];
  block: RepoBlock | null = null;
  /** When set, the next commit step waits for this promise (to hold a commit in flight). */
  gate: Promise<void> | null = null;
  worktreeChecks = 0;
  /** Fail every `git notes` step (the commit's note), as a locked notes ref would. */
  failNotes = false;
  /** The person's index entries (what they staged by hand); read through `indexEntries`. */
  personIndex = new Map<string, { mode: string; oid: string }>();
  private runWaiters: (() => void)[] = [];
  constructor(private fs: FakeFs) {}

  /** Resolves at the next `run` call (make it before the action). */
  nextRun(): Promise<void> {
    return new Promise((r) => this.runWaiters.push(r));
  }
  /** The paths each `blocked()` was asked with. */
  blockedWith: string[][] = [];
  async blocked(paths?: readonly string[]) {
    this.blockedWith.push([...(paths ?? [])]);
    return this.block;
  }
  async status() {
    return [];
  }
  async ignored() {
    return new Set<string>();
  }
  async tracked(paths: string[]) {
    return new Set(paths.filter((p) => this.tracked_.has(p)));
  }
  async trackedCount() {
    return this.tracked_.size;
  }
  async indexEntries(paths: readonly string[]) {
    return new Map(paths.filter((p) => this.personIndex.has(p)).map((p) => [p, this.personIndex.get(p)!] as const));
  }
  async headBlob() {
    return null;
  }
  async headSha() {
    return this.commits.length ? this.commits[this.commits.length - 1]!.sha : null;
  }
  async run(steps: GitStep[]) {
    // The mass-deletion guard's work-tree count (`ls-files -c -d -t`): read-only, not a commit step.
    if (steps.length === 1 && steps[0]!.args[0] === 'ls-files' && steps[0]!.args.includes('-t')) {
      let out = '';
      for (const p of this.tracked_) {
        out += `H ${p}\0`;
        if (!(await this.fs.stat(`${ROOT}/${p}`))) out += `R ${p}\0`;
      }
      this.worktreeChecks++;
      return [{ stdout: out, stderr: '' }];
    }
    // The person's index and HEAD's entries for the batch (staged by hand? sparse?): read-only,
    // and this fake has no index of the person's, so nothing is staged and nothing hidden.
    if (steps.every((s) => (s.args[0] === 'ls-files' && s.args.includes('-s')) || s.args[0] === 'ls-tree')) {
      return steps.map(() => ({ stdout: '', stderr: '' }));
    }
    const ws = this.runWaiters;
    this.runWaiters = [];
    for (const w of ws) w();
    const out = [];
    for (const s of steps) {
      this.steps.push(s);
      const isCommit = s.args.includes('commit');
      if (isCommit && this.gate) {
        const g = this.gate;
        this.gate = null;
        await g;
      }
      if (this.failNotes && s.args[0] === 'notes') throw Object.assign(new Error('git failed'), { args: s.args, code: 128, stderr: 'fatal: cannot lock ref', timedOut: false });
      const f = this.failures.shift();
      if (f) throw Object.assign(new Error('git failed'), { args: s.args, ...f });
      const paths = String(s.stdin ?? '').split('\0').filter(Boolean);
      if (s.args[0] === 'add') for (const p of paths) this.tracked_.add(p);
      if (isCommit) {
        for (const p of paths) if (!(await this.fs.stat(`${ROOT}/${p}`))) this.tracked_.delete(p);
        const m = s.args[s.args.indexOf('-m') + 1]!;
        this.commits.push({ sha: `sha${this.commits.length + 1}`, paths, message: m });
      }
      out.push({ stdout: '', stderr: '' });
    }
    return out;
  }
  async log() {
    return [];
  }
  async objectFormat() {
    return 'sha1' as const;
  }
  raw: GitRunner = async (args) => {
    throw new Error(`this fake runs no raw git (${args.join(' ')})`);
  };
  async close() {}
}

interface Harness {
  clock: ManualClock;
  fs: FakeFs;
  git: FakeGit;
  logs: { level: string; msg: string; fields?: Record<string, unknown> }[];
  paused: { value: boolean };
  discarded: { paths: string[]; reason: string }[];
  committer: ReturnType<typeof createCommitter>;
}

function harness(cfg: ConfigInput = {}, extra: Partial<CommitterDeps> = {}): Harness {
  const clock = new ManualClock();
  const fs = new FakeFs();
  const git = new FakeGit(fs);
  const logs: Harness['logs'] = [];
  const logger: Logger = { log: (level, msg, fields) => logs.push({ level, msg, fields }) };
  const paused = { value: false };
  const discarded: Harness['discarded'] = [];
  const committer = createCommitter({
    git,
    fs,
    clock,
    scheduler: clock,
    logger,
    // Notes off unless a test turns them on: the fake's scripted failures are per step.
    config: mergeConfig({ ...cfg, commit: { notes: false, ...cfg.commit } }),
    root: ROOT,
    stateDir: `${GITDIR}/winnow`,
    isPaused: async () => paused.value,
    onDiscarded: (c) => discarded.push(c),
    random: () => 0,
    // The fake speaks `add -N` + `commit --only`; the index-plumbing path runs against real git in
    // test/integration/committer.test.ts.
    strategy: 'porcelain',
    ...extra,
  });
  return { clock, fs, git, logs, paused, discarded, committer };
}

test('single flight: what arrives during a commit forms one catch-up batch', async () => {
  const h = harness();
  h.fs.put('a.md');
  h.fs.put('b.md');
  h.fs.put('c.md');
  let release!: () => void;
  h.git.gate = new Promise((r) => (release = r));
  const running = h.git.nextRun();
  h.committer.submit(['a.md']);
  await running;
  await flushMicrotasks();
  h.committer.submit(['b.md']);
  h.committer.submit(['c.md', 'b.md']);
  assert.deepEqual(h.committer.status().inFlight, ['a.md']);
  assert.deepEqual(h.committer.status().queued, ['b.md', 'c.md']);
  assert.equal(h.git.commits.length, 0);
  const idle = h.committer.onIdle();
  release();
  await idle;
  assert.deepEqual(
    h.git.commits.map((c) => c.paths),
    [['a.md'], ['b.md', 'c.md']],
  );
  assert.equal(h.git.commits[1]!.message, 'winnow: b.md, c.md');
  assert.deepEqual(h.committer.status().queued, []);
  const commitLogs = h.logs.filter((l) => l.msg === 'commit');
  assert.equal(commitLogs.length, 2);
  assert.deepEqual(Object.keys(commitLogs[0]!.fields!).sort(), ['atMs', 'paths', 'sha', 'via']);
  assert.equal(commitLogs[0]!.fields!.via, 'porcelain', 'the log says which path made the commit');
  assert.equal(h.committer.status().lastCommits[0]!.sha, 'sha2');
});

test("the due batch's paths go to blocked(), so one read of the person's index answers both it and prepare", async () => {
  const h = harness();
  h.fs.put('a.md');
  h.fs.put('b.md');
  h.committer.submit(['a.md', 'b.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.git.blockedWith.map((p) => [...p].sort()), [['a.md', 'b.md']]);
  assert.deepEqual(h.git.commits.map((c) => c.paths), [['a.md', 'b.md']]);
});

test('new paths are added with intent-to-add; commit uses hooks-empty and --no-verify', async () => {
  const h = harness();
  h.fs.put('new.md');
  h.fs.put('README.md');
  h.committer.submit(['new.md', 'README.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.git.steps[0]!.args.slice(0, 2), ['add', '--intent-to-add']);
  assert.equal(h.git.steps[0]!.stdin, 'new.md\0');
  const commit = h.git.steps[1]!.args;
  assert.ok(commit.includes(`core.hooksPath=${GITDIR}/winnow/hooks-empty`));
  assert.ok(commit.includes('--only') && commit.includes('--no-verify'));
});

test('rate limit: a limited batch waits, says until when, and commits everything later', async () => {
  const h = harness({ rateLimit: { maxPerHour: 2, maxPerDay: 50 } });
  for (const p of ['a', 'b', 'c', 'd']) h.fs.put(p);
  h.committer.submit(['a']);
  await h.committer.onIdle();
  h.committer.submit(['b']);
  await h.committer.onIdle();
  const t = h.clock.now();
  h.committer.submit(['c']);
  await h.committer.onIdle();
  h.committer.submit(['d']);
  await h.committer.onIdle();
  assert.equal(h.git.commits.length, 2);
  const st = h.committer.status();
  assert.deepEqual(st.queued, ['c', 'd']);
  assert.equal(st.rateLimit.nextAt, t + 30 * 60_000);
  assert.equal(st.rateLimit.today, 2);
  assert.match(st.waiting!, /^rate limited until /);
  await h.clock.advance(30 * 60_000 - 1);
  assert.equal(h.git.commits.length, 2);
  await h.clock.advance(1);
  await h.committer.onIdle();
  assert.deepEqual(h.git.commits[2]!.paths, ['c', 'd']);
  assert.equal(h.committer.status().waiting, null);
});

test('breaker: opens after retry.attempts failures, pending stays, closes after a good trial', async () => {
  const h = harness({ retry: { attempts: 3, baseMs: 1000, maxMs: 10_000, breakerCooldownMs: 60_000 } });
  h.fs.put('a');
  const lock = { code: 128, stderr: "fatal: Unable to create '/ws/.git/index.lock': File exists.", timedOut: false };
  h.git.failures.push(lock, lock, lock, lock);
  h.committer.submit(['a']);
  await h.committer.onIdle();
  // random() = 0: equal jitter gives half the exponential step.
  assert.equal(h.committer.status().breaker.failures, 1);
  assert.match(h.committer.status().waiting!, /^retrying at /);
  await h.clock.advance(500);
  await h.committer.onIdle();
  assert.equal(h.committer.status().breaker.failures, 2);
  await h.clock.advance(1000);
  await h.committer.onIdle();
  let st = h.committer.status();
  assert.equal(st.breaker.open, true);
  assert.equal(st.breaker.until, h.clock.now() + 60_000);
  assert.match(st.breaker.lastError!, /lock/);
  assert.deepEqual(st.queued, ['a']);
  assert.match(st.waiting!, /^breaker open until/);
  assert.ok(h.logs.some((l) => l.level === 'warn' && l.msg.startsWith('commit failed')));
  // Half-open trial fails: open again for a full cooldown.
  await h.clock.advance(60_000);
  await h.committer.onIdle();
  st = h.committer.status();
  assert.equal(st.breaker.open, true);
  assert.equal(h.git.commits.length, 0);
  // Next trial succeeds: closed, committed.
  await h.clock.advance(60_000);
  await h.committer.onIdle();
  st = h.committer.status();
  assert.equal(st.breaker.open, false);
  assert.equal(st.breaker.failures, 0);
  assert.deepEqual(h.git.commits.map((c) => c.paths), [['a']]);
  assert.deepEqual(st.queued, []);
});

test('a fatal failure opens the breaker at once; nothing is dropped', async () => {
  const h = harness();
  h.fs.put('a');
  h.git.failures.push({ code: 128, stderr: 'fatal: bad object HEAD', timedOut: false });
  h.committer.submit(['a']);
  await h.committer.onIdle();
  const st = h.committer.status();
  assert.equal(st.breaker.open, true);
  assert.equal(st.breaker.lastError, 'bad object HEAD');
  assert.deepEqual(st.queued, ['a']);
});

test("a path staged by hand is committed once the person commits it, also after a pass that committed other paths", async () => {
  const h = harness();
  h.fs.put('mine.md', 'v3');
  h.fs.put('other.md');
  h.fs.files.set(`${GITDIR}/index`, { kind: 'file', content: Buffer.from('index with v2 staged') });
  h.git.personIndex.set('mine.md', { mode: '100644', oid: 'a'.repeat(40) });
  await h.committer.onIdle(); // the start-up pass (commit journal) is over
  // One batch: mine.md is left to the person, other.md is committed, and the pass ends there.
  h.committer.submit(['mine.md', 'other.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.git.commits.map((c) => c.paths), [['other.md']]);
  assert.ok(h.committer.status().held.some((x) => x.path === 'mine.md'));
  // The person commits what they staged: the index changes and holds HEAD's entry (none here).
  h.git.personIndex.delete('mine.md');
  h.fs.files.set(`${GITDIR}/index`, { kind: 'file', content: Buffer.from('index after their commit') });
  await h.clock.advance(RECHECK_MS);
  await h.committer.onIdle();
  assert.deepEqual(h.git.commits.map((c) => c.paths), [['other.md'], ['mine.md']], 'what is left in the work tree is committed');
});

test('pause: due paths wait while the signal is up and commit after kick()', async () => {
  const h = harness();
  h.fs.put('a');
  h.paused.value = true;
  h.committer.submit(['a']);
  await h.committer.onIdle();
  assert.match(h.committer.status().waiting!, /^paused/);
  await h.clock.advance(RECHECK_MS * 3);
  assert.equal(h.git.steps.length, 0);
  h.paused.value = false;
  h.committer.kick();
  await h.committer.onIdle();
  assert.equal(h.git.commits.length, 1);
  assert.equal(h.committer.status().waiting, null);
});

for (const block of ['merge', 'rebase', 'cherry-pick', 'revert', 'bisect', 'detached'] as RepoBlock[]) {
  test(`blocked: ${block} in progress → wait and say why; commit once it is over`, async () => {
    const h = harness();
    h.fs.put('a');
    h.git.block = block;
    h.committer.submit(['a']);
    await h.committer.onIdle();
    assert.match(h.committer.status().waiting!, new RegExp(block === 'detached' ? 'HEAD is detached' : `${block} is in progress`));
    assert.equal(h.git.steps.length, 0);
    h.git.block = null;
    await h.clock.advance(RECHECK_MS);
    await h.committer.onIdle();
    assert.equal(h.git.commits.length, 1);
  });
}

test('index.lock held by someone else: wait, never delete it, commit once it is gone', async () => {
  const h = harness();
  h.fs.put('a');
  h.fs.files.set(`${GITDIR}/index.lock`, { kind: 'file', content: Buffer.from('theirs') });
  h.committer.submit(['a']);
  await h.committer.onIdle();
  assert.match(h.committer.status().waiting!, /index\.lock exists/);
  await h.clock.advance(RECHECK_MS * 5);
  assert.equal(h.git.steps.length, 0);
  assert.ok(h.fs.files.has(`${GITDIR}/index.lock`));
  h.fs.files.delete(`${GITDIR}/index.lock`);
  await h.clock.advance(RECHECK_MS);
  await h.committer.onIdle();
  assert.equal(h.git.commits.length, 1);
  assert.deepEqual(h.fs.removed, []);
});

test('low disk: wait below health.minFreeBytes', async () => {
  const h = harness({ health: { minFreeBytes: 1000 } });
  h.fs.put('a');
  h.fs.free = 10;
  h.committer.submit(['a']);
  await h.committer.onIdle();
  assert.match(h.committer.status().waiting!, /^low disk/);
  h.fs.free = 10_000;
  await h.clock.advance(RECHECK_MS);
  await h.committer.onIdle();
  assert.equal(h.git.commits.length, 1);
});

test('secrets: matches are held and reported, the rest commits; a changed file is judged again', async () => {
  const h = harness();
  h.fs.put('.env', 'A=1');
  h.fs.put('notes.md', PRIVATE_KEY);
  h.fs.put('ok.md', 'fine');
  h.committer.submit(['.env', 'notes.md', 'ok.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.git.commits.map((c) => c.paths), [['ok.md']]);
  const held = h.committer.status().held;
  assert.deepEqual(held.map((x) => x.path).sort(), ['.env', 'notes.md']);
  assert.match(held.find((x) => x.path === '.env')!.reason, /^secret: file name \.env/);
  for (const s of h.git.steps) assert.ok(typeof s.stdin !== 'object' || Buffer.isBuffer(s.stdin), 'no stdin that comes later in this fake');
  for (const s of h.git.steps) assert.ok(!String(s.stdin ?? '').includes('.env') && !String(s.stdin ?? '').includes('notes.md'));
  h.fs.put('notes.md', 'key removed');
  h.committer.submit(['notes.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.git.commits[1]!.paths, ['notes.md']);
  assert.deepEqual(h.committer.status().held.map((x) => x.path), ['.env']);
});

test('secrets.allow lets a listed path through; secrets.enabled false skips the guard', async () => {
  const h = harness({ secrets: { allow: ['.env'] } });
  h.fs.put('.env', 'A=1');
  h.committer.submit(['.env']);
  await h.committer.onIdle();
  assert.equal(h.git.commits.length, 1);
  const h2 = harness({ secrets: { enabled: false } });
  h2.fs.put('id_rsa', PRIVATE_KEY);
  h2.committer.submit(['id_rsa']);
  await h2.committer.onIdle();
  assert.equal(h2.git.commits.length, 1);
});

test('mass deletion: a batch deleting more than half of the tracked files is held, the rest commits', async () => {
  const h = harness();
  const files = Array.from({ length: 10 }, (_, i) => `f${i}.md`);
  for (const f of files) h.git.tracked_.add(f);
  h.git.tracked_.delete('README.md');
  h.fs.put('f0.md', 'edited');
  h.fs.put('f1.md');
  h.fs.put('f2.md');
  h.fs.put('f3.md');
  // f4..f9 are gone from disk: 6 of 10.
  h.committer.submit(files);
  await h.committer.onIdle();
  assert.deepEqual(h.git.commits.map((c) => c.paths), [['f0.md', 'f1.md', 'f2.md', 'f3.md']]);
  const held = h.committer.status().held;
  assert.equal(held.length, 6);
  assert.match(held[0]!.reason, /^mass deletion: this batch would delete 6 of 10/);
  assert.equal(h.git.tracked_.size, 10);
});

test('a few deletions commit normally', async () => {
  const h = harness();
  for (const f of ['a', 'b', 'c']) h.git.tracked_.add(f);
  h.fs.put('a');
  h.fs.put('b');
  h.committer.submit(['c']);
  await h.committer.onIdle();
  assert.deepEqual(h.git.commits.map((c) => c.paths), [['c']]);
  assert.equal(h.git.tracked_.has('c'), false);
});

test('vanished temp file: dropped from the plan, no commit, no failure', async () => {
  const h = harness();
  h.fs.put('a.md');
  h.committer.submit(['.a.md.swp', 'a.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.git.commits.map((c) => c.paths), [['a.md']]);
  assert.deepEqual(h.discarded, [{ paths: ['.a.md.swp'], reason: 'vanished' }]);
  h.committer.submit(['4913']);
  await h.committer.onIdle();
  assert.equal(h.git.commits.length, 1);
  assert.equal(h.git.steps.length, 2);
  assert.equal(h.committer.status().breaker.failures, 0);
  assert.deepEqual(h.committer.status().queued, []);
});

test('a path that vanishes mid-commit: replan once without it', async () => {
  const h = harness();
  h.fs.put('a.md');
  h.fs.put('tmp.txt');
  h.git.failures.push({ code: 128, stderr: "fatal: pathspec 'tmp.txt' did not match any files", timedOut: false });
  const first = h.git.nextRun();
  h.committer.submit(['a.md', 'tmp.txt']);
  await first;
  h.fs.del('tmp.txt');
  await h.committer.onIdle();
  assert.deepEqual(h.git.commits.map((c) => c.paths), [['a.md']]);
  assert.equal(h.committer.status().breaker.failures, 0);
});

test('nothing to commit is not a failure', async () => {
  const h = harness();
  h.fs.put('README.md');
  h.git.failures.push({ code: 1, stderr: '', stdout: 'On branch main\nno changes added to commit\n', timedOut: false } as Failure);
  h.committer.submit(['README.md']);
  await h.committer.onIdle();
  const st = h.committer.status();
  assert.equal(st.breaker.failures, 0);
  assert.equal(st.rateLimit.today, 0);
  assert.deepEqual(st.queued, []);
  assert.deepEqual(h.discarded, [{ paths: ['README.md'], reason: 'unchanged' }]);
});

test('a commit hook that refuses silently (exit 1, no output) is a failure, never "nothing to commit"', async () => {
  const h = harness();
  h.fs.put('a');
  h.git.failures.push({ code: 1, stderr: '', timedOut: false });
  h.committer.submit(['a']);
  await h.committer.onIdle();
  const st = h.committer.status();
  assert.deepEqual(st.queued, ['a']);
  assert.equal(st.breaker.open, true);
  assert.deepEqual(h.discarded, []);
});

test('FIFOs are skipped and held with a reason; symlinks are committed as links without reading them', async () => {
  const h = harness();
  h.fs.put('pipe', '', 'fifo');
  h.fs.put('link', '/etc/passwd', 'symlink');
  let reads = 0;
  const read = h.fs.readFile.bind(h.fs);
  h.fs.readFile = async (abs) => {
    // Only the workspace's files count (the state dir's journal is read at start).
    if (!abs.startsWith(`${GITDIR}/`)) reads++;
    return read(abs);
  };
  h.committer.submit(['pipe', 'link']);
  await h.committer.onIdle();
  assert.deepEqual(h.git.commits.map((c) => c.paths), [['link']]);
  assert.match(h.committer.status().held[0]!.reason, /FIFO/);
  assert.equal(reads, 0);
});

test('close: finishes the batch in flight, later submits stay queued', async () => {
  const h = harness();
  h.fs.put('a');
  h.fs.put('b');
  let release!: () => void;
  h.git.gate = new Promise((r) => (release = r));
  const running = h.git.nextRun();
  h.committer.submit(['a']);
  await running;
  const closed = h.committer.close();
  h.committer.submit(['b']);
  release();
  await closed;
  assert.deepEqual(h.git.commits.map((c) => c.paths), [['a']]);
  assert.deepEqual(h.committer.status().queued, ['b']);
  assert.equal(h.clock.pendingTimers, 0);
});

test('idle committer holds no timer', async () => {
  const h = harness();
  h.fs.put('a');
  h.committer.submit(['a']);
  await h.committer.onIdle();
  assert.equal(h.clock.pendingTimers, 0);
});

test('onCommitted receives sha, paths, time and message', async () => {
  const got: unknown[] = [];
  const h = harness({}, { onCommitted: (c) => got.push(c) });
  h.fs.put('a');
  h.committer.submit(['a']);
  await h.committer.onIdle();
  assert.deepEqual(got, [{ sha: 'sha1', paths: ['a'], atMs: h.clock.now(), message: 'winnow: a' }]);
});

test('mass deletion across batches: a small batch is held when most tracked files are gone from the work tree', async () => {
  const h = harness();
  const files = Array.from({ length: 10 }, (_, i) => `f${i}.md`);
  for (const f of files) h.git.tracked_.add(f);
  h.fs.put('README.md');
  h.fs.put('f0.md', 'edited');
  for (const f of files.slice(1, 3)) h.fs.put(f);
  // f3..f9 are gone (7 of 11 tracked), but this batch names only two of them: each batch of an
  // `rm -rf` that arrives in pieces must be held, not just one that names most files.
  h.committer.submit(['f0.md', 'f3.md', 'f4.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.git.commits.map((c) => c.paths), [['f0.md']]);
  const held = h.committer.status().held;
  assert.deepEqual(held.map((x) => x.path).sort(), ['f3.md', 'f4.md']);
  assert.match(held[0]!.reason, /^mass deletion: 7 of 11 tracked files are missing from the work tree/);
  assert.equal(h.git.worktreeChecks, 1);
});

test('the work-tree check runs only for batches with deletions, and a few missing files do not hold them', async () => {
  const h = harness();
  for (const f of ['a', 'b', 'c', 'd', 'e']) h.git.tracked_.add(f);
  for (const f of ['README.md', 'a', 'b', 'c', 'd']) h.fs.put(f);
  h.committer.submit(['a']);
  await h.committer.onIdle();
  assert.equal(h.git.worktreeChecks, 0);
  h.committer.submit(['e']);
  await h.committer.onIdle();
  assert.equal(h.git.worktreeChecks, 1);
  assert.deepEqual(h.git.commits.map((c) => c.paths), [['a'], ['e']]);
  assert.deepEqual(h.committer.status().held, []);
});

test('commit.notes: after each commit, one note step with every path\'s deciding record; a failing note is logged, never a commit failure', async () => {
  const decisions: Record<string, Decision> = {
    'a.md': { path: 'a.md', decision: 'ALLOW', layer: 2, rule: null, reason: 'a person wrote it', evidence: [{ kind: 'fanotify', pid: 4242, command: 'vim', autonomous: false }] },
  };
  const h = harness({ commit: { notes: true } }, { decisionFor: (p) => decisions[p] });
  h.fs.put('a.md');
  h.fs.put('b.md');
  h.committer.submit(['a.md', 'b.md']);
  await h.committer.onIdle();
  const notes = h.git.steps.filter((s) => s.args[0] === 'notes');
  assert.equal(notes.length, 1);
  assert.deepEqual(notes[0]!.args, ['notes', '--ref=refs/notes/winnow', 'add', '-f', '-F', '-', 'sha1']);
  const lines = String(notes[0]!.stdin).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines[0]!.kind, 'commit');
  assert.deepEqual(lines.slice(1).map((l) => [l.path, l.layer, l.evidence ?? null]), [
    ['a.md', 2, 'fanotify: vim (pid 4242), not autonomous'],
    ['b.md', null, null],
  ]);
  // The note step fails: the commit stands, the failure is logged, the breaker stays closed.
  h.fs.put('c.md');
  h.git.failNotes = true;
  const before = h.git.commits.length;
  h.committer.submit(['c.md']);
  await h.committer.onIdle();
  assert.equal(h.git.commits.length, before + 1);
  assert.ok(h.logs.some((l) => l.msg === 'commit note not written'));
  assert.equal(h.committer.status().breaker.failures, 0);
});
