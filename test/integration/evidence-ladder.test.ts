/**
 * Issue 10 through the real daemon, on every evidence rung: the daemon, the agent and the person
 * run as an ordinary user (test/helpers/user.ts), except for the fanotify rung, which needs root.
 *
 * Each mode plays the same story: winnow starts; then an agent starts from `/` (its cwd outside
 * the workspace, as a systemd monitor's) and writes real content into ANALYZE paths directly and
 * through short-lived children (`sh -c`, `xargs`, `find -exec`); the person and the agent write
 * different files under one glob within the same moment; the person types with autosave, one file
 * saved every ~1 s and one every ~2 s.
 *
 * - fanotify (root), trace (ptrace attach permitted), exec (attach refused, agent under
 *   `winnow exec`): every agent write is blocked, every person's change committed;
 * - heuristics only: the person's autosaves are committed; the agent's writes may slip through
 *   (FN), and a person's save in the very moment an agent writes may be held (since this stop's
 *   layer-2 changes, 2 of 3 CI runs under load): both printed in the log line, not asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { writeFileSync, chownSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { tempRepo, GIT_ENV } from '../helpers/repo.js';
import { testUser, userRepo, type TestUser } from '../helpers/user.js';
import { BIN, DaemonProcess, fastConfig, type LogLine } from '../helpers/daemon.js';

const AGENT = fileURLToPath(new URL('../fixtures/claude-autonomous-driven.mjs', import.meta.url));
const u = testUser();
const root = process.getuid?.() === 0;
const hasFatrace = ['/usr/sbin/fatrace', '/usr/bin/fatrace'].some((p) => existsSync(p));
const hasStrace = existsSync('/usr/bin/strace');

type Mode = 'fanotify' | 'trace' | 'exec' | 'heuristic';

interface Setup {
  root: string;
  git(...args: string[]): string;
  /** The person's save: a process of the person (not the agent's tree) writes TEXT. */
  save(rel: string, text: string): void;
  spawnAs(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): ChildProcess;
  daemon(cfg: string, env: NodeJS.ProcessEnv): DaemonProcess;
  cleanup(): Promise<void>;
}

async function setup(mode: Mode): Promise<Setup> {
  if (mode === 'fanotify') {
    const repo = await tempRepo();
    return {
      root: repo.root,
      git: repo.git,
      // A shell of the person's: its own process, outside the agent's tree.
      save: (rel, text) => void execFileSync('sh', ['-c', 'mkdir -p "$(dirname "$1")" && printf %s "$2" > "$1"', 'sh', join(repo.root, rel), text]),
      spawnAs: (cmd, args, cwd, env = {}) => spawn(cmd, args, { cwd, env: { ...GIT_ENV, ...env }, stdio: ['pipe', 'pipe', 'pipe'] }),
      daemon: (cfg, env) => new DaemonProcess(repo.root, ['--config', cfg], env),
      cleanup: repo.cleanup,
    };
  }
  const user = u as TestUser;
  const repo = await userRepo(user);
  return {
    root: repo.root,
    git: repo.git,
    save: (rel, text) => repo.write(rel, text),
    spawnAs: (cmd, args, cwd, env = {}) => user.spawn(cmd, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] }),
    daemon: (cfg, env) => new DaemonProcess(repo.root, ['--config', cfg], env, { as: user }),
    cleanup: repo.cleanup,
  };
}

function modeConfig(mode: Mode, root: string): Record<string, unknown> {
  const autonomous = {
    fanotify: mode === 'fanotify' ? 'on' : 'off',
    trace: mode === 'trace' || mode === 'exec' ? 'on' : 'off',
    correlationWindowMs: 500,
    // Only this test's agent (its command line names the workspace): other test files' agents
    // running meanwhile must not match (write counters do not look at a process's cwd).
    commands: [`claude-autonomous-driven\\.mjs ${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`],
  };
  return { rules: ['ANALYZE:**:everything is analyzed here'], autonomous };
}

function modeEnv(mode: Mode): NodeJS.ProcessEnv {
  if (mode === 'exec') return { WINNOW_PTRACE_ATTACH: '0' };
  if (mode === 'heuristic') return { WINNOW_EXEC_TRACE: '0' };
  return {};
}

function skipFor(mode: Mode): string | false {
  if (process.platform !== 'linux') return 'needs Linux';
  if (mode === 'fanotify') return !root ? 'fanotify needs root' : !hasFatrace ? 'fatrace is not installed' : false;
  if ('skip' in u) return u.skip;
  if ((mode === 'trace' || mode === 'exec') && !hasStrace) return 'strace is not installed';
  return false;
}

for (const mode of ['fanotify', 'trace', 'exec', 'heuristic'] as Mode[]) {
  test(`evidence rung ${mode}: short-lived children, an agent started after winnow from /, same-moment writes, autosave`, { skip: skipFor(mode), timeout: 120_000 }, async (t) => {
    const s = await setup(mode);
    s.save('work/a.md', '# A\n');
    s.save('.claude/decisions/README.md', '# decisions\n');
    s.save('work/person.md', '# Person\n');
    s.save('drafts/every-1s.md', '# one\n');
    s.save('drafts/every-2s.md', '# two\n');
    s.git('add', '-A');
    s.git('commit', '-q', '-m', 'start');
    const start = s.git('rev-parse', 'HEAD').trim();
    const cfg = `${s.root}.winnow.json`;
    writeFileSync(cfg, fastConfig(modeConfig(mode, s.root)));
    if (mode !== 'fanotify') chownSync(cfg, (u as TestUser).uid, (u as TestUser).gid);
    const d = s.daemon(cfg, modeEnv(mode));
    let agent: ChildProcess | null = null;
    let finished = false;
    t.signal.addEventListener('abort', () => {
      if (finished) return;
      console.error(`aborted; last decisions:\n${d.stderrText.filter((l) => /"(decision|commit)"/.test(l)).slice(-12).join('\n')}`);
      agent?.kill('SIGKILL');
      d.child.kill('SIGKILL');
    });
    const leaks: string[] = [];
    let heldPerson: string | null = null;
    try {
      await d.ready();
      // The agent starts after winnow, from `/`.
      // It writes work/early.md as it starts, before any poll could find it and attach.
      const agentArgv = mode === 'exec' ? [process.execPath, BIN, 'exec', '--dir', s.root, '--', process.execPath, AGENT, s.root, 'work/early.md'] : [process.execPath, AGENT, s.root, 'work/early.md'];
      const early = d.next((l) => l.msg === 'decision' && l.path === 'work/early.md');
      early.catch(() => undefined);
      agent = s.spawnAs(agentArgv[0]!, agentArgv.slice(1), '/', modeEnv(mode));
      const replies: { resolve: () => void; reject: (e: Error) => void }[] = [];
      const reply = () => new Promise<void>((resolve, reject) => replies.push({ resolve, reject }));
      const agentErr: string[] = [];
      agent.stderr!.on('data', (b: Buffer) => agentErr.push(String(b)));
      createInterface({ input: agent.stdout! }).on('line', () => replies.shift()?.resolve());
      agent.once('exit', (code, sig) => {
        for (const r of replies.splice(0)) r.reject(new Error(`agent exited (${code ?? sig}): ${agentErr.join('')}`));
      });
      await reply(); // ready
      const agentWrite = async (cmd: string, rel: string, text: string): Promise<LogLine> => {
        const decided = d.next((l) => l.msg === 'decision' && l.path === rel);
        decided.catch(() => undefined); // awaited below; a failed step must not leave it unhandled
        const ok = reply();
        agent!.stdin!.write(JSON.stringify({ cmd, file: join(s.root, rel), text }) + '\n');
        await ok;
        return decided;
      };
      const exact = mode !== 'heuristic';
      const expectBlocked = (l: LogLine, what: string) => {
        if (l.decision !== 'BLOCK') leaks.push(`${what}: ${String(l.reason)}`);
        if (exact) assert.equal(l.decision, 'BLOCK', `${what} (${mode}): ${String(l.reason)} ${JSON.stringify(l.evidence)}`);
      };

      expectBlocked(await early, 'write at its start');
      expectBlocked(await agentWrite('write', 'work/a.md', '# A\n- the agent, directly\n'), 'direct write');
      expectBlocked(await agentWrite('sh', '.claude/decisions/x.json', JSON.stringify({ decision: 'ship it', n: 1 }) + '\n'), 'sh -c child');
      expectBlocked(await agentWrite('xargs', 'work/b.md', '# B\n- through xargs\n'), 'xargs grandchild');
      expectBlocked(await agentWrite('find-exec', 'work/c.md', '# C\n- through find -exec\n'), 'find -exec grandchild');

      // The person and the agent in the same moment, different files under one glob.
      const personCommitted = d.next((l) => l.msg === 'commit' && (l.paths as string[]).includes('work/person.md'));
      personCommitted.catch(() => undefined);
      const personDecided = d.next((l) => l.msg === 'decision' && l.path === 'work/person.md');
      personDecided.catch(() => undefined);
      const same = agentWrite('sh', 'work/d.md', '# D\n- the agent, at the same moment\n');
      s.save('work/person.md', '# Person\n- written in the same moment as the agent\n');
      expectBlocked(await same, 'same-moment agent write');
      // Write counters alone cannot always tell two writes of the same instant apart: under load
      // the heuristic rung may hold the person's save (visibly, in status). Stated, not asserted.
      const person = await personDecided;
      if (exact || person.decision === 'ALLOW') {
        await personCommitted;
        assert.equal(s.git('show', 'HEAD:work/person.md'), '# Person\n- written in the same moment as the agent\n');
      } else heldPerson = `same-moment person save held: ${String(person.reason)}`;

      // Autosave: the schedule is the input (a person's editor saving every 1 s and every 2 s);
      // the waits set it up and wait for nothing in winnow.
      let one = '# one\n';
      let two = '# two\n';
      for (let i = 1; i <= 12; i++) {
        one += `- word ${i}\n`;
        s.save('drafts/every-1s.md', one);
        if (i % 2 === 0) {
          two += `- sentence ${i / 2}\n`;
          s.save('drafts/every-2s.md', two);
        }
        await delay(1000);
      }
      const final = d.next((l) => l.msg === 'decision' && l.path === 'drafts/every-1s.md');
      one += '- the end\n';
      s.save('drafts/every-1s.md', one);
      const last = await final;
      assert.notEqual(last.rule, 'builtin:churn', `autosave quarantined (${mode}): ${String(last.reason)}`);
      // Both drafts end committed with their last content (a commit of an earlier save may be in
      // flight: wait for the one that holds the last).
      const committedWith = async (rel: string, text: string) => {
        for (;;) {
          const next = d.next((l) => l.msg === 'commit' && (l.paths as string[]).includes(rel));
          next.catch(() => undefined);
          let head: string | null = null;
          try {
            head = s.git('show', `HEAD:${rel}`);
          } catch {
            head = null;
          }
          if (head === text) return;
          await next;
        }
      };
      await committedWith('drafts/every-1s.md', one);
      await committedWith('drafts/every-2s.md', two);

      // Nothing of the agent's was committed (exact modes); heuristics: stated, not asserted.
      const committed = s.git('diff', '--name-only', start, 'HEAD').trim().split('\n').sort();
      if (exact) assert.deepEqual(committed, ['drafts/every-1s.md', 'drafts/every-2s.md', 'work/person.md']);
      else console.error(`heuristics only: agent writes committed or not blocked: ${leaks.length ? leaks.join('; ') : 'none'}; ${heldPerson ?? 'the person\'s same-moment save committed'}`);
      for (const p of ['drafts/every-1s.md', 'drafts/every-2s.md', 'work/person.md']) {
        if (p === 'work/person.md' && heldPerson) continue;
        assert.ok(committed.includes(p), `${p} committed (${mode})`);
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${d.stderrText.filter((x) => x.includes("\"decision\"") && !x.includes("drafts/")).slice(-14).join("\n")}`);
    } finally {
      finished = true;
      agent?.stdin?.end();
      agent?.kill();
      await d.kill();
      await s.cleanup();
    }
  });
}
