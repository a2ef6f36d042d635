import type { AccessMode, ColumnType, Row } from "@metaxy/core";
import type { ResolveCost, TableWrite } from "@metaxy/core/backend";
import type { SqlDialect } from "./dialect.js";

/** Values bound to a statement's placeholders, by name (filled by `SqlDialect.bind`). */
export type SqlParams = Record<string, unknown>;

/** A table's columns as the engine describes them: name and engine type name, in table order. */
export type EngineColumns = Array<[name: string, engineType: string]>;

/** Rows to load into a scratch relation: samples (one batch) or a fallback store's rows. */
export type RowBatches = Iterable<readonly Row[]> | AsyncIterable<readonly Row[]>;

/**
 * What a SQL engine must provide for `SqlBackend` to be a Metaxy backend: statements, streams,
 * table layouts, scratch relations, and the one engine-specific write path. Everything else
 * (reads, deletes, resolve-update, increments, stages) is generic SQL in `SqlBackend`.
 *
 * Values reach SQL through `dialect.bind` and the `params` of each call, never spliced by the
 * driver. Table names passed in are unquoted feature/system table names unless they are called
 * `relation` (already quoted, possibly qualified, as `relation()` returned them).
 */
export interface SqlDriver {
  readonly dialect: SqlDialect;
  /** Short description for messages, e.g. `duckdb(/data/store.duckdb)`. */
  display(): string;
  open(mode: AccessMode): Promise<void>;
  /** Waits for in-flight statements and streams; later calls fail with STORE_CLOSED. */
  close(): Promise<void>;

  /** Runs one statement; returns the rows it changed when the engine says (else 0). */
  run(sql: string, params?: SqlParams): Promise<number>;
  all(sql: string, params?: SqlParams): Promise<Row[]>;
  /**
   * Streams a query in batches of at most `batchSize`. The caller may run other statements
   * (writes included) between batches.
   */
  stream(sql: string, batchSize: number, params?: SqlParams): AsyncIterable<Row[]>;

  /**
   * What the engine says running `sql` would read, without running it (BigQuery's dry run).
   * Optional: `SqlBackend.estimateResolveCost` exists only on drivers that have it.
   */
  dryRun?(sql: string, params?: SqlParams): Promise<ResolveCost>;

  /** Columns of a feature/system table (or of a scratch relation name), null when absent. */
  describe(table: string, scratch?: boolean): Promise<EngineColumns | null>;
  /** Feature and system tables of the store (no scratch relations), sorted by name. */
  listTables(): Promise<string[]>;
  /** The logical type of an engine type name as `describe` spells it. */
  logicalType(engineType: string): ColumnType;
  /**
   * The field names when `engineType` is a struct type, else null. A `*_by_field` column of that
   * type is in Python Metaxy's struct layout: `SqlBackend` reads it as a map, and `write` must
   * append to it as a struct (adding fields the rows bring). Engines without structs omit this.
   */
  structFields?(engineType: string): string[] | null;

  /**
   * Appends every write all-or-nothing (per write at least; say in the backend's README if not
   * across writes), creating tables and adding columns as the write's schema requires, and
   * honouring `idempotency`: a replay of a key with the same fingerprint writes nothing and
   * returns 0 for that write, another fingerprint raises IDEMPOTENCY_CONFLICT. Returns the
   * number of rows appended per write.
   */
  write(writes: readonly TableWrite[]): Promise<number[]>;
  /** `INSERT INTO table (columns) <select>`; returns the rows inserted. */
  insertSelect(table: string, columns: readonly string[], select: string, params: SqlParams): Promise<number>;
  /** Deletes the rows of `table` matching `where` (a SQL condition; null: all rows). */
  deleteWhere(table: string, where: string | null, params: SqlParams): Promise<number>;

  /**
   * The quoted relation for table name `name`: a scratch relation (private to this session,
   * dropped by the caller, gone at close) or a persistent one in the store.
   */
  relation(name: string, scratch: boolean): string;
  /** Creates (or replaces) `relation` as the result of `select`. */
  createTableAs(relation: string, select: string, params: SqlParams, scratch: boolean): Promise<void>;
  /**
   * Creates (or replaces) scratch `relation` with `schema` and loads `batches` into it, one
   * batch at a time (memory stays bounded by a batch).
   */
  loadScratch(
    relation: string,
    schema: Readonly<Record<string, ColumnType>>,
    batches: RowBatches,
  ): Promise<void>;
  dropTable(relation: string): Promise<void>;
  /** Called after a table is dropped or replaced, so a cached layout of it is forgotten. */
  forget(table: string): void;
}
