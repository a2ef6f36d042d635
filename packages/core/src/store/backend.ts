import { BackendSpecVersionError } from "../errors.js";
import type { Expr } from "../plan/expression.js";
import type { ReadQuery } from "../plan/read-query.js";
import type { IncrementCounts, IncrementKind, ResolveUpdatePlan, Row } from "../plan/resolve-update-plan.js";
import type { ColumnType } from "../spec/system-columns.js";
import type { HashAlgorithm } from "../versioning/hash-algorithms.js";

/** Version of this contract; backends declare the one they implement. */
export const BACKEND_SPEC_VERSION = "v2";

/**
 * Refuses a backend built against another version of this contract (e.g. a backend package that
 * brought its own, older or newer, copy of `@metaxy/core`).
 */
export function assertSpecificationVersion(backend: Backend): void {
  const found = (backend as { specificationVersion?: unknown }).specificationVersion;
  if (found === BACKEND_SPEC_VERSION) return;
  const kind = typeof backend?.kind === "string" ? backend.kind : "(unnamed)";
  throw new BackendSpecVersionError(
    `Backend "${kind}" implements backend contract ${found === undefined ? "(none declared)" : JSON.stringify(found)}, but this @metaxy/core expects "${BACKEND_SPEC_VERSION}": install versions of the backend and of @metaxy/core that match`,
    { backend: kind, expected: BACKEND_SPEC_VERSION, found: found ?? null },
  );
}

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

/** One table's part of an all-or-nothing `write`. */
export interface TableWrite {
  readonly table: string;
  /** Feature key (for errors); the system key for system tables. */
  readonly feature: string;
  /** Every column the rows may carry, with its logical type; missing columns are added. */
  readonly schema: TableSchema;
  /** Fully prepared rows (system columns filled, values checked against `schema`). */
  readonly rows: readonly Row[];
  /**
   * Idempotency, scoped by table: a replay with the same key and fingerprint appends nothing
   * (0); the same key with another fingerprint is an `IdempotencyConflictError`.
   */
  readonly idempotency?: { readonly key: string; readonly fingerprint: string };
  /**
   * The feature's id columns, for engines that lay a new table out by them (ClickHouse sorts a
   * MergeTree table by them, which serves latest-per-id reads). Absent for system tables.
   */
  readonly idColumns?: readonly string[];
}

/** One table whose rows an incremental resolve counts (see `Backend.tableMarks`). */
export interface MarkRequest {
  readonly table: string;
  /** Count the rows whose effective time is after this (every row when null). */
  readonly since: Date | null;
}

/**
 * What `tableMarks` reports of one table, read in one statement. The effective time of a row is
 * `coalesce(metaxy_deleted_at, metaxy_updated_at)`: when it was written.
 */
export interface TableMark {
  /** Every stored row (all versions and tombstones); 0 when the table does not exist. */
  readonly rows: number;
  /** The greatest effective time, in whole milliseconds (rounded down); null without rows. */
  readonly latest: Date | null;
  /** Rows whose effective time is after the request's `since`. */
  readonly since: number;
}

/** A resolve's cost as the engine estimates it before running it. */
export interface ResolveCost {
  /** Bytes the engine would read. */
  readonly bytesProcessed: number;
}

/** Column overrides of the tombstones a soft delete appends (SPEC §4.4). */
export type TombstoneValues = Readonly<Record<string, unknown>>;

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
  /** Logical type of each column of a table, or null when it does not exist. */
  tableSchema(table: string): Promise<TableSchema | null>;
  /**
   * One transaction for every table of `writes`: creates missing tables, adds missing columns,
   * checks idempotency keys and appends the rows. Either all of it happens or none of it (a failed,
   * rejected or killed write leaves tables, columns and rows as they were). Returns the rows
   * appended per write, in order (0 for an idempotent replay).
   */
  write(writes: readonly TableWrite[]): Promise<number[]>;
  /**
   * Appends, in the engine, a copy of every row `query` returns with `values` overriding columns:
   * the tombstones of a soft delete. Returns rows appended.
   */
  appendTombstones(query: ReadQuery, values: TombstoneValues): Promise<number>;
  /** Rows per `query`, in batches of at most `batchSize`. */
  read(query: ReadQuery, batchSize: number): AsyncIterable<Row[]>;
  count(query: ReadQuery): Promise<number>;
  /** Physically deletes matching rows (all rows when `where` is null). Returns rows deleted. */
  deleteRows(table: string, where: Expr | null): Promise<number>;
  dropTable(table: string): Promise<void>;

  /**
   * Row counts and high-water marks of tables, for incremental resolves (resolve-checkpoints.ts).
   * A backend that has it must also honour `plan.scope` in `resolveUpdate`; without it every
   * resolve is full.
   */
  tableMarks?(requests: readonly MarkRequest[]): Promise<TableMark[]>;

  /** Evaluates a resolve-update plan; the result stays in the engine until read. */
  resolveUpdate(plan: ResolveUpdatePlan): Promise<IncrementSource>;
  /**
   * What evaluating `plan` would cost, asked of the engine without running it (BigQuery's dry
   * run: the bytes it would scan, which on-demand queries are billed by). Optional: engines
   * without a cost model leave it out, and `metaxy plan --cost` says so.
   */
  estimateResolveCost?(plan: ResolveUpdatePlan): Promise<ResolveCost>;
  /** Re-attaches a staged increment by id (e.g. from another Temporal activity). */
  openStage(stageId: string): Promise<StagedIncrementSource>;
}

export interface IncrementSource {
  counts(): Promise<IncrementCounts>;
  /** Rows of one kind, streamed in batches. */
  rows(kind: IncrementKind, batchSize: number): AsyncIterable<Row[]>;
  /**
   * Distinct keys (the plan's `diffColumns`) of every kind, streamed: what an incremental resolve
   * records as pending. Optional: without it the store reads them from `rows`.
   */
  keys?(batchSize: number): AsyncIterable<Row[]>;
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
