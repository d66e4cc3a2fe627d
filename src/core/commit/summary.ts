/**
 * The `{summary}` of a commit message: the paths, shortest first-listed, with a count of the rest.
 *
 * @example summarize(['src/b.ts', 'docs/a.md']) // 'docs/a.md, src/b.ts'
 * @example summarize(['a', 'b', 'c', 'd', 'e']) // 'a, b (+3 more)'
 */
export function summarize(paths: readonly string[], maxListed = 3): string {
  const sorted = [...new Set(paths)].sort();
  if (sorted.length === 0) return '(no paths)';
  const names = sorted.map(displayPath);
  if (names.length <= maxListed) return names.join(', ');
  // Listing all but one and then "(+1 more)" would say less than the name itself.
  const shown = Math.max(1, maxListed - 1);
  return `${names.slice(0, shown).join(', ')} (+${names.length - shown} more)`;
}

/**
 * Renders `template` (`commit.message`): `{summary}` → the summary, `{count}` → number of paths.
 * The result is one line: a newline in a file name must not split the subject.
 */
export function renderMessage(template: string, paths: readonly string[]): string {
  const summary = summarize(paths);
  const count = String(new Set(paths).size);
  return template.replace(/\{summary\}/g, () => summary).replace(/\{count\}/g, () => count);
}

/** A path as it appears in a message: control characters escaped so the message stays one line. */
export function displayPath(p: string): string {
  // eslint-disable-next-line no-control-regex
  return p.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
