import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { main } from '../../src/cli/main.js';
import { humanMs, formatLogLine } from '../../src/cli/format.js';
import { workspaceDir } from '../../src/cli/args.js';
import { UsageError, type CliIO, type ParsedArgs } from '../../src/cli/types.js';

function fakeIO(): CliIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
    cwd: tmpdir(),
    env: {},
    isTTY: false,
  };
  return io;
}

test('humanMs carries a rounded unit up instead of printing 60 of it', () => {
  const cases: [number, string][] = [
    [0, '0ms'],
    [999.4, '999ms'],
    [999.6, '1.0s'],
    [2500, '2.5s'],
    [9_960, '10s'],
    [42_000, '42s'],
    [59_600, '1m0s'],
    [65_000, '1m5s'],
    [119_600, '2m0s'],
    [3_599_600, '1h0m'],
    [3_599_999, '1h0m'],
    [7_200_000, '2h0m'],
    [5_399_000, '1h30m'],
  ];
  for (const [ms, want] of cases) assert.equal(humanMs(ms), want, `${ms} ms`);
  for (let ms = 0; ms < 10_000_000; ms += 997) assert.doesNotMatch(humanMs(ms), /\D60[sm]$/, `${ms} ms → ${humanMs(ms)}`);
});

test('an unknown option is one winnow sentence with the command usage, exit 2', async () => {
  const io = fakeIO();
  assert.equal(await main(['filter', 'test', '--bogus', 'a.md'], io), 2);
  const lines = io.err.trimEnd().split('\n');
  assert.equal(lines[0], 'winnow: --bogus is not an option of `winnow filter`. Usage: winnow filter test [--dir DIR] PATH... [--json] [--config FILE]');
  assert.match(lines[1] ?? '', /^\s+winnow filter debug \[DIR\]/, 'the second usage line');
  assert.doesNotMatch(io.err, /positional argument|To specify/, "node's parseArgs text is not shown");
  const missing = fakeIO();
  assert.equal(await main(['start', '--config'], missing), 2);
  assert.match(missing.err, /^winnow: --config needs a value in `winnow start`\. Usage: winnow start \[DIR\]/);
  const value = fakeIO();
  assert.equal(await main(['status', '--json=yes'], value), 2);
  assert.match(value.err, /^winnow: --json takes no value in `winnow status`\. Usage: winnow status/);
  const short = fakeIO();
  assert.equal(await main(['stop', '-x'], short), 2);
  assert.match(short.err, /^winnow: -x is not an option of `winnow stop`\. Usage: winnow stop \[DIR\]\n$/);
});

test('a workspace is a DIR argument or --dir DIR, not two different ones', () => {
  const spec = { name: 'status', usage: 'status [DIR]' };
  const args = (dir: string | undefined, positionals: string[]): ParsedArgs => ({ values: dir === undefined ? {} : { dir }, positionals, rest: [] });
  assert.equal(workspaceDir(spec, args(undefined, []), []), undefined);
  assert.equal(workspaceDir(spec, args(undefined, ['ws']), ['ws']), 'ws');
  assert.equal(workspaceDir(spec, args('ws', []), []), 'ws');
  assert.equal(workspaceDir(spec, args('ws', ['ws']), ['ws']), 'ws');
  assert.throws(() => workspaceDir(spec, args('a', ['b']), ['b']), (e: unknown) => e instanceof UsageError && /two workspaces, --dir a and b/.test(e.message));
  assert.throws(() => workspaceDir(spec, args(undefined, ['a', 'b']), ['a', 'b']), (e: unknown) => e instanceof UsageError && /takes one DIR; "b" left over/.test(e.message));
});

test('every command that works on a workspace takes --dir, and says so in its help', async () => {
  for (const name of ['start', 'stop', 'status', 'filter', 'rules', 'exec', 'pause', 'resume', 'sync', 'snapshot', 'doctor']) {
    const io = fakeIO();
    assert.equal(await main([name, '--help'], io), 0, name);
    assert.match(io.out, /--dir VALUE/, `${name} --help`);
  }
});

test('log lines read as sentences on a terminal', () => {
  const t = '2026-12-02T10:04:05.000Z';
  const hhmmss = /^\d\d:\d\d:\d\d /;
  const decision = formatLogLine(JSON.stringify({ t, level: 'info', msg: 'decision', path: 'docs/a.md', decision: 'ALLOW', layer: 3, rule: null, reason: 'content change' }) + '\n');
  assert.match(decision, hhmmss);
  assert.match(decision, /ALLOW L3 docs\/a\.md: content change\n$/);
  const blocked = formatLogLine(JSON.stringify({ t, level: 'info', msg: 'decision', path: 'x.log', decision: 'BLOCK', layer: 1, rule: 'BLOCK:*.log:Logs', reason: 'rule' }));
  assert.match(blocked, /BLOCK L1 x\.log: rule \[BLOCK:\*\.log:Logs\]\n$/);
  const commit = formatLogLine(JSON.stringify({ t, level: 'info', msg: 'commit', sha: '0123456789abcdef', paths: ['a', 'b', 'c', 'd', 'e'], atMs: 1 }));
  assert.match(commit, /committed 0123456789: a, b, c \(\+2 more\)\n$/);
  const warn = formatLogLine(JSON.stringify({ t, level: 'warn', msg: 'commit waiting', waiting: 'paused', queued: 2 }));
  assert.match(warn, /warn: commit waiting \(waiting=paused queued=2\)\n$/);
  assert.doesNotMatch(decision + commit + warn, /[{}"]/, 'no JSON left');
  assert.equal(formatLogLine('not json'), 'not json\n');
});

test('no message is prefixed twice: "winnow: winnow …"', async () => {
  for (const argv of [['exec'], ['exec', '--', ''], ['pause', '--for', 'soon'], ['frobnicate'], ['filter'], ['rules', 'nope']]) {
    const io = fakeIO();
    assert.equal(await main(argv, io), 2, argv.join(' '));
    assert.match(io.err, /^winnow: /, argv.join(' '));
    assert.doesNotMatch(io.err, /winnow: winnow /, argv.join(' '));
  }
});

test('status: the evidence modes in words, tracing and lineage included', async () => {
  const { evidenceLine } = await import('../../src/cli/commands/status.js');
  assert.equal(
    evidenceLine({ fanotify: 'unavailable', fanotifyReason: 'needs root', openHandle: true, temporal: true, processTable: true, trace: { mode: 'active', attach: 'Yama ptrace_scope 1' }, lineage: false }),
    'fanotify unavailable (needs root); tracing active (cannot attach: Yama ptrace_scope 1); lineage off; open handles yes; write counters yes; process table yes',
  );
});

test("bin/winnow.js's shebang gives node the daemon's flags (cli/daemon-flags.ts), so `winnow start` run as a command has them", async () => {
  const { readFile } = await import('node:fs/promises');
  const { DAEMON_NODE_FLAGS } = await import('../../src/cli/daemon-flags.js');
  const first = (await readFile(new URL('../../bin/winnow.js', import.meta.url), 'utf8')).split('\n')[0]!;
  assert.equal(first, `#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')}`);
});
