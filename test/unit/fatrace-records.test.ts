/**
 * fanotify's writers and their ancestors (adapters/fatrace-records.ts): the /proc chain read when
 * a write is seen, merged with the lineage's fork records. /proc and forkstat are fakes here:
 * a table of live processes' parents, and fork lines fed to a real lineage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteLog } from '../../src/adapters/fatrace-records.js';
import { createLineage, type Lineage } from '../../src/adapters/forkstat.js';

const RUNNER = 100;
const AGENT = 23125;
const FIND = 23195;
const SH = 23196;

/** A lineage that saw `forks` ([parent, child, command]), active as a started one is. */
function lineageOf(forks: [number, number, string][]): Lineage {
  const l = createLineage({ logger: { log() {} } });
  for (const [parent, child, cmd] of forks) {
    l.feed(`13:35:14 fork  ${parent} parent          ${cmd}`);
    l.feed(`13:35:14 fork  ${child} child           ${cmd}`);
  }
  return { ...l, active: () => true };
}

/** A write log over a fake /proc (`live`: pid → parent), with the chain fatrace.ts records at the write. */
function logWith(live: Record<number, number>) {
  let reads = 0;
  const log = createWriteLog((pid) => {
    reads++;
    return live[pid] ?? null;
  });
  const write = (pid: number, command: string, path: string, at: number) => log.record({ pid, command, path, at, ancestors: log.ancestorsOf(pid) }, 'W', false);
  return { log, write, reads: () => reads };
}

test('find -exec: a /proc chain that stops at an exited find is extended from the lineage to the agent (CI 970cc38, work/c.md)', () => {
  // Read at the write: sh's parent is find, and find was reaped before its own stat was read.
  const { log, write } = logWith({ [SH]: FIND, [AGENT]: RUNNER, [RUNNER]: 1 });
  write(SH, 'sh', 'work/c.md', 1_000);
  // The lineage saw the agent fork find, but not (yet) find fork sh.
  const lineage = lineageOf([
    [RUNNER, AGENT, 'node claude-autonomous-driven.mjs'],
    [AGENT, FIND, 'find / -maxdepth 0 -exec sh -c …'],
  ]);
  const [w] = log.writersOf('work/c.md', 0, 1_000, lineage);
  assert.deepEqual(w!.ancestors, [FIND, AGENT, RUNNER, 1]);
  assert.equal(w!.command, 'sh', 'a writer seen alive keeps the name fanotify gave it');
});

test('an orphan: /proc names init as the parent of a grandchild whose parent exited; the lineage names the agent', () => {
  const MIDDLE = 500;
  const GRANDCHILD = 501;
  const { log, write } = logWith({ [GRANDCHILD]: 1, [AGENT]: RUNNER, [RUNNER]: 1 });
  write(GRANDCHILD, 'sh', 'work/e.md', 1_000);
  const lineage = lineageOf([
    [AGENT, MIDDLE, 'sh -c sh -c … &'],
    [MIDDLE, GRANDCHILD, 'sh -c sh -c … &'],
  ]);
  const [w] = log.writersOf('work/e.md', 0, 1_000, lineage);
  // The agent started before the lineage: its parent comes from /proc.
  assert.deepEqual(w!.ancestors, [MIDDLE, AGENT, RUNNER, 1]);
});

test('a writer reaped before /proc was read is resolved from the lineage alone, and named by its command line', () => {
  const { log, write } = logWith({ [AGENT]: RUNNER, [RUNNER]: 1 });
  write(SH, 'sh', 'work/x.json', 1_000);
  const lineage = lineageOf([[AGENT, SH, 'sh -c printf x > x.json']]);
  const [w] = log.writersOf('work/x.json', 0, 1_000, lineage);
  assert.deepEqual(w!.ancestors, [AGENT, RUNNER, 1]);
  assert.equal(w!.command, 'sh -c printf x > x.json');
});

test('a complete /proc chain the lineage does not know is kept as it is, without reading /proc again', () => {
  const VIM = 4242;
  const BASH = 4000;
  const { log, write, reads } = logWith({ [VIM]: BASH, [BASH]: RUNNER, [RUNNER]: 1 });
  write(VIM, 'vim', 'notes.md', 1_000);
  const before = reads();
  const [w] = log.writersOf('notes.md', 0, 1_000, lineageOf([]));
  assert.deepEqual(w!.ancestors, [BASH, RUNNER, 1]);
  assert.equal(reads(), before, 'no /proc read per decision for a chain already recorded');
  // Without a lineage (forkstat not running) the recorded chain is all there is.
  assert.deepEqual(log.writersOf('notes.md', 0, 1_000)[0]!.ancestors, [BASH, RUNNER, 1]);
});

test("a reused PID whose new fork the lineage missed keeps /proc's living parent: a person's write is not pinned on an old agent", () => {
  const VIM = 4242;
  const BASH = 4000;
  // Read at the write: the person's vim under their shell.
  const { log, write } = logWith({ [VIM]: BASH, [BASH]: RUNNER, [RUNNER]: 1, [AGENT]: RUNNER });
  write(VIM, 'vim', 'notes.md', 1_000);
  // The lineage still holds an earlier process with the same PID, forked by the agent, which is alive.
  const lineage = lineageOf([
    [RUNNER, AGENT, 'node claude-autonomous-driven.mjs'],
    [AGENT, VIM, 'sh -c printf x > x.json'],
  ]);
  lineage.feed(`13:35:15 exit  ${VIM}      0   0.017s sh -c printf x > x.json`);
  const [w] = log.writersOf('notes.md', 0, 1_000, lineage);
  assert.deepEqual(w!.ancestors, [BASH, RUNNER, 1]);
});
