/**
 * The end of the classify stage (src/daemon/classify/apply.ts): a later look at a write that was
 * blocked on who wrote it does not undo that block while the file is unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDecisions, type ApplyDeps } from '../../src/daemon/classify/apply.js';
import { KnownDecisions } from '../../src/daemon/classify/known-decisions.js';
import { Settler } from '../../src/daemon/settle/settler.js';
import { createReactionState } from '../../src/core/classify/reaction.js';
import { mergeConfig } from '../../src/core/config/schema.js';
import type { Decision } from '../../src/core/decision.js';
import type { WatchEvent } from '../../src/core/event.js';
import type { FileStat, Fs } from '../../src/ports/index.js';
import { ManualClock } from '../helpers/clock.js';

function setup() {
  const clock = new ManualClock();
  const files = new Map<string, { size: number; mtimeMs: number }>();
  const stat = async (abs: string): Promise<FileStat | null> => {
    const f = files.get(abs.slice('/ws/'.length));
    return f ? { ...f, isFile: true, isDirectory: false, isSymlink: false, isSpecial: false } : null;
  };
  const fs = { stat } as unknown as Fs;
  const known = new KnownDecisions();
  const settler = new Settler({ clock, scheduler: clock, debounce: mergeConfig({}).debounce, onDue: () => undefined });
  const logged: Decision[] = [];
  const deps: ApplyDeps = {
    root: '/ws',
    clock,
    fs,
    logger: { log() {} },
    known,
    settler,
    reactions: createReactionState(),
    quarantineOf: () => null,
    dryRun: false,
    configFile: null,
    rootPresent: async () => true,
    onDecision: (d) => logged.push(d),
    onConfigFileChanged: () => undefined,
  };
  const ev = (path: string): WatchEvent => ({ path, kind: 'update', stream: 'all', priority: 'normal', at: clock.now(), source: 'watch' });
  return { clock, files, deps, settler, logged, ev };
}

const agentBlock: Decision = {
  path: 'work/d.md',
  decision: 'BLOCK',
  layer: 2,
  rule: 'ANALYZE:**:all',
  reason: 'written by autonomous process 42 (sh)',
  evidence: [{ kind: 'fanotify', pid: 42, command: 'sh', autonomous: true }],
};
const noWriter: Decision = {
  path: 'work/d.md',
  decision: 'ALLOW',
  layer: 3,
  rule: 'ANALYZE:**:all',
  reason: 'content change',
  evidence: [{ kind: 'none', autonomous: false, detail: 'no autonomous writer found' }],
};

test("the same write seen again without its writer stays blocked; a change of the file, or a person's writer, is judged anew", async () => {
  const { clock, files, deps, settler, logged, ev } = setup();
  files.set('work/d.md', { size: 40, mtimeMs: clock.now() });
  await applyDecisions(deps, [ev('work/d.md')], [agentBlock]);
  await clock.advance(600);
  // The watcher's second report of the same write, after the writer aged out of the window.
  await applyDecisions(deps, [ev('work/d.md')], [noWriter]);
  assert.equal(logged[1]!.decision, 'BLOCK', logged[1]!.reason);
  assert.match(logged[1]!.reason, /unchanged since it was blocked \(written by autonomous process 42/);
  assert.equal(settler.isAccepted('work/d.md'), false);
  // A person's writer, named: theirs, whatever came before.
  const person: Decision = { ...noWriter, reason: 'content change; written by 77 (vim), not autonomous', evidence: [{ kind: 'fanotify', pid: 77, command: 'vim', autonomous: false }] };
  await applyDecisions(deps, [ev('work/d.md')], [person]);
  assert.equal(logged[2]!.decision, 'ALLOW');
  // Blocked again, then the file changes (new size and mtime): judged anew.
  await applyDecisions(deps, [ev('work/d.md')], [agentBlock]);
  await clock.advance(1_000);
  files.set('work/d.md', { size: 52, mtimeMs: clock.now() });
  await applyDecisions(deps, [ev('work/d.md')], [noWriter]);
  assert.equal(logged[4]!.decision, 'ALLOW', logged[4]!.reason);
  assert.equal(settler.isAccepted('work/d.md'), true);
});

test('a block on timing alone is not kept over a later look (heuristics never outweigh a fresh look)', async () => {
  const { clock, files, deps, logged, ev } = setup();
  files.set('notes.md', { size: 10, mtimeMs: clock.now() });
  const timing: Decision = {
    path: 'notes.md',
    decision: 'BLOCK',
    layer: 2,
    rule: 'ANALYZE:**:all',
    reason: 'autonomous write activity around the write',
    evidence: [{ kind: 'temporal', pid: 42, command: 'agent', autonomous: true, detail: '4096 bytes' }],
  };
  await applyDecisions(deps, [ev('notes.md')], [timing]);
  await clock.advance(500);
  await applyDecisions(deps, [ev('notes.md')], [{ ...noWriter, path: 'notes.md' }]);
  assert.equal(logged[1]!.decision, 'ALLOW');
});

test('a change accepted with no writer known is dropped when a traced or fanotify autonomous writer writes the path; a person\'s accepted save rides along; a declared write drops nothing', async () => {
  const { clock, files, deps, settler, ev } = setup();
  const logs: string[] = [];
  deps.logger = { log: (_level, msg) => void logs.push(msg) };
  const traced: Decision = { ...agentBlock, evidence: [{ kind: 'trace', pid: 42, autonomous: true, detail: 'openat traced' }] };
  files.set('work/d.md', { size: 40, mtimeMs: clock.now() });
  // Found at start-up (or before the tracer attached): nobody is known to have written it.
  await applyDecisions(deps, [ev('work/d.md')], [noWriter]);
  assert.equal(settler.isAccepted('work/d.md'), true);
  await clock.advance(100);
  files.set('work/d.md', { size: 44, mtimeMs: clock.now() });
  await applyDecisions(deps, [ev('work/d.md')], [traced]);
  assert.equal(settler.isAccepted('work/d.md'), false, 'the unproven acceptance is dropped');
  assert.deepEqual(settler.pendingList().map((p) => p.path), []);
  assert.ok(logs.includes('accepted change dropped: an autonomous process writes it, and no person was seen writing it'));

  // A person's save (fanotify names them), then the agent: it rides along, nothing dropped.
  const person: Decision = { ...noWriter, evidence: [{ kind: 'fanotify', pid: 77, command: 'vim', autonomous: false }] };
  await clock.advance(100);
  files.set('work/d.md', { size: 50, mtimeMs: clock.now() });
  await applyDecisions(deps, [ev('work/d.md')], [person]);
  await clock.advance(100);
  files.set('work/d.md', { size: 54, mtimeMs: clock.now() });
  await applyDecisions(deps, [ev('work/d.md')], [agentBlock]);
  assert.equal(settler.isAccepted('work/d.md'), true, 'the person\'s save stays accepted');

  // Unproven, then only a declared write (it says nothing of other writers): rides along.
  files.set('other.md', { size: 5, mtimeMs: clock.now() });
  await applyDecisions(deps, [ev('other.md')], [{ ...noWriter, path: 'other.md' }]);
  const declared: Decision = { ...agentBlock, path: 'other.md', evidence: [{ kind: 'declared', pid: 42, autonomous: true }] };
  await clock.advance(100);
  files.set('other.md', { size: 9, mtimeMs: clock.now() });
  await applyDecisions(deps, [ev('other.md')], [declared]);
  assert.equal(settler.isAccepted('other.md'), true);
});
