/**
 * Layer 1: `ACTION:GLOB[:DESCRIPTION]` rules, compiled once into a matcher that answers in well
 * under a microsecond and explains itself (STYLE.md habit 4).
 *
 * Glob semantics (the .gitignore conventions people know, on picomatch globs with `dot: true`):
 * - `*.log`          no `/`: matches the base name at any depth
 * - `node_modules/`  trailing `/`, no other `/`: everything under such a directory at any depth
 * - `build/out/`     trailing `/` with another `/`: everything under that directory, from the root
 * - `docs/**\/*.md`   a `/` inside: matched against the whole workspace-relative path
 * - `/TODO.md`       a leading `/` anchors to the root
 */
import type { RuleAction, RuleMatch } from '../decision.js';
import { GIT_DIR_MATCH, isInGitDir } from './builtins.js';
import { ruleLocation, type Rule } from './rule-text.js';
import { createFirstMatch } from './rule-index.js';

export { escapeGlob, formatRule, parseRuleLine, parseRules, ruleLocation, validateGlob, type Rule } from './rule-text.js';
export { suggestRules, type ChurnEntry } from './suggest.js';
export { requiredLiteral, literalEnds } from './rule-index.js';

export interface RuleSet {
  readonly rules: readonly Rule[];
  readonly defaultAction: RuleAction;
  /** First matching rule for a workspace-relative posix path, or the default action. */
  match(path: string): RuleMatch;
}

/**
 * Slots of the per-RuleSet memo of path → rule index: a workspace's hot set, with room to spare.
 *
 * Direct-mapped (one path per slot, a colliding path replaces it) rather than an LRU: a miss
 * costs a short hash and three array stores, with no allocation and no eviction bookkeeping, so a
 * path seen once pays 0.1–0.15 µs for it instead of the 0.3–0.5 µs an lru-cache `set` cost (SPEC:
 * layer 1 ≤ 1 µs per path, cold). A collision only costs a recomputation, never a wrong answer.
 */
const MEMO_SLOTS = 8192;

interface Memo {
  mask: number;
  hashes: Int32Array;
  keys: (string | undefined)[];
  vals: Int32Array;
}

function createMemo(size: number): Memo | null {
  if (size <= 0) return null;
  let n = 1;
  while (n < size) n <<= 1;
  return { mask: n - 1, hashes: new Int32Array(n), keys: new Array<string | undefined>(n).fill(undefined), vals: new Int32Array(n) };
}

/** FNV-1a over the length and the last 24 characters, where paths of one workspace differ most. */
function memoHash(path: string): number {
  const len = path.length;
  let h = len ^ 0x811c9dc5;
  for (let k = len - 1, stop = len > 24 ? len - 24 : 0; k >= stop; k--) h = Math.imul(h ^ path.charCodeAt(k), 0x01000193);
  return h ^ (h >>> 15);
}

/**
 * Compiles rules once. Literal base names, `*suffix`, `prefix*`, directory names and literal
 * paths go to hash maps; the few remaining globs become one regex each, tried in rule order only
 * while they could still beat the best indexed hit, so first-match order is exact.
 */
export function compileRules(rules: readonly Rule[], defaultAction: RuleAction, opts: { memo?: number } = {}): RuleSet {
  const firstMatch = createFirstMatch(rules);
  const memo = createMemo(opts.memo ?? MEMO_SLOTS);

  const matches: RuleMatch[] = rules.map((r) =>
    Object.freeze({ action: r.action, rule: r.text, reason: `matched ${r.text} (${ruleLocation(r)})` }),
  );
  const defaultMatch: RuleMatch = Object.freeze({
    action: defaultAction,
    rule: null,
    reason: `no rule matched; defaultAction is ${defaultAction}`,
  });

  return {
    rules,
    defaultAction,
    match(path: string): RuleMatch {
      if (isInGitDir(path)) return GIT_DIR_MATCH;
      let i: number;
      if (memo) {
        const h = memoHash(path);
        const slot = h & memo.mask;
        // The hash first: a miss then never touches the string the slot holds (a cache miss of its own).
        if (memo.hashes[slot] === h && memo.keys[slot] === path) i = memo.vals[slot]!;
        else {
          i = firstMatch(path);
          memo.hashes[slot] = h;
          memo.keys[slot] = path;
          memo.vals[slot] = i;
        }
      } else i = firstMatch(path);
      return i < 0 ? defaultMatch : matches[i]!;
    },
  };
}
