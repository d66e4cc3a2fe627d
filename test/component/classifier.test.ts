import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClassifier, type Classifier, type ClassifierDeps } from '../../src/daemon/classify/classifier.js';
import { finalizeDecision } from '../../src/core/classify/finalize.js';
import { createReactionState } from '../../src/core/classify/reaction.js';
import { compileRules, parseRules } from '../../src/core/classify/rules.js';
import { mergeConfig } from '../../src/core/config/schema.js';
import type { WatchEvent, EventSource } from '../../src/core/event.js';
import type { FileStat, Fs, Git, ProcInfo, ProcProbe, TraceState, WriteRecord, WriterTrace } from '../../src/ports/index.js';
import { ManualClock } from '../helpers/clock.js';

const ROOT = '/ws';

class FakeFs implements Fs {
  /** Stamps each file's mtime, as the kernel does on a write. */
  constructor(private readonly now: () => number = () => 0) {}
  files = new Map<string, { data: Buffer; kind?: 'dir' | 'fifo'; mtime: number }>();
  set(rel: string, data: string | object, kind?: 'dir' | 'fifo') {
    this.files.set(`${ROOT}/${rel}`, { data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)), ...(kind ? { kind } : {}), mtime: this.now() });
  }
  async readFile(abs: string) {
    const f = this.files.get(abs);
    if (!f) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return f.data;
  }
  stats: string[] = [];
  async stat(abs: string): Promise<FileStat | null> {
    this.stats.push(abs);
    const f = this.files.get(abs);
    if (!f) return null;
    return { size: f.data.length, mtimeMs: f.mtime, isFile: !f.kind, isDirectory: f.kind === 'dir', isSymlink: false, isSpecial: f.kind === 'fifo' };
  }
  async writeFileAtomic() {}
  async mkdirp() {}
  async remove() {}
  async freeBytes() {
    return 1e12;
  }
}

class FakeGit implements Partial<Git> {
  head = new Map<string, { id: string; content: Buffer }>();
  ignoredSet = new Set<string>();
  ignoredCalls: string[][] = [];
  setHead(rel: string, data: string | object) {
    const content = Buffer.from(typeof data === 'string' ? data : JSON.stringify(data));
    this.head.set(rel, { id: `blob-${rel}-${content.length}`, content });
  }
  async ignored(paths: string[]) {
    this.ignoredCalls.push(paths);
    return new Set(paths.filter((p) => this.ignoredSet.has(p)));
  }
  async headBlob(path: string) {
    return this.head.get(path) ?? null;
  }
}

class FakeTrace implements WriterTrace {
  st: TraceState = { mode: 'active' };
  records: WriteRecord[] = [];
  flushes = 0;
  async start() {
    return this.st;
  }
  state() {
    return this.st;
  }
  writersOf(path: string, since: number) {
    return this.records.filter((r) => r.path === path && r.at >= since);
  }
  async flush() {
    this.flushes++;
  }
  stopped = false;
  async stop() {
    this.stopped = true;
  }
}

class FakeProcs {
  table: ProcInfo[] = [
    { pid: 1, ppid: 0, name: 'init', cmd: '/sbin/init' },
    { pid: 10, ppid: 1, name: 'bash', cmd: 'bash' },
    { pid: 11, ppid: 10, name: 'vim', cmd: 'vim notes.md' },
    { pid: 20, ppid: 1, name: 'node', cmd: 'node /opt/claude-autonomous.mjs' },
    { pid: 21, ppid: 20, name: 'sh', cmd: 'sh -c ./sync.sh' },
  ];
  lists = 0;
  refreshes = 0;
  async list() {
    this.lists++;
    return this.table;
  }
  async refresh() {
    this.refreshes++;
    return (this.table = [...this.table]);
  }
}

class FakeProbe implements ProcProbe {
  open = new Map<number, string[]>();
  counters = new Map<number, number>();
  started = new Map<number, number>();
  reads = 0;
  async startedAt(pid: number) {
    return this.started.get(pid) ?? 0;
  }
  async openFiles(pid: number) {
    return this.open.get(pid) ?? [];
  }
  async writeCounter(pid: number): Promise<number | null | 'gone'> {
    this.reads++;
    return this.counters.get(pid) ?? 0;
  }
}

function setup(opts: { rules?: string; trace?: boolean; config?: object; execRoots?: number[]; ticker?: boolean } = {}) {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const fs = new FakeFs(() => clock.now());
  const git = new FakeGit();
  const trace = opts.trace ? new FakeTrace() : null;
  const procs = new FakeProcs();
  const probe = new FakeProbe();
  const logs: { level: string; msg: string }[] = [];
  const deps: ClassifierDeps = {
    root: ROOT,
    stateDir: `${ROOT}/.git/winnow`,
    config: mergeConfig({ autonomous: { correlationWindowMs: 2000 }, ...opts.config }),
    rules: compileRules(parseRules(opts.rules ?? 'BLOCK:*.log:Logs\nALLOW:docs/**:User docs\n', 'test.rules'), 'ANALYZE'),
    git: git as unknown as Git,
    fs,
    clock,
    logger: { log: (level, msg) => logs.push({ level, msg }) },
    processes: procs,
    trace,
    probe,
    execRoots: async () => opts.execRoots ?? [],
    selfPid: 999,
    ...(opts.ticker ? { scheduler: clock } : {}),
  };
  const c = createClassifier(deps);
  const ev = (path: string, source?: EventSource, kind: WatchEvent['kind'] = 'update'): WatchEvent => ({
    path,
    kind,
    stream: 'all',
    priority: 'normal',
    at: clock.now(),
    ...(source ? { source } : {}),
  });
  return { c, clock, fs, git, trace, procs, probe, logs, ev };
}

test('layer 1: rules, git-ignored beats ALLOW, .git, one check-ignore per call, order kept', async () => {
  const { c, git, fs, procs, ev } = setup();
  git.ignoredSet.add('docs/build/out.md');
  fs.set('notes.md', 'x');
  const paths = ['a.log', 'docs/x.md', 'docs/build/out.md', '.git/index', 'notes.md'];
  const ds = await c.classify(paths.map((p) => ev(p)));
  assert.deepEqual(ds.map((d) => d.path), paths);
  assert.deepEqual(ds.map((d) => [d.decision, d.layer, d.rule]), [
    ['BLOCK', 1, 'BLOCK:*.log:Logs'],
    ['ALLOW', 1, 'ALLOW:docs/**:User docs'],
    ['BLOCK', 1, 'builtin:git-ignored'],
    ['BLOCK', 1, 'builtin:git-dir'],
    ['ALLOW', 3, null],
  ]);
  assert.equal(git.ignoredCalls.length, 1);
  assert.deepEqual(git.ignoredCalls[0], ['docs/x.md', 'docs/build/out.md', 'notes.md']);
  for (const d of ds) assert.equal(typeof d.timings?.l1Ns, 'number');
  assert.equal(typeof ds[4]!.timings?.l3Us, 'number');
  assert.equal(procs.lists, 1);
});

test('no process table and no git call when everything is decided by rules', async () => {
  const { c, git, procs, ev } = setup();
  const ds = await c.classify([ev('x.log'), ev('y.log')]);
  assert.deepEqual(ds.map((d) => d.decision), ['BLOCK', 'BLOCK']);
  assert.equal(procs.lists, 0);
  assert.equal(git.ignoredCalls.length, 0);
});

test('the process table is read while check-ignore runs, not after it, when a path may reach layer 2', async () => {
  const { c, fs, git, procs, ev } = setup();
  fs.set('notes.md', 'my words');
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let listsDuringCheckIgnore = -1;
  const real = git.ignored.bind(git);
  git.ignored = async (paths: string[]) => {
    await gate;
    listsDuringCheckIgnore = procs.lists;
    return real(paths);
  };
  const done = c.classify([ev('notes.md')]);
  await new Promise((r) => setImmediate(r));
  release();
  const [d] = await done;
  assert.equal(d!.decision, 'ALLOW');
  assert.equal(listsDuringCheckIgnore, 1, 'ps-list was started before check-ignore answered');
  // A batch layer 1 settles alone (a rule BLOCKs it, or an ALLOW rule) starts no read.
  const before = procs.lists;
  await c.classify([ev('debug.log'), ev('docs/guide.md')]);
  assert.equal(procs.lists, before);
});

test('special files and directories are blocked at layer 1, never read', async () => {
  const { c, fs, ev } = setup();
  fs.set('pipe', '', 'fifo');
  fs.set('sub', '', 'dir');
  fs.set('vendor/lib', '', 'dir');
  fs.set('vendor/lib/.git', '', 'dir');
  const ds = await c.classify([ev('pipe'), ev('sub'), ev('vendor/lib')]);
  assert.deepEqual(ds.map((d) => d.rule), ['builtin:special-file', 'builtin:directory', 'builtin:nested-repo']);
  assert.ok(ds.every((d) => d.decision === 'BLOCK' && d.layer === 1));
});

test('nested repositories: every path inside one is BLOCKed at layer 1, naming it, and never reaches git', async () => {
  const { c, fs, git, procs, ev } = setup({ rules: 'ALLOW:docs/**:User docs\n' });
  fs.set('vendor/lib', '', 'dir');
  fs.set('vendor/lib/.git', '', 'dir');
  fs.set('vendor/lib/src/a.md', 'x');
  fs.set('mods/sub/.git', 'gitdir: ../../.git/modules/sub\n'); // a submodule's .git is a file
  fs.set('mods/sub/b.md', 'y');
  fs.set('docs/proj/.git', '', 'dir');
  fs.set('docs/proj/c.md', 'z');
  fs.set('notes.md', 'mine');
  fs.set('vendor/other.md', 'mine too');
  const paths = ['vendor/lib/src/a.md', 'mods/sub/b.md', 'docs/proj/c.md', 'vendor/lib/gone.md', 'notes.md', 'vendor/other.md'];
  const ds = await c.classify(paths.map((p) => ev(p, undefined, p.endsWith('gone.md') ? 'delete' : 'update')));
  assert.deepEqual(ds.map((d) => [d.path, d.decision, d.layer, d.rule]), [
    ['vendor/lib/src/a.md', 'BLOCK', 1, 'builtin:nested-repo'],
    ['mods/sub/b.md', 'BLOCK', 1, 'builtin:nested-repo'],
    // Nested beats an ALLOW rule: git cannot commit it whatever the rules say.
    ['docs/proj/c.md', 'BLOCK', 1, 'builtin:nested-repo'],
    ['vendor/lib/gone.md', 'BLOCK', 1, 'builtin:nested-repo'],
    ['notes.md', 'ALLOW', 3, null],
    ['vendor/other.md', 'ALLOW', 3, null],
  ]);
  assert.match(ds[0]!.reason, /nested git repository vendor\/lib\//);
  assert.match(ds[1]!.reason, /mods\/sub\//);
  assert.deepEqual(git.ignoredCalls, [['notes.md', 'vendor/other.md']]);
  assert.equal(procs.lists, 1);
});

test('nested repositories: one lstat per directory per TTL, and a .git made or removed later is seen once it expires', async () => {
  const { c, fs, clock, ev } = setup();
  for (let i = 0; i < 40; i++) fs.set(`proj/src/f${i}.md`, `v${i}`);
  const gitStats = () => fs.stats.filter((p) => p.endsWith('/.git')).length;
  let ds = await c.classify(Array.from({ length: 40 }, (_, i) => ev(`proj/src/f${i}.md`)));
  assert.ok(ds.every((d) => d.decision === 'ALLOW'));
  assert.equal(gitStats(), 2, 'proj/.git and proj/src/.git, once each');
  // `git init proj`: no event reaches the classifier (.git is not watched).
  fs.set('proj/.git', '', 'dir');
  await clock.advance(2_000);
  ds = await c.classify([ev('proj/src/f1.md')]);
  assert.equal(ds[0]!.rule, 'builtin:nested-repo');
  assert.match(ds[0]!.reason, /proj\//);
  fs.files.delete('/ws/proj/.git');
  await clock.advance(2_000);
  ds = await c.classify([ev('proj/src/f1.md')]);
  assert.equal(ds[0]!.decision, 'ALLOW');
});

test('one lstat per changed path per call: layer 1\'s file kind, layer 2\'s write time and size share it', async () => {
  // Without the trace, with an agent running: each path reaches rung 4 (write time and size).
  const { c, fs, probe, clock, ev } = setup();
  probe.counters.set(20, 100_000);
  for (let i = 0; i < 5; i++) fs.set(`n${i}.md`, `note ${i}`);
  await c.classify([ev('n0.md')]);
  await clock.advance(1_000);
  probe.counters.set(20, 100_000 + 4096);
  for (let i = 0; i < 5; i++) fs.set(`n${i}.md`, `note ${i} again`);
  fs.stats.length = 0;
  const ds = await c.classify(Array.from({ length: 5 }, (_, i) => ev(`n${i}.md`)));
  assert.ok(ds.every((d) => d.timings?.l2Us !== undefined), 'every path reached layer 2');
  const fileStats = fs.stats.filter((p) => !p.endsWith('/.git'));
  assert.deepEqual([...fileStats].sort(), Array.from({ length: 5 }, (_, i) => `/ws/n${i}.md`));
});

test('layer 3: volatile-only JSON is BLOCKed, a real change ALLOWed, unchanged BLOCKed', async () => {
  const { c, fs, git, ev } = setup();
  git.setHead('s.json', { n: 1, timestamp: '2026-05-01T00:00:00Z' });
  git.setHead('t.json', { n: 1 });
  git.setHead('same.md', 'x');
  fs.set('s.json', { n: 1, timestamp: '2026-06-01T00:00:00Z' });
  fs.set('t.json', { n: 2 });
  fs.set('same.md', 'x');
  const ds = await c.classify([ev('s.json'), ev('t.json'), ev('same.md'), ev('gone.md', undefined, 'delete')]);
  assert.deepEqual(ds.map((d) => [d.decision, d.layer]), [['BLOCK', 3], ['ALLOW', 3], ['BLOCK', 3], ['BLOCK', 3]]);
  assert.match(ds[0]!.reason, /only volatile fields changed: timestamp/);
  assert.match(ds[2]!.reason, /unchanged/);
});

test('fanotify: autonomous writer BLOCKs at layer 2 after a flush; a human writer goes on to layer 3', async () => {
  const { c, fs, trace, clock, ev } = setup({ trace: true });
  fs.set('agent.md', 'a');
  fs.set('mine.md', 'b');
  trace!.records.push({ pid: 20, command: 'node', path: 'agent.md', at: clock.now() - 5 });
  trace!.records.push({ pid: 11, command: 'vim', path: 'mine.md', at: clock.now() - 5 });
  const ds = await c.classify([ev('agent.md'), ev('mine.md')]);
  assert.equal(trace!.flushes, 1);
  assert.deepEqual(ds.map((d) => [d.decision, d.layer]), [['BLOCK', 2], ['ALLOW', 3]]);
  assert.match(ds[0]!.reason, /autonomous process 20/);
  assert.deepEqual(ds[0]!.evidence![0], { kind: 'fanotify', pid: 20, command: 'node /opt/claude-autonomous.mjs', autonomous: true, detail: 'command matches /claude-autonomous/' });
  assert.equal(ds[1]!.evidence![0]!.autonomous, false);
  assert.match(ds[1]!.reason, /not autonomous/);
});

test('fanotify: a human writer is not overridden by an autonomous open handle', async () => {
  const { c, fs, trace, probe, clock, ev } = setup({ trace: true });
  fs.set('mine.md', 'b');
  probe.open.set(20, ['mine.md']);
  trace!.records.push({ pid: 11, command: 'vim', path: 'mine.md', at: clock.now() });
  const [d] = await c.classify([ev('mine.md')]);
  assert.equal(d!.decision, 'ALLOW');
});

test('fanotify: a writer that exited is traced through its recorded ancestors; an unknown PID refreshes the table once', async () => {
  const { c, fs, trace, procs, clock, ev } = setup({ trace: true });
  fs.set('x.md', 'x');
  fs.set('y.md', 'y');
  trace!.records.push({ pid: 999, command: 'sed', path: 'x.md', at: clock.now(), ancestors: [21, 20, 1] });
  trace!.records.push({ pid: 998, command: 'cp', path: 'y.md', at: clock.now(), ancestors: [10, 1] });
  const ds = await c.classify([ev('x.md'), ev('y.md')]);
  assert.equal(procs.refreshes, 1);
  assert.deepEqual(ds.map((d) => d.decision), ['BLOCK', 'ALLOW']);
  assert.match(ds[0]!.evidence![0]!.detail!, /descendant of autonomous 21/);
});

test('fanotify: a one-shot autonomous job that exited with its child is known by the command lines the lineage recorded; an unmatched chain stays human', async () => {
  const { c, fs, trace, clock, ev } = setup({ trace: true });
  fs.set('report.md', 'r');
  fs.set('mine.md', 'm');
  // Neither 77 nor 78 is in the process table any more.
  trace!.records.push({ pid: 997, command: 'sh -c echo > report.md', path: 'report.md', at: clock.now(), ancestors: [77, 1], ancestorCommands: ['bash claude-autonomous job.sh', '/sbin/init'] });
  trace!.records.push({ pid: 996, command: 'cp a mine.md', path: 'mine.md', at: clock.now(), ancestors: [78, 1], ancestorCommands: ['bash', '/sbin/init'] });
  const ds = await c.classify([ev('report.md'), ev('mine.md')]);
  assert.deepEqual(ds.map((d) => [d.decision, d.layer]), [['BLOCK', 2], ['ALLOW', 3]]);
  assert.equal(ds[0]!.evidence![0]!.detail, 'descendant of exited autonomous 77, command matches /claude-autonomous/');
  assert.equal(ds[1]!.evidence![0]!.autonomous, false);
});

test('trace unavailable: open handles and temporal evidence still work, modes say so', async () => {
  const { c, fs, trace, probe, ev } = setup({ trace: true });
  trace!.st = { mode: 'unavailable', reason: 'fatrace is not installed' };
  fs.set('held.json', { a: 1 });
  probe.open.set(21, ['held.json']);
  const [d] = await c.classify([ev('held.json')]);
  assert.equal(trace!.flushes, 0);
  assert.equal(d!.decision, 'BLOCK');
  assert.equal(d!.layer, 2);
  assert.equal(d!.evidence![0]!.kind, 'open-handle');
  assert.match(d!.reason, /held open by autonomous process 21/);
  const { trace: tr, lineage, processes, ...modes } = c.evidenceModes();
  assert.deepEqual(modes, { fanotify: 'unavailable', fanotifyReason: 'fatrace is not installed', openHandle: true, temporal: true, processTable: true });
  // No process tracer here: tracing is off and nothing is traced.
  assert.equal(tr?.mode, 'off');
  assert.equal(lineage, false);
  assert.deepEqual(processes, []);
});

test('winnow exec roots make their tree autonomous', async () => {
  const { c, fs, probe, procs, ev } = setup({ execRoots: [10] });
  fs.set('tool-out.md', 'x');
  probe.open.set(11, ['tool-out.md']);
  const [d] = await c.classify([ev('tool-out.md')]);
  assert.equal(d!.decision, 'BLOCK');
  assert.match(d!.reason, /11/);
  assert.ok(procs.lists >= 1);
});

test('temporal: unexplained autonomous write bytes BLOCK; bytes explained by the agent\'s other file leave a person\'s edit alone', async () => {
  const { c, fs, probe, clock, ev } = setup();
  fs.set('warmup.md', 'w');
  probe.counters.set(20, 100_000);
  await c.classify([ev('warmup.md')]); // first sample: the baseline
  await clock.advance(5_000);
  // The agent writes one small file (one page): only that file can be its.
  probe.counters.set(20, 100_000 + 4096);
  fs.set('agent-state.md', 'x'.repeat(300));
  await clock.advance(50); // the watcher delivers the event a moment after the write
  let [d] = await c.classify([ev('agent-state.md')]);
  assert.equal(d!.decision, 'BLOCK');
  assert.equal(d!.evidence![0]!.kind, 'temporal');
  await clock.advance(5_000);
  // Same moment: the agent rewrites its file (one page) and a person saves notes.md. The agent's
  // bytes are explained by either file alone, so neither is blocked on timing (layer 3 decides).
  probe.counters.set(20, 100_000 + 8192);
  fs.set('agent-state.md', 'y'.repeat(300));
  fs.set('notes.md', 'my words');
  await clock.advance(50);
  const ds = await c.classify([ev('agent-state.md'), ev('notes.md')]);
  assert.equal(ds[1]!.decision, 'ALLOW');
  assert.equal(ds[1]!.layer, 3);
  // Quiet agent: a person's edit is never blocked on timing.
  await clock.advance(5_000);
  fs.set('notes.md', 'more words');
  [d] = await c.classify([ev('notes.md')]);
  assert.equal(d!.decision, 'ALLOW');
});

test('temporal: a file whose event arrived before the sample explains the bytes even when its mtime is within the clock\'s coarseness of it', async () => {
  const { c, fs, probe, clock, ev } = setup();
  fs.set('warmup.md', 'w');
  probe.counters.set(20, 100_000);
  await c.classify([ev('warmup.md')]);
  await clock.advance(5_000);
  // The agent writes its file and a person saves notes.md 2 ms later; both events are decided
  // at once, 2 ms after the agent's mtime (less than the coarse clock's slack). The agent's event
  // had arrived before this decision's sample, so its write surely precedes the sample.
  probe.counters.set(20, 100_000 + 4096);
  fs.set('agent-state.md', 'x'.repeat(300));
  await clock.advance(2);
  fs.set('notes.md', 'my words');
  const ds = await c.classify([ev('agent-state.md'), ev('notes.md')]);
  assert.equal(ds[1]!.decision, 'ALLOW', ds[1]!.reason);
  assert.equal(ds[1]!.layer, 3);
  assert.match(JSON.stringify(ds[1]!.evidence), /explained by other changed paths/);
});

test('temporal: two files an agent writes between the same samples are both its own; a person\'s save in another interval is not', async () => {
  const { c, fs, probe, clock, ev } = setup();
  fs.set('warmup.md', 'w');
  probe.counters.set(20, 100_000);
  await c.classify([ev('warmup.md')]);
  await clock.advance(300);
  // One page each: the agent's status file and a content file, one watcher batch.
  probe.counters.set(20, 100_000 + 8192);
  fs.set('agent-status.md', 's'.repeat(200));
  fs.set('agent-notes.md', 'n'.repeat(200));
  await clock.advance(50);
  const ds = await c.classify([ev('agent-status.md'), ev('agent-notes.md')]);
  assert.deepEqual(ds.map((d) => d.decision), ['BLOCK', 'BLOCK']);
  assert.match(ds[1]!.reason, /4096 bytes within \d+ ms not explained/);
  // 300 ms later, well inside correlationWindowMs (2000): a person's save in the next interval.
  await clock.advance(300);
  fs.set('notes.md', 'my words');
  await clock.advance(50);
  const [d] = await c.classify([ev('notes.md')]);
  assert.equal(d!.decision, 'ALLOW');
  assert.equal(d!.layer, 3);
});

test('temporal: a process started after the last look counts from zero, so its first write is caught', async () => {
  const { c, fs, probe, procs, clock, ev } = setup();
  fs.set('warmup.md', 'w');
  await c.classify([ev('warmup.md')]); // the set is looked at: agent 20 only
  await clock.advance(1_000);
  // The agent's child starts and writes before any decision samples it.
  procs.table = [...procs.table, { pid: 25, ppid: 20, name: 'sh', cmd: 'sh -c write-notes' }];
  probe.started.set(25, clock.now());
  await clock.advance(10);
  fs.set('notes-by-child.md', 'child words');
  probe.counters.set(25, 4096);
  await clock.advance(40);
  const [d] = await c.classify([ev('notes-by-child.md')]);
  assert.equal(d!.decision, 'BLOCK');
  assert.match(d!.reason, /process 25/);
});

test('temporal: a process already running at the last look, first sampled after a write, says nothing about it', async () => {
  const { c, fs, probe, procs, clock, ev } = setup();
  probe.started.set(26, clock.now() - 60_000);
  fs.set('warmup.md', 'w');
  await c.classify([ev('warmup.md')]);
  await clock.advance(1_000);
  // 26 was running all along but only now matches (its table entry appears): its lifetime bytes
  // are not this write's.
  procs.table = [...procs.table, { pid: 26, ppid: 1, name: 'node', cmd: 'node claude-autonomous.mjs --late' }];
  probe.counters.set(26, 1 << 20);
  fs.set('notes.md', 'my words');
  await clock.advance(50);
  const [d] = await c.classify([ev('notes.md')]);
  assert.equal(d!.decision, 'ALLOW');
});

test('an autonomous process that exits does not switch temporal correlation off; one whose counter is refused does', async () => {
  const { c, fs, probe, clock, logs, ev } = setup();
  const real = probe.writeCounter.bind(probe);
  // The table still lists 20 and 21 (cached), but both have exited: their counters are gone.
  probe.writeCounter = async () => 'gone' as const;
  fs.set('notes.md', 'my words');
  await clock.advance(50);
  await c.classify([ev('notes.md')]);
  assert.equal(c.evidenceModes().temporal, true);
  assert.ok(!logs.some((l) => /temporal correlation is off/.test(l.msg)), JSON.stringify(logs));
  // Live processes whose counters cannot be read (another user's, no privileges): off, said once.
  probe.writeCounter = async () => null;
  fs.set('notes.md', 'more words');
  await clock.advance(50);
  await c.classify([ev('notes.md')]);
  assert.equal(c.evidenceModes().temporal, false);
  assert.equal(logs.filter((l) => /temporal correlation is off/.test(l.msg)).length, 1);
  // Readable again (a new agent of the person's own): on again.
  probe.writeCounter = real;
  fs.set('notes.md', 'even more words');
  await clock.advance(50);
  await c.classify([ev('notes.md')]);
  assert.equal(c.evidenceModes().temporal, true);
});

test('temporal ticker: counters are read every window/2 while an agent works here, so its earlier bytes are not counted against a later save; it stops when the agent is gone', async () => {
  const { c, fs, probe, procs, clock, ev } = setup({ ticker: true });
  fs.set('warmup.md', 'w');
  probe.counters.set(20, 100_000);
  await c.classify([ev('warmup.md')]);
  assert.equal(clock.pendingTimers, 1);
  // The agent writes elsewhere (no workspace event); 3 s later a person saves.
  await clock.advance(500);
  probe.counters.set(20, 100_000 + 65_536);
  await clock.advance(3_000);
  fs.set('notes.md', 'my words');
  await clock.advance(50);
  let [d] = await c.classify([ev('notes.md')]);
  assert.equal(d!.decision, 'ALLOW', d!.reason);
  // The same without the ticker is what the ticker prevents: see the next setup.
  const quiet = setup();
  quiet.fs.set('warmup.md', 'w');
  quiet.probe.counters.set(20, 100_000);
  await quiet.c.classify([quiet.ev('warmup.md')]);
  await quiet.clock.advance(500);
  quiet.probe.counters.set(20, 100_000 + 65_536);
  await quiet.clock.advance(3_000);
  quiet.fs.set('notes.md', 'my words');
  await quiet.clock.advance(50);
  [d] = await quiet.c.classify([quiet.ev('notes.md')]);
  assert.equal(d!.decision, 'BLOCK');
  // The agent exits: its counter can no longer be read, and the ticker stops.
  procs.table = procs.table.filter((p) => p.pid !== 20 && p.pid !== 21);
  const reads = probe.reads;
  probe.counters.delete(20);
  (probe as { writeCounter: (pid: number) => Promise<number | null | 'gone'> }).writeCounter = async () => 'gone';
  await clock.advance(5_000);
  assert.equal(clock.pendingTimers, 0);
  assert.ok(probe.reads >= reads);
  await c.close();
});

test('churn: a path an autonomous process writes on a schedule is quarantined and reported; catch-up events do not count; a human writer lifts it', async () => {
  const { c, fs, trace, clock, ev } = setup({ trace: true });
  // The classifier feeds the churn detector; its quarantine is applied by finalizeDecision, as the daemon does.
  const decide = async (cl: Classifier, e: WatchEvent) => {
    const [d] = await cl.classify([e]);
    return finalizeDecision(d!, e, { reactions: createReactionState(), quarantine: (x) => cl.quarantineOf(x.path), blockedBefore: () => null });
  };
  let last;
  for (let i = 0; i < 5; i++) {
    fs.set('counter.json', { n: i });
    // The agent is seen writing it once; the trace misses the other writes (no writer known).
    if (i === 0) trace!.records.push({ pid: 20, command: 'node', path: 'counter.json', at: clock.now() });
    last = await decide(c, ev('counter.json'));
    await clock.advance(30_000);
  }
  assert.equal(last!.decision, 'BLOCK');
  assert.equal(last!.rule, 'builtin:churn');
  assert.ok(c.quarantineOf('counter.json'));
  assert.match(last!.reason, /quarantined: changed 5 times every ~30 s/);
  assert.deepEqual(c.quarantined(), [{ path: 'counter.json', events: 5, periodMs: 30_000 }]);
  const fresh = setup();
  for (let i = 0; i < 6; i++) {
    fresh.fs.set('c.json', { n: i });
    last = await decide(fresh.c, fresh.ev('c.json', 'rescan'));
    await fresh.clock.advance(30_000);
  }
  assert.equal(last!.decision, 'ALLOW');
  assert.deepEqual(fresh.c.quarantined(), []);
  fs.set('counter.json', { n: 99 });
  trace!.records.push({ pid: 11, command: 'vim', path: 'counter.json', at: clock.now() });
  last = await decide(c, ev('counter.json'));
  assert.equal(last!.decision, 'ALLOW');
  assert.deepEqual(c.quarantined(), []);
});

test('close stops the trace', async () => {
  const { c, trace } = setup({ trace: true });
  await c.close();
  assert.equal(trace!.stopped, true);
});

test('churn: a schedule alone is not evidence — autosave every 1 s is never quarantined (issue 10)', async () => {
  const { c, fs, clock, ev } = setup({ trace: true });
  let last;
  for (let i = 0; i < 12; i++) {
    fs.set('draft.md', `# draft\n${'word '.repeat(i)}\n`);
    [last] = await c.classify([ev('draft.md')]);
    assert.equal(last!.decision, 'ALLOW', `save ${i}: ${last!.reason}`);
    await clock.advance(1_000);
  }
  assert.deepEqual(c.quarantined(), []);
});
