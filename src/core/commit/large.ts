/**
 * The large-file guard (`commit.maxFileBytes`): git hosts reject files over 100 MB at push time,
 * long after the commit that holds one has been made and built on. A larger file is held back
 * and listed in `status`; a path git-lfs tracks goes in as an LFS pointer instead.
 */

/** How git-lfs stands for one path: its `.gitattributes` filter, and whether the filter is set up here. */
export type LfsState = 'none' | 'ready' | 'not-installed';

/**
 * Why `path` is held back, or null when it may be committed.
 *
 * @example largeFileHold(150e6, 52428800, 'none') // 'larger than commit.maxFileBytes (143.1 MiB > 50.0 MiB): …'
 */
export function largeFileHold(size: number, maxBytes: number, lfs: LfsState): string | null {
  if (size <= maxBytes) return null;
  const sizes = `${humanBytes(size)} > ${humanBytes(maxBytes)}`;
  if (lfs === 'ready') return null;
  if (lfs === 'not-installed') {
    return `large file (${sizes}) tracked by git-lfs in .gitattributes, but git-lfs is not set up here: install it and run \`git lfs install\`; held until then`;
  }
  return `larger than commit.maxFileBytes (${sizes}): held back, since git hosts reject files over 100 MB. Track it with git-lfs (\`git lfs track\`), ignore it, or raise commit.maxFileBytes`;
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** `git check-attr -z filter -- PATH…` output (`path\0filter\0value\0`…) → paths whose filter is lfs. */
export function parseLfsAttrs(stdout: string): Set<string> {
  const f = stdout.split('\0');
  const out = new Set<string>();
  for (let i = 0; i + 2 < f.length; i += 3) if (f[i + 1] === 'filter' && f[i + 2] === 'lfs') out.add(f[i]!);
  return out;
}
