/**
 * Layer 1's built-in facts: what is blocked whatever the rules say. Each is a pure judgement on
 * facts the daemon gathers (a path, what `lstat` found, what git said), and returns the rule name
 * and the sentence a decision record carries, or null. The rule names are listed in
 * docs/internals.md ("Built-in rule names in decision records").
 *
 * Order in the classifier: `.git` and names that are not valid UTF-8 first (no I/O), then the
 * rules, then nested repositories, git-ignored paths (beat ALLOW rules) and unsafe file types.
 */
import type { Decision, RuleMatch } from '../decision.js';

/** A built-in BLOCK: its rule name and reason. */
export interface BuiltinFact {
  rule: string;
  reason: string;
}

export const BUILTIN_RULES = Object.freeze({
  gitDir: 'builtin:git-dir',
  invalidUtf8Name: 'builtin:invalid-utf8-name',
  nestedRepo: 'builtin:nested-repo',
  gitIgnored: 'builtin:git-ignored',
  specialFile: 'builtin:special-file',
  symlinkOutside: 'builtin:symlink-outside',
  directory: 'builtin:directory',
});

/** `.git` itself, or anything under a `.git/` directory, at any depth (a nested repository's too). */
export function isInGitDir(path: string): boolean {
  if (path.indexOf('.git') === -1) return false;
  return path === '.git' || path.startsWith('.git/') || path.endsWith('/.git') || path.includes('/.git/');
}

const GIT_DIR: BuiltinFact = Object.freeze({ rule: BUILTIN_RULES.gitDir, reason: "inside a .git directory: git's own files are never committed" });

/** Layer 1's answer for a path in a `.git` directory (what `RuleSet.match` returns before any rule). */
export const GIT_DIR_MATCH: RuleMatch = Object.freeze({ action: 'BLOCK', ...GIT_DIR });

export function gitDirFact(path: string): BuiltinFact | null {
  return isInGitDir(path) ? GIT_DIR : null;
}

/**
 * A name that was not valid UTF-8: the watcher hands it over with U+FFFD in place of the bad
 * bytes, so any git call with that string would name another file.
 */
export function invalidUtf8Fact(path: string): BuiltinFact | null {
  if (!path.includes('\uFFFD')) return null;
  return {
    rule: BUILTIN_RULES.invalidUtf8Name,
    reason: 'held back: the file name is not valid UTF-8, so winnow cannot name it to git safely; rename it, or commit it by hand',
  };
}

/** A path inside the nested repository `repo` (a directory below the root holding a `.git`), or null. */
export function nestedRepoFact(repo: string | null): BuiltinFact | null {
  if (repo === null) return null;
  return {
    rule: BUILTIN_RULES.nestedRepo,
    reason: `inside the nested git repository ${repo}/ (it has its own .git): its files are that repository's, never committed into this one`,
  };
}

/** A path git ignores (.gitignore, info/exclude, the global excludes file): blocked even when an ALLOW rule matches. */
export function gitIgnoredFact(ignored: boolean): BuiltinFact | null {
  return ignored ? { rule: BUILTIN_RULES.gitIgnored, reason: 'git ignores it (.gitignore, info/exclude or global excludes)' } : null;
}

/** What `lstat` (and, for a symlink, `realpath`) found at a path. */
export type FileKind =
  | { kind: 'special' }
  /** `outside`: the target resolves out of the workspace (a dangling link is not outside: it is committed as a link). */
  | { kind: 'symlink'; target: string | null; outside: boolean }
  /** `holdsGit`: the directory has a `.git` of its own. */
  | { kind: 'directory'; holdsGit: boolean }
  | { kind: 'file' }
  | { kind: 'absent' };

/** The file types winnow never follows or commits. */
export function fileKindFact(path: string, k: FileKind): BuiltinFact | null {
  switch (k.kind) {
    case 'special':
      return { rule: BUILTIN_RULES.specialFile, reason: 'FIFO, socket or device: never read or committed' };
    case 'symlink':
      return k.outside ? { rule: BUILTIN_RULES.symlinkOutside, reason: `symlink pointing outside the workspace (${k.target}): never followed` } : null;
    case 'directory':
      return k.holdsGit
        ? { rule: BUILTIN_RULES.nestedRepo, reason: `${path}/ is a nested git repository (it has its own .git): not committed into this one` }
        : { rule: BUILTIN_RULES.directory, reason: 'a directory: its files are classified one by one' };
    default:
      return null;
  }
}

/** The layer-1 BLOCK decision a built-in fact makes. */
export function builtinDecision(path: string, f: BuiltinFact, l1Ns?: number): Decision {
  return { path, decision: 'BLOCK', layer: 1, rule: f.rule, reason: f.reason, ...(l1Ns === undefined ? {} : { timings: { l1Ns } }) };
}
