import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHookInput } from '../../src/cli/commands/hook.js';

test('winnow hook input: Claude Code PreToolUse/PostToolUse JSON and plain lines', () => {
  const cases: [string, string, { paths: string[]; cwd: string | null; source: string }][] = [
    ['Write', JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Write', cwd: '/w', tool_input: { file_path: '/w/a.md', content: 'x' } }), { paths: ['/w/a.md'], cwd: '/w', source: 'winnow hook (PreToolUse Write)' }],
    ['MultiEdit', JSON.stringify({ hook_event_name: 'PostToolUse', tool_name: 'MultiEdit', tool_input: { file_path: 'b.md', edits: [{ old_string: 'a', new_string: 'b' }] } }), { paths: ['b.md'], cwd: null, source: 'winnow hook (PostToolUse MultiEdit)' }],
    ['NotebookEdit', JSON.stringify({ hook_event_name: 'PostToolUse', tool_name: 'NotebookEdit', tool_input: { notebook_path: '/w/n.ipynb' } }), { paths: ['/w/n.ipynb'], cwd: null, source: 'winnow hook (PostToolUse NotebookEdit)' }],
    ['a tool without a path', JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'ls' } }), { paths: [], cwd: null, source: 'winnow hook (PreToolUse Bash)' }],
    ['plain lines', 'docs/a.md\r\nsrc/b c.ts\n\n', { paths: ['docs/a.md', 'src/b c.ts'], cwd: null, source: 'winnow hook' }],
  ];
  for (const [name, text, want] of cases) assert.deepEqual(parseHookInput(text), want, name);
  assert.throws(() => parseHookInput('{not json'), /not valid JSON/);
});
