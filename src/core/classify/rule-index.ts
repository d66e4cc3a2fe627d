/**
 * Layer 1's index (rules.ts compiles with it): literal base names, `*suffix`, `prefix*`,
 * directory names and literal paths go to hash maps, filtered by a signature of length and two
 * characters before any string is sliced; the few remaining globs become one regex each, grouped
 * and tried in rule order only while they could still beat the best indexed hit.
 */
import picomatch from 'picomatch';
import { isLiteral, SPECIAL, type Rule } from './rule-text.js';

/** Expands one simple `{a,b,c}` group (no nesting, no ranges) so each piece can use the fast indexes. */
function expandSimpleBraces(glob: string): string[] {
  const m = /^([^{}\\]*)\{([^{}\\]*)\}([^{}\\]*)$/.exec(glob);
  // Alternatives with a `/` would change which kind of glob each piece is; leave those whole.
  if (!m || m[2]!.includes('..') || !m[2]!.includes(',') || m[2]!.includes('/')) return [glob];
  return m[2]!.split(',').map((alt) => m[1] + alt + m[3]);
}

type GenericKind = 'base' | 'segment' | 'path';
interface Generic {
  index: number;
  kind: GenericKind;
  re: RegExp;
  /** For `path` rules with a literal first segment: only paths starting with it are tested. */
  bucket: string | null;
  /** A literal every match contains (`.log.` for `*.log.[0-9]*`): a cheap `includes` before the regex. */
  needle: string;
  /** Literals every match starts and ends with (`.claude/intelligence`, `.log`): checked before the needle. */
  head: string;
  tail: string;
}

/** Regex rules of one kind (and, for path rules, one literal first segment), in rule order. */
interface GenericGroup {
  kind: GenericKind;
  minIndex: number;
  bucket: string | null;
  members: Generic[];
}

/**
 * The longest run of literal characters that every match of `glob` must contain, or '' when
 * unsure. Brackets, braces and extglob groups are alternatives, so they are cut out first.
 */
export function requiredLiteral(glob: string): string {
  if (/[|!]/.test(glob)) return '';
  let g = glob.replace(/\\./g, '\0');
  for (let prev = ''; prev !== g; ) {
    prev = g;
    g = g.replace(/\[[^\]]*\]/g, '\0').replace(/\{[^{}]*\}/g, '\0').replace(/[@+*?]?\([^()]*\)/g, '\0');
  }
  if (/[[\]{}()]/.test(g)) return '';
  let best = '';
  for (const piece of g.split(/[*?/\0]/)) if (piece.length > best.length) best = piece;
  return best;
}

/**
 * The literal text every match of `glob` starts with and ends with ('' when unsure). A `/` next to
 * a globstar is dropped from both: `a/**` matches `a` itself and `**\/x` matches `x`. Negations
 * (`!`) and alternations (`|`) match what the literal does not say, so they get no filter.
 */
export function literalEnds(glob: string): { head: string; tail: string } {
  if (/[|!]/.test(glob)) return { head: '', tail: '' };
  let first = -1;
  let last = -1;
  for (let i = 0; i < glob.length; i++) {
    if (!SPECIAL.test(glob[i]!)) continue;
    if (first < 0) first = i;
    // An escape covers the next character too.
    last = glob[i] === '\\' ? i + 1 : i;
    if (glob[i] === '\\') i++;
  }
  if (first < 0) return { head: glob, tail: glob };
  return { head: glob.slice(0, first).replace(/\/$/, ''), tail: glob.slice(last + 1).replace(/^\//, '') };
}

/** What an indexed key is filtered on before it is sliced and hashed: its length and two of its characters. */
class Sig {
  private readonly bits = new Uint32Array(32 * 64 * 2);
  static index(len: number, a: number, b: number): number {
    return ((len > 31 ? 31 : len) << 12) | ((a & 63) << 6) | (b & 63);
  }
  add(len: number, a: number, b: number): void {
    const i = Sig.index(len, a, b);
    this.bits[i >>> 5]! |= 1 << (i & 31);
  }
  has(len: number, a: number, b: number): boolean {
    const i = Sig.index(len, a, b);
    return (this.bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  }
}

function groupGenerics(generic: readonly Generic[]): { base: GenericGroup | null; segment: GenericGroup | null; path: GenericGroup[] } {
  const make = (members: Generic[]): GenericGroup => {
    members.sort((x, y) => x.index - y.index);
    return { kind: members[0]!.kind, minIndex: members[0]!.index, bucket: members[0]!.bucket, members };
  };
  const base = generic.filter((g) => g.kind === 'base');
  const segment = generic.filter((g) => g.kind === 'segment');
  const byBucket = new Map<string | null, Generic[]>();
  for (const g of generic) {
    if (g.kind !== 'path') continue;
    const list = byBucket.get(g.bucket) ?? [];
    list.push(g);
    byBucket.set(g.bucket, list);
  }
  const path = [...byBucket.values()].map(make).sort((x, y) => x.minIndex - y.minIndex);
  return { base: base.length ? make(base) : null, segment: segment.length ? make(segment) : null, path };
}


/** The indexed tables of a rule list: each key maps to the lowest rule index that produced it. */
interface RuleTables {
  baseExact: Map<string, number>;
  dotSuffix: Map<string, number>;
  suffix: Map<string, number>;
  prefix: Map<string, number>;
  segExact: Map<string, number>;
  pathExact: Map<string, number>;
  dirPrefix: Map<string, number>;
  generic: Generic[];
}

/** Sorts every glob of `rules` into the table that can answer it, or into the regex list. */
function indexRules(rules: readonly Rule[]): RuleTables {
  const baseExact = new Map<string, number>();
  /** `*.ext` and `*.a.b`: looked up at each `.` of the base name (usually one or two). */
  const dotSuffix = new Map<string, number>();
  /** Other `*literal` suffixes (`*~`, `*___jb_tmp___`): looked up by length. */
  const suffix = new Map<string, number>();
  const prefix = new Map<string, number>();
  const segExact = new Map<string, number>();
  const pathExact = new Map<string, number>();
  const dirPrefix = new Map<string, number>();
  const generic: Generic[] = [];
  const put = (m: Map<string, number>, k: string, i: number) => {
    const prev = m.get(k);
    if (prev === undefined || i < prev) m.set(k, i);
  };

  rules.forEach((rule, index) => {
    for (const g of expandSimpleBraces(rule.glob)) {
      let p = g;
      const anchored = p.startsWith('/');
      p = p.replace(/^\/+/, '');
      const dir = p.endsWith('/');
      p = p.replace(/\/+$/, '');
      // `**/NAME` is the same as a bare base-name glob.
      while (!anchored && !dir && p.startsWith('**/') && !p.slice(3).includes('/')) p = p.slice(3);
      const hasSlash = p.includes('/');
      if (!anchored && !hasSlash && !dir) {
        const star = p.indexOf('*');
        if (isLiteral(p)) put(baseExact, p, index);
        else if (star === 0 && isLiteral(p.slice(1)) && p.length > 1) put(p[1] === '.' ? dotSuffix : suffix, p.slice(1), index);
        else if (star === p.length - 1 && isLiteral(p.slice(0, -1)) && p.length > 1) put(prefix, p.slice(0, -1), index);
        else generic.push({ index, kind: 'base', re: picomatch.makeRe(p, { dot: true }), bucket: null, needle: requiredLiteral(p), ...literalEnds(p) });
      } else if (!anchored && !hasSlash && dir) {
        if (isLiteral(p)) put(segExact, p, index);
        // Tested against each directory name: head and tail would apply to a segment, not the path.
        else generic.push({ index, kind: 'segment', re: picomatch.makeRe(p, { dot: true }), bucket: null, needle: requiredLiteral(p), head: '', tail: '' });
      } else if (!dir) {
        if (isLiteral(p)) put(pathExact, p, index);
        else if (p.endsWith('/**') && isLiteral(p.slice(0, -3))) {
          // picomatch's `a/**` matches `a` itself as well as everything below it.
          put(pathExact, p.slice(0, -3), index);
          put(dirPrefix, p.slice(0, -3), index);
        } else generic.push({ index, kind: 'path', re: picomatch.makeRe(p, { dot: true }), bucket: literalHead(p), needle: pathNeedle(p), ...literalEnds(p) });
      } else if (isLiteral(p)) put(dirPrefix, p, index);
      else {
        const full = `${p}/**/*`;
        generic.push({ index, kind: 'path', re: picomatch.makeRe(full, { dot: true }), bucket: literalHead(p), needle: pathNeedle(p), ...literalEnds(full) });
      }
    }
  });
  return { baseExact, dotSuffix, suffix, prefix, segExact, pathExact, dirPrefix, generic };
}

/** The first matching rule's index for a path, or -1 (no memo: rules.ts keeps that). */
export function createFirstMatch(rules: readonly Rule[]): (path: string) => number {
  const { baseExact, dotSuffix, suffix, prefix, segExact, pathExact, dirPrefix, generic } = indexRules(rules);
  const groups = groupGenerics(generic);
  const pathGroups = groups.path;
  const suffixLens = lengthsOf(suffix);
  const prefixLens = lengthsOf(prefix);
  // Keys by (length, first, last character); `.ext` suffixes by the character after the dot.
  const sigOf = (m: Map<string, number>, from = 0) => {
    const f = new Sig();
    for (const k of m.keys()) f.add(k.length, k.charCodeAt(from), k.charCodeAt(k.length - 1));
    return f;
  };
  const baseF = sigOf(baseExact);
  const dotF = sigOf(dotSuffix, 1);
  const segF = sigOf(segExact);
  const pathF = sigOf(pathExact);
  const dirF = sigOf(dirPrefix);
  const walkDirs = segExact.size > 0 || dirPrefix.size > 0;
  const suffixLast = new Uint8Array(256);
  for (const k of suffix.keys()) suffixLast[k.charCodeAt(k.length - 1) & 255] = 1;
  // Prefixes by their first two characters (a one-character prefix by its first only).
  const prefixOne = new Uint8Array(256);
  const prefixTwo = new Uint8Array(128 * 128);
  for (const k of prefix.keys()) {
    if (k.length === 1) prefixOne[k.charCodeAt(0) & 255] = 1;
    else prefixTwo[((k.charCodeAt(0) & 127) << 7) | (k.charCodeAt(1) & 127)] = 1;
  }
  /**
   * The first matching rule's index, or -1. Indexed lookups first; the regex rules only while they
   * could still beat the best indexed hit, and only when their literal filters pass.
   */
  function firstMatch(path: string): number {
    let best = Infinity;
    let v: number | undefined;
    const slash = path.lastIndexOf('/');
    const base = slash < 0 ? path : path.slice(slash + 1);
    const bLen = base.length;
    const b0 = base.charCodeAt(0);
    const bLast = base.charCodeAt(bLen - 1);
    if (baseF.has(bLen, b0, bLast)) {
      v = baseExact.get(base);
      if (v !== undefined) best = v;
    }
    if (dotSuffix.size) {
      for (let d = base.indexOf('.'); d !== -1; d = base.indexOf('.', d + 1)) {
        if (!dotF.has(bLen - d, base.charCodeAt(d + 1), bLast)) continue;
        v = dotSuffix.get(base.slice(d));
        if (v !== undefined && v < best) best = v;
      }
    }
    if (suffixLast[bLast & 255]) for (const L of suffixLens) {
      if (L > bLen) break;
      v = suffix.get(base.slice(bLen - L));
      if (v !== undefined && v < best) best = v;
    }
    if (prefixOne[b0 & 255] || (bLen > 1 && prefixTwo[((b0 & 127) << 7) | (base.charCodeAt(1) & 127)])) for (const L of prefixLens) {
      if (L > bLen) break;
      v = prefix.get(base.slice(0, L));
      if (v !== undefined && v < best) best = v;
    }
    const c0 = path.charCodeAt(0);
    if (pathF.has(path.length, c0, path.charCodeAt(path.length - 1))) {
      v = pathExact.get(path);
      if (v !== undefined && v < best) best = v;
    }
    if (walkDirs && slash > 0) {
      let start = 0;
      for (let i = path.indexOf('/'); i !== -1 && i <= slash; i = path.indexOf('/', i + 1)) {
        const before = path.charCodeAt(i - 1);
        if (segF.has(i - start, path.charCodeAt(start), before)) {
          v = segExact.get(path.slice(start, i));
          if (v !== undefined && v < best) best = v;
        }
        if (dirF.has(i, c0, before)) {
          v = dirPrefix.get(path.slice(0, i));
          if (v !== undefined && v < best) best = v;
        }
        start = i + 1;
      }
    }
    const bg = groups.base;
    if (bg && bg.minIndex < best) {
      for (const g of bg.members) {
        if (g.index >= best) break;
        if (passes(g, base) && g.re.test(base)) best = g.index;
      }
    }
    const sg = groups.segment;
    if (sg && sg.minIndex < best && slash > 0) {
      for (const g of sg.members) {
        if (g.index >= best) break;
        if ((g.needle === '' || path.includes(g.needle)) && anySegment(path, slash, g.re)) best = g.index;
      }
    }
    if (pathGroups.length) {
      const first = path.indexOf('/');
      for (const pg of pathGroups) {
        if (pg.minIndex >= best) break;
        const b = pg.bucket;
        if (b !== null && (first < 0 ? path !== b : first !== b.length || !path.startsWith(b))) continue;
        for (const g of pg.members) {
          if (g.index >= best) break;
          if (passes(g, path) && g.re.test(path)) best = g.index;
        }
      }
    }
    return best === Infinity ? -1 : best;
  }

  return firstMatch;
}

/** The cheap literal checks a regex rule's candidate must pass (`s` is the base name or the path). */
function passes(g: Generic, s: string): boolean {
  return (g.head === '' || s.startsWith(g.head)) && (g.tail === '' || s.endsWith(g.tail)) && (g.needle === '' || s.includes(g.needle));
}

/** Tests each directory segment (not the base name) of `path`. */
function anySegment(path: string, lastSlash: number, re: RegExp): boolean {
  let start = 0;
  for (let i = path.indexOf('/'); i !== -1 && i <= lastSlash; i = path.indexOf('/', i + 1)) {
    if (re.test(path.slice(start, i))) return true;
    start = i + 1;
  }
  return false;
}

/** For bucketed path globs the head is already checked; a literal from the rest filters better. */
function pathNeedle(p: string): string {
  const head = literalHead(p);
  return head === null ? requiredLiteral(p) : requiredLiteral(p.slice(head.length + 1));
}

function literalHead(p: string): string | null {
  const i = p.indexOf('/');
  const head = i < 0 ? p : p.slice(0, i);
  return i > 0 && isLiteral(head) ? head : null;
}

function lengthsOf(m: Map<string, number>): number[] {
  return [...new Set([...m.keys()].map((k) => k.length))].sort((a, b) => a - b);
}
