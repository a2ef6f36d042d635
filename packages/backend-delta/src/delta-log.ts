import { randomUUID } from "node:crypto";
import { link, mkdir, open, readFile, readdir, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { DeltaCommitConflictError, DeltaProtocolError } from "./delta-errors.js";

// The Delta transaction log (PROTOCOL.md): actions, snapshot replay, classic Parquet
// checkpoints, and commits written put-if-absent with optimistic concurrency.

export interface Protocol {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[] | null;
  writerFeatures?: string[] | null;
}
export interface Metadata {
  id: string;
  name?: string | null;
  description?: string | null;
  format: { provider: string; options: Record<string, string> };
  schemaString: string;
  partitionColumns: string[];
  createdTime?: number | null;
  configuration: Record<string, string>;
}
export interface AddFile {
  path: string;
  partitionValues: Record<string, string>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: unknown;
}
export interface RemoveFile {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean | null;
  partitionValues?: Record<string, string> | null;
  size?: number | null;
}
export interface Txn {
  appId: string;
  version: number;
  lastUpdated?: number | null;
}
export type Action =
  | { protocol: Protocol }
  | { metaData: Metadata }
  | { add: AddFile }
  | { remove: RemoveFile }
  | { txn: Txn }
  | { commitInfo: Record<string, unknown> };

/** Reads and writes classic (single-file, V1) Parquet checkpoints; the backend implements it with DuckDB. */
export interface CheckpointIO {
  read(path: string): Promise<Action[]>;
  /** Writes `actions` (protocol, metaData, txn, add, remove) as a checkpoint at `path`. */
  write(path: string, actions: readonly Action[]): Promise<void>;
}

/**
 * Where the rows of a live file sit in write order: (commit version, index of the add in it).
 * Files rewritten by a hard delete keep their rows' original position through the
 * `metaxy.order` tag, so "last written wins" ties resolve as before the rewrite.
 */
export type FileOrder = readonly [number, number];
export const ORDER_TAG = "metaxy.order";

export interface LiveFile {
  readonly add: AddFile;
  readonly order: FileOrder;
}

/** Tombstones are kept in checkpoints for a week, Delta's default `deletedFileRetentionDuration`. */
const TOMBSTONE_RETENTION_MS = 7 * 24 * 3600 * 1000;

/** The state of a table at one version: what replaying the log up to it gives. */
export class Snapshot {
  version = -1;
  protocol: Protocol | undefined;
  metadata: Metadata | undefined;
  readonly files = new Map<string, LiveFile>();
  readonly tombstones = new Map<string, RemoveFile>();
  readonly txns = new Map<string, Txn>();

  clone(): Snapshot {
    const s = new Snapshot();
    s.version = this.version;
    s.protocol = this.protocol;
    s.metadata = this.metadata;
    for (const [k, v] of this.files) s.files.set(k, v);
    for (const [k, v] of this.tombstones) s.tombstones.set(k, v);
    for (const [k, v] of this.txns) s.txns.set(k, v);
    return s;
  }

  /** Applies the actions of commit `version` (action reconciliation, PROTOCOL.md). */
  apply(version: number, actions: readonly Action[], fromCheckpoint = false): this {
    let addIndex = 0;
    for (const a of actions) {
      if ("add" in a && a.add) {
        const key = filePath(a.add.path);
        const tagged = parseOrder(a.add.tags?.[ORDER_TAG]);
        const order = tagged ?? this.files.get(key)?.order ?? [fromCheckpoint ? -1 : version, addIndex];
        addIndex++;
        this.files.set(key, { add: a.add, order });
        this.tombstones.delete(key);
      } else if ("remove" in a && a.remove) {
        const key = filePath(a.remove.path);
        this.files.delete(key);
        this.tombstones.set(key, a.remove);
      } else if ("txn" in a && a.txn) this.txns.set(a.txn.appId, a.txn);
      else if ("metaData" in a && a.metaData) this.metadata = a.metaData;
      else if ("protocol" in a && a.protocol) this.protocol = a.protocol;
    }
    this.version = version;
    return this;
  }

  /** Live files in write order (the order their rows were first committed). */
  liveFiles(): LiveFile[] {
    return [...this.files.values()].sort(
      (a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1] || cmp(a.add.path, b.add.path),
    );
  }

  /** The reconciled actions a checkpoint of this version holds. */
  checkpointActions(now = Date.now()): Action[] {
    const actions: Action[] = [];
    if (this.protocol) actions.push({ protocol: this.protocol });
    if (this.metadata) actions.push({ metaData: this.metadata });
    for (const txn of this.txns.values()) actions.push({ txn });
    for (const f of this.liveFiles())
      actions.push({ add: { ...f.add, tags: { ...f.add.tags, [ORDER_TAG]: formatOrder(f.order) } } });
    for (const remove of this.tombstones.values())
      if ((remove.deletionTimestamp ?? now) > now - TOMBSTONE_RETENTION_MS) actions.push({ remove });
    return actions;
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function formatOrder(order: FileOrder): string {
  return `${order[0]}.${order[1]}`;
}
function parseOrder(tag: string | undefined): FileOrder | undefined {
  const m = tag === undefined ? null : /^(-?\d+)\.(\d+)$/.exec(tag);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** `add.path` is a URI reference relative to the table root (or absolute): the file it names. */
export function filePath(path: string): string {
  return decodeURIComponent(path.startsWith("file://") ? path.slice("file://".length) : path);
}

export const versionFile = (version: number) => `${String(version).padStart(20, "0")}.json`;
export const checkpointFile = (version: number) => `${String(version).padStart(20, "0")}.checkpoint.parquet`;

/** Parses one commit file (newline-delimited JSON; delta-rs leaves out the final newline). */
export function parseCommit(text: string): Action[] {
  const actions: Action[] = [];
  for (const line of text.split("\n")) if (line.trim()) actions.push(JSON.parse(line) as Action);
  return actions;
}

const READER_FEATURES = new Set(["timestampNtz"]);
const WRITER_FEATURES = new Set(["appendOnly", "invariants", "timestampNtz"]);

/** Refuses tables whose protocol needs features this reader does not implement. */
export function checkReadable(snapshot: Snapshot, table: string): void {
  const p = snapshot.protocol;
  if (!p) return;
  const ok =
    p.minReaderVersion <= 1 ||
    (p.minReaderVersion === 3 && (p.readerFeatures ?? []).every((f) => READER_FEATURES.has(f)));
  if (!ok)
    throw new DeltaProtocolError(
      `Delta table "${table}" needs reader version ${p.minReaderVersion}${p.readerFeatures?.length ? ` with features ${p.readerFeatures.join(", ")}` : ""}; this backend reads protocol 1 (and 3 with timestampNtz)`,
      { table, minReaderVersion: p.minReaderVersion, readerFeatures: p.readerFeatures ?? null },
    );
}

/** Refuses to write tables whose protocol needs writer features this writer does not implement. */
export function checkWritable(snapshot: Snapshot, table: string): void {
  checkReadable(snapshot, table);
  const p = snapshot.protocol;
  if (!p) return;
  const ok =
    p.minWriterVersion <= 2 ||
    (p.minWriterVersion === 7 && (p.writerFeatures ?? []).every((f) => WRITER_FEATURES.has(f)));
  if (!ok)
    throw new DeltaProtocolError(
      `Delta table "${table}" needs writer version ${p.minWriterVersion}${p.writerFeatures?.length ? ` with features ${p.writerFeatures.join(", ")}` : ""}; this backend writes protocol 2`,
      { table, minWriterVersion: p.minWriterVersion, writerFeatures: p.writerFeatures ?? null },
    );
}

export interface CommitOptions {
  /** `commitInfo.operation`: WRITE, DELETE, CREATE TABLE... */
  operation: string;
  operationParameters?: Record<string, unknown>;
  /** Attempts before giving up with DELTA_COMMIT_CONFLICT. */
  maxAttempts?: number;
}

export interface CommitResult {
  /** The committed version; null when `build` found nothing to commit. */
  version: number | null;
  snapshot: Snapshot;
  /** Attempts lost to other writers before this one won. */
  retries: number;
}

export interface DeltaLogOptions {
  /** A checkpoint after every commit whose version is a multiple of this (0: never). */
  checkpointInterval: number;
  /** Called with errors of checkpoint writing (the commit itself has succeeded). */
  onCheckpointError?: (error: unknown) => void;
}

/**
 * The log of one table. Snapshots are cached and brought forward by reading only the commits
 * after the cached version; a fresh load starts at `_last_checkpoint`, so opening a table costs
 * one checkpoint plus at most `checkpointInterval` commits, whatever the history's length.
 */
export class DeltaLog {
  readonly logDir: string;
  #cached: Snapshot | undefined;

  constructor(
    readonly tableDir: string,
    readonly table: string,
    readonly io: CheckpointIO,
    readonly options: DeltaLogOptions,
  ) {
    this.logDir = join(tableDir, "_delta_log");
  }

  /** The latest snapshot, or null when there is no table here. */
  async snapshot(): Promise<Snapshot | null> {
    const cached = this.#cached;
    const next = cached ? await this.#update(cached) : await this.#load();
    this.#cached = next ?? undefined;
    return next;
  }

  forget(): void {
    this.#cached = undefined;
  }

  async #readCommit(version: number): Promise<Action[] | null> {
    try {
      return parseCommit(await readFile(join(this.logDir, versionFile(version)), "utf8"));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
  }

  /** Applies every commit after `snapshot.version`; null if the table has gone. */
  async #update(snapshot: Snapshot): Promise<Snapshot | null> {
    let next: Snapshot | undefined;
    for (let v = snapshot.version + 1; ; v++) {
      const actions = await this.#readCommit(v);
      if (!actions) break;
      next ??= snapshot.clone();
      next.apply(v, actions);
    }
    if (next) return next;
    // Nothing new: make sure the table was not dropped (and perhaps re-created) meanwhile.
    if (snapshot.version >= 0 && (await this.#readCommit(snapshot.version)) === null) return this.#load();
    return snapshot;
  }

  async #lastCheckpoint(): Promise<number | null> {
    try {
      const hint = JSON.parse(await readFile(join(this.logDir, "_last_checkpoint"), "utf8"));
      return typeof hint.version === "number" ? hint.version : null;
    } catch {
      return null;
    }
  }

  /** Replays from the newest checkpoint (found through `_last_checkpoint`, else a listing). */
  async #load(): Promise<Snapshot | null> {
    let checkpoint = await this.#lastCheckpoint();
    if (checkpoint === null) {
      let names: string[];
      try {
        names = await readdir(this.logDir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw e;
      }
      for (const n of names) {
        const m = /^(\d{20})\.checkpoint\.parquet$/.exec(n);
        if (m && (checkpoint === null || Number(m[1]) > checkpoint)) checkpoint = Number(m[1]);
      }
    }
    let snapshot = new Snapshot();
    if (checkpoint !== null) {
      try {
        snapshot.apply(checkpoint, await this.io.read(join(this.logDir, checkpointFile(checkpoint))), true);
      } catch {
        // An unreadable checkpoint (e.g. removed meanwhile): replay the commits instead.
        snapshot = new Snapshot();
      }
    }
    const updated = await this.#updateFrom(snapshot);
    return updated.version < 0 ? null : updated;
  }

  async #updateFrom(snapshot: Snapshot): Promise<Snapshot> {
    for (let v = snapshot.version + 1; ; v++) {
      const actions = await this.#readCommit(v);
      if (!actions) return snapshot;
      snapshot.apply(v, actions);
    }
  }

  /**
   * Optimistic concurrency: `build` turns the latest snapshot into the actions of the next
   * commit (or null: nothing to do), which is written put-if-absent as version N+1. When another
   * writer took N+1 first, the snapshot is brought forward and `build` runs again on it — it
   * re-checks whatever the winners changed (schema, idempotency keys, removed files).
   */
  async commit(
    build: (snapshot: Snapshot | null) => Promise<Action[] | null>,
    options: CommitOptions,
  ): Promise<CommitResult> {
    const maxAttempts = options.maxAttempts ?? 10_000;
    let snapshot = await this.snapshot();
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (snapshot) checkWritable(snapshot, this.table);
      const actions = await build(snapshot);
      const base = snapshot ?? new Snapshot();
      if (!actions) return { version: null, snapshot: base, retries: attempt };
      const version = base.version + 1;
      const commitInfo = {
        commitInfo: {
          timestamp: Date.now(),
          operation: options.operation,
          operationParameters: options.operationParameters ?? {},
          readVersion: base.version >= 0 ? base.version : undefined,
          isBlindAppend: actions.every((a) => "add" in a || "txn" in a),
          engineInfo: "metaxy-ts",
          clientVersion: "@metaxy/backend-delta",
          operationMetrics: { num_retries: attempt },
        },
      };
      await mkdir(this.logDir, { recursive: true });
      const body = [commitInfo, ...actions].map((a) => JSON.stringify(a)).join("\n") + "\n";
      if (await putIfAbsent(this.logDir, versionFile(version), body)) {
        const next = base.clone().apply(version, actions);
        this.#cached = next;
        const interval = this.options.checkpointInterval;
        if (interval > 0 && version > 0 && version % interval === 0)
          await this.writeCheckpoint(next).catch((e) => this.options.onCheckpointError?.(e));
        return { version, snapshot: next, retries: attempt };
      }
      // Lost the race for `version`: read the winners' commits, back off a little, rebuild.
      snapshot = (await this.snapshot()) ?? null;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 + attempt)));
    }
    throw new DeltaCommitConflictError(
      `Could not commit to Delta table "${this.table}" after ${maxAttempts} attempts: other writers kept winning`,
      { table: this.table, attempts: maxAttempts },
    );
  }

  /** Writes `snapshot` as a classic checkpoint, then points `_last_checkpoint` at it. */
  async writeCheckpoint(snapshot: Snapshot): Promise<void> {
    const actions = snapshot.checkpointActions();
    const tmp = join(this.logDir, `_checkpoint_${randomUUID()}.parquet.tmp`);
    try {
      await this.io.write(tmp, actions);
      // Two writers may checkpoint the same version: both files hold the same state.
      await rename(tmp, join(this.logDir, checkpointFile(snapshot.version)));
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    const previous = await this.#lastCheckpoint();
    if (previous !== null && previous >= snapshot.version) return;
    const hint = join(this.logDir, `_last_checkpoint_${randomUUID()}.tmp`);
    await writeDurably(hint, JSON.stringify({ version: snapshot.version, size: actions.length }), "w");
    await rename(hint, join(this.logDir, "_last_checkpoint"));
  }
}

async function writeDurably(path: string, text: string, flags: "w" | "wx"): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Creates `dir/name` with `text` only if it does not exist, atomically: the whole file is
 * written and synced under a unique temporary name, then hard-linked to its name (`link` fails
 * with EEXIST when another writer got there first; it never overwrites). A writer killed at any
 * point leaves either no commit or a complete one — at worst a stray `_commit_*.tmp`, which
 * no reader looks at. Where the filesystem has no hard links, an exclusive create (`wx`) is the
 * fallback (still never an overwrite, but a reader could see a half-written file).
 */
export async function putIfAbsent(dir: string, name: string, text: string): Promise<boolean> {
  const tmp = join(dir, `_commit_${randomUUID()}.json.tmp`);
  await writeDurably(tmp, text, "wx");
  try {
    await link(tmp, join(dir, name));
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS") throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  try {
    await writeDurably(join(dir, name), text, "wx");
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}
