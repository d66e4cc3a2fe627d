import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timingOnly, type Decision, type Evidence } from '../../src/core/decision.js';

const temporal: Evidence = { kind: 'temporal', pid: 20, command: 'claude', autonomous: true, detail: '4096 bytes written within 40 ms' };
const d = (over: Partial<Decision>): Decision => ({
  path: 'notes.md',
  decision: 'BLOCK',
  layer: 2,
  rule: 'ANALYZE:**:everything',
  reason: 'autonomous write activity around the write',
  evidence: [temporal],
  ...over,
});

test('timingOnly: a layer-2 BLOCK on write counters alone, and nothing stronger', () => {
  const cases: [string, Decision, boolean][] = [
    ['temporal evidence only, under an ANALYZE rule', d({}), true],
    ['temporal, default action (no rule)', d({ rule: null }), true],
    ['temporal plus a writer fanotify saw exit before it was identified', d({ evidence: [{ kind: 'fanotify', pid: 31, autonomous: false, detail: 'exited before it could be identified' }, temporal] }), true],
    ['an unknown writer while an agent ran (exited unidentified, or written before the agent was traced)', d({ evidence: [{ kind: 'unknown', pid: 60, autonomous: true, detail: 'had written 4096 bytes when winnow attached to it' }] }), true],
    ['a known autonomous writer (fanotify)', d({ evidence: [{ kind: 'fanotify', pid: 20, command: 'claude', autonomous: true }, temporal] }), false],
    ['held open by an agent', d({ evidence: [{ kind: 'open-handle', pid: 20, autonomous: true }] }), false],
    ['a `winnow exec` tree', d({ evidence: [{ kind: 'exec', pid: 20, autonomous: true }, temporal] }), false],
    ['built-in commit-reaction rule', d({ rule: 'builtin:commit-reaction' }), false],
    ['temporal evidence that found the bytes explained', d({ evidence: [{ kind: 'temporal', autonomous: false, detail: 'explained' }] }), false],
    ['layer 3 BLOCK (timestamp only)', d({ layer: 3 }), false],
    ['ALLOW', d({ decision: 'ALLOW', layer: 3 }), false],
    ['layer 1 rule', d({ layer: 1, rule: 'BLOCK:*.log:Logs', evidence: undefined }), false],
  ];
  for (const [what, dec, want] of cases) assert.equal(timingOnly(dec), want, what);
});
