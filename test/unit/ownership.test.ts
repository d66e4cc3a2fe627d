import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autonomousSet, exitedAutonomous, judgeOwnership, pageRound, type OwnershipInput } from '../../src/core/classify/ownership.js';
import type { ProcInfo } from '../../src/ports/index.js';

const P = (pid: number, ppid: number, cmd: string, user?: string): ProcInfo => ({ pid, ppid, name: cmd.split(' ')[0]!, cmd, ...(user ? { user, uid: 1000 + pid } : {}) });
const TABLE: ProcInfo[] = [
  P(1, 0, '/sbin/init'),
  P(10, 1, 'bash'),
  P(11, 10, 'vim notes.md'),
  P(20, 1, 'node /opt/claude-autonomous.mjs --loop'),
  P(21, 20, 'sh -c ./sync.sh'),
  P(22, 21, 'sed -i s/a/b/ x.json'),
  P(30, 1, 'python claude-status-monitor.py'),
  P(40, 1, 'indexer --watch', 'botuser'),
  P(41, 40, 'git status'),
  P(50, 1, 'winnow exec -- ./tool'),
  P(51, 50, './tool'),
  P(60, 1, 'claude-chat'),
];
const CRIT = { commands: [/claude-autonomous/, /claude-.*-monitor/], users: ['botuser'], execRoots: [50] };

test('autonomousSet: command match, descendants, users, exec roots; people stay out', () => {
  const s = autonomousSet(TABLE, CRIT);
  assert.deepEqual([...s.keys()].sort((a, b) => a - b), [20, 21, 22, 30, 40, 41, 50, 51]);
  assert.match(s.get(20)!.why, /command matches/);
  assert.match(s.get(22)!.why, /descendant of autonomous 21/);
  assert.match(s.get(40)!.why, /user botuser/);
  assert.match(s.get(50)!.why, /winnow exec/);
  for (const pid of [1, 10, 11, 60]) assert.equal(s.has(pid), false, String(pid));
});

test('autonomousSet: winnow itself and its children are never autonomous, even under an agent', () => {
  // winnow (70) started from the agent's terminal (21), with a git child (71).
  const table = [...TABLE, P(70, 21, 'node winnow start'), P(71, 70, 'git cat-file --batch'), P(72, 20, 'node claude-autonomous.mjs --child')];
  const s = autonomousSet(table, { ...CRIT, self: 70 });
  assert.equal(s.has(70), false);
  assert.equal(s.has(71), false);
  assert.equal(s.has(21), true);
  assert.equal(s.has(72), true);
  // Without `self`, the same table puts winnow under its agent.
  assert.equal(autonomousSet(table, CRIT).has(71), true);
});

test('autonomousSet: numeric uid in users, and ppid cycles terminate', () => {
  const s = autonomousSet([{ pid: 5, ppid: 6, name: 'a', cmd: 'a', uid: 1001 }, { pid: 6, ppid: 5, name: 'b', cmd: 'b' }], { commands: [], users: ['1001'], execRoots: [] });
  assert.deepEqual([...s.keys()].sort(), [5, 6]);
});

const none: OwnershipInput = { writers: null, handles: null, temporal: null };
const CASES: { name: string; input: OwnershipInput; verdict: 'BLOCK' | 'CONTINUE'; human?: boolean; kind?: string }[] = [
  { name: 'no evidence at all', input: none, verdict: 'CONTINUE', human: false, kind: 'none' },
  { name: 'autonomous writer', input: { ...none, writers: [{ pid: 20, command: 'node claude-autonomous', autonomous: true }] }, verdict: 'BLOCK', kind: 'fanotify' },
  { name: 'human writer', input: { ...none, writers: [{ pid: 11, command: 'vim', autonomous: false }] }, verdict: 'CONTINUE', human: true, kind: 'fanotify' },
  {
    name: 'human writer beats an autonomous open handle and temporal activity',
    input: {
      writers: [{ pid: 11, command: 'vim', autonomous: false }],
      handles: [{ pid: 20, command: 'agent' }],
      temporal: { activeBytes: 1 << 20, explainedBytes: 0, pathBytes: 10, movers: [{ pid: 20, command: 'agent', bytes: 1 << 20 }], windowMs: 2000 },
    },
    verdict: 'CONTINUE',
    human: true,
  },
  { name: 'agent after person: last writer wins', input: { ...none, writers: [{ pid: 11, command: 'vim', autonomous: false }, { pid: 20, command: 'agent', autonomous: true }] }, verdict: 'BLOCK' },
  { name: 'person after agent: last writer wins', input: { ...none, writers: [{ pid: 20, command: 'agent', autonomous: true }, { pid: 11, command: 'vim', autonomous: false }] }, verdict: 'CONTINUE', human: true },
  { name: 'trace active, no writer seen, autonomous handle', input: { writers: [], handles: [{ pid: 20, command: 'agent' }], temporal: null }, verdict: 'BLOCK', kind: 'open-handle' },
  { name: 'autonomous handle without trace', input: { ...none, handles: [{ pid: 20, command: 'agent' }] }, verdict: 'BLOCK', kind: 'open-handle' },
  {
    name: 'temporal: unexplained autonomous bytes',
    input: { ...none, handles: [], temporal: { activeBytes: 4096, explainedBytes: 0, pathBytes: 300, movers: [{ pid: 20, command: 'agent', bytes: 4096 }], windowMs: 2000 } },
    verdict: 'BLOCK',
    kind: 'temporal',
  },
  {
    name: 'temporal: autonomous bytes explained by the other changed paths',
    input: { ...none, handles: [], temporal: { activeBytes: 8192, explainedBytes: 8192, pathBytes: 300, movers: [{ pid: 20, command: 'agent', bytes: 8192 }], windowMs: 2000 } },
    verdict: 'CONTINUE',
    human: false,
    kind: 'temporal',
  },
  {
    name: 'temporal: too few unexplained bytes for this file',
    input: { ...none, temporal: { activeBytes: 4096, explainedBytes: 0, pathBytes: 100_000, movers: [{ pid: 20, command: 'agent', bytes: 4096 }], windowMs: 2000 } },
    verdict: 'CONTINUE',
  },
  {
    name: 'temporal: nothing moved',
    input: { ...none, temporal: { activeBytes: 0, explainedBytes: 0, pathBytes: 10, movers: [], windowMs: 2000 } },
    verdict: 'CONTINUE',
    kind: 'none',
  },
  {
    name: 'an unidentified writer (exited) is no evidence: the open handle decides',
    input: { writers: [{ pid: 99, command: 'sed', autonomous: false, unknown: true }], handles: [{ pid: 20, command: 'agent' }], temporal: null },
    verdict: 'BLOCK',
    kind: 'fanotify',
  },
  {
    name: 'an unidentified writer is not human evidence',
    input: { writers: [{ pid: 99, command: 'sed', autonomous: false, unknown: true }], handles: [], temporal: null },
    verdict: 'CONTINUE',
    human: false,
  },
  {
    name: 'an unidentified writer while an agent runs is unknown: held back, never a person',
    input: { writers: [{ pid: 99, command: 'sed', autonomous: false, unknown: true }], handles: [], temporal: null, autonomousRunning: true },
    verdict: 'BLOCK',
    human: false,
  },
  {
    name: 'written while a new agent ran untraced (attached later): unknown, held back',
    input: { ...none, traced: { writes: [], covered: false, uncovered: [], late: [{ pid: 60, command: 'claude-agent', detail: 'had written 4096 bytes when winnow attached to it' }] } },
    verdict: 'BLOCK',
    human: false,
  },
  {
    name: 'temporal never overrides a known human writer (trace active)',
    input: { writers: [{ pid: 11, command: 'vim', autonomous: false }], handles: [], temporal: { activeBytes: 4096, explainedBytes: 0, pathBytes: 1, movers: [{ pid: 20, command: 'a', bytes: 4096 }], windowMs: 2000 } },
    verdict: 'CONTINUE',
    human: true,
  },
];

for (const c of CASES) {
  test(`judgeOwnership: ${c.name} → ${c.verdict}`, () => {
    const r = judgeOwnership(c.input);
    assert.equal(r.verdict, c.verdict, r.reason);
    if (c.human !== undefined) assert.equal(r.human, c.human);
    if (c.kind) assert.equal(r.evidence[0]?.kind, c.kind);
    assert.ok(r.reason.length > 0);
  });
}

test('pageRound', () => {
  assert.deepEqual([0, 1, 4096, 4097, -3].map(pageRound), [0, 4096, 4096, 8192, 0]);
});

const T0: OwnershipInput = { writers: null, handles: null, temporal: null };

test('trace rung: a traced write blocks; with every autonomous process traced, no traced write is a person', () => {
  const written = judgeOwnership({ ...T0, traced: { writes: [{ pid: 7, call: 'openat', at: 1 }], covered: true, uncovered: [] } });
  assert.equal(written.verdict, 'BLOCK');
  assert.match(written.reason, /traced autonomous process 7 \(openat\)/);
  assert.equal(written.human, false);
  const person = judgeOwnership({ ...T0, traced: { writes: [], covered: true, uncovered: [] } });
  assert.equal(person.verdict, 'CONTINUE');
  assert.equal(person.human, true);
  // Someone not traced: the trace cannot speak for them; the next rung (counters) decides.
  const temporal = { activeBytes: 8192, explainedBytes: 0, pathBytes: 100, movers: [{ pid: 9, command: 'agent', bytes: 8192 }], windowMs: 100 };
  const unsure = judgeOwnership({ ...T0, traced: { writes: [], covered: false, uncovered: [{ pid: 9, command: 'agent' }] }, temporal });
  assert.equal(unsure.verdict, 'BLOCK');
  assert.equal(unsure.human, false);
  assert.ok(unsure.evidence.some((e) => e.kind === 'trace' && /not traced: 9/.test(e.detail ?? '')));
  const none = judgeOwnership({ ...T0, traced: { writes: [], covered: false, uncovered: [{ pid: 9, command: 'agent' }] } });
  assert.equal(none.verdict, 'CONTINUE');
  assert.equal(none.human, false, 'an uncovered absence is not human evidence');
});

test('declared writes block; a known fanotify writer outranks the weaker rungs', () => {
  const d = judgeOwnership({ ...T0, declared: [{ at: 1, source: 'winnow hook (PostToolUse Write)' }] });
  assert.equal(d.verdict, 'BLOCK');
  assert.match(d.reason, /declared/);
  const human = judgeOwnership({
    writers: [{ pid: 3, command: 'vim', autonomous: false }],
    handles: null,
    temporal: null,
    traced: { writes: [{ pid: 7, call: 'openat', at: 0 }], covered: false, uncovered: [] },
  });
  assert.equal(human.verdict, 'CONTINUE');
  assert.equal(human.human, true);
});

test('exitedAutonomous: a writer gone from the table is autonomous by the command lines recorded at exec, its own or an ancestor\'s; winnow\'s own children never', () => {
  const c = { commands: [/claude-autonomous/], users: [], execRoots: [], self: 7 };
  const child = { command: 'sh -c echo x > report.md', ancestors: [41, 1], ancestorCommands: ['bash claude-autonomous job.sh', '/sbin/init'] };
  assert.equal(exitedAutonomous(child, c), 'descendant of exited autonomous 41, command matches /claude-autonomous/');
  assert.equal(exitedAutonomous({ command: 'claude-autonomous --once' }, c), 'exited autonomous process, command matches /claude-autonomous/');
  assert.equal(exitedAutonomous({ ...child, ancestorCommands: ['bash', '/sbin/init'] }, c), null, 'no command matches');
  assert.equal(exitedAutonomous({ command: 'sh', ancestors: [41, 1] }, c), null, 'no command lines recorded');
  assert.equal(exitedAutonomous({ ...child, ancestors: [41, 7, 1], ancestorCommands: ['git gc', 'claude-autonomous winnow start', '/sbin/init'] }, c), null, 'under winnow itself');
});
