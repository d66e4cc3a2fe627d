import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWhen } from '../../src/core/history/when.js';
import { formatNote, parseNote, formatEvidence, entryFor, foldNotes, isWinnowsOwn, type NoteEntry } from '../../src/core/history/note.js';
import { planSquash, type TipCommit } from '../../src/core/history/squash.js';
import { parseNumstat, formatBody, withBody, messageFromCommand } from '../../src/core/commit/body.js';
import { largeFileHold, parseLfsAttrs, humanBytes } from '../../src/core/commit/large.js';

// 2026-12-02 10:00:00 local time.
const NOW = new Date(2026, 11, 2, 10, 0, 0, 0).getTime();
const local = (...a: [number, number, number, number?, number?, number?]) => new Date(a[0], a[1], a[2], a[3] ?? 0, a[4] ?? 0, a[5] ?? 0).getTime();

test('parseWhen: spans ago, clock times, days, ISO, and refusals', () => {
  const cases: [string, number | null][] = [
    ['1h', NOW - 3_600_000],
    ['30m', NOW - 1_800_000],
    ['1h30m', NOW - 5_400_000],
    ['2 days ago', NOW - 2 * 86_400_000],
    ['90s', NOW - 90_000],
    ['now', NOW],
    ['09:30', local(2026, 11, 2, 9, 30)],
    ['10:30', local(2026, 11, 1, 10, 30)], // still ahead today: yesterday's
    ['5pm', local(2026, 11, 1, 17, 0)],
    ['yesterday', local(2026, 11, 1)],
    ['yesterday 17:00', local(2026, 11, 1, 17, 0)],
    ['Yesterday at 17:05:09', local(2026, 11, 1, 17, 5, 9)],
    ['today 8:15', local(2026, 11, 2, 8, 15)],
    ['2026-12-01', local(2026, 11, 1)],
    ['2026-12-01T10:30', local(2026, 11, 1, 10, 30)],
    ['2026-12-01 10:30:15', local(2026, 11, 1, 10, 30, 15)],
    ['2026-12-01T10:30:00Z', Date.UTC(2026, 11, 1, 10, 30)],
    ['2026-12-01T10:30:00+02:00', Date.UTC(2026, 11, 1, 8, 30)],
    ['@1700000000', 1_700_000_000_000],
    ['', null],
    ['soon', null],
    ['25:00', null],
    ['2026-02-31', null],
    ['1parsec', null],
    ['yesterday teatime', null],
    ['13pm', null],
  ];
  for (const [text, want] of cases) assert.equal(parseWhen(text, NOW), want, text);
});

test('note: evidence in words, round trip, any line order, foreign notes ignored', () => {
  const cases: [Parameters<typeof formatEvidence>[0], string | undefined][] = [
    [[{ kind: 'fanotify', pid: 4242, command: 'vim', autonomous: false }], 'fanotify: vim (pid 4242), not autonomous'],
    [[{ kind: 'temporal', autonomous: true, detail: 'io moved' }, { kind: 'open-handle', pid: 7, autonomous: true }], 'temporal: unknown writer, autonomous (io moved); open-handle: pid 7, autonomous'],
    [[{ kind: 'none', autonomous: false }], undefined],
    [undefined, undefined],
  ];
  for (const [ev, want] of cases) assert.equal(formatEvidence(ev), want);

  const entries: NoteEntry[] = [
    entryFor('z dir/new\nline.md', { path: 'z dir/new\nline.md', decision: 'ALLOW', layer: 3, rule: null, reason: 'content changed', at: 5 }),
    entryFor('a.md', { path: 'a.md', decision: 'ALLOW', layer: 2, rule: 'ANALYZE:**', reason: 'a person wrote it', evidence: [{ kind: 'fanotify', pid: 1, command: 'vim', autonomous: false }] }),
    entryFor('gone.md', undefined),
  ];
  const text = formatNote({ kind: 'commit', at: 100 }, entries);
  const back = parseNote(text)!;
  assert.equal(back.header.kind, 'commit');
  assert.deepEqual(back.entries.map((e) => e.path), ['a.md', 'gone.md', 'z dir/new\nline.md']);
  assert.equal(back.entries[0]!.evidence, 'fanotify: vim (pid 1), not autonomous');
  assert.equal(back.entries[1]!.layer, null);
  // cat_sort_uniq sorts lines: the header may come last.
  const shuffled = text.trim().split('\n').sort().join('\n');
  assert.deepEqual(parseNote(shuffled), back);
  assert.equal(parseNote('a note a person wrote\n'), null);
  assert.equal(parseNote('{"path":"a","decision":"ALLOW","reason":"x"}'), null, 'no header: not winnow\'s');
});

test('note: folding keeps each path once with its latest decision; a person\'s squash is theirs', () => {
  const n = (kind: 'commit' | 'squash', ...paths: [string, string][]) => ({ header: { kind, at: 0 }, entries: paths.map(([path, reason]) => ({ path, decision: 'ALLOW' as const, layer: 3, rule: null, reason })) });
  const f = foldNotes([n('commit', ['a', 'old a'], ['b', 'b']), null, n('commit', ['a', 'new a'])], { kind: 'squash', at: 1, folded: ['x', 'y', 'z'] });
  assert.deepEqual(f.entries.map((e) => [e.path, e.reason]), [['a', 'new a'], ['b', 'b']]);
  assert.deepEqual(parseNote(formatNote(f.header, f.entries))!.header.folded, ['x', 'y', 'z']);
  assert.equal(isWinnowsOwn(n('commit')), true);
  assert.equal(isWinnowsOwn(n('squash')), false);
  assert.equal(isWinnowsOwn(null), false);
});

test('planSquash: folds winnow\'s unpushed run at the tip; refuses foreign, pushed and merge commits', () => {
  const c = (sha: string, o: Partial<TipCommit> = {}): TipCommit => ({ sha, parents: [`${sha}^`], at: 0, subject: `s ${sha}`, own: true, pushed: false, ...o });
  const chain = (...cs: TipCommit[]) => cs.map((x, i) => ({ ...x, parents: x.parents.length > 1 ? x.parents : cs[i + 1] ? [cs[i + 1]!.sha] : x.parents }));
  type Case = { name: string; tip: TipCommit[]; since?: Parameters<typeof planSquash>[1]; fold?: string[]; base?: string | null; refuse?: RegExp };
  const cases: Case[] = [
    { name: 'run of own commits up to a person\'s', tip: chain(c('c3'), c('c2'), c('p1', { own: false })), fold: ['c2', 'c3'], base: 'p1' },
    { name: 'stops at pushed history', tip: chain(c('c3'), c('c2', { pushed: true })), fold: ['c3'], base: 'c2' },
    { name: 'HEAD is the person\'s', tip: chain(c('p2', { own: false }), c('c1')), refuse: /p2 "s p2"\) is not winnow's commit/ },
    { name: 'HEAD is pushed', tip: chain(c('c1', { pushed: true })), refuse: /already on the remote/ },
    { name: 'whole branch, root commit', tip: chain(c('c2'), c('c1', { parents: [] })), fold: ['c1', 'c2'], base: null },
    { name: '--since REV', tip: chain(c('c3'), c('c2'), c('c1'), c('p0', { own: false })), since: { kind: 'rev', sha: 'c1', text: 'c1' }, fold: ['c2', 'c3'], base: 'c1' },
    { name: '--since REV over a person\'s commit', tip: chain(c('c3'), c('p2', { own: false }), c('c1')), since: { kind: 'rev', sha: 'c1', text: 'HEAD~2' }, refuse: /p2 "s p2" is not winnow's commit.*Nothing was changed/ },
    { name: '--since REV over a pushed commit', tip: chain(c('c3'), c('c2', { pushed: true }), c('c1', { pushed: true })), since: { kind: 'rev', sha: 'c1', text: 'c1' }, refuse: /c2 "s c2" is already on the remote/ },
    { name: '--since REV not on the branch', tip: chain(c('c2'), c('c1', { parents: [] })), since: { kind: 'rev', sha: 'zz', text: 'other' }, refuse: /not on this branch/ },
    { name: '--since REV = HEAD', tip: chain(c('c2'), c('c1')), since: { kind: 'rev', sha: 'c2', text: 'HEAD' }, refuse: /no commits after HEAD/ },
    { name: '--since WHEN', tip: chain(c('c3', { at: 30 }), c('c2', { at: 20 }), c('c1', { at: 10 })), since: { kind: 'time', at: 20, text: '1h' }, fold: ['c2', 'c3'], base: 'c1' },
    { name: '--since WHEN reaching a person\'s commit', tip: chain(c('c3', { at: 30 }), c('p2', { at: 20, own: false })), since: { kind: 'time', at: 20, text: '1h' }, refuse: /not winnow's/ },
    { name: 'a merge', tip: [c('c2', { parents: ['a', 'b'] })], since: { kind: 'time', at: 0, text: 'x' }, refuse: /is a merge/ },
    { name: 'empty branch', tip: [], refuse: /no commits yet/ },
  ];
  for (const k of cases) {
    const p = planSquash(k.tip, k.since ?? null, true);
    if (k.refuse) {
      assert.equal(p.ok, false, k.name);
      assert.match((p as { reason: string }).reason, k.refuse, k.name);
    } else {
      assert.ok(p.ok, `${k.name}: ${JSON.stringify(p)}`);
      assert.deepEqual(p.fold.map((x) => x.sha), k.fold, k.name);
      assert.equal(p.base, k.base, k.name);
    }
  }
});

test('message body: numstat parsed, paths listed with counts, capped', () => {
  const stats = parseNumstat('3\t1\tdocs/a.md\0-\t-\timg.png\0' + '0\t5\tnew\nline.md\0');
  assert.deepEqual(stats, [
    { path: 'docs/a.md', added: 3, removed: 1 },
    { path: 'img.png', added: null, removed: null },
    { path: 'new\nline.md', added: 0, removed: 5 },
  ]);
  assert.equal(formatBody(stats), 'docs/a.md | +3 -1\nimg.png | binary\nnew\\nline.md | +0 -5');
  const many = Array.from({ length: 5 }, (_, i) => ({ path: `f${i}`, added: 1, removed: 0 }));
  assert.equal(formatBody(many, 2), 'f0 | +1 -0\nf1 | +1 -0\n(+3 more paths)');
  assert.equal(withBody('winnow: a', 'a | +1 -0'), 'winnow: a\n\na | +1 -0\n');
  assert.equal(withBody('winnow: a', ''), 'winnow: a');
  const cmd: [string, string | null][] = [['Fix typo\n\n', 'Fix typo'], ['\n\n  \n', null], ['', null], ['\nSubject\r\n\r\nbody\n', 'Subject\n\nbody']];
  for (const [out, want] of cmd) assert.equal(messageFromCommand(out), want, JSON.stringify(out));
});

test('large files: held over the limit unless LFS takes them; sizes in words', () => {
  const MiB = 1024 * 1024;
  const cases: [number, number, 'none' | 'ready' | 'not-installed', RegExp | null][] = [
    [50 * MiB, 50 * MiB, 'none', null],
    [150e6, 50 * MiB, 'none', /larger than commit\.maxFileBytes \(143\.1 MiB > 50\.0 MiB\)/],
    [150e6, 50 * MiB, 'ready', null],
    [150e6, 50 * MiB, 'not-installed', /git-lfs is not set up here/],
  ];
  for (const [size, max, lfs, want] of cases) {
    const r = largeFileHold(size, max, lfs);
    if (want) assert.match(r ?? '', want);
    else assert.equal(r, null);
  }
  assert.equal(humanBytes(512), '512 B');
  assert.deepEqual([...parseLfsAttrs('big.bin\0filter\0lfs\0a.md\0filter\0unspecified\0')], ['big.bin']);
});
