import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_TREES, emptyTreeOid, formatOfOid, nullOid, parseObjectFormat } from '../../src/core/git/object-format.js';
import { updateRefInput } from '../../src/core/commit/plumbing.js';
import { numstatInput, numstatOutput } from '../../src/core/commit/history-steps.js';
import { parseRevParse, revParseFailure, WorkspaceError } from '../../src/core/workspace.js';

const SHA1 = 'a'.repeat(40);
const SHA256 = 'b'.repeat(64);

test('object formats: empty tree, null id and an id\'s format, per format', () => {
  // `git hash-object -t tree /dev/null` in a sha1 and a sha256 repository.
  assert.equal(emptyTreeOid('sha1'), '4b825dc642cb6eb9a060e54bf8d69288fbee4904');
  assert.equal(emptyTreeOid('sha256'), '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321');
  assert.deepEqual([...EMPTY_TREES].sort(), [emptyTreeOid('sha1'), emptyTreeOid('sha256')].sort());
  assert.equal(nullOid('sha1'), '0'.repeat(40));
  assert.equal(nullOid('sha256'), '0'.repeat(64));
  assert.equal(formatOfOid(SHA1), 'sha1');
  assert.equal(formatOfOid(SHA256), 'sha256');
  for (const bad of ['', 'abc', 'g'.repeat(40), 'a'.repeat(41)]) assert.throws(() => formatOfOid(bad), /not an object id/);
});

test('parseObjectFormat: git\'s answer, or an error for a format winnow does not know', () => {
  assert.equal(parseObjectFormat('sha1\n'), 'sha1');
  assert.equal(parseObjectFormat('sha256\n'), 'sha256');
  assert.throws(() => parseObjectFormat('blake3\n'), /object format winnow does not know: "blake3"/);
});

test('updateRefInput: an unborn branch\'s compare-and-swap uses the null id of the new commit\'s format', () => {
  const oldOf = (input: string) => input.split('\0').at(-2);
  assert.equal(oldOf(updateRefInput(SHA1, null)), nullOid('sha1'));
  assert.equal(oldOf(updateRefInput(SHA256, null)), nullOid('sha256'));
  assert.equal(oldOf(updateRefInput(SHA256, SHA256)), SHA256);
  assert.equal(updateRefInput(SHA1, null), `update HEAD\0${SHA1}\0${nullOid('sha1')}\0`);
});

test('numstatInput: HEAD\'s tree, or the empty tree of the new tree\'s format on an unborn branch; the echoed line is dropped', () => {
  assert.equal(numstatInput(null, SHA1), `${emptyTreeOid('sha1')} ${SHA1}\n`);
  assert.equal(numstatInput(null, SHA256), `${emptyTreeOid('sha256')} ${SHA256}\n`);
  assert.equal(numstatOutput(`${SHA1} ${SHA1}\n1\t0\ta\0`), '1\t0\ta\0');
  assert.equal(numstatOutput(''), '');
});

test('workspace: rev-parse answers and failures become sentences', () => {
  assert.deepEqual(parseRevParse('/w', 'false\ntrue\n/w\n/w/.git\n'), { toplevel: '/w', gitDir: '/w/.git' });
  assert.throws(() => parseRevParse('/r.git', 'true\nfalse\n'), /bare repository/);
  assert.throws(() => parseRevParse('/w/.git', 'false\nfalse\n\n/w/.git\n'), /inside a git directory, not a work tree/);
  const cases: [string, boolean, RegExp][] = [
    ['fatal: not a git repository (or any of the parent directories): .git', false, /is not inside a git work tree\. Run `git init`/],
    ['fatal: detected dubious ownership in repository', false, /git rev-parse failed: fatal: detected dubious ownership/],
    ['', true, /git was not found on PATH/],
  ];
  for (const [stderr, missing, want] of cases) {
    const e = revParseFailure('/w', stderr, missing);
    assert.ok(e instanceof WorkspaceError);
    assert.match(e.message, want);
  }
});
