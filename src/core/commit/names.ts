/**
 * Path names git will not take, and how `status` shows a name that is not valid UTF-8 (issue 11
 * cases 16 and 17). Pure.
 */

/**
 * Why git refuses `path` as a name in the index, or null. git's `verify_path` rejects a `.git`
 * component in any letter case (`.GIT`, `.Git`), and with `core.protectNTFS` (the default) also
 * `.git` followed by dots or spaces and the short name `git~1`. `update-index --stdin` only prints
 * "Ignoring path" and exits 0, so without this check such a file would vanish from every commit
 * without a word.
 *
 * @example refusedName('.GIT/config') // 'git refuses a path with a ".GIT" component …'
 * @example refusedName('docs/.gitignore') // null
 */
export function refusedName(path: string): string | null {
  for (const c of path.split('/')) {
    const lower = c.toLowerCase();
    if (/^\.git[. ]*$/.test(lower) || lower === 'git~1') {
      return `git refuses a path with a "${c}" component (it could pass for the repository's own .git): never committed; rename it, or keep it out of the workspace`;
    }
  }
  return null;
}

/**
 * `bytes` as git shows an unusual name (`core.quotePath`): in double quotes, with C escapes and
 * octal for bytes outside printable ASCII, so a name that is not valid UTF-8 reads the way
 * `git status` prints it.
 *
 * @example quoteC(Buffer.from([0x6c, 0xe9, 0x2e, 0x74])) // '"l\\351.t"'
 */
export function quoteC(bytes: Uint8Array): string {
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 34: '\\"', 92: '\\\\' };
  let out = '';
  let quote = false;
  for (const b of bytes) {
    if (named[b]) {
      out += named[b];
      quote = true;
    } else if (b < 0x20 || b >= 0x7f) {
      out += `\\${b.toString(8).padStart(3, '0')}`;
      quote = true;
    } else {
      out += String.fromCharCode(b);
    }
  }
  return quote ? `"${out}"` : out;
}

/**
 * Paths `update-index --stdin` skipped with "Ignoring path X" (it exits 0 all the same): names git
 * refuses for a reason `refusedName` does not know. Only paths of the batch count.
 */
export function ignoredByUpdateIndex(stderr: string, paths: readonly string[]): string[] {
  const want = new Set(paths);
  const out: string[] = [];
  for (const m of stderr.matchAll(/^Ignoring path (.*)$/gm)) if (want.has(m[1]!)) out.push(m[1]!);
  return out;
}
