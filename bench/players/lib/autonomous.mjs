// The autonomous writer: what an AI agent or a monitor does to a workspace. Its process (and the
// shells it spawns) must count as autonomous for winnow, so the entry scripts are named to match
// the default `autonomous.commands` patterns: claude-autonomous.mjs, claude-context-monitor.mjs.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, watch, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { blobId, finish, loadPlan, record, sleep, until, words } from './common.mjs';

export async function runAutonomous() {
  const plan = loadPlan();
  const counters = new Map();
  const chains = new Map();
  const inflight = new Set();

  const abs = (p) => join(plan.root, p);
  const current = (p) => {
    try {
      return readFileSync(abs(p), 'utf8');
    } catch {
      return '';
    }
  };
  const next = (p) => {
    const n = (counters.get(p) ?? 0) + 1;
    counters.set(p, n);
    return n;
  };
  const parseJson = (text) => {
    try {
      const v = JSON.parse(text);
      return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
    } catch {
      return {};
    }
  };

  /** New full content of `path` for one write of `kind`. */
  function contentFor(path, kind, extra) {
    const cur = current(path);
    const n = next(path);
    const now = new Date().toISOString();
    switch (kind) {
      case 'timestamp-json': {
        const o = parseJson(cur);
        o.updated_at = now;
        return JSON.stringify(o, null, 2) + '\n';
      }
      case 'append-log':
        return cur + `${now} ${plan.writer} tick ${n}\n`;
      case 'content':
        return cur + `- agent note ${n}: ${words(4, n)}\n`;
      case 'json-content': {
        const o = parseJson(cur);
        o.items = [...(Array.isArray(o.items) ? o.items : []), { id: `agent-${n}`, title: words(3, n) }];
        o.updated_at = now;
        return JSON.stringify(o, null, 2) + '\n';
      }
      case 'commit-json': {
        const o = parseJson(cur);
        o.last_commit = extra ?? null;
        o.commits_seen = (typeof o.commits_seen === 'number' ? o.commits_seen : 0) + 1;
        o.updated_at = now;
        return JSON.stringify(o, null, 2) + '\n';
      }
      default:
        throw new Error(`unknown write kind ${kind}`);
    }
  }

  const rec = (path, content) =>
    record({ t: Date.now(), path, op: 'write', blob: blobId(content), label: 'system', writer: plan.writer, pid: process.pid });

  async function writeDirect(path, content) {
    mkdirSync(dirname(abs(path)), { recursive: true });
    writeFileSync(abs(path), content);
    rec(path, content);
  }

  /** Writes through a child shell, as an agent's tool call does; the shell may linger after. */
  function writeViaShell(path, content, lingerMs) {
    mkdirSync(dirname(abs(path)), { recursive: true });
    const t = Date.now();
    return new Promise((resolve) => {
      const sh = spawn('sh', ['-c', 'cat > "$1"; if [ "$2" != 0 ]; then sleep "$2"; fi', 'sh', abs(path), String((lingerMs ?? 0) / 1000)], {
        stdio: ['pipe', 'ignore', 'inherit'],
      });
      sh.on('close', () => {
        // The write happened before the shell's linger; record the time the shell started.
        record({ t, path, op: 'write', blob: blobId(content), label: 'system', writer: `${plan.writer}/sh`, pid: sh.pid });
        resolve();
      });
      sh.stdin.end(content);
    });
  }

  /**
   * Writes through a short-lived grandchild that has exited before winnow sees the write: `cp`
   * run by `xargs`, or by `find -exec`. The content goes through a temp file outside the workspace.
   */
  function writeViaTool(path, content, via) {
    mkdirSync(dirname(abs(path)), { recursive: true });
    const src = join(tmpdir(), `winnow-bench-src-${process.pid}-${next('__src')}`);
    writeFileSync(src, content);
    const t = Date.now();
    const cmd = via === 'xargs' ? 'printf "%s\\0" "$2" | xargs -0 -I{} cp "$1" {}' : 'find "$1" -exec cp {} "$2" ";"';
    return new Promise((resolve) => {
      const sh = spawn('sh', ['-c', cmd, 'sh', src, abs(path)], { stdio: ['ignore', 'ignore', 'inherit'] });
      sh.on('close', () => {
        rmSync(src, { force: true });
        record({ t, path, op: 'write', blob: blobId(content), label: 'system', writer: `${plan.writer}/${via}`, pid: sh.pid });
        resolve();
      });
    });
  }

  /** Opens a file, writes to it several times over `hold.ms` and only then closes it. */
  async function writeHeld(path, kind, hold) {
    mkdirSync(dirname(abs(path)), { recursive: true });
    let text = contentFor(path, kind);
    const fd = openSync(abs(path), 'w');
    try {
      writeSync(fd, text);
      rec(path, text);
      const writes = Math.max(1, hold.writes ?? 1);
      for (let i = 1; i < writes; i++) {
        await sleep(hold.ms / writes);
        const line = `- progress ${i}/${writes - 1}: ${words(2, i)}\n`;
        writeSync(fd, line);
        text += line;
        rec(path, text);
      }
      await sleep(hold.ms / writes);
    } finally {
      closeSync(fd);
    }
  }

  async function perform(op, extra) {
    if (op.hold) return writeHeld(op.path, op.kind, op.hold);
    const content = contentFor(op.path, op.kind, extra);
    if (op.via === 'shell') return writeViaShell(op.path, content, op.lingerMs);
    if (op.via === 'xargs' || op.via === 'find-exec') return writeViaTool(op.path, content, op.via);
    return writeDirect(op.path, content);
  }

  // One chain per path keeps read-modify-write of a path in order; different paths run freely.
  function enqueue(op, extra) {
    const prev = chains.get(op.path) ?? Promise.resolve();
    const p = prev.then(() => perform(op, extra)).catch((e) => process.stderr.write(`${plan.writer}: ${e.message}\n`));
    chains.set(op.path, p);
    inflight.add(p);
    p.finally(() => inflight.delete(p));
    return p;
  }

  let watcher = null;
  if (plan.reactions?.length) {
    // A monitor that reacts to commits: the classic loop if its writes were ever committed.
    const headsDir = join(plan.gitDir, 'refs', 'heads');
    const headSha = () => {
      try {
        const head = readFileSync(join(plan.gitDir, 'HEAD'), 'utf8').trim();
        const ref = head.startsWith('ref: ') ? head.slice(5) : null;
        return ref ? readFileSync(join(plan.gitDir, ref), 'utf8').trim() : head;
      } catch {
        return null;
      }
    };
    let seen = headSha();
    if (existsSync(headsDir)) {
      watcher = watch(headsDir, () => {
        const sha = headSha();
        if (!sha || sha === seen || Date.now() >= plan.endAt) return;
        seen = sha;
        for (const r of plan.reactions) {
          const at = Date.now() + (r.delayMs ?? 0);
          if (at < plan.endAt) until(at).then(() => enqueue(r, sha));
        }
      });
    }
  }

  // Files the agent keeps open for reading the whole run (its editor buffers, a language server's
  // view): what layer 2's open-handle check has to look through on every decision.
  const held = plan.openFiles ? openMany(abs(plan.openFiles.dir), plan.openFiles.count) : [];

  await until(plan.t0);
  const ops = [...plan.ops].sort((a, b) => a.at - b.at);
  for (const op of ops) {
    await until(plan.t0 + op.at);
    enqueue(op);
  }
  await until(plan.endAt);
  watcher?.close();
  while (inflight.size) await Promise.all([...inflight]);
  for (const fd of held) closeSync(fd);
  finish(0);
}

/** Opens up to `count` regular files under `dir` (depth first, sorted) for reading; returns the fds. */
function openMany(dir, count) {
  const fds = [];
  const walk = (d) => {
    let names;
    try {
      names = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch {
      return;
    }
    for (const e of names) {
      if (fds.length >= count) return;
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.isFile()) fds.push(openSync(join(d, e.name), 'r'));
    }
  };
  walk(dir);
  return fds;
}
