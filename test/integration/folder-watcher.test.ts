/**
 * The per-folder watcher (adapters/folder-watcher.ts) on a real tree and real inotify: what a
 * person's and a tool's file operations come out as. Each test waits on the events themselves;
 * "nothing arrived" is shown by a later cookie file's event, which inotify delivers in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFolderWatcher } from '../../src/adapters/folder-watcher.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import type { WatchEvent } from '../../src/core/event.js';
import type { StreamSpec, WatcherSubscription } from '../../src/ports/index.js';

class Seen {
  readonly events: WatchEvent[] = [];
  readonly errors: Error[] = [];
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];
  push(events: WatchEvent[]): void {
    this.events.push(...events);
    this.waiters = this.waiters.filter((w) => (w.pred() ? (w.resolve(), false) : true));
  }
  has(path: string, kind?: WatchEvent['kind']): boolean {
    return this.events.some((e) => e.path === path && (kind === undefined || e.kind === kind));
  }
  /** Resolves once an event for `path` (of `kind`) has arrived. */
  until(path: string, kind?: WatchEvent['kind']): Promise<void> {
    if (this.has(path, kind)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pred: () => this.has(path, kind), resolve }));
  }
  paths(): string[] {
    return this.events.map((e) => e.path);
  }
}

async function watching(setup: (root: string) => Promise<void>, body: (root: string, seen: Seen) => Promise<void>, ignore: string[] = []): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'winnow-fw-'));
  let sub: WatcherSubscription | null = null;
  try {
    await setup(root);
    const seen = new Seen();
    const stream: StreamSpec = { name: 'all', dirs: [root], priority: 'high', ignore: ignore.map((d) => join(root, d)) };
    sub = await createFolderWatcher(root, systemClock).subscribe(stream, (e) => seen.push(e), (e) => seen.errors.push(e));
    await body(root, seen);
    assert.deepEqual(seen.errors, []);
  } finally {
    await sub?.close();
    await rm(root, { recursive: true, force: true });
  }
}

test('a save deep in the tree arrives with its workspace path; nothing under .git or an ignored folder does', { timeout: 30_000 }, async () => {
  await watching(
    async (root) => {
      await mkdir(join(root, 'src', 'a', 'b'), { recursive: true });
      await mkdir(join(root, '.git', 'objects'), { recursive: true });
      await mkdir(join(root, 'node_modules', 'x'), { recursive: true });
      await writeFile(join(root, 'src', 'a', 'b', 'note.md'), 'one\n');
    },
    async (root, seen) => {
      await writeFile(join(root, '.git', 'objects', 'loose'), 'x');
      await writeFile(join(root, '.git', 'index'), 'x');
      await writeFile(join(root, 'node_modules', 'x', 'index.js'), 'x');
      await mkdir(join(root, 'node_modules', 'y'));
      await writeFile(join(root, 'src', 'a', 'b', 'note.md'), 'two\n');
      await seen.until('src/a/b/note.md');
      await writeFile(join(root, 'cookie'), 'c');
      await seen.until('cookie');
      const stray = seen.paths().filter((p) => p.startsWith('.git') || p.startsWith('node_modules'));
      assert.deepEqual(stray, [], 'no event from .git or the ignored folder');
      assert.equal(seen.events.find((e) => e.path === 'src/a/b/note.md')!.kind, 'update');
      assert.equal(seen.events[0]!.source, 'watch');
      assert.equal(seen.events[0]!.stream, 'all');
    },
    ['node_modules'],
  );
});

test('a folder made and filled at once: its files arrive, and later writes in it too', { timeout: 30_000 }, async () => {
  await watching(
    async () => undefined,
    async (root, seen) => {
      // Written before the watcher can have watched the new folders: found by walking them.
      await mkdir(join(root, 'gen', 'deep', 'er'), { recursive: true });
      await writeFile(join(root, 'gen', 'deep', 'er', 'first.txt'), '1');
      await seen.until('gen/deep/er/first.txt');
      assert.ok(seen.has('gen', 'create'), 'the folder itself arrives as created');
      await writeFile(join(root, 'gen', 'deep', 'er', 'second.txt'), '2');
      await seen.until('gen/deep/er/second.txt', 'create');
    },
  );
});

test('deletes: a file, then a whole folder (its name only, and no event named after itself)', { timeout: 30_000 }, async () => {
  await watching(
    async (root) => {
      await mkdir(join(root, 'old', 'inner'), { recursive: true });
      await writeFile(join(root, 'old', 'inner', 'f.txt'), 'f');
      await writeFile(join(root, 'gone.txt'), 'g');
    },
    async (root, seen) => {
      await rm(join(root, 'gone.txt'));
      await seen.until('gone.txt', 'delete');
      await rm(join(root, 'old'), { recursive: true });
      await seen.until('old', 'delete');
      await writeFile(join(root, 'cookie'), 'c');
      await seen.until('cookie');
      const odd = seen.paths().filter((p) => p === 'old/old' || p === 'old/inner/inner');
      assert.deepEqual(odd, [], 'a folder deleting itself is not reported under its own name');
    },
  );
});

test('a folder renamed: writes in it arrive under the new name, never the old', { timeout: 30_000 }, async () => {
  await watching(
    async (root) => {
      await mkdir(join(root, 'src', 'before', 'sub'), { recursive: true });
    },
    async (root, seen) => {
      await rename(join(root, 'src', 'before'), join(root, 'src', 'after'));
      await seen.until('src/after', 'create');
      await seen.until('src/before', 'delete');
      await writeFile(join(root, 'src', 'after', 'sub', 'x.txt'), 'x');
      await seen.until('src/after/sub/x.txt');
      assert.equal(seen.paths().some((p) => p.startsWith('src/before/')), false, JSON.stringify(seen.events.map((e) => [e.path, e.kind])));
    },
  );
});

test('a folder replaced at the same path (removed and made again, its inode number often reused) is watched anew', { timeout: 30_000 }, async () => {
  await watching(
    async (root) => {
      await mkdir(join(root, 'out'));
    },
    async (root, seen) => {
      for (let i = 0; i < 5; i++) {
        await rm(join(root, 'out'), { recursive: true });
        await mkdir(join(root, 'out'));
        await writeFile(join(root, 'out', `fresh-${i}.txt`), 'f');
        await seen.until(`out/fresh-${i}.txt`);
        await writeFile(join(root, 'out', `later-${i}.txt`), 'l');
        await seen.until(`out/later-${i}.txt`);
      }
    },
  );
});

test('a file named like its folder (src/src) is a file, not the folder going', { timeout: 30_000 }, async () => {
  await watching(
    async (root) => {
      await mkdir(join(root, 'src'));
    },
    async (root, seen) => {
      await writeFile(join(root, 'src', 'src'), 's');
      await seen.until('src/src', 'create');
      await rm(join(root, 'src', 'src'));
      await seen.until('src/src', 'delete');
      await writeFile(join(root, 'src', 'still.txt'), 's');
      await seen.until('src/still.txt');
    },
  );
});

test("an editor's atomic save (temp file renamed over) arrives as the file; odd names arrive intact", { timeout: 30_000 }, async () => {
  await watching(
    async (root) => {
      await writeFile(join(root, 'doc.md'), 'v1\n');
    },
    async (root, seen) => {
      await writeFile(join(root, '.doc.md.swp'), 'v2\n');
      await rename(join(root, '.doc.md.swp'), join(root, 'doc.md'));
      await seen.until('doc.md', 'create');
      for (const name of ['with space.md', 'ünïcödé.md', '-leading.md', 'new\nline.md']) {
        await writeFile(join(root, name), 'x');
        await seen.until(name);
      }
    },
  );
});

test('a name that is not valid UTF-8 arrives as made, with U+FFFD, not as a delete of a name that names nothing', { timeout: 30_000 }, async () => {
  await watching(
    async () => undefined,
    async (root, seen) => {
      await writeFile(Buffer.concat([Buffer.from(`${root}/latin1-`), Buffer.from([0xe9, 0xff]), Buffer.from('.txt')]), 'x');
      await writeFile(join(root, 'cookie'), 'c');
      await seen.until('cookie');
      const odd = seen.events.filter((e) => e.path.startsWith('latin1-'));
      assert.ok(odd.length >= 1);
      assert.ok(odd.every((e) => e.path === 'latin1-\uFFFD\uFFFD.txt' && e.kind !== 'delete'), JSON.stringify(odd));
    },
  );
});

test('a symlinked folder is not followed out of the workspace', { timeout: 30_000 }, async () => {
  const outside = await mkdtemp(join(tmpdir(), 'winnow-fw-out-'));
  try {
    await watching(
      async (root) => {
        await symlink(outside, join(root, 'link'));
      },
      async (root, seen) => {
        await writeFile(join(outside, 'secret.txt'), 's');
        await writeFile(join(root, 'cookie'), 'c');
        await seen.until('cookie');
        assert.equal(seen.paths().some((p) => p.startsWith('link/')), false);
      },
    );
  } finally {
    await rm(outside, { recursive: true, force: true });
  }
});

test('a stream folder that does not exist cannot be subscribed', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'winnow-fw-'));
  try {
    const w = createFolderWatcher(root, systemClock);
    await assert.rejects(w.subscribe({ name: 'x', dirs: [join(root, 'missing')], priority: 'high' }, () => undefined, () => undefined), /ENOENT/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
