import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refusedName, quoteC, ignoredByUpdateIndex } from '../../src/core/commit/names.js';

test('refusedName: a .git component in any case (and NTFS spellings) is refused; names that only look alike are not', () => {
  for (const p of ['.GIT/config', '.Git', 'docs/.gIt/x.md', 'a/.git./b', 'a/.git  /b', 'GIT~1/x', 'sub/.git/HEAD']) assert.match(String(refusedName(p)), /git refuses/, p);
  for (const p of ['.gitignore', 'docs/.gitattributes', 'git/x', '.github/workflows/ci.yml', 'my.git/x', 'x.GIT']) assert.equal(refusedName(p), null, p);
});

test('quoteC: quoted as git quotes a name (core.quotePath), plain when nothing needs quoting', () => {
  assert.equal(quoteC(Buffer.concat([Buffer.from('latin1-'), Buffer.from([0xe9, 0xff]), Buffer.from('.txt')])), '"latin1-\\351\\377.txt"');
  assert.equal(quoteC(Buffer.from('a "b"\n\\.md')), '"a \\"b\\"\\n\\\\.md"');
  assert.equal(quoteC(Buffer.from('plain/name.md')), 'plain/name.md');
});

test('ignoredByUpdateIndex: only the batch paths update-index skipped', () => {
  assert.deepEqual(ignoredByUpdateIndex('Ignoring path .GIT/config\nwarning: other\nIgnoring path not/ours\n', ['.GIT/config', 'a.md']), ['.GIT/config']);
  assert.deepEqual(ignoredByUpdateIndex('', ['a']), []);
});
