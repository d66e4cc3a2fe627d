/**
 * Ports: the effectful edges, as types only. `daemon/` is wired with implementations of these;
 * `adapters/` provides the real ones and tests provide fakes.
 */
import type { WatchEvent, Priority } from '../core/event.js';
import type { Entry, IndexEntry } from '../core/commit/plumbing.js';
import type { ObjectFormat } from '../core/git/object-format.js';

export type { ObjectFormat };

/** Time as a number; the one source of `now` (STYLE.md habit 3). */
export interface Clock {
  now(): number;
}

/** The shell's one timer. Component tests use a manual implementation driven by `advance()`. */
export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface StreamSpec {
  name: string;
  /** Absolute directories to watch. */
  dirs: string[];
  priority: Priority;
  /** Absolute folders under `dirs` not to watch (wholly git-ignored ones). */
  ignore?: string[];
}

export interface WatcherSubscription {
  close(): Promise<void>;
}

export interface Watcher {
  /**
   * Subscribes to a stream. `onEvents` receives normalised events (workspace-relative paths);
   * `onError` receives watcher errors (after which the daemon rescans).
   */
  subscribe(
    stream: StreamSpec,
    onEvents: (events: WatchEvent[]) => void,
    onError: (err: Error) => void,
  ): Promise<WatcherSubscription>;
  /** Writes a snapshot of the tree state so that `eventsSince` can report what changed while down. */
  writeSnapshot(stream: StreamSpec, snapshotFile: string): Promise<void>;
  /** Events since the snapshot was written; empty when there is no snapshot. */
  eventsSince(stream: StreamSpec, snapshotFile: string): Promise<WatchEvent[]>;
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  name: string;
  /** Full command line, space-joined. */
  cmd: string;
  uid?: number;
  user?: string;
}

export interface ProcessTable {
  /** A snapshot of the process table (may be cached by the adapter). */
  list(): Promise<ProcInfo[]>;
  /**
   * A fresh snapshot, bypassing the cache (a writer PID the cached table does not know started
   * after it was taken). Optional: without it the classifier uses `list()`.
   */
  refresh?(): Promise<ProcInfo[]>;
  /**
   * The cached snapshot plus every process started since it was taken (found cheaply, without a
   * full refresh), so an agent or an agent's child that started a moment ago is seen. Optional:
   * without it the classifier uses `list()`. `stale`: extend the last snapshot even past its TTL
   * (no full refresh; for a poll).
   */
  fresh?(opts?: { stale?: boolean }): Promise<ProcInfo[]>;
}

/** One write seen by an exact writer trace (fanotify through fatrace). */
export interface WriteRecord {
  pid: number;
  command: string;
  /** Workspace-relative path. */
  path: string;
  at: number;
  /**
   * Parent chain of the writer (nearest first) read when the write was seen, so a short-lived
   * child that has exited since can still be traced to an autonomous ancestor. Optional.
   */
  ancestors?: number[];
  /**
   * Command lines of `ancestors` (same order) where known from the process lineage, so an
   * ancestor that has exited too can still be matched against `autonomous.commands`.
   */
  ancestorCommands?: string[];
}

export type TraceState =
  | { mode: 'active' }
  | { mode: 'unavailable'; reason: string }
  | { mode: 'off'; reason: string }
  | { mode: 'restarting'; reason: string };

export interface WriterTrace {
  start(): Promise<TraceState>;
  state(): TraceState;
  /** Recent writers of a path at or after `since` (epoch ms), newest last. */
  writersOf(path: string, since: number): WriteRecord[];
  /**
   * Resolves once every write that happened before the call has been read from the trace (or
   * after `maxWaitMs`), so a decision made right after a watcher event sees its writer.
   */
  flush(maxWaitMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** One write a traced process made (strace), or one declared through `winnow hook`. */
export interface TracedWriteRecord {
  pid: number;
  /** Epoch ms. */
  at: number;
  /** The system call (`openat`, `renameat2`, …), or `declared`. */
  call: string;
  /** Absolute paths. */
  paths: string[];
  /** Who declared it (declared writes only). */
  source?: string;
}

/**
 * Process tracing (evidence rung 2) and declared writes (rung 3): what `winnow exec` tracers,
 * the daemon's own attachers and `winnow hook` recorded.
 */
export interface ProcessTracer {
  /** Reads what producers recorded since the last call. */
  sync(): Promise<void>;
  /** Traced and declared writes of `path` (workspace-relative) at or after `since`, oldest first. */
  writesOf(path: string, since: number): TracedWriteRecord[];
  /** The PID tracing `pid` (0: none), or null when unreadable. */
  tracerOf(pid: number): number | null;
  /** Whether `pid` is a tracer whose output reaches this store (an attacher of ours). */
  isOurTracer(pid: number): boolean;
  /** Whether strace can run here at all. */
  available(): { ok: true } | { ok: false; reason: string };
  /**
   * Whether `pid` belongs to another user than winnow's (false for root's winnow, which may trace
   * anyone): such a process cannot be traced by an ordinary user.
   */
  otherUser(pid: number): boolean;
  /** Whether attaching to running processes is permitted (Yama, root). */
  attachPermitted(): { ok: true } | { ok: false; reason: string };
  /** Attaches to `pids`; resolves once they are traced (or with why not). */
  attach(pids: number[]): Promise<{ attached: number[]; error?: string }>;
  stop(): Promise<void>;
}

/** Low-level /proc (or platform) probes used by layer 2. */
export interface ProcProbe {
  /**
   * Workspace-relative paths that `pid` holds open for writing (read-only handles, such as an
   * indexer's, say nothing about who wrote a file), or null when it cannot be read. With `only`
   * (the paths being decided), an adapter may answer for those paths alone and leave the rest of
   * a cached listing unchecked; callers then look up only paths in `only`.
   */
  openFiles(pid: number, only?: ReadonlySet<string>): Promise<string[] | null>;
  /**
   * Cumulative bytes written by `pid` towards files (`/proc/PID/io` write_bytes: page-granular,
   * excludes pipes and terminals unlike wchar); null when it cannot be read (another user's
   * process without privileges, a platform without the counter); `'gone'` when the process has
   * exited, which says nothing about whether the counters of live processes can be read.
   */
  writeCounter(pid: number): Promise<number | null | 'gone'>;
  /**
   * Absolute working directory of `pid`, or null when it cannot be read. Optional: temporal
   * correlation uses it to ignore autonomous processes working in other trees.
   */
  workingDir?(pid: number): Promise<string | null>;
  /**
   * When `pid` started, in epoch milliseconds (10 ms resolution on Linux), or null when unknown.
   * Optional: temporal correlation uses it to count every byte of a process that started after
   * the previous look, whose counter began at zero.
   */
  startedAt?(pid: number): Promise<number | null>;
  /** Parent PID of `pid`, or null when unknown. Optional: tracing finds a `winnow exec`'s tracer by it. */
  parentOf?(pid: number): number | null;
  /**
   * A decision round begins: the I/O counters `writeCounter` reads from here on may also tell
   * `openFiles` in the same round whether a process did any I/O since its handles were listed
   * (one read of `/proc/PID/io` per process per round). Optional.
   */
  round?(): void;
  /** Releases what the probe keeps open (descriptors of processes it reads). Optional. */
  close?(): void;
}

export interface StatusEntry {
  path: string;
  /** Two-letter porcelain v1 code, e.g. ` M`, `??`, ` D`, `R `. */
  code: string;
  /** For renames and copies: the original path. */
  from?: string;
}

/** A repository operation in progress, or a detached HEAD: commits wait while one is present. */
export type RepoBlock = 'merge' | 'conflict' | 'rebase' | 'cherry-pick' | 'revert' | 'bisect' | 'detached' | 'unborn-unsupported';

export interface GitStep {
  args: string[];
  /**
   * Bytes to feed on stdin (NUL-separated pathspecs, or a file's scanned bytes). A promise: git is
   * started now and reads them when they come (daemon/commit/prestart.ts); a rejected one closes stdin empty.
   */
  stdin?: string | Buffer | Promise<string | Buffer>;
  /** Extra environment for this step. */
  env?: Record<string, string>;
}

/** Options of one raw git call (`GitRunner`). */
export interface GitCall {
  /** Directory to run in (default: the work tree's root). */
  cwd?: string;
  /** Extra environment for this call; an undefined value removes the variable. */
  env?: Record<string, string | undefined>;
  /** Bytes for stdin (a promise: written when it resolves, empty if it rejects). */
  input?: string | Buffer | Promise<string | Buffer>;
  timeoutMs?: number;
  /** Resolve with the result whatever the exit code (a timeout still throws). */
  allowFail?: boolean;
  /** Exit codes that are answers, not failures (merge-tree exits 1 on conflicts). */
  okCodes?: readonly number[];
  /** A read-only call: `GIT_OPTIONAL_LOCKS=0`, so it never takes `index.lock` from the person's git. */
  readOnly?: boolean;
}

export interface GitOut {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/**
 * One git command, run by the git adapter (the one spawner of git): for the calls that are not
 * planned `GitStep`s (sync, history commands, doctor). Throws the adapter's GitError (duck-typed:
 * `stderr`, `timedOut`, `code`) on a failure; tests pass wrappers that record or fail.
 */
export type GitRunner = (args: string[], call?: GitCall) => Promise<GitOut>;

export interface Git {
  readonly root: string;
  readonly gitDir: string;
  /**
   * Why commits must wait now, or null. `paths`: the batch about to be committed; the person's
   * index is then read once for both questions (unmerged entries, and these paths' entries for
   * `indexEntries`).
   */
  blocked(paths?: readonly string[]): Promise<RepoBlock | null>;
  /** Changed and untracked (not ignored) paths, like `git status --porcelain -z --untracked-files=all`. */
  status(): Promise<StatusEntry[]>;
  /**
   * Of `paths`, those git ignores (.gitignore, info/exclude, global excludes), and those git
   * cannot answer for (counted as ignored: such a path is held, never let through).
   */
  ignored(paths: string[]): Promise<Set<string>>;
  /** Of `paths`, those in the index (tracked). */
  tracked(paths: string[]): Promise<Set<string>>;
  /**
   * The person's index entries for `paths` (absent: not in the index; 'conflict': stages 1–3),
   * like `ls-files -s -v --debug` filtered to them: read from the index file where its format
   * allows, else through git. Never takes index.lock.
   */
  indexEntries?(paths: readonly string[]): Promise<Map<string, IndexEntry | 'conflict'>>;
  /**
   * Replaces entries of the person's index in-process, as `update-index --index-info` would, where
   * the file's format allows (adapters/index-file.ts). `decide` gets the current entries of `paths`
   * and returns the replacements, or null. False, with nothing changed: git must do it (an
   * addition or removal, a format not handled here, the lock held, the file written meanwhile).
   */
  replaceIndexEntries?(paths: readonly string[], decide: (real: Map<string, IndexEntry | 'conflict'>) => Map<string, Entry> | null): Promise<boolean>;
  /**
   * Reads the person's index for `paths` soon (not in the caller's turn; calls meanwhile share one
   * read), ahead of the commit that will ask `blocked` and `indexEntries` about them: the answer
   * is kept for that version of the file.
   */
  prefetchIndex?(paths: readonly string[]): void;
  /** Number of tracked files. */
  trackedCount(): Promise<number>;
  /** Content of `path` at HEAD with its blob id, or null when absent. Cached by blob id. */
  headBlob(path: string): Promise<{ id: string; content: Buffer } | null>;
  /** Blob id and size of `path` at HEAD without its contents, or null when absent. */
  headBlobInfo?(path: string): Promise<{ id: string; size: number } | null>;
  /**
   * Mode and object id of each of `paths` in `treeish` (files, symlinks, gitlinks; folders and
   * absent paths left out), like `ls-tree -r` filtered to them, through the long-lived cat-file.
   */
  treeEntries?(treeish: string, paths: readonly string[]): Promise<Map<string, { mode: string; oid: string }>>;
  /**
   * The raw body of a tree object (`spec`: a tree id or `<commit>^{tree}`), through the long-lived
   * cat-file; null when it is missing or not a tree.
   */
  readTree?(spec: string): Promise<Buffer | null>;
  /** The object `spec` names (an id, a ref): its id, type and raw body, through the long-lived cat-file; null when missing. */
  readObject?(spec: string): Promise<{ id: string; type: string; body: Buffer } | null>;
  /**
   * Writes one object from node (adapters/loose-objects.ts): its id. Rejects where the repository
   * wants git to write its objects (shared permissions, fsync).
   */
  writeObject?(type: 'blob' | 'tree' | 'commit', body: Buffer): Promise<string>;
  /** Asks git once what `writeObject` needs (the object format, the objects folder, the config): whether it can write. */
  prepareObjects?(): Promise<boolean>;
  /**
   * Writes `count` trees (`mktree -z --batch` input as core/commit/trees.ts `mktreeInput` makes it:
   * children first, separated by an empty record) through one long-lived git: their ids, in order.
   */
  mktree?(input: Buffer, count: number): Promise<string[]>;
  /** `diff-tree -r -z --numstat --no-renames OLD NEW` of two trees (null: the empty tree), through one long-lived git: its output. */
  numstat?(oldTree: string | null, tree: string): Promise<string>;
  /** The blob id `git add` would give the work-tree file at `path` (clean filters applied); git reads it. */
  hashFile?(path: string): Promise<string>;
  headSha(): Promise<string | null>;
  /** Runs planned steps in order; throws GitError on failure. */
  run(steps: GitStep[]): Promise<{ stdout: string; stderr: string }[]>;
  /** Recent commits, newest first. */
  log(max: number): Promise<{ sha: string; at: number; subject: string }[]>;
  /** The repository's object format (sha1 or sha256); asked once. */
  objectFormat(): Promise<ObjectFormat>;
  /** Any other git command, through the same spawner (timeouts, environment, process group). */
  raw: GitRunner;
  close(): Promise<void>;
}

export interface FileStat {
  size: number;
  mtimeMs: number;
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
  /** FIFO, socket or device. */
  isSpecial: boolean;
  /** Permission bits (`st_mode & 0o7777`), when known: an executable file is committed as 100755. */
  mode?: number;
}

export interface Fs {
  readFile(abs: string): Promise<Buffer>;
  /** lstat; null when absent. */
  stat(abs: string): Promise<FileStat | null>;
  /**
   * Writes via temp + rename with mode 0600, creating the directory unless `createDir` is false
   * (then a missing directory is an error).
   */
  writeFileAtomic(abs: string, data: string | Buffer, opts?: { createDir?: boolean }): Promise<void>;
  mkdirp(abs: string): Promise<void>;
  remove(abs: string): Promise<void>;
  /** Free bytes on the file system holding `abs`. */
  freeBytes(abs: string): Promise<number>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
}

/**
 * Runs `commit.messageCommand` (a shell command) with `input` (the staged diff) on stdin; what it
 * prints is the message. Never throws: a failure or a timeout is an answer the caller logs.
 */
export type MessageCommand = (
  command: string,
  input: string,
  opts: { cwd: string; timeoutMs: number },
) => Promise<{ ok: true; stdout: string } | { ok: false; error: string }>;
