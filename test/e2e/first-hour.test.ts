// What a person meets in their first hour with winnow, each as it once went wrong (issue 12).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempRepo, GIT_ENV } from '../helpers/repo.js';
import { BIN, DaemonProcess, winnow, fastConfig, status } from '../helpers/daemon.js';
import { DAEMON_NODE_FLAGS } from '../../src/cli/daemon-flags.js';

/** The process is gone: no /proc entry, or a zombie waiting to be reaped (it holds nothing). */
async function gone(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

test('pause --for longer than pause.maxMs says it is capped, and by what', { timeout: 60_000 }, async () => {
  const repo = await tempRepo();
  try {
    const r = await winnow(['pause', repo.root, '--for', '2h'], repo.root);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /--for 2h0m is longer than pause\.maxMs \(5m0s\), so the pause lasts 5m0s/);
    assert.match(r.stderr, /paused for 5m0s/);
    const short = await winnow(['pause', repo.root, '--for', '90s'], repo.root);
    assert.doesNotMatch(short.stderr, /pause\.maxMs/, 'a pause within the cap says nothing about it');
    assert.match(short.stderr, /paused for 1m30s/);
  } finally {
    await repo.cleanup();
  }
});

test('a second start says "already running" once, without a doubled prefix', { timeout: 60_000 }, async () => {
  const repo = await tempRepo();
  const cfg = `${repo.root}.winnow.json`;
  await writeFile(cfg, fastConfig());
  const d = new DaemonProcess(repo.root, ['--config', cfg]);
  try {
    await d.ready();
    const r = await winnow(['start', repo.root, '--config', cfg], repo.root);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^winnow: already running on .* \(pid \d+, since .+\)\. Stop it with `winnow stop` first\.\n$/);
    assert.doesNotMatch(r.stderr, /winnow winnow/);
  } finally {
    await d.kill();
    await rm(cfg, { force: true });
    await repo.cleanup();
  }
});

test('stop returns only once the daemon process has exited', { timeout: 90_000 }, async () => {
  const repo = await tempRepo();
  const cfg = `${repo.root}.winnow.json`;
  // With fanotify (root), the fatrace child is stopped after the lock is released: that gap is
  // where "stopped" used to be printed while the daemon still ran.
  await writeFile(cfg, fastConfig({ autonomous: { fanotify: 'auto' } }));
  try {
    const s = await winnow(['start', repo.root, '--config', cfg, '--daemon'], repo.root);
    assert.equal(s.code, 0, s.stderr);
    const pid = Number((await status(repo.root)).pid);
    assert.ok(pid > 0 && !(await gone(pid)), `daemon pid ${pid} is running`);
    // The detached daemon runs with its V8 flags (cli/daemon-flags.ts), as the bin's shebang gives them.
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    for (const f of DAEMON_NODE_FLAGS) assert.ok(argv.includes(f), `${f} in ${argv.join(' ')}`);
    const r = await winnow(['stop', repo.root], repo.root);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`stopped \\(pid ${pid}\\)`));
    assert.ok(await gone(pid), `pid ${pid} still runs after "stopped"`);
  } finally {
    await winnow(['stop', repo.root], repo.root);
    await rm(cfg, { force: true });
    await repo.cleanup();
  }
});

test('DIR or --dir: filter test, exec and snapshot work from another directory', { timeout: 60_000 }, async () => {
  const repo = await tempRepo();
  const elsewhere = await mkdtemp(join(await realpath(tmpdir()), 'winnow-cwd-'));
  try {
    await repo.write('build.log', 'noise\n');
    const f = await winnow(['filter', 'test', '--dir', repo.root, 'build.log', '--json'], elsewhere);
    assert.equal(f.code, 0, f.stderr);
    assert.equal((JSON.parse(f.stdout) as { path: string; decision: string }).decision, 'BLOCK');
    // exec DIR -- CMD, the old exec --dir DIR -- CMD, and a DIR given twice differently.
    const e = await winnow(['exec', repo.root, '--', 'sh', '-c', 'exit 3'], elsewhere);
    assert.equal(e.code, 3, e.stderr);
    const eOld = await winnow(['exec', '--dir', repo.root, '--', 'true'], elsewhere);
    assert.equal(eOld.code, 0, eOld.stderr);
    const both = await winnow(['status', elsewhere, '--dir', repo.root], elsewhere);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /two workspaces/);
    const c = await winnow(['snapshot', 'create', repo.root, '--json'], elsewhere);
    assert.equal(c.code, 0, c.stderr);
    const id = (JSON.parse(c.stdout) as { id: string }).id;
    const l = await winnow(['snapshot', 'list', repo.root, '--json'], elsewhere);
    assert.equal(l.code, 0, l.stderr);
    assert.equal((JSON.parse(l.stdout) as { id: string }).id, id);
    const lOld = await winnow(['snapshot', 'list', '--dir', repo.root, '--json'], elsewhere);
    assert.equal(lOld.stdout, l.stdout);
  } finally {
    await rm(elsewhere, { recursive: true, force: true });
    await repo.cleanup();
  }
});

/** `winnow start` under a pseudo-terminal (util-linux `script`), its output as text. */
function startOnTty(root: string, extra: string[]) {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = [process.execPath, BIN, 'start', root, ...extra].map(q).join(' ');
  const child = spawn('script', ['-qefc', cmd, '/dev/null'], { cwd: root, env: GIT_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
  let text = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (b: Buffer) => {
    text += b.toString('utf8').replace(/\r/g, '');
    for (const w of [...waiters]) if (w.re.test(text)) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    exited,
    text: () => text,
    until: (re: RegExp) => (re.test(text) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ re, resolve }))),
  };
}

function hasScript(): Promise<boolean> {
  return new Promise((r) => execFile('script', ['--version'], (err) => r(!err)));
}

test('foreground start: readable lines on a terminal, JSON lines with --json or when piped', { timeout: 90_000 }, async (t) => {
  if (!(await hasScript())) {
    t.skip('util-linux `script` is missing: no pseudo-terminal to run start on');
    return;
  }
  const repo = await tempRepo();
  const cfg = `${repo.root}.winnow.json`;
  await writeFile(cfg, fastConfig());
  try {
    for (const json of [false, true]) {
      const run = startOnTty(repo.root, ['--config', cfg, ...(json ? ['--json'] : [])]);
      try {
        await run.until(json ? /"msg":"ready"/ : /ready: watching for changes/);
        await repo.write(`tty-${json}.md`, 'a person writes\n');
        await run.until(json ? new RegExp(`"msg":"decision".*tty-${json}\\.md`) : new RegExp(`ALLOW L\\d tty-${json}\\.md: `));
      } finally {
        await winnow(['stop', repo.root], repo.root);
        await run.exited;
      }
      const lines = run.text().split('\n').filter((l) => l.trim());
      if (json) assert.ok(lines.every((l) => l.startsWith('{')), `JSON lines only:\n${run.text()}`);
      else assert.ok(lines.every((l) => /^\d\d:\d\d:\d\d /.test(l)), `readable lines only:\n${run.text()}`);
    }
    // Piped (no terminal): JSON lines, which is what DaemonProcess parses.
    const d = new DaemonProcess(repo.root, ['--config', cfg]);
    try {
      await d.ready();
      assert.ok(d.stderrText.every((l) => l.startsWith('{')), d.stderrText.join('\n'));
    } finally {
      await d.kill();
    }
  } finally {
    await rm(cfg, { force: true });
    await repo.cleanup();
  }
});

test('an edited .winnow.json is not applied by the running daemon, and status says to restart', { timeout: 60_000 }, async () => {
  const repo = await tempRepo();
  await repo.write('.winnow.json', fastConfig());
  const d = new DaemonProcess(repo.root);
  try {
    await d.ready();
    assert.equal((await status(repo.root)).configChanged, null, 'nothing to say before an edit');
    const told = d.next((l) => /changed on disk; restart winnow to apply it/.test(l.msg));
    await repo.write('.winnow.json', fastConfig({ debounce: { defaultMs: 900, rules: [], maxMs: 2_000, maxWaitMs: 5_000 } }));
    await told;
    const st = await status(repo.root);
    assert.equal(st.configChanged?.file, join(repo.root, '.winnow.json'));
    const human = await winnow(['status', repo.root], repo.root);
    assert.match(human.stdout, /^config +.*\.winnow\.json changed .*after winnow started; restart to apply it/m);
  } finally {
    await d.kill();
    await repo.cleanup();
  }
});
