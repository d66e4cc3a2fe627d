import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, hasCapSysAdmin, parseGitVersion, type DoctorFacts, type CheckStatus } from '../../src/cli/commands/doctor.js';
import { DEFAULTS, REMOTE_DEFAULTS as REMOTE, type Config } from '../../src/core/config/defaults.js';

const WS = { root: '/w', gitDir: '/w/.git', stateDir: '/w/.git/winnow' };

function facts(over: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    platform: 'linux',
    nodeVersion: 'v20.11.0',
    uid: 1000,
    git: { version: 'git version 2.47.1' },
    workspace: WS,
    config: { file: null, config: null },
    inotify: { maxUserWatches: 524288, maxUserInstances: 512, usedWatches: 100, usedInstances: 3, workspaceDirs: 200 },
    fanotify: { capSysAdmin: false, fatrace: '/usr/sbin/fatrace' },
    state: [
      { rel: '', isDir: true, mode: 0o40700, uid: 1000 },
      { rel: 'state.json', isDir: false, mode: 0o100600, uid: 1000 },
    ],
    writable: [{ path: '/w', error: null }],
    freeBytes: 10 * 2 ** 30,
    identity: { ok: true },
    ...over,
  };
}

const withConfig = (patch: (c: Config) => Config): DoctorFacts['config'] => ({
  file: '/w/.winnow.json',
  config: patch(structuredClone(DEFAULTS) as Config),
});

const statusOf = (f: DoctorFacts, id: string): CheckStatus | undefined => evaluate(f).checks.find((c) => c.id === id)?.status;

test('parseGitVersion reads the forms git prints on each platform', () => {
  assert.deepEqual(parseGitVersion('git version 2.39.5'), [2, 39, 5]);
  assert.deepEqual(parseGitVersion('git version 2.39.3 (Apple Git-145)'), [2, 39, 3]);
  assert.deepEqual(parseGitVersion('git version 2.45.1.windows.1'), [2, 45, 1]);
  assert.deepEqual(parseGitVersion('git version 2.46'), [2, 46, 0]);
  assert.equal(parseGitVersion('nonsense'), null);
});

test('hasCapSysAdmin reads bit 21 of CapEff', () => {
  assert.equal(hasCapSysAdmin('Name:\tx\nCapEff:\t0000000000000000\n'), false);
  assert.equal(hasCapSysAdmin('CapEff:\t0000000000200000\n'), true);
  assert.equal(hasCapSysAdmin('CapEff:\t000001ffffdfffff\n'), false);
  assert.equal(hasCapSysAdmin('CapEff:\t000001ffffffffff\n'), true);
  assert.equal(hasCapSysAdmin('no caps line'), null);
});

const cases: [string, Partial<DoctorFacts>, string, CheckStatus | undefined][] = [
  ['healthy machine passes git', {}, 'git', 'ok'],
  ['git 2.46.0 is recommended', { git: { version: 'git version 2.46.0' } }, 'git', 'ok'],
  ['git 2.45 warns about the merge lock race', { git: { version: 'git version 2.45.2' } }, 'git', 'warn'],
  ['git 2.25 is the minimum', { git: { version: 'git version 2.25.0' } }, 'git', 'warn'],
  ['git 2.24 fails', { git: { version: 'git version 2.24.4' } }, 'git', 'fail'],
  ['git 1.x fails', { git: { version: 'git version 1.9.9' } }, 'git', 'fail'],
  ['missing git fails', { git: { version: null, error: 'git was not found on PATH' } }, 'git', 'fail'],
  ['node 18 fails', { nodeVersion: 'v18.19.0' }, 'node', 'fail'],
  ['git 2.37 with a remote cannot sync', { git: { version: 'git version 2.37.7' }, config: withConfig((c) => ({ ...c, remote: { ...REMOTE, name: 'origin' } })) }, 'git-sync', 'fail'],
  ['git 2.38 with a remote can sync', { git: { version: 'git version 2.38.0' }, config: withConfig((c) => ({ ...c, remote: { ...REMOTE, name: 'origin' } })) }, 'git-sync', undefined],
  ['git 2.37 without a remote has no sync check', { git: { version: 'git version 2.37.7' } }, 'git-sync', undefined],
  ['not a work tree fails', { workspace: { error: '/x is not inside a git work tree.' } }, 'workspace', 'fail'],
  ['bad config fails', { config: { file: '/w/.winnow.json', config: null, error: '/w/.winnow.json: key "x": unknown key.' } }, 'config', 'fail'],
  ['watch limit below the directory count fails', { inotify: { maxUserWatches: 8192, maxUserInstances: 512, usedWatches: 0, usedInstances: 0, workspaceDirs: 9000 } }, 'inotify-watches', 'fail'],
  ['watch limit counts watches already held', { inotify: { maxUserWatches: 8192, maxUserInstances: 512, usedWatches: 8000, usedInstances: 2, workspaceDirs: 300 } }, 'inotify-watches', 'fail'],
  ['watch limit with little head-room warns', { inotify: { maxUserWatches: 8192, maxUserInstances: 512, usedWatches: 0, usedInstances: 0, workspaceDirs: 5000 } }, 'inotify-watches', 'warn'],
  ['unreadable watch limit warns', { inotify: { maxUserWatches: null, maxUserInstances: 512, usedWatches: null, usedInstances: null, workspaceDirs: 10 } }, 'inotify-watches', 'warn'],
  ['no free instance fails', { inotify: { maxUserWatches: 524288, maxUserInstances: 128, usedWatches: 0, usedInstances: 128, workspaceDirs: 10 } }, 'inotify-instances', 'fail'],
  ['few free instances warn', { inotify: { maxUserWatches: 524288, maxUserInstances: 128, usedWatches: 0, usedInstances: 124, workspaceDirs: 10 } }, 'inotify-instances', 'warn'],
  ['not Linux: no inotify checks', { platform: 'darwin', inotify: null }, 'inotify-watches', undefined],
  ['root with fatrace: fanotify ok', { uid: 0 }, 'fanotify', 'ok'],
  ['CAP_SYS_ADMIN with fatrace: fanotify ok', { fanotify: { capSysAdmin: true, fatrace: '/usr/bin/fatrace' } }, 'fanotify', 'ok'],
  ['unprivileged under "auto": info, not a failure', {}, 'fanotify', 'info'],
  ['root without fatrace under "auto": info', { uid: 0, fanotify: { capSysAdmin: true, fatrace: null } }, 'fanotify', 'info'],
  ['unprivileged under "on": fail', { config: withConfig((c) => ({ ...c, autonomous: { ...c.autonomous, fanotify: 'on' } })) }, 'fanotify', 'fail'],
  ['"off": info', { config: withConfig((c) => ({ ...c, autonomous: { ...c.autonomous, fanotify: 'off' } })) }, 'fanotify', 'info'],
  ['no state dir yet is fine', { state: null }, 'state-permissions', 'ok'],
  ['state file 0644 fails', { state: [{ rel: '', isDir: true, mode: 0o40700, uid: 1000 }, { rel: 'state.json', isDir: false, mode: 0o100644, uid: 1000 }] }, 'state-permissions', 'fail'],
  ['state dir 0755 fails', { state: [{ rel: '', isDir: true, mode: 0o40755, uid: 1000 }] }, 'state-permissions', 'fail'],
  ['snapshot dir 0750 fails', { state: [{ rel: '', isDir: true, mode: 0o40700, uid: 1000 }, { rel: 'snapshots', isDir: true, mode: 0o40750, uid: 1000 }] }, 'state-permissions', 'fail'],
  ['state owned by another user fails', { state: [{ rel: '', isDir: true, mode: 0o40700, uid: 0 }] }, 'state-owner', 'fail'],
  ['unwritable git dir fails', { writable: [{ path: '/w/.git', error: 'EACCES' }] }, 'write-access', 'fail'],
  ['free disk below health.minFreeBytes fails', { freeBytes: 50 * 2 ** 20 }, 'disk', 'fail'],
  ['free disk near the minimum warns', { freeBytes: 150 * 2 ** 20 }, 'disk', 'warn'],
  ['minimum follows the config', { freeBytes: 50 * 2 ** 20, config: withConfig((c) => ({ ...c, health: { minFreeBytes: 1 } })) }, 'disk', 'ok'],
  ['LFS in .gitattributes without git-lfs warns', { lfs: { attributes: true, installed: false, filterConfigured: false } }, 'lfs', 'warn'],
  ['git-lfs installed but not set up warns', { lfs: { attributes: true, installed: true, filterConfigured: false } }, 'lfs', 'warn'],
  ['git-lfs installed and set up', { lfs: { attributes: true, installed: true, filterConfigured: true } }, 'lfs', 'ok'],
  ['no LFS attributes: no check', { lfs: { attributes: false, installed: false, filterConfigured: false } }, 'lfs', undefined],
  ['no committer identity warns', { identity: { ok: false, error: 'Author identity unknown' } }, 'identity', 'warn'],
];

for (const [name, over, id, want] of cases) {
  test(`doctor: ${name}`, () => {
    assert.equal(statusOf(facts(over), id), want);
  });
}

test('doctor: a failure makes the report not ok; warnings do not', () => {
  assert.equal(evaluate(facts()).ok, true);
  assert.equal(evaluate(facts({ git: { version: 'git version 2.40.0' } })).ok, true);
  assert.equal(evaluate(facts({ freeBytes: 1 })).ok, false);
});

test('doctor: inotify fixes name the sysctl to raise', () => {
  const r = evaluate(facts({ inotify: { maxUserWatches: 8192, maxUserInstances: 128, usedWatches: 0, usedInstances: 128, workspaceDirs: 9000 } }));
  assert.match(r.checks.find((c) => c.id === 'inotify-watches')!.fix!, /sysctl fs\.inotify\.max_user_watches=\d+/);
  assert.match(r.checks.find((c) => c.id === 'inotify-instances')!.fix!, /sysctl fs\.inotify\.max_user_instances=\d+/);
});

test('doctor: the permissions failure names the file, its mode and the fix', () => {
  const r = evaluate(facts({ state: [{ rel: '', isDir: true, mode: 0o40700, uid: 1000 }, { rel: 'winnow.log', isDir: false, mode: 0o100644, uid: 1000 }] }));
  const c = r.checks.find((x) => x.id === 'state-permissions')!;
  assert.match(c.summary, /winnow\.log \(0644\)/);
  assert.match(c.fix!, /chmod -R go-rwx \/w\/\.git\/winnow/);
});

test('doctor: evidence modes follow privileges', () => {
  assert.deepEqual(evaluate(facts({ uid: 0 })).evidence, { fanotify: 'available', openHandle: true, temporal: true });
  assert.deepEqual(evaluate(facts()).evidence, { fanotify: 'unavailable', openHandle: 'own-processes', temporal: 'own-processes' });
});

test('doctor: process tracing and lineage, by privilege and tools', () => {
  const T = (o: Partial<NonNullable<DoctorFacts['tracing']>> = {}) => ({ tracing: { strace: '/usr/bin/strace', forkstat: '/usr/bin/forkstat', ptraceScope: null, ...o } });
  const cases: [string, Partial<DoctorFacts>, string, CheckStatus | undefined][] = [
    ['ordinary user, no Yama: tracing ok', T(), 'trace', 'ok'],
    ['ordinary user, ptrace_scope 1: exec only', T({ ptraceScope: 1 }), 'trace', 'info'],
    ['ordinary user without strace: warn', T({ strace: null }), 'trace', 'warn'],
    ['"on" without strace: fail', { ...T({ strace: null }), config: withConfig((c) => ({ ...c, autonomous: { ...c.autonomous, trace: 'on' } })) }, 'trace', 'fail'],
    ['root with fanotify: tracing not needed', { uid: 0, ...T() }, 'trace', 'ok'],
    ['root with fanotify and forkstat: lineage ok', { uid: 0, ...T() }, 'lineage', 'ok'],
    ['root with fanotify, no forkstat: warn', { uid: 0, ...T({ forkstat: null }) }, 'lineage', 'warn'],
    ['no fanotify: no lineage line', T(), 'lineage', undefined],
  ];
  for (const [name, over, id, want] of cases) assert.equal(statusOf(facts(over), id), want, name);
  assert.match(evaluate(facts(T({ ptraceScope: 1 }))).checks.find((c) => c.id === 'trace')!.fix!, /winnow exec -- CMD/);
});

test('doctor: each autonomous process of the running daemon with its rung and how to move it up', () => {
  const r = evaluate(
    facts({
      processes: [
        { pid: 10, command: 'node claude-autonomous.mjs', why: 'command matches /claude-autonomous/', rung: 'trace', advice: 'run winnow as root (or with CAP_SYS_ADMIN) for fanotify, which costs the agent nothing' },
        { pid: 20, command: 'python monitor.py', why: 'owned by autonomous user bot', rung: 'heuristic', advice: 'run your agent under `winnow exec -- CMD` (it is then traced); it is not traced now: Yama ptrace_scope is 1' },
      ],
    }),
  );
  const rungs = r.checks.filter((c) => c.id === 'rung');
  assert.equal(rungs.length, 2);
  assert.match(rungs[0]!.summary, /process 10 \(node claude-autonomous\.mjs\): process tracing/);
  assert.equal(rungs[1]!.status, 'warn');
  assert.match(rungs[1]!.fix!, /^Run your agent under `winnow exec -- CMD`/);
  assert.equal(r.processes?.length, 2);
});
