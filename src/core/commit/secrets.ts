/**
 * The secret guard: decides, before a commit, whether a path looks like it holds a credential.
 * Pure: the committer reads the file and hands the bytes in. A hit holds the file back and is
 * reported (`held` in state.json); nothing here is fatal.
 */
import picomatch from 'picomatch';

/**
 * Bytes scanned per step. Every byte of a file is scanned (a key after the first MiB, or in a file
 * that starts with a NUL, is still a key); a large file goes through `createSecretScanner` in
 * chunks of this size, so memory stays bounded whatever the file's size.
 */
export const SCAN_BYTES = 1 << 20;

/**
 * Bytes kept from the end of one chunk and scanned again with the next, so a secret that straddles
 * two chunks is seen whole. Longer than any pattern's match needs to be recognised (a GitHub
 * fine-grained token is at most 266 characters; a key block header 40).
 */
export const SCAN_OVERLAP = 4096;

/** Variants of `.env` that are templates by convention and hold no values worth hiding. */
const ENV_TEMPLATES = new Set(['.env.example', '.env.sample', '.env.template', '.env.dist', '.env.defaults']);

const KEY_FILES = new Set(['id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519', 'id_ecdsa_sk', 'id_ed25519_sk']);

const SECRET_NAMES = new Set([
  '.netrc',
  '_netrc',
  '.pgpass',
  '.git-credentials',
  '.htpasswd',
  'credentials.json',
  'client_secret.json',
  'service-account.json',
]);

const SECRET_EXTENSIONS = new Set(['.pem', '.key', '.p12', '.pfx', '.keystore', '.jks', '.ppk', '.kdbx', '.gpg', '.asc']);

/**
 * Why the file name alone marks `path` as a secret (`secret: file name .env`), or null.
 * `path` is workspace-relative with `/` separators.
 */
export function isSecretFileName(path: string): string | null {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  const lower = base.toLowerCase();
  const hit = `secret: file name ${base}`;
  if (lower === '.env') return hit;
  if (lower.startsWith('.env.') && !ENV_TEMPLATES.has(lower)) return hit;
  if (KEY_FILES.has(lower)) return hit;
  if (SECRET_NAMES.has(lower)) return hit;
  const dot = lower.lastIndexOf('.');
  if (dot > 0 && SECRET_EXTENSIONS.has(lower.slice(dot))) {
    // `.asc`/`.gpg` are also used for public keys and signatures; only the secret-looking ones count.
    if ((lower.endsWith('.asc') || lower.endsWith('.gpg')) && !/secret|private/.test(lower)) return null;
    return hit;
  }
  // The AWS CLI's shared credentials file has a generic name; its folder gives it away.
  if (lower === 'credentials' && /(^|\/)\.aws\/credentials$/i.test(path)) return hit;
  return null;
}

interface ContentPattern {
  reason: string;
  re: RegExp;
  /** Matches that are documentation placeholders, not secrets. */
  ignore?: (match: string) => boolean;
}

const isAwsExample = (m: string) => /EXAMPLE/.test(m);

/** Order matters: the first hit gives the reason, so the most specific patterns come first. */
const CONTENT_PATTERNS: readonly ContentPattern[] = [
  {
    reason: 'secret: service-account key (JSON with private_key)',
    re: /"private_key"\s*:\s*"-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  },
  {
    reason: 'secret: private key block',
    re: /-----BEGIN (?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|SSH2 ENCRYPTED) )?PRIVATE KEY(?: BLOCK)?-----|-----BEGIN PGP PRIVATE KEY BLOCK-----/,
  },
  {
    reason: 'secret: AWS access key id',
    re: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|AROA|ANPA|ANVA)[A-Z0-9]{16}(?![A-Z0-9])/,
    ignore: isAwsExample,
  },
  {
    reason: 'secret: AWS secret access key',
    re: /(?:aws_?)?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/i,
    ignore: isAwsExample,
  },
  { reason: 'secret: GitHub token', re: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{50,255})(?![A-Za-z0-9_])/ },
  { reason: 'secret: Slack token', re: /(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}/ },
  { reason: 'secret: Slack webhook URL', re: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{20,}/ },
  { reason: 'secret: Google API key', re: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/ },
  { reason: 'secret: Anthropic API key', re: /(?<![A-Za-z0-9_-])sk-ant-[a-z]+\d*-[A-Za-z0-9_-]{40,}/ },
  { reason: 'secret: Stripe live key', re: /(?<![A-Za-z0-9_])[sr]k_live_[0-9A-Za-z]{20,}/ },
  { reason: 'secret: npm token', re: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/ },
];

/**
 * Why the bytes look like they hold a secret, or null. All of them are scanned, binary or not (a
 * key pasted into a file that starts with a NUL is still a key); for a file too large to hold in
 * memory use `createSecretScanner`.
 */
export function scanContent(content: Buffer): string | null {
  for (let at = 0; at < content.length; at += SCAN_BYTES) {
    const why = scanText(content.subarray(Math.max(0, at - SCAN_OVERLAP), at + SCAN_BYTES));
    if (why) return why;
  }
  return null;
}

/**
 * A scan fed chunk by chunk (a file read as a stream), holding at most one chunk plus
 * SCAN_OVERLAP bytes. `push` returns the first reason found, then keeps returning it.
 *
 * @example const s = createSecretScanner(); for await (const c of stream) if (s.push(c)) break; s.result()
 */
export function createSecretScanner(): { push(chunk: Buffer): string | null; result(): string | null } {
  let tail = Buffer.alloc(0);
  let found: string | null = null;
  return {
    push(chunk) {
      if (found) return found;
      for (let at = 0; at < chunk.length && !found; at += SCAN_BYTES) {
        const part = chunk.subarray(at, at + SCAN_BYTES);
        const win = tail.length ? Buffer.concat([tail, part]) : part;
        found = scanText(win);
        tail = Buffer.from(win.subarray(Math.max(0, win.length - SCAN_OVERLAP)));
      }
      return found;
    },
    result: () => found,
  };
}

function scanText(bytes: Buffer): string | null {
  // latin1 maps bytes 1:1 and costs far less than utf8 decoding; every pattern is ASCII.
  const text = bytes.toString('latin1');
  for (const p of CONTENT_PATTERNS) {
    if (!p.ignore) {
      if (p.re.test(text)) return p.reason;
      continue;
    }
    const g = new RegExp(p.re.source, p.re.flags.includes('g') ? p.re.flags : p.re.flags + 'g');
    for (const m of text.matchAll(g)) if (!p.ignore(m[0])) return p.reason;
  }
  return null;
}

// Small cache so the committer can pass the same `allow` array every batch without recompiling.
let allowCacheKey: readonly string[] | null = null;
let allowCacheMatch: ((p: string) => boolean) | null = null;

function allowMatcher(allow: readonly string[]): (p: string) => boolean {
  if (allow === allowCacheKey && allowCacheMatch) return allowCacheMatch;
  // A glob without `/` matches the base name at any depth, like rules and .gitignore.
  const ms = allow.map((g) => picomatch(g.replace(/^\//, ''), { dot: true, basename: !g.includes('/') }));
  const match = (p: string) => ms.some((m) => m(p));
  allowCacheKey = allow;
  allowCacheMatch = match;
  return match;
}

/** Whether `secrets.allow` exempts `path` from the guard. */
export function secretAllowed(path: string, allow: readonly string[]): boolean {
  return allow.length > 0 && allowMatcher(allow)(path);
}

/**
 * Why `path` must not be committed automatically, or null.
 *
 * @param path workspace-relative posix path
 * @param content the file's bytes (all of them are scanned), or null when there is nothing to
 *   read (a deletion, a symlink, a large file scanned with `createSecretScanner` instead)
 * @param allow picomatch globs (`secrets.allow`) of paths exempt from the guard
 * @example scanForSecrets('config/.env', Buffer.from('A=1'), []) // 'secret: file name .env'
 */
export function scanForSecrets(path: string, content: Buffer | null, allow: readonly string[]): string | null {
  if (secretAllowed(path, allow)) return null;
  const byName = isSecretFileName(path);
  if (byName) return byName;
  if (!content || content.length === 0) return null;
  return scanContent(content);
}
