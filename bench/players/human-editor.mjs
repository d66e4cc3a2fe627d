#!/usr/bin/env node
// Bench player: a person editing files, with the save patterns of real editors. It runs in its own
// process tree (the runner starts it detached), so nothing it does descends from an autonomous
// process. Writes to the edited file are labelled "user"; editor temporaries (swap, backup, lock,
// temp files) and generated output are labelled "noise": winnow must never commit them.
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { blobId, finish, loadPlan, record, sleep, until, words } from './lib/common.mjs';

const plan = loadPlan();
const abs = (p) => join(plan.root, p);
const sibling = (p, name) => (dirname(p) === '.' ? name : `${dirname(p)}/${name}`);
const readOr = (p, d) => {
  try {
    return readFileSync(abs(p));
  } catch {
    return d;
  }
};
const rec = (path, op, bytes, label, edit) =>
  record({ t: Date.now(), path, op, blob: op === 'delete' ? null : blobId(bytes), label, edit, writer: 'human', pid: process.pid });

function write(path, bytes, label, edit) {
  mkdirSync(dirname(abs(path)), { recursive: true });
  writeFileSync(abs(path), bytes);
  rec(path, 'write', bytes, label, edit);
}
function remove(path, label, edit) {
  try {
    unlinkSync(abs(path));
    rec(path, 'delete', null, label, edit);
  } catch {
    // already gone: nothing happened
  }
}
/** rename(from, to): `from` vanishes, `to` gets its bytes. */
function move(from, to, fromLabel, toLabel, edit) {
  const bytes = readFileSync(abs(from));
  renameSync(abs(from), abs(to));
  rec(from, 'delete', null, fromLabel, edit);
  rec(to, 'write', bytes, toLabel, edit);
}

/** The file's next content for save `k` of edit `e`. */
function contentFor(e, k) {
  const cur = readOr(e.path, Buffer.from('')).toString('utf8');
  switch (e.change) {
    case 'append':
      return Buffer.from(cur + `- edit ${e.id} save ${k}: ${words(3, k)}\n`);
    case 'json-set': {
      let o = {};
      try {
        o = JSON.parse(cur);
      } catch {
        o = {};
      }
      o[e.key ?? 'note'] = `edit ${e.id} save ${k}`;
      return Buffer.from(JSON.stringify(o, null, 2) + '\n');
    }
    case 'replace':
    default:
      return Buffer.from(`# ${basename(e.path)}\n\nedit ${e.id} save ${k}: ${words(5, k)}\n`);
  }
}

const SAVE = {
  plain(e, bytes) {
    write(e.path, bytes, 'user', e.id);
  },
  // VS Code's atomic save: write `<file>.vsctmp`, then move it over the file.
  vscode(e, bytes) {
    const tmp = `${e.path}.vsctmp`;
    write(tmp, bytes, 'noise', e.id);
    move(tmp, e.path, 'noise', 'user', e.id);
  },
  // JetBrains "safe write": temp beside the file, old file moved aside, temp moved in, old deleted.
  jetbrains(e, bytes) {
    const tmp = `${e.path}___jb_tmp___`;
    const old = `${e.path}___jb_old___`;
    write(tmp, bytes, 'noise', e.id);
    if (existsSync(abs(e.path))) move(e.path, old, 'user', 'noise', e.id);
    move(tmp, e.path, 'noise', 'user', e.id);
    remove(old, 'noise', e.id);
  },
  // vim (writebackup, no backup): probe file 4913, file renamed to `file~`, new file written, backup removed.
  vim(e, bytes, k, st) {
    const probe = sibling(e.path, '4913');
    write(probe, Buffer.from(''), 'noise', e.id);
    remove(probe, 'noise', e.id);
    const backup = `${e.path}~`;
    if (existsSync(abs(e.path))) move(e.path, backup, 'user', 'noise', e.id);
    write(e.path, bytes, 'user', e.id);
    remove(backup, 'noise', e.id);
    write(st.swap, swapBytes(e, k), 'noise', e.id);
  },
  // emacs: the first save renames the file to `file~` (kept) and writes anew; later saves write in
  // place. The auto-save file `#file#` goes away on save.
  emacs(e, bytes, k, st) {
    if (!st.backedUp && existsSync(abs(e.path))) {
      move(e.path, `${e.path}~`, 'user', 'noise', e.id);
      st.backedUp = true;
    }
    write(e.path, bytes, 'user', e.id);
    remove(sibling(e.path, `#${basename(e.path)}#`), 'noise', e.id);
  },
};

function swapBytes(e, k) {
  const b = Buffer.alloc(4096, 0);
  b.write(`b0VIM 9.0\0person\0bench\0${abs(e.path)}\0save ${k}\0${process.pid}`);
  return b;
}

async function playEdit(e) {
  await until(plan.t0 + e.at);
  if (e.change === 'delete') {
    remove(e.path, 'user', e.id);
    return;
  }
  const st = { swap: sibling(e.path, `.${basename(e.path)}.swp`), backedUp: false };
  const lock = sibling(e.path, `.#${basename(e.path)}`);
  if (e.pattern === 'vim') write(st.swap, swapBytes(e, 0), 'noise', e.id);
  if (e.pattern === 'emacs') {
    // The lock is a dangling symlink whose target names the owner, as emacs makes it.
    const target = `person@bench.${process.pid}:1700000000`;
    try {
      symlinkSync(target, abs(lock));
      rec(lock, 'write', Buffer.from(target), 'noise', e.id);
    } catch {
      // a stale lock from an earlier edit of the same file: emacs would take it over
    }
    await sleep((e.thinkMs ?? 200) / 2);
    write(sibling(e.path, `#${basename(e.path)}#`), Buffer.from(`auto-save of ${e.path}\n`), 'noise', e.id);
    await sleep((e.thinkMs ?? 200) / 2);
  } else {
    await sleep(e.thinkMs ?? 200);
  }
  const saves = Math.max(1, e.saves ?? 1);
  for (let k = 1; k <= saves; k++) {
    if (k > 1) await sleep(e.gapMs ?? 100);
    const save = SAVE[e.pattern ?? 'plain'];
    save(e, contentFor(e, k), k, st);
  }
  if (e.pattern === 'vim' || e.pattern === 'emacs') {
    // The editor stays open a while, then quits: swap or lock removed.
    await sleep(e.lingerMs ?? 1500);
    if (e.pattern === 'vim') remove(st.swap, 'noise', e.id);
    else {
      try {
        unlinkSync(abs(lock));
        rec(lock, 'delete', null, 'noise', e.id);
      } catch {
        // gone already
      }
    }
  }
}

/** An npm-install-like burst: many files in many folders, as fast as the disk takes them. */
async function playStorm(s) {
  await until(plan.t0 + s.at);
  const per = Math.max(1, Math.ceil(s.files / s.dirs.length));
  const body = 'x'.repeat(s.bytes ?? 200);
  let n = 0;
  for (const dir of s.dirs) {
    for (let i = 0; i < per && n < s.files; i++, n++) {
      const path = `${dir}/pkg-${Math.floor(i / 40)}/lib/file-${i}.js`;
      write(path, Buffer.from(`// ${path}\nmodule.exports = ${JSON.stringify(body)};\n`), 'noise', s.id);
      // Yield now and then, as a real installer does between packages.
      if (i % 200 === 199) await new Promise((r) => setImmediate(r));
    }
  }
}

await until(plan.t0);
await Promise.all([...(plan.edits ?? []).map(playEdit), ...(plan.storms ?? []).map(playStorm)]);
finish(0);
