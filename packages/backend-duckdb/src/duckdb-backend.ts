import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import {
  type AccessMode,
  type Backend,
  type BackendCapabilities,
  type Expr,
  type HashAlgorithm,
  type IncrementCounts,
  type IncrementKind,
  type InlineRows,
  MetadataStoreError,
  type ResolveUpdatePlan,
  type Row,
  TableNotFoundError,
  type ColumnType,
  IdempotencyConflictError,
} from "@metaxy/core";
import {
  BACKEND_SPEC_VERSION,
  type IncrementSource,
  type ReadQuery,
  type StagedIncrementSource,
  type TableSchema,
  type TableWrite,
  type TombstoneValues,
  compileExpr,
  inferType,
  sqlLiteral,
} from "@metaxy/core/backend";
import { duckdbDialect, q, s } from "./duckdb-dialect.js";
import { acquireDatabase, releaseDatabase } from "./duckdb-databases.js";
import { type AppendPart, DuckDBDriver } from "./duckdb-driver.js";
import { type CompiledResolve, type ResolveSources, STATUS } from "@metaxy/backend-sql";
import { compileRead, compileResolveUpdate } from "./duckdb-compilers.js";

export interface DuckDBBackendOptions {
  /** A database file, or `:memory:` (default). */
  path?: string;
  /** An already-created instance (its lifecycle stays yours). */
  instance?: DuckDBInstance;
  /** Default record hash: `md5` (native, fastest). `xxhash64`/`xxhash32` run as JS functions. */
  hashAlgorithm?: HashAlgorithm;
  /** DuckDB configuration options (`threads`, `memory_limit`, ...). */
  config?: Record<string, string>;
}

const SCRATCH = "metaxy_scratch";
/** Idempotency keys, scoped by table: a key names one write to one feature. */
const IDEMPOTENCY_TABLE = "metaxy_system__idempotency";
const STAGE_PREFIX = "metaxy_stage__";

/** The embedded default backend: a DuckDB file (or memory), resolve-update compiled to one SQL pass. */
export function duckdb(options: DuckDBBackendOptions = {}): Backend {
  return new DuckDBBackend(options);
}

class DuckDBBackend implements Backend {
  readonly specificationVersion = BACKEND_SPEC_VERSION;
  readonly kind = "duckdb";
  readonly capabilities: BackendCapabilities;
  readonly #options: DuckDBBackendOptions;
  #opened: DuckDBDriver | undefined;
  /** Key of the process-wide shared database file, when this backend holds one. */
  #sharedKey: string | undefined;
  readonly #path: string;
  #counter = 0;
  #readOnly = false;

  constructor(options: DuckDBBackendOptions) {
    this.#options = options;
    this.#path = options.path ?? ":memory:";
    this.capabilities = {
      hashAlgorithms: ["md5", "sha256", "xxhash64", "xxhash32", "xxh3_64"],
      defaultHashAlgorithm: options.hashAlgorithm ?? "md5",
      atomicWrites: true,
    };
  }

  display(): string {
    return `duckdb(${this.#path})`;
  }

  get #driver(): DuckDBDriver {
    if (!this.#opened) throw new MetadataStoreError(`DuckDB backend ${this.display()} is not open`);
    return this.#opened;
  }

  async open(mode: AccessMode): Promise<void> {
    if (this.#opened) return;
    const readOnly = mode === "r";
    const { instance, config = {} } = this.#options;
    if (instance || this.#path === ":memory:") {
      // An injected instance is the caller's to share; each `:memory:` database is its own.
      const driver = new DuckDBDriver(this.#path, instance, config);
      await driver.open(readOnly);
      this.#opened = driver;
    } else {
      const { key, driver } = await acquireDatabase(this.#path, readOnly, config);
      this.#opened = driver;
      this.#sharedKey = key;
    }
    await this.#driver.run(`ATTACH IF NOT EXISTS ':memory:' AS ${SCRATCH} (READ_WRITE)`);
    this.#readOnly = readOnly;
  }
  async close(): Promise<void> {
    const driver = this.#opened;
    this.#opened = undefined;
    if (!driver) return;
    if (this.#sharedKey === undefined) await driver.close();
    else await releaseDatabase(this.#sharedKey);
    this.#sharedKey = undefined;
  }

  #describe(table: string): Promise<Array<[string, string]> | null> {
    return this.#driver.layout(table);
  }

  async tableExists(table: string): Promise<boolean> {
    return (await this.#describe(table)) !== null;
  }
  async listTables(): Promise<string[]> {
    const rows = await this.#driver.all(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_catalog = current_database() ORDER BY table_name",
    );
    return rows.map((r) => r.table_name as string);
  }
  async tableColumns(table: string): Promise<string[] | null> {
    return (await this.#describe(table))?.map(([n]) => n) ?? null;
  }

  async tableSchema(table: string): Promise<TableSchema | null> {
    const columns = await this.#describe(table);
    return columns ? Object.fromEntries(columns.map(([n, t]) => [n, logicalType(t)])) : null;
  }

  async write(writes: readonly TableWrite[]): Promise<number[]> {
    const driver = this.#driver;
    return driver.appendParts(SCRATCH, async (c) => {
      const parts: AppendPart[] = [];
      for (const w of writes) {
        const existing = await driver.layoutOn(c, w.table);
        const have = new Set(existing?.map(([n]) => n));
        const added = Object.entries(w.schema).filter(([n]) => !have.has(n));
        const ddl = existing
          ? added.map(([n, t]) => `ALTER TABLE ${q(w.table)} ADD COLUMN ${q(n)} ${duckdbDialect.typeName(t)}`)
          : [
              `CREATE TABLE ${q(w.table)} (${added.map(([n, t]) => `${q(n)} ${duckdbDialect.typeName(t)}`).join(", ")})`,
            ];
        if (w.idempotency)
          ddl.unshift(
            `CREATE TABLE IF NOT EXISTS ${IDEMPOTENCY_TABLE} (table_name VARCHAR, idempotency_key VARCHAR, fingerprint VARCHAR, row_count BIGINT, written_at TIMESTAMPTZ, PRIMARY KEY (table_name, idempotency_key))`,
          );
        const columns: Array<[string, string]> = [
          ...(existing ?? []),
          ...added.map(([n, t]): [string, string] => [n, describedType(t)]),
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

  async appendTombstones(query: ReadQuery, values: TombstoneValues): Promise<number> {
    const columns = await this.#describe(query.table);
    if (!columns) return 0;
    const select = columns.map(([n]) => (n in values ? `${literal(values[n])} AS ${q(n)}` : q(n)));
    return this.#driver.exclusive(async (c) => {
      const result = await c.run(
        `INSERT INTO ${q(query.table)} (${columns.map(([n]) => q(n)).join(", ")}) SELECT ${select.join(", ")} FROM (${compileRead({ ...query, columns: null })})`,
      );
      return result.rowsChanged;
    });
  }

  async *read(query: ReadQuery, batchSize: number): AsyncIterable<Row[]> {
    if (!(await this.tableExists(query.table))) return;
    yield* this.#driver.stream(compileRead(query), batchSize);
  }
  async count(query: ReadQuery): Promise<number> {
    if (!(await this.tableExists(query.table))) return 0;
    return Number((await this.#driver.all(`SELECT count(*) AS n FROM (${compileRead(query)})`))[0].n);
  }
  async deleteRows(table: string, where: Expr | null): Promise<number> {
    if (!(await this.tableExists(table))) return 0;
    const cond = where ? ` WHERE ${compileExpr(where, { quoteIdent: q })}` : "";
    return this.#driver.run(`DELETE FROM ${q(table)}${cond}`);
  }
  async dropTable(table: string): Promise<void> {
    await this.#driver.run(`DROP TABLE IF EXISTS ${q(table)}`);
    this.#driver.forget(table);
  }

  async resolveUpdate(plan: ResolveUpdatePlan): Promise<IncrementSource> {
    const id = ++this.#counter;
    const scratch: string[] = [];
    const sources = await this.#sources(plan, id, scratch);
    const compiled = compileResolveUpdate(plan, sources);
    const table = `${SCRATCH}.inc_${id}`;
    try {
      await this.#driver.run(`CREATE OR REPLACE TABLE ${table} AS ${compiled.sql}`);
    } finally {
      for (const t of scratch) await this.#driver.run(`DROP TABLE IF EXISTS ${t}`);
    }
    scratch.length = 0;
    return this.#incrementSource(table, compiled, plan.diffColumns);
  }

  /** Relations of every input: feature tables, or scratch tables for samples and fallback rows. */
  async #sources(plan: ResolveUpdatePlan, id: number, scratch: string[]): Promise<ResolveSources> {
    const currentCols = await this.tableColumns(plan.current.table);
    const current = currentCols ? { relation: q(plan.current.table), columns: currentCols } : null;
    if (plan.expected.kind === "samples") {
      const relation = `${SCRATCH}.samples_${id}`;
      scratch.push(relation);
      const columns = await this.#loadScratch(relation, plan.expected.rows);
      return { upstreams: [], samples: { relation, columns }, current };
    }
    const upstreams = [];
    for (const [i, u] of plan.expected.upstreams.entries()) {
      if (u.inline) {
        const relation = `${SCRATCH}.upstream_${id}_${i}`;
        scratch.push(relation);
        await this.#loadInline(relation, u.inline);
        upstreams.push({ relation, raw: false });
      } else {
        if (!(await this.tableExists(u.read.table)))
          throw new TableNotFoundError(`Table "${u.read.table}" of feature "${u.feature}" does not exist`, {
            feature: u.feature,
            table: u.read.table,
          });
        upstreams.push({ relation: q(u.read.table), raw: true });
      }
    }
    return { upstreams, current };
  }

  /** Loads sample rows into a scratch table; returns its columns. */
  async #loadScratch(relation: string, rows: readonly Row[]): Promise<string[]> {
    const types: Record<string, ColumnType> = {};
    for (const r of rows)
      for (const [k, v] of Object.entries(r))
        if (!(k in types) && v !== null && v !== undefined)
          types[k] = k.endsWith("_by_field") ? "map" : inferType(v);
    return this.#fillScratch(relation, types, [rows]);
  }

  /** Copies a fallback upstream into a scratch table one batch at a time; returns its columns. */
  #loadInline(relation: string, inline: InlineRows): Promise<string[]> {
    return this.#fillScratch(relation, inline.schema, inline.batches());
  }

  async #fillScratch(
    relation: string,
    types: Readonly<Record<string, ColumnType>>,
    batches: Iterable<readonly Row[]> | AsyncIterable<readonly Row[]>,
  ): Promise<string[]> {
    const cols = Object.entries(types);
    if (cols.length === 0) cols.push(["__empty", "string"]);
    await this.#driver.run(
      `CREATE OR REPLACE TABLE ${relation} (${cols.map(([n, t]) => `${q(n)} ${duckdbDialect.typeName(t)}`).join(", ")})`,
    );
    const described = cols.map(([n, t]): [string, string] => [n, describedType(t)]);
    for await (const rows of batches)
      if (rows.length > 0) await this.#driver.append(relation, described, rows, SCRATCH);
    return cols.map(([n]) => n);
  }

  #incrementSource(
    table: string,
    compiled: CompiledResolve,
    diffColumns: readonly string[],
  ): IncrementSource {
    const driver = this.#driver;
    const selectFor = (kind: IncrementKind) =>
      kind === "orphaned"
        ? compiled.orphansSql(table)
        : `SELECT ${compiled.expectedSelect} FROM ${table} WHERE ${STATUS} = '${kind}'`;
    let counts: IncrementCounts | undefined;
    return {
      counts: async () => (counts ??= await countStatuses(driver, table)),
      rows: (kind, batchSize) => {
        const rows = driver.stream(selectFor(kind), batchSize);
        return kind === "orphaned" || !compiled.dataVersionIsProvenance ? rows : withDataVersions(rows);
      },
      progress: async () => {
        if (!compiled.inputIdsSql) return null;
        const total = Number((await driver.all(`SELECT count(*) AS n FROM (${compiled.inputIdsSql})`))[0].n);
        const dc = diffColumns.map(q).join(", ");
        const missing = Number(
          (
            await driver.all(
              `SELECT count(*) AS n FROM (SELECT DISTINCT ${dc} FROM ${table} WHERE ${STATUS} = 'new')`,
            )
          )[0].n,
        );
        return { total, missing };
      },
      stage: async (stageId) => {
        // The stage holds finished rows (maps built, orphans fetched): it outlives this process.
        const { staged, orphans } = this.#stageTables(stageId);
        const order = diffColumns.map(q).join(", ");
        const dataVersions = compiled.dataVersionIsProvenance
          ? `, ${q("metaxy_provenance_by_field")} AS ${q("metaxy_data_version_by_field")}, ${q("metaxy_provenance")} AS ${q("metaxy_data_version")}`
          : "";
        await driver.run(
          `CREATE OR REPLACE TABLE ${staged} AS SELECT ${STATUS}, ${compiled.expectedSelect}${dataVersions}, row_number() OVER (ORDER BY ${STATUS} = 'stale', ${order}) - 1 AS __batch_row FROM ${table} WHERE ${STATUS} IN ('new', 'stale')`,
        );
        await driver.run(`CREATE OR REPLACE TABLE ${orphans} AS ${compiled.orphansSql(table)}`);
        return this.openStage(stageId);
      },
      dispose: async () => {
        await driver.run(`DROP TABLE IF EXISTS ${table}`);
      },
    };
  }

  /**
   * The two tables of a stage. Stages persist in the database file; a read-only store keeps them
   * in memory. Table names are injective in the stage id, case included (see `stageTableName`).
   */
  #stageTables(stageId: string): { staged: string; orphans: string; names: [string, string] } {
    const name = stageTableName(stageId);
    const names: [string, string] = [name, `${name}__orphans`];
    const [staged, orphans] = names.map((n) => (this.#readOnly ? `${SCRATCH}.${q(n)}` : q(n)));
    return { staged, orphans, names };
  }

  async openStage(stageId: string): Promise<StagedIncrementSource> {
    const { staged, orphans, names } = this.#stageTables(stageId);
    const describe = (t: string) => this.#driver.describe(t, this.#readOnly ? SCRATCH : undefined);
    const columns = await describe(names[0]);
    if (!columns || !(await describe(names[1])))
      throw new MetadataStoreError(`No staged increment "${stageId}"`, { stageId });
    const expected = columns
      .map(([n]) => n)
      .filter((n) => n !== STATUS && n !== "__batch_row")
      .map(q)
      .join(", ");
    const driver = this.#driver;
    return {
      stageId,
      counts: async () => {
        const c = await countStatuses(driver, staged);
        const o = Number((await driver.all(`SELECT count(*) AS n FROM ${orphans}`))[0].n);
        return { ...c, orphaned: o };
      },
      page: (offset, limit) =>
        driver.all(
          `SELECT ${expected} FROM ${staged} WHERE __batch_row >= ${offset} AND __batch_row < ${offset + limit} ORDER BY __batch_row`,
        ),
      orphans: (batchSize) => driver.stream(`SELECT * FROM ${orphans}`, batchSize),
      drop: async () => {
        await driver.run(`DROP TABLE IF EXISTS ${staged}`);
        await driver.run(`DROP TABLE IF EXISTS ${orphans}`);
      },
    };
  }
}

/**
 * `metaxy_stage__` + the stage id with `a`-`z`, `0`-`9` and `-` kept and every other UTF-16 unit
 * written `_xxxx` (hex). DuckDB folds identifier case, so `Run-1` must not be `run-1`, and `run_1`
 * must not be `run-1` either: the mapping is injective, and no name contains `__` after the
 * prefix, so a stage's `__orphans` table is never another stage's table.
 */
function stageTableName(stageId: string): string {
  let out = STAGE_PREFIX;
  for (let i = 0; i < stageId.length; i++) {
    const c = stageId.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d) out += stageId[i];
    else out += `_${c.toString(16).padStart(4, "0")}`;
  }
  return out;
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

/** DESCRIBE spells TIMESTAMPTZ out; the append path keys its fast conversions on that spelling. */
function describedType(type: ColumnType): string {
  const name = duckdbDialect.typeName(type);
  return name === "TIMESTAMPTZ" ? "TIMESTAMP WITH TIME ZONE" : name;
}

function literal(value: unknown): string {
  if (value instanceof Date) return `make_timestamptz(${BigInt(value.getTime()) * 1000n})`;
  if (value === undefined) return "NULL";
  if (typeof value === "string") return s(value);
  return sqlLiteral(value as number | boolean | bigint | null);
}

/** Adds the data-version columns, equal to the provenance ones (copied: callers may mutate rows). */
async function* withDataVersions(batches: AsyncIterable<Row[]>): AsyncGenerator<Row[]> {
  for await (const batch of batches) {
    for (const r of batch) {
      r.metaxy_data_version_by_field = { ...(r.metaxy_provenance_by_field as Record<string, string>) };
      r.metaxy_data_version = r.metaxy_provenance;
    }
    yield batch;
  }
}

async function countStatuses(driver: DuckDBDriver, table: string): Promise<IncrementCounts> {
  const rows = await driver.all(`SELECT ${STATUS} AS s, count(*) AS n FROM ${table} GROUP BY ${STATUS}`);
  const counts = { new: 0, stale: 0, orphaned: 0, failed: 0 };
  for (const r of rows) counts[r.s as IncrementKind] = Number(r.n);
  return counts;
}
