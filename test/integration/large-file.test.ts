/**
 * Issue 11 case 13: a modified 100 MB tracked file stalled the daemon (its HEAD blob read through
 * a quadratic Buffer.concat, both copies held in memory: layer 3 timed out after 30 s, a small edit
 * beside it waited over a minute, RSS 486 MB). Layer 3 now compares a large file by blob id, git
 * hashing it in its own process. Through the real daemon; asserts states and memory, not time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRepo } from '../helpers/repo.js';
import { DaemonProcess, fastConfig } from '../helpers/daemon.js';

const MB = 1024 * 1024;
const linux = process.platform === 'linux';

test('a small edit beside a modified 100 MB tracked file is committed, the large file is compared by hash, and the daemon never holds it in memory', { skip: linux ? false : 'reads VmHWM from /proc (Linux)' }, async (t) => {
  const r = await tempRepo();
  let d: DaemonProcess | undefined;
  // One hook, daemon first: t.after hooks run in the order registered, and removing the
  // workspace under a running daemon raced its state writes (rmdir .git/winnow: ENOTEMPTY).
  t.after(async () => {
    await d?.stop();
    await r.cleanup();
  });
  // 100 MB that compresses fast (git add stays quick), different in every 1 KiB block.
  const block = Buffer.alloc(1024, 'large file content ');
  const big = Buffer.alloc(100 * MB);
  for (let i = 0; i < big.length; i += 1024) {
    block.copy(big, i);
    big.writeUInt32LE(i, i);
  }
  await r.write('data/big.bin', big);
  await r.write('notes.md', '# notes\n');
  r.git('-c', 'core.compression=1', 'add', '--', 'data/big.bin', 'notes.md');
  r.git('commit', '-qm', 'big file');
  const cfg = join(r.root, '..', `${r.root.split('/').pop()}.json`);
  await writeFile(cfg, fastConfig());
  t.after(() => writeFile(cfg, '').catch(() => undefined));
  d = new DaemonProcess(r.root, ['--config', cfg]);
  await d.ready();

  const bigDecision = d.next((l) => l.msg === 'decision' && l.path === 'data/big.bin');
  const smallCommit = d.next((l) => l.msg === 'commit' && Array.isArray(l.paths) && (l.paths as string[]).includes('notes.md'));
  await appendFile(join(r.root, 'data/big.bin'), 'one more line\n');
  await appendFile(join(r.root, 'notes.md'), 'a small edit beside it\n');

  const decided = await bigDecision;
  assert.equal(decided.decision, 'ALLOW');
  assert.equal(decided.layer, 3);
  assert.match(String(decided.reason), /compared by hash/, 'judged by blob id, not by reading it');
  const c = await smallCommit;
  assert.equal(r.git('show', `${c.sha}:notes.md`), '# notes\na small edit beside it\n');

  const status = await readFile(`/proc/${d.child.pid}/status`, 'utf8');
  const hwmMb = Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024;
  // A daemon is ~50–70 MB; one copy of the file (read whole, or its HEAD blob) would add 100 MB.
  assert.ok(hwmMb < 150, `peak RSS ${hwmMb.toFixed(1)} MB: the 100 MB file was read into the daemon`);
});
