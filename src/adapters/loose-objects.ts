/**
 * Writes git objects as loose objects from node, the way git does (`objects/ab/cdef…`: the type,
 * size and body deflated, written read-only to a temporary file, moved into place): the commit's
 * note (a blob, a tree or two, a commit) without `git notes add`, whose spawn forks the daemon's
 * memory (node 20 spawns with fork: 1.5 ms from a 44 MB node, 4.7 ms at 98 MB) before git starts.
 * No library does only this: isomorphic-git writes objects but knows no SHA-256 repository.
 *
 * Where the repository asks more of its objects than this does — group-shared permissions
 * (`core.sharedRepository`) or fsync (`core.fsync`, `core.fsyncObjectFiles`) — there is no writer
 * and git writes them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { ObjectFormat } from '../core/git/object-format.js';
import type { GitRunner } from '../ports/index.js';

export type ObjectType = 'blob' | 'tree' | 'commit';

export interface ObjectWriter {
  /** Writes the object (again, when it is there already): its id. */
  write(type: ObjectType, body: Buffer): Promise<string>;
}

/** Refuses: git must write the objects itself. */
export class NoObjectWriter extends Error {}

/** Config that makes git write objects differently from this writer. */
const DEFERS = /^core\.(sharedrepository|fsync|fsyncobjectfiles)\s/i;

/** The repository's objects folder and settings, asked once; throws NoObjectWriter where git must write. */
export async function looseObjectWriter(exec: GitRunner, root: string, format: ObjectFormat): Promise<ObjectWriter> {
  const cfg = (await exec(['config', '--get-regexp', '^core\\.'], { readOnly: true, okCodes: [1] })).stdout.toString('utf8');
  const deferred = cfg.split('\n').find((l) => DEFERS.test(l + ' ') && !/\s(false|0|umask)$/i.test(l));
  if (deferred) throw new NoObjectWriter(`${deferred.split(/\s/)[0]} is set`);
  const level = zlibLevel(cfg);
  const dir = (await exec(['rev-parse', '--git-path', 'objects'], { readOnly: true })).stdout.toString('utf8').trim();
  const objects = isAbsolute(dir) ? dir : join(root, dir);
  const algorithm = format === 'sha256' ? 'sha256' : 'sha1';
  return {
    async write(type, body) {
      const header = Buffer.from(`${type} ${body.length}\0`, 'latin1');
      const id = createHash(algorithm).update(header).update(body).digest('hex');
      const folder = join(objects, id.slice(0, 2));
      const tmp = join(folder, `tmp_obj_${randomBytes(6).toString('hex')}`);
      const data = deflateSync(Buffer.concat([header, body]), { level });
      // Four calls on the way (open, write, close, rename): the folder is made only when missing.
      await writeFile(tmp, data, { mode: 0o444, flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
        await mkdir(folder, { recursive: true });
        await writeFile(tmp, data, { mode: 0o444, flag: 'wx' });
      });
      // An object already there has these very bytes (its name is their hash): replacing it changes
      // nothing, and leaves it as fresh as git's own write would (a prune keeps it).
      await rename(tmp, join(folder, id.slice(2))).catch(async (e: unknown) => {
        await unlink(tmp).catch(() => undefined);
        throw e;
      });
      return id;
    },
  };
}

/** core.looseCompression, else core.compression, else git's default for loose objects (best speed). */
function zlibLevel(cfg: string): number {
  const get = (k: string) => new RegExp(`^core\\.${k} (-?\\d+)$`, 'im').exec(cfg)?.[1];
  const n = Number(get('loosecompression') ?? get('compression') ?? 1);
  return Number.isInteger(n) && n >= -1 && n <= 9 ? n : 1;
}
