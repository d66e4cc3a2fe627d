/**
 * The ids that depend on the repository's hash function: a repository made with
 * `git init --object-format=sha256` names every object with 64 hex digits, and its empty tree and
 * null id differ from sha1's. Nothing in winnow may assume sha1.
 */

/** The repository's hash function (`git rev-parse --show-object-format`). */
export type ObjectFormat = 'sha1' | 'sha256';

const FORMATS: Readonly<Record<ObjectFormat, { hexLength: number; emptyTree: string }>> = {
  sha1: { hexLength: 40, emptyTree: '4b825dc642cb6eb9a060e54bf8d69288fbee4904' },
  sha256: { hexLength: 64, emptyTree: '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321' },
};

/** The argv that asks git for the object format (git ≥ 2.25). */
export const OBJECT_FORMAT_ARGS: readonly string[] = ['rev-parse', '--show-object-format'];

/** `rev-parse --show-object-format` output → the format; anything else is an error (a newer git's hash). */
export function parseObjectFormat(stdout: string): ObjectFormat {
  const f = stdout.trim();
  if (f === 'sha1' || f === 'sha256') return f;
  throw new Error(`git reports an object format winnow does not know: "${f}"`);
}

/** The id of the tree with no entries: what an unborn branch's first commit is compared with. */
export function emptyTreeOid(format: ObjectFormat): string {
  return FORMATS[format].emptyTree;
}

/** The all-zero id: "no object" in `update-ref` (must not exist yet) and `update-index --index-info` (remove). */
export function nullOid(format: ObjectFormat): string {
  return '0'.repeat(FORMATS[format].hexLength);
}

/** The format an object id was made with, from its length. */
export function formatOfOid(oid: string): ObjectFormat {
  for (const f of Object.keys(FORMATS) as ObjectFormat[]) if (FORMATS[f].hexLength === oid.length && /^[0-9a-f]+$/.test(oid)) return f;
  throw new Error(`not an object id: "${oid}"`);
}

/** The empty tree of every format winnow knows. */
export const EMPTY_TREES: ReadonlySet<string> = new Set(Object.values(FORMATS).map((f) => f.emptyTree));
