import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFatraceLine } from '../../src/adapters/fatrace.js';

test('fatrace lines: writes name the file; renames and deletions name the directory', () => {
  const cases: [string, ReturnType<typeof parseFatraceLine>][] = [
    ['1796205424.800649 sh(22831): CW  /tmp/ws/a b.tmp', { at: 1796205424801, comm: 'sh', pid: 22831, types: 'CW', path: '/tmp/ws/a b.tmp' }],
    ['1796205425.139132 mv(22842): <>  /tmp/ws', { at: 1796205425139, comm: 'mv', pid: 22842, types: '<>', path: '/tmp/ws' }],
    ['1796205425.231822 unknown(22856): D   /tmp/ws/docs', { at: 1796205425232, comm: 'unknown', pid: 22856, types: 'D', path: '/tmp/ws/docs' }],
    ['1796205425.231822 node (x)(7): W   /tmp/ws/gone (deleted)', { at: 1796205425232, comm: 'node (x)', pid: 7, types: 'W', path: '/tmp/ws/gone' }],
    ['fatrace: Failed to add watch', null],
  ];
  for (const [line, want] of cases) assert.deepEqual(parseFatraceLine(line), want, line);
});
