import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/core/config/load.js';
import { ConfigError } from '../../src/core/config/schema.js';
import { DEFAULTS } from '../../src/core/config/defaults.js';

const BUILTIN = '/pkg/rules';

function load(files: Record<string, string>, configPath?: string) {
  return loadConfig({
    root: '/ws',
    configPath,
    readText: (abs) => files[abs] ?? null,
    builtinRulesDir: BUILTIN,
  });
}

const builtins = {
  [`${BUILTIN}/default.rules`]: '# defaults\nBLOCK:*.log:Logs\nBLOCK:node_modules/:deps\n',
  [`${BUILTIN}/claude-workspace.rules`]: 'ALLOW:docs/**/*.md:docs\n',
};

test('no config file: the defaults, with builtin:default', () => {
  const l = load(builtins);
  assert.equal(l.configFile, null);
  assert.deepEqual(l.config, DEFAULTS);
  assert.deepEqual(l.ruleSources, ['builtin:default']);
  assert.equal(l.rules.rules.length, 2);
  assert.equal(l.rules.defaultAction, 'ANALYZE');
  assert.equal(l.rules.match('a/b.log').reason, 'matched BLOCK:*.log:Logs (builtin:default:2)');
  // The defaults stay frozen; what we hand out is a copy.
  l.config.rateLimit.maxPerHour = 99;
  assert.equal(DEFAULTS.rateLimit.maxPerHour, 10);
});

test('merge: given keys override, the rest stay default', () => {
  const l = load({
    ...builtins,
    '/ws/.winnow.json': JSON.stringify({ rateLimit: { maxPerHour: 3 }, defaultAction: 'ALLOW', json: { volatileKeys: ['ts'] } }),
  });
  assert.equal(l.configFile, '/ws/.winnow.json');
  assert.equal(l.config.rateLimit.maxPerHour, 3);
  assert.equal(l.config.rateLimit.maxPerDay, DEFAULTS.rateLimit.maxPerDay);
  assert.deepEqual(l.config.json.volatileKeys, ['ts']);
  assert.equal(l.config.json.maxBytes, DEFAULTS.json.maxBytes);
  assert.equal(l.config.debounce.defaultMs, DEFAULTS.debounce.defaultMs);
  assert.equal(l.rules.defaultAction, 'ALLOW');
  assert.equal(l.rules.match('x.md').reason, 'no rule matched; defaultAction is ALLOW');
});

test('order: inline rules, then ruleFiles in order; workspace rule files are relative to the root', () => {
  const l = load({
    ...builtins,
    '/ws/.winnow.json': JSON.stringify({
      rules: ['ALLOW:keep.log:the one log we keep', '# a comment is fine'],
      ruleFiles: ['builtin:claude-workspace', 'conf/team.rules', 'builtin:default'],
    }),
    '/ws/conf/team.rules': 'BLOCK:docs/drafts/**:drafts\nBLOCK:*.md:all markdown\n',
  });
  assert.deepEqual(l.ruleSources, ['.winnow.json', 'builtin:claude-workspace', 'conf/team.rules', 'builtin:default']);
  assert.deepEqual(
    l.rules.rules.map((r) => r.text),
    ['ALLOW:keep.log:the one log we keep', 'ALLOW:docs/**/*.md:docs', 'BLOCK:docs/drafts/**:drafts', 'BLOCK:*.md:all markdown', 'BLOCK:*.log:Logs', 'BLOCK:node_modules/:deps'],
  );
  assert.equal(l.rules.match('a/keep.log').reason, 'matched ALLOW:keep.log:the one log we keep (.winnow.json rules[0])');
  assert.equal(l.rules.match('docs/drafts/x.md').rule, 'ALLOW:docs/**/*.md:docs');
  assert.equal(l.rules.match('notes/x.md').reason, 'matched BLOCK:*.md:all markdown (conf/team.rules:2)');
  assert.equal(l.rules.match('x.log').rule, 'BLOCK:*.log:Logs');
});

test('configPath: relative to the root, or absolute; the file it names must exist', () => {
  const cfg = JSON.stringify({ ruleFiles: [] });
  assert.equal(load({ '/ws/cfg/w.json': cfg }, 'cfg/w.json').configFile, '/ws/cfg/w.json');
  assert.equal(load({ '/etc/w.json': cfg }, '/etc/w.json').configFile, '/etc/w.json');
  assert.deepEqual(load({ '/ws/cfg/w.json': cfg }, 'cfg/w.json').ruleSources, []);
  assert.throws(() => load({}, 'nope.json'), (e: unknown) => e instanceof ConfigError && e.file === 'nope.json' && /not found/.test(e.message));
});

test('every error names the file and the key (and the line for rule files)', () => {
  const cfg = (o: unknown) => ({ ...builtins, '/ws/.winnow.json': typeof o === 'string' ? o : JSON.stringify(o) });
  const cases: { name: string; files: Record<string, string>; file: string; key: string | null; line?: number; re: RegExp }[] = [
    { name: 'not JSON', files: cfg('{\n  "rules": [\n    oops\n  ]\n}'), file: '.winnow.json', key: null, line: 3, re: /not valid JSON/ },
    { name: 'not an object', files: cfg('[1]'), file: '.winnow.json', key: null, re: /must be a JSON object/ },
    { name: 'unknown key', files: cfg({ rateLimit: { perHour: 3 } }), file: '.winnow.json', key: 'rateLimit.perHour', re: /unknown key/ },
    { name: 'unknown top key', files: cfg({ rule: [] }), file: '.winnow.json', key: 'rule', re: /unknown key/ },
    { name: 'wrong type', files: cfg({ rescanMs: 'soon' }), file: '.winnow.json', key: 'rescanMs', re: /got "soon"/ },
    { name: 'bad enum', files: cfg({ defaultAction: 'DENY' }), file: '.winnow.json', key: 'defaultAction', re: /DENY/ },
    { name: 'bad regex', files: cfg({ autonomous: { commands: ['ok', '(unclosed'] } }), file: '.winnow.json', key: 'autonomous.commands[1]', re: /regular expression/ },
    { name: 'bad inline rule action', files: cfg({ rules: ['BLOCK:*.log', 'DENY:*.tmp'] }), file: '.winnow.json', key: 'rules[1]', re: /unknown action "DENY"/ },
    { name: 'bad inline rule glob', files: cfg({ rules: ['BLOCK:src/{a,b'] }), file: '.winnow.json', key: 'rules[0]', re: /without a matching "}"/ },
    { name: 'empty inline rule', files: cfg({ rules: ['  '] }), file: '.winnow.json', key: 'rules[0]', re: /empty rule/ },
    { name: 'bad debounce glob', files: cfg({ debounce: { rules: [{ glob: '*.[ch', ms: 10 }] } }), file: '.winnow.json', key: 'debounce.rules[0].glob', re: /without a matching "]"/ },
    { name: 'bad secrets.allow glob', files: cfg({ secrets: { allow: ['ok/**', '../x'] } }), file: '.winnow.json', key: 'secrets.allow[1]', re: /"\.\." segment/ },
    { name: 'commit.maxFileBytes zero', files: cfg({ commit: { maxFileBytes: 0 } }), file: '.winnow.json', key: 'commit.maxFileBytes', re: /1 or more/ },
    { name: 'commit.notes not boolean', files: cfg({ commit: { notes: 'yes' } }), file: '.winnow.json', key: 'commit.notes', re: /true or false/ },
    { name: 'commit.messageCommand empty', files: cfg({ commit: { messageCommand: '' } }), file: '.winnow.json', key: 'commit.messageCommand', re: /not be empty/ },
    { name: 'remote.pullIntervalMs too small', files: cfg({ remote: { pullIntervalMs: 10 } }), file: '.winnow.json', key: 'remote.pullIntervalMs', re: /1000 or more/ },
    { name: 'remote.squashBeforePush type', files: cfg({ remote: { squashBeforePush: 1 } }), file: '.winnow.json', key: 'remote.squashBeforePush', re: /true or false/ },
    { name: 'remote.pushNotes type', files: cfg({ remote: { pushNotes: 'no' } }), file: '.winnow.json', key: 'remote.pushNotes', re: /true or false/ },
    { name: 'missing rule file', files: cfg({ ruleFiles: ['builtin:default', 'team.rules'] }), file: '.winnow.json', key: 'ruleFiles[1]', re: /"team.rules" not found \(looked for \/ws\/team.rules\)/ },
    { name: 'unknown builtin', files: cfg({ ruleFiles: ['builtin:nope'] }), file: '.winnow.json', key: 'ruleFiles[0]', re: /no built-in rule file "builtin:nope"; built-ins are builtin:default, builtin:claude-workspace/ },
    { name: 'builtin path escape', files: cfg({ ruleFiles: ['builtin:../x'] }), file: '.winnow.json', key: 'ruleFiles[0]', re: /not a built-in rule file name/ },
    {
      name: 'rule file syntax',
      files: { ...cfg({ ruleFiles: ['team.rules'] }), '/ws/team.rules': '# team\n\nBLOCK:*.log\nALLOW docs\n' },
      file: 'team.rules',
      key: null,
      line: 4,
      re: /expected ACTION:GLOB/,
    },
    {
      name: 'builtin rule file syntax',
      files: { [`${BUILTIN}/default.rules`]: 'BLOCK:[x\n' },
      file: 'builtin:default',
      key: null,
      line: 1,
      re: /without a matching "]"/,
    },
  ];
  for (const c of cases) {
    assert.throws(
      () => load(c.files),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, `${c.name}: ${String(e)}`);
        assert.equal(e.file, c.file, c.name);
        assert.equal(e.key, c.key, c.name);
        assert.equal(e.line, c.line, c.name);
        assert.match(e.message, c.re, c.name);
        assert.ok(e.message.startsWith(c.file), `${c.name}: message names the file: ${e.message}`);
        if (c.key) assert.ok(e.message.includes(`key "${c.key}"`), `${c.name}: message names the key: ${e.message}`);
        assert.ok(!/\n\s+at /.test(e.message), `${c.name}: no stack trace`);
        return true;
      },
      c.name,
    );
  }
});

test('history keys: defaults, and given values override', () => {
  const d = load(builtins).config;
  assert.equal(d.commit.notes, true);
  assert.equal(d.commit.messageCommand, null);
  assert.ok(d.commit.maxFileBytes < 100_000_000, 'below the 100 MB common hosts reject');
  const l = load({
    ...builtins,
    '/ws/.winnow.json': JSON.stringify({
      commit: { notes: false, messageCommand: './msg.sh', maxFileBytes: 1024 },
      remote: { pullIntervalMs: 60_000, squashBeforePush: true, pushNotes: false },
    }),
  }).config;
  assert.deepEqual([l.commit.notes, l.commit.messageCommand, l.commit.maxFileBytes], [false, './msg.sh', 1024]);
  assert.deepEqual([l.remote!.pullIntervalMs, l.remote!.squashBeforePush, l.remote!.pushNotes, l.remote!.name], [60_000, true, false, 'origin']);
});

test('errors without a config file name the defaults', () => {
  assert.throws(
    () => load({}),
    (e: unknown) => e instanceof ConfigError && e.file === '(defaults)' && e.key === 'ruleFiles[0]',
  );
});
