import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import {
  type AccessMode,
  type ColumnType,
  IdempotencyConflictError,
  MetadataStoreError,
  type Row,
} from "@metaxy/core";
import type { TableWrite } from "@metaxy/core/backend";
import { type EngineColumns, type RowBatches, type SqlDriver, scratchColumns } from "@metaxy/backend-sql";
import { acquireDatabase, releaseDatabase } from "./duckdb-databases.js";
import { duckdbDialect, q, s, structFields } from "./duckdb-dialect.js";
import { type AppendPart, DuckDBSession } from "./duckdb-session.js";

export interface DuckDBDriverOptions {
  path?: string;
  instance?: DuckDBInstance;
  config?: Record<string, string>;
  layout?: ByFieldLayout;
}

/**
 * How new tables keep the `*_by_field` columns: `map` (one `MAP(VARCHAR, VARCHAR)`; Python
 * Metaxy's `enable_map_datatype=True`) or `struct` (one `STRUCT` with a VARCHAR per field; Python
 * Metaxy's default). Existing tables keep theirs.
 */
export type ByFieldLayout = "map" | "struct";

/** Session-private relations (scratch tables, read-only stages) live in an attached memory database. */
const SCRATCH = "metaxy_scratch";
/** Idempotency keys, scoped by table: a key names one write to one feature. */
const IDEMPOTENCY_TABLE = "metaxy_system__idempotency";

/**
 * DuckDB under `SqlBackend`: one file (shared by every store of the process on it) or memory.
 * Values are inlined as literals by the dialect, so statements take no parameters.
 */
export class DuckDBDriver implements SqlDriver {
  readonly dialect = duckdbDialect;
  readonly #options: DuckDBDriverOptions;
  readonly #path: string;
  #opened: DuckDBSession | undefined;
  #layout: ByFieldLayout | undefined;
  /** Key of the process-wide shared database file, when this driver holds one. */
  #sharedKey: string | undefined;

  constructor(options: DuckDBDriverOptions) {
    this.#options = options;
    this.#path = options.path ?? ":memory:";
    this.#layout = options.layout;
  }

  display(): string {
    return `duckdb(${this.#path})`;
  }

  get #session(): DuckDBSession {
    if (!this.#opened) throw new MetadataStoreError(`DuckDB backend ${this.display()} is not open`);
    return this.#opened;
  }

  async open(mode: AccessMode): Promise<void> {
    if (this.#opened) return;
    const readOnly = mode === "r";
    const { instance, config = {} } = this.#options;
    if (instance || this.#path === ":memory:") {
      // An injected instance is the caller's to share; each `:memory:` database is its own.
      const session = new DuckDBSession(this.#path, instance, config);
      await session.open(readOnly);
      this.#opened = session;
    } else {
      const { key, driver } = await acquireDatabase(this.#path, readOnly, config);
      this.#opened = driver;
      this.#sharedKey = key;
    }
    await this.#session.run(`ATTACH IF NOT EXISTS ':memory:' AS ${SCRATCH} (READ_WRITE)`);
  }
  async close(): Promise<void> {
    const session = this.#opened;
    this.#opened = undefined;
    if (!session) return;
    if (this.#sharedKey === undefined) await session.close();
    else await releaseDatabase(this.#sharedKey);
    this.#sharedKey = undefined;
  }

  run(sql: string): Promise<number> {
    return this.#session.run(sql);
  }
  all(sql: string): Promise<Row[]> {
    return this.#session.all(sql);
  }
  stream(sql: string, batchSize: number): AsyncIterable<Row[]> {
    return this.#session.stream(sql, batchSize);
  }

  describe(table: string, scratch = false): Promise<EngineColumns | null> {
    return scratch ? this.#session.describe(table, SCRATCH) : this.#session.layout(table);
  }
  async listTables(): Promise<string[]> {
    const rows = await this.#session.all(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_catalog = current_database() ORDER BY table_name",
    );
    return rows.map((r) => r.table_name as string);
  }
  logicalType(duckdbType: string): ColumnType {
    return logicalType(duckdbType);
  }

  structFields(duckdbType: string): string[] | null {
    return structFields(duckdbType);
  }

  /** The layout of new tables: the option, else that of the store's existing tables, else map. */
  async #newTableLayout(c: DuckDBConnection): Promise<ByFieldLayout> {
    if (this.#layout) return this.#layout;
    const found = await c.runAndReadAll(
      "SELECT data_type FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = current_schema() AND column_name LIKE '%\\_by\\_field' ESCAPE '\\' LIMIT 1",
    );
    const type = found.currentRowCount > 0 ? String(found.getRows()[0][0]) : "";
    this.#layout = type.startsWith("STRUCT(") ? "struct" : "map";
    return this.#layout;
  }

  write(writes: readonly TableWrite[]): Promise<number[]> {
    const session = this.#session;
    return session.appendParts(SCRATCH, async (c) => {
      const parts: AppendPart[] = [];
      for (const w of writes) {
        const existing = await session.layoutOn(c, w.table);
        const have = new Set(existing?.map(([n]) => n));
        const struct = !existing && (await this.#newTableLayout(c)) === "struct";
        // A struct column is typed by the fields the rows carry (an empty write falls back to a map).
        const typeOf = (n: string, t: ColumnType) => {
          const keys = struct && t === "map" ? rowKeys(w.rows, n) : [];
          return keys.length > 0 ? structType(keys) : duckdbDialect.typeName(t);
        };
        const added = Object.entries(w.schema)
          .filter(([n]) => !have.has(n))
          .map(([n, t]): [string, string] => [n, typeOf(n, t)]);
        const ddl = existing
          ? added.map(([n, t]) => `ALTER TABLE ${q(w.table)} ADD COLUMN ${q(n)} ${t}`)
          : [`CREATE TABLE ${q(w.table)} (${added.map(([n, t]) => `${q(n)} ${t}`).join(", ")})`];
        // Fields the rows bring to an existing struct column are added to it.
        const widened = (existing ?? []).map(([n, t]): [string, string] => {
          const fields = n.endsWith("_by_field") ? structFields(t) : null;
          if (!fields || !(n in w.schema)) return [n, t];
          const extra = rowKeys(w.rows, n).filter((k) => !fields.includes(k));
          for (const k of extra) ddl.push(`ALTER TABLE ${q(w.table)} ADD COLUMN ${q(n)}.${q(k)} VARCHAR`);
          return [n, extra.length > 0 ? structType([...fields, ...extra]) : t];
        });
        if (w.idempotency)
          ddl.unshift(
            `CREATE TABLE IF NOT EXISTS ${IDEMPOTENCY_TABLE} (table_name VARCHAR, idempotency_key VARCHAR, fingerprint VARCHAR, row_count BIGINT, written_at TIMESTAMPTZ, PRIMARY KEY (table_name, idempotency_key))`,
          );
        const columns: Array<[string, string]> = [
          ...widened,
          ...added.map(([n, t]): [string, string] => [n, spelled(t)]),
        ];
        parts.push({
          table: w.table,
          target: q(w.table),
          ddl,
          columns,
          rows: w.rows,
          before: w.idempotency && ((c) => claimIdempotencyKey(c, w)),
        });
      }
      return parts;
    });
  }
  insertSelect(table: string, columns: readonly string[], select: string): Promise<number> {
    return this.#session.run(`INSERT INTO ${q(table)} (${columns.map(q).join(", ")}) ${select}`);
  }
  deleteWhere(table: string, where: string | null): Promise<number> {
    return this.#session.run(`DELETE FROM ${q(table)}${where ? ` WHERE ${where}` : ""}`);
  }

  relation(name: string, scratch: boolean): string {
    return scratch ? `${SCRATCH}.${q(name)}` : q(name);
  }
  async createTableAs(relation: string, select: string): Promise<void> {
    await this.#session.run(`CREATE OR REPLACE TABLE ${relation} AS ${select}`);
  }
  async loadScratch(
    relation: string,
    schema: Readonly<Record<string, ColumnType>>,
    batches: RowBatches,
  ): Promise<void> {
    const cols = scratchColumns(schema);
    await this.#session.run(
      `CREATE OR REPLACE TABLE ${relation} (${cols.map(([n, t]) => `${q(n)} ${duckdbDialect.typeName(t)}`).join(", ")})`,
    );
    const described = cols.map(([n, t]): [string, string] => [n, describedType(t)]);
    for await (const rows of batches)
      if (rows.length > 0) await this.#session.append(relation, described, rows, SCRATCH);
  }
  async dropTable(relation: string): Promise<void> {
    await this.#session.run(`DROP TABLE IF EXISTS ${relation}`);
  }
  forget(table: string): void {
    this.#session.forget(table);
  }
}

/** Records an idempotency key in the write's transaction: false for a replay, an error for a conflict. */
async function claimIdempotencyKey(c: DuckDBConnection, w: TableWrite): Promise<boolean> {
  const { key, fingerprint } = w.idempotency!;
  const seen = await c.runAndReadAll(
    `SELECT fingerprint FROM ${IDEMPOTENCY_TABLE} WHERE table_name = ${s(w.table)} AND idempotency_key = ${s(key)}`,
  );
  if (seen.currentRowCount > 0) {
    if (seen.getRows()[0][0] === fingerprint) return false;
    throw new IdempotencyConflictError(
      `Idempotency key "${key}" was already used on feature "${w.feature}" for different rows`,
      { feature: w.feature, idempotencyKey: key },
    );
  }
  await c.run(
    `INSERT INTO ${IDEMPOTENCY_TABLE} VALUES (${s(w.table)}, ${s(key)}, ${s(fingerprint)}, ${w.rows.length}, now())`,
  );
  return true;
}

/** DuckDB type (as DESCRIBE spells it) → logical type; unknown types (lists, structs) are JSON-like. */
function logicalType(duckdbType: string): ColumnType {
  if (duckdbType === "VARCHAR") return "string";
  if (/^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER|USMALLINT|UTINYINT)$/.test(duckdbType))
    return "integer";
  if (/^(DOUBLE|FLOAT|REAL|DECIMAL)/.test(duckdbType)) return "float";
  if (duckdbType === "BOOLEAN") return "boolean";
  if (duckdbType.startsWith("TIMESTAMP")) return "timestamp";
  if (duckdbType.startsWith("MAP(")) return "map";
  return "json";
}

/** Keys of the `column` objects of `rows`, in order of first appearance. */
function rowKeys(rows: readonly Row[], column: string): string[] {
  const keys = new Set<string>();
  for (const r of rows) {
    const m = r[column];
    if (m && typeof m === "object") for (const k of Object.keys(m)) keys.add(k);
  }
  return [...keys];
}

function structType(fields: readonly string[]): string {
  return `STRUCT(${fields.map((f) => `${q(f)} VARCHAR`).join(", ")})`;
}

/** DESCRIBE spells TIMESTAMPTZ out; the append path keys its fast conversions on that spelling. */
function describedType(type: ColumnType): string {
  return spelled(duckdbDialect.typeName(type));
}

/** A DuckDB type name as DESCRIBE spells it. */
function spelled(duckdbType: string): string {
  return duckdbType === "TIMESTAMPTZ" ? "TIMESTAMP WITH TIME ZONE" : duckdbType;
}
