import type { Expr } from "../plan/expression.js";
import type { ReadQuery } from "../plan/read-query.js";
import type { IncrementCounts, IncrementKind, ResolveUpdatePlan, Row } from "../plan/resolve-update-plan.js";
import type { ColumnType } from "../spec/system-columns.js";
import type { HashAlgorithm } from "../versioning/hash-algorithms.js";

/** Version of this contract; backends declare the one they implement. */
export const BACKEND_SPEC_VERSION = "v1";

export type AccessMode = "r" | "w";

export interface BackendCapabilities {
  /** Record-level hash algorithms this backend computes identically to the reference engine. */
  readonly hashAlgorithms: readonly HashAlgorithm[];
  readonly defaultHashAlgorithm: HashAlgorithm;
  /** Appends are atomic: a failed or killed write leaves nothing behind. */
  readonly atomicWrites: boolean;
}

/** Column name → logical type; system columns included. */
export type TableSchema = Readonly<Record<string, ColumnType>>;

export interface AppendOptions {
  /** A retried append with the same key adds nothing (idempotent writes). */
  readonly idempotencyKey?: string;
}

/**
 * What a metadata store asks of an engine. Core owns every semantic (plans, hashing rules, system
 * columns); a backend only runs them on its engine. Implementations: `memory()` here,
 * `@metaxy/backend-duckdb`, ...
 */
export interface Backend {
  readonly specificationVersion: typeof BACKEND_SPEC_VERSION;
  /** Short engine name: "memory", "duckdb". */
  readonly kind: string;
  readonly capabilities: BackendCapabilities;
  /** Human description (path, host) for CLI output and errors. */
  display(): string;

  open(mode: AccessMode): Promise<void>;
  close(): Promise<void>;

  tableExists(table: string): Promise<boolean>;
  listTables(): Promise<string[]>;
  /** Column names of a table, or null when it does not exist. */
  tableColumns(table: string): Promise<string[] | null>;
  /** Creates the table when missing; adds missing columns when it exists. */
  ensureTable(table: string, schema: TableSchema): Promise<void>;
  /** All-or-nothing append of fully prepared rows. Returns rows appended (0 for a duplicate idempotency key). */
  append(table: string, schema: TableSchema, rows: readonly Row[], options?: AppendOptions): Promise<number>;
  /** Rows per `query`, in batches of at most `batchSize`. */
  read(query: ReadQuery, batchSize: number): AsyncIterable<Row[]>;
  count(query: ReadQuery): Promise<number>;
  /** Physically deletes matching rows (all rows when `where` is null). Returns rows deleted. */
  deleteRows(table: string, where: Expr | null): Promise<number>;
  dropTable(table: string): Promise<void>;

  /** Evaluates a resolve-update plan; the result stays in the engine until read. */
  resolveUpdate(plan: ResolveUpdatePlan): Promise<IncrementSource>;
  /** Re-attaches a staged increment by id (e.g. from another Temporal activity). */
  openStage(stageId: string): Promise<StagedIncrementSource>;
}

export interface IncrementSource {
  counts(): Promise<IncrementCounts>;
  /** Rows of one kind, streamed in batches. */
  rows(kind: IncrementKind, batchSize: number): AsyncIterable<Row[]>;
  /** Distinct input ids and how many are still missing (progress, SPEC §3.4); null for samples. */
  progress(): Promise<{ total: number; missing: number } | null>;
  /** Persists the increment (new + stale rows numbered for paging, plus orphans) under a stage id. */
  stage(stageId: string): Promise<StagedIncrementSource>;
  dispose(): Promise<void>;
}

export interface StagedIncrementSource {
  readonly stageId: string;
  counts(): Promise<IncrementCounts>;
  /** Rows to process (new then stale) with index in `[offset, offset + limit)`. */
  page(offset: number, limit: number): Promise<Row[]>;
  /** Orphaned rows, streamed. */
  orphans(batchSize: number): AsyncIterable<Row[]>;
  drop(): Promise<void>;
}
