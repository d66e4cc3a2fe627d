import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretFileName, scanForSecrets, createSecretScanner, SCAN_BYTES } from '../../src/core/commit/secrets.js';

// Fixtures are assembled from pieces so that this file is not itself flagged by secret scanners.
const j = (...parts: string[]) => parts.join('');
const A36 = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
const PEM = j('-----BEGIN ', 'RSA PRIVATE KEY-----\nMIIEow...\n-----END RSA PRIVATE KEY-----\n');

test('file names', () => {
  const cases: [string, string | null][] = [
    ['.env', 'secret: file name .env'],
    ['config/.env', 'secret: file name .env'],
    ['.env.local', 'secret: file name .env.local'],
    ['app/.env.production', 'secret: file name .env.production'],
    ['.env.example', null],
    ['.env.sample', null],
    ['.env.template', null],
    ['.environment.md', null],
    ['env', null],
    ['id_rsa', 'secret: file name id_rsa'],
    ['home/.ssh/id_ed25519', 'secret: file name id_ed25519'],
    ['id_dsa', 'secret: file name id_dsa'],
    ['id_ecdsa', 'secret: file name id_ecdsa'],
    ['id_rsa.pub', null],
    ['id_ed25519.pub', null],
    ['certs/server.pem', 'secret: file name server.pem'],
    ['tls/server.key', 'secret: file name server.key'],
    ['a.p12', 'secret: file name a.p12'],
    ['a.PFX', 'secret: file name a.PFX'],
    ['.netrc', 'secret: file name .netrc'],
    ['.pgpass', 'secret: file name .pgpass'],
    ['gcp/credentials.json', 'secret: file name credentials.json'],
    ['.aws/credentials', 'secret: file name credentials'],
    ['docs/credentials', null],
    ['docs/keys.md', null],
    ['src/key.ts', null],
    ['pubkey.asc', null],
    ['private.asc', 'secret: file name private.asc'],
    ['README.md', null],
    ['.pem', null],
  ];
  for (const [path, want] of cases) assert.equal(isSecretFileName(path), want, path);
});

test('contents', () => {
  const cases: [string, string, string | null][] = [
    ['PEM RSA key', PEM, 'secret: private key block'],
    ['PEM PKCS8', j('x\n-----BEGIN ', 'PRIVATE KEY-----\nabc'), 'secret: private key block'],
    ['OpenSSH key', j('-----BEGIN ', 'OPENSSH PRIVATE KEY-----'), 'secret: private key block'],
    ['EC key', j('-----BEGIN ', 'EC PRIVATE KEY-----'), 'secret: private key block'],
    ['encrypted key', j('-----BEGIN ', 'ENCRYPTED PRIVATE KEY-----'), 'secret: private key block'],
    ['PGP key', j('-----BEGIN PGP ', 'PRIVATE KEY BLOCK-----'), 'secret: private key block'],
    ['public key is fine', '-----BEGIN PUBLIC KEY-----\nabc', null],
    ['certificate is fine', '-----BEGIN CERTIFICATE-----\nabc', null],
    ['AWS key id', j('key = ', 'AKIA', 'Z7QW3RTY5UIOPLK2', '\n'), 'secret: AWS access key id'],
    ['AWS STS key id', j('"', 'ASIA', 'Z7QW3RTY5UIOPLK2', '"'), 'secret: AWS access key id'],
    ['AWS docs example ignored', j('AKIA', 'IOSFODNN7', 'EXAMPLE'), null],
    ['AKIA inside a longer word', j('XAKIA', 'Z7QW3RTY5UIOPLK2'), null],
    [
      'AWS secret key',
      j('aws_secret_access_key = ', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz'),
      'secret: AWS secret access key',
    ],
    [
      'AWS secret key env style',
      j('AWS_SECRET_ACCESS_KEY="', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz', '"'),
      'secret: AWS secret access key',
    ],
    ['AWS docs secret ignored', j('aws_secret_access_key=', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY', 'EXAMPLEKEY'), null],
    ['40 chars without the key name', 'hash: wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz', null],
    ['GitHub classic', j('token: ', 'ghp_', A36), 'secret: GitHub token'],
    ['GitHub oauth', j('gho_', A36), 'secret: GitHub token'],
    ['GitHub user-to-server', j('ghu_', A36), 'secret: GitHub token'],
    ['GitHub server-to-server', j('ghs_', A36), 'secret: GitHub token'],
    ['GitHub refresh', j('ghr_', A36), 'secret: GitHub token'],
    ['GitHub fine-grained', j('github_pat_', '11ABCDEFG0', 'x'.repeat(72)), 'secret: GitHub token'],
    ['ghp_ too short', 'ghp_abc', null],
    ['Slack bot token', j('xox', 'b-123456789012-123456789012-', 'abcdefABCDEF'), 'secret: Slack token'],
    ['Slack user token', j('xox', 'p-1234567890-abcdef'), 'secret: Slack token'],
    [
      'Slack webhook',
      j('https://hooks.slack.com/', 'services/T00000000/B00000000/', 'XXXXXXXXXXXXXXXXXXXXXXXX'),
      'secret: Slack webhook URL',
    ],
    ['Google API key', j('key=', 'AIza', 'SyD-1234567890abcdefghijklmnopqrstu'), 'secret: Google API key'],
    [
      'service account JSON',
      j('{"type": "service_account", "private_key": "-----BEGIN ', 'PRIVATE KEY-----\\nMIIE"}'),
      'secret: service-account key (JSON with private_key)',
    ],
    ['plain prose', 'The private key must never be committed; use AKIA... ids in docs only.', null],
    ['empty', '', null],
  ];
  for (const [name, text, want] of cases) {
    assert.equal(scanForSecrets('notes/file.txt', Buffer.from(text), []), want, name);
  }
});

test('null content (a deletion) is judged by name only', () => {
  assert.equal(scanForSecrets('a/.env', null, []), 'secret: file name .env');
  assert.equal(scanForSecrets('a/b.txt', null, []), null);
});

test('a file that starts with a NUL byte is scanned too (issue 11 case 9)', () => {
  const bin = Buffer.concat([Buffer.from([0x00, 0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]), Buffer.from(PEM)]);
  assert.equal(scanForSecrets('img.png', bin, []), 'secret: private key block');
  assert.equal(scanForSecrets('img.png', Buffer.from([0, 1, 2, 3]), []), null);
  assert.equal(scanForSecrets('img.pem', bin, []), 'secret: file name img.pem');
});

test('every byte is scanned: a key after the first MiB, or across a chunk boundary (issue 11 case 9)', () => {
  const pad = Buffer.alloc(SCAN_BYTES, 'a');
  assert.equal(scanForSecrets('big.txt', Buffer.concat([pad, Buffer.from('\n' + PEM)]), []), 'secret: private key block');
  const straddling = Buffer.concat([pad.subarray(0, SCAN_BYTES - 10), Buffer.from('\n' + PEM), pad]);
  assert.equal(scanForSecrets('big.txt', straddling, []), 'secret: private key block');
  assert.equal(scanForSecrets('big.txt', Buffer.concat([pad, pad, pad]), []), null);
});

test('the streaming scanner finds a key split across pushes and holds bounded memory', () => {
  const key = Buffer.from('\n' + PEM);
  for (const cut of [1, 10, 25]) {
    const s = createSecretScanner();
    assert.equal(s.push(Buffer.concat([Buffer.alloc(3 * SCAN_BYTES + 5, 'b'), key.subarray(0, cut)])), null);
    assert.equal(s.push(Buffer.concat([key.subarray(cut), Buffer.alloc(100, 'c')])), 'secret: private key block', `cut at ${cut}`);
  }
  const clean = createSecretScanner();
  for (let i = 0; i < 5; i++) assert.equal(clean.push(Buffer.alloc(SCAN_BYTES, 'd')), null);
  assert.equal(clean.result(), null);
});

test('secrets.allow exempts paths by glob', () => {
  const allow = ['test/fixtures/**', '*.pem', '/config/.env'];
  assert.equal(scanForSecrets('test/fixtures/keys/id_rsa', Buffer.from(PEM), allow), null);
  assert.equal(scanForSecrets('certs/deep/ca.pem', null, allow), null, 'base-name glob at any depth');
  assert.equal(scanForSecrets('config/.env', null, allow), null, 'leading / anchors to the root');
  assert.equal(scanForSecrets('other/config/.env', null, allow), 'secret: file name .env');
  assert.equal(scanForSecrets('src/a.ts', Buffer.from(PEM), allow), 'secret: private key block');
  // A different array with other globs is honoured (the matcher cache is per array).
  assert.equal(scanForSecrets('src/a.ts', Buffer.from(PEM), ['src/**']), null);
  assert.equal(scanForSecrets('src/a.ts', Buffer.from(PEM), []), 'secret: private key block');
});
