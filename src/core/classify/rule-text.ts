/**
 * Rule text: `ACTION:GLOB[:DESCRIPTION]` lines parsed, validated and formatted, with errors that
 * name the file and line (or config key). rules.ts compiles what this parses.
 */
import picomatch from 'picomatch';
import type { RuleAction } from '../decision.js';
import { ConfigError } from '../config/schema.js';

export interface Rule {
  action: RuleAction;
  glob: string;
  description: string;
  /** Canonical text, `ACTION:GLOB[:DESCRIPTION]`: what `Decision.rule` shows. */
  text: string;
  /** Where it came from: a config file, `builtin:NAME`, or a rule file path. */
  source: string;
  /** 1-based line in `source`; for inline config rules, the index in `rules`. */
  line: number;
  /** For inline config rules: the config key (`rules[3]`), shown instead of the line. */
  key?: string;
}

const ACTIONS: readonly RuleAction[] = ['BLOCK', 'ALLOW', 'ANALYZE'];

/** The canonical text of a rule. `parseRules(formatRule(r))` gives `r` back. */
export function formatRule(r: Pick<Rule, 'action' | 'glob' | 'description'>): string {
  return r.description ? `${r.action}:${r.glob}:${r.description}` : `${r.action}:${r.glob}`;
}

/** Splits one rule line. Returns the parts, or a problem sentence. */
function splitRule(line: string): { action: RuleAction; glob: string; description: string } | string {
  const c1 = line.indexOf(':');
  if (c1 < 0) return `expected ACTION:GLOB[:DESCRIPTION], e.g. "BLOCK:**/*.log:Logs" (got ${JSON.stringify(line)}).`;
  const action = line.slice(0, c1).trim();
  if (!(ACTIONS as readonly string[]).includes(action)) {
    return `unknown action ${JSON.stringify(action)}: use BLOCK, ALLOW or ANALYZE (upper case), e.g. "BLOCK:**/*.log:Logs".`;
  }
  const rest = line.slice(c1 + 1);
  const c2 = rest.indexOf(':');
  const glob = (c2 < 0 ? rest : rest.slice(0, c2)).trim();
  const description = c2 < 0 ? '' : rest.slice(c2 + 1).trim();
  const problem = validateGlob(glob);
  if (problem) return problem;
  return { action: action as RuleAction, glob, description };
}

/**
 * Parses one rule: null for a blank or `#` comment line. Throws ConfigError naming `source` and
 * either `key` (inline config rules) or `line`.
 */
export function parseRuleLine(text: string, source: string, line: number, key?: string): Rule | null {
  const t = text.trim();
  if (t === '' || t.startsWith('#')) return null;
  const parts = splitRule(t);
  if (typeof parts === 'string') throw new ConfigError(source, key ?? null, parts, key ? undefined : line);
  const rule: Rule = { ...parts, text: formatRule(parts), source, line };
  if (key) rule.key = key;
  return rule;
}

/** Parses a rule file. Errors are ConfigError(file = source, key = null, problem, line). */
export function parseRules(text: string, source: string): Rule[] {
  const out: Rule[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const r = parseRuleLine(lines[i]!, source, i + 1);
    if (r) out.push(r);
  }
  return out;
}

/**
 * Why a glob is unusable, or null when it is fine. picomatch accepts almost anything (an
 * unbalanced brace silently becomes a pattern that never matches), so this checks what it lets by.
 */
export function validateGlob(glob: string): string | null {
  if (glob.trim() === '') return 'empty glob: give a picomatch glob such as "**/*.log" or "node_modules/".';
  if (glob !== glob.trim()) return `glob ${JSON.stringify(glob)} has leading or trailing spaces; remove them.`;
  if (/[\r\n]/.test(glob)) return 'a glob cannot contain a line break.';
  const body = glob.replace(/^\/+/, '').replace(/\/+$/, '');
  if (body === '') return `glob ${JSON.stringify(glob)} names no path: give a file or directory glob.`;
  const segs = body.split('/');
  if (segs.some((s) => s === '..' || s === '.')) {
    return `glob ${JSON.stringify(glob)} has a "." or ".." segment; globs match workspace-relative paths, which never contain them.`;
  }
  if (segs.some((s) => s === '')) return `glob ${JSON.stringify(glob)} has an empty segment ("//"); remove the extra "/".`;
  const balance = checkBalance(glob);
  if (balance) return `glob ${JSON.stringify(glob)}: ${balance}`;
  let re: RegExp;
  try {
    re = picomatch.makeRe(body, { dot: true });
  } catch (e) {
    return `glob ${JSON.stringify(glob)} is invalid: ${(e as Error).message}`;
  }
  // picomatch's way of saying "this can never match" (e.g. a reversed range `[z-a]`).
  if (re.source === '$^') return `glob ${JSON.stringify(glob)} can never match anything; check its brackets, ranges and escapes.`;
  return null;
}

function checkBalance(glob: string): string | null {
  let brace = 0;
  let paren = 0;
  let inBracket = false;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '\\') {
      if (i === glob.length - 1) return 'ends with a lone "\\" (escape); remove it or escape something.';
      i++;
      continue;
    }
    if (inBracket) {
      // `[]...]` and `[!]...]`: a `]` first in the class is literal.
      if (ch === ']' && glob[i - 1] !== '[' && !(glob[i - 1] === '!' && glob[i - 2] === '[')) inBracket = false;
      continue;
    }
    if (ch === '[') inBracket = true;
    else if (ch === '{') brace++;
    else if (ch === '}') {
      if (--brace < 0) return 'has a "}" without a matching "{".';
    } else if (ch === '(') paren++;
    else if (ch === ')') {
      if (--paren < 0) return 'has a ")" without a matching "(".';
    }
  }
  if (inBracket) return 'has a "[" without a matching "]" (write "\\[" for a literal bracket).';
  if (brace > 0) return 'has a "{" without a matching "}" (write "\\{" for a literal brace).';
  if (paren > 0) return 'has a "(" without a matching ")".';
  return null;
}

/** Escapes a literal path so that it can be used as a glob. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]{}()!+@\\|]/g, '\\$&');
}

/** Characters that make a glob more than a literal path. */
export const SPECIAL = /[*?[\]{}()!+@\\|]/;
export const isLiteral = (s: string) => !SPECIAL.test(s);

/** Where a rule came from, for reasons and messages: `rules/x.rules:12` or `.winnow.json rules[3]`. */
export function ruleLocation(r: Pick<Rule, 'source' | 'line' | 'key'>): string {
  return r.key ? `${r.source} ${r.key}` : `${r.source}:${r.line}`;
}
