/**
 * Promise: secrets are never committed automatically — not by name, not by content, and not after a
 * pull that tries to switch the guard off in `.winnow.json`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GIT_ENV } from '../helpers/repo.js';
import {
  notBuilt,
  CASE_TIMEOUT_MS,
  faultWorkspace,
  committed,
  cookie,
  commitsSince,
  historyProblems,
  statusUntil,
  winnow,
  tail,
  fastConfig,
} from './helpers.js';

// Assembled at run time so that this file itself never trips a secret scanner.
const PEM = ['-----BEGIN', 'OPENSSH PRIVATE KEY-----'].join(' ') + '\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n' + ['-----END', 'OPENSSH PRIVATE KEY-----'].join(' ') + '\n';
const SECRETS: Record<string, string> = {
  '.env': 'DATABASE_URL=postgres://user:hunter2@db/prod\n',
  'config/.env.local': 'API_TOKEN=abc123\n',
  'notes/deploy-key.txt': `the deploy key, pasted for later:\n${PEM}`,
  'id_rsa': PEM,
};


const everCommitted = (root: string, path: string) =>
  execFileSync('git', ['log', '--all', '--format=%H', '--', path], { cwd: root, env: GIT_ENV }).toString().trim();

test('a .env and files holding a private key are never committed; status reports them as held', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  const d = ws.start();
  await d.ready();
  for (const [p, c] of Object.entries(SECRETS)) await ws.write(p, c);
  // An ordinary change in the same batch is still committed: a held file does not wedge the batch.
  await ws.write('notes/ordinary.md', 'ordinary\n');
  await committed(d, ws, { 'notes/ordinary.md': 'ordinary\n' });
  await cookie(d, ws);
  // Edited again later: still held.
  await ws.write('.env', 'DATABASE_URL=postgres://user:hunter3@db/prod\n');
  await cookie(d, ws);

  // A file created inside a new directory may reach winnow only through the reconciling rescan
  // (the watcher does not always report files created with their directory): wait for the state.
  const st = await statusUntil(
    ws.root,
    (s) => Object.keys(SECRETS).every((p) => (s.held as { path: string }[] | undefined)?.some((h) => h.path === p)),
    'every secret held',
  );
  for (const p of Object.keys(SECRETS)) assert.equal(everCommitted(ws.root, p), '', `${p} is in no commit`);
  const held = new Map((st.held as { path: string; reason: string }[]).map((h) => [h.path, h.reason]));
  for (const p of Object.keys(SECRETS)) {
    assert.ok(held.has(p), `status.held lists ${p}: ${JSON.stringify(st.held)}`);
    assert.match(held.get(p)!, /secret/i, `the reason for ${p} says why`);
  }
  assert.deepEqual(historyProblems(ws), []);
  await d.stop();
});

test('a pull that turns the secret guard off in .winnow.json is not applied silently', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const base = await faultWorkspace(t, {}, { configInRepo: true });
  const remote = `${base.root}-remote.git`;
  const other = `${base.root}-other`;
  t.after(async () => {
    await rm(remote, { recursive: true, force: true });
    await rm(other, { recursive: true, force: true });
  });
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote], { env: GIT_ENV });
  base.git('remote', 'add', 'origin', remote);
  base.git('push', '-q', 'origin', 'main');
  base.git('branch', '--set-upstream-to=origin/main');
  // The workspace syncs with the remote (config committed in .winnow.json, as teams do).
  await base.setConfig({ remote: { name: 'origin', branch: 'main', pull: true, push: true, minIntervalMs: 0, conflict: 'manual' } });
  base.git('commit', '-q', '-am', 'sync with origin');
  base.git('push', '-q', 'origin', 'main');

  // Someone else (or something else) pushes a config that disables the guard and allows .env.
  execFileSync('git', ['clone', '-q', remote, other], { env: GIT_ENV });
  const hostile = JSON.parse(fastConfig({ remote: { name: 'origin', branch: 'main', pull: true, push: true, minIntervalMs: 0, conflict: 'manual' } })) as Record<string, unknown>;
  hostile.secrets = { enabled: false, allow: ['**'] };
  await writeFile(join(other, '.winnow.json'), JSON.stringify(hostile) + '\n');
  execFileSync('git', ['commit', '-q', '-am', 'relax the secret guard'], { cwd: other, env: GIT_ENV });
  execFileSync('git', ['push', '-q', 'origin', 'main'], { cwd: other, env: GIT_ENV });
  const hostileSha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: other, env: GIT_ENV }).toString().trim();

  const d = base.start();
  await d.ready();
  const sync = await winnow(['sync', base.root], base.root);
  assert.equal(sync.code, 0, `winnow sync: ${sync.stderr}\n${tail(d)}`);
  assert.doesNotThrow(() => base.git('merge-base', '--is-ancestor', hostileSha, 'HEAD'), 'the pull brought the new .winnow.json');

  await base.write('.env', 'STRIPE_KEY=sk_live_notreallyasecretbutlookslikeone\n');
  await cookie(d, base);
  assert.equal(everCommitted(base.root, '.env'), '', '.env is still held after the pull');
  const told = d.lines.some((l) => (l.level === 'warn' || l.level === 'error') && /secrets/.test(JSON.stringify(l)) && /winnow\.json/.test(JSON.stringify(l)));
  assert.ok(told, `a warning names the security-relevant key the pull tried to change:\n${tail(d)}`);
  assert.ok(commitsSince(base).length >= 1);
  await d.stop();
});
