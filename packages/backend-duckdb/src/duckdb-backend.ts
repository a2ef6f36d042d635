import type { DuckDBInstance } from "@duckdb/node-api";
import {
  type AccessMode,
  type AppendOptions,
  BACKEND_SPEC_VERSION,
  type Backend,
  type BackendCapabilities,
  type Expr,
  type HashAlgorithm,
  type IncrementCounts,
  type IncrementKind,
  type IncrementSource,
  MetadataStoreError,
  type ReadQuery,
  type ResolveUpdatePlan,
  type Row,
  type StagedIncrementSource,
  TableNotFoundError,
  type TableSchema,
  compileExpr,
  inferType,
} from "@metaxy/core";
import { duckdbDialect, q, s } from "./duckdb-dialect.js";
import { DuckDBDriver } from "./duckdb-driver.js";
import { compileRead } from "./duckdb-read-compiler.js";
import {
  type CompiledResolve,
  type ResolveSources,
  STATUS,
  compileResolveUpdate,
} from "./duckdb-resolve-compiler.js";

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
const IDEMPOTENCY_TABLE = "metaxy_system__idempotency_keys";
const STAGE_PREFIX = "metaxy_stage__";

/** The embedded default backend: a DuckDB file (or memory), resolve-update compiled to one SQL pass. */
export function duckdb(options: DuckDBBackendOptions = {}): Backend {
  return new DuckDBBackend(options);
}

class DuckDBBackend implements Backend {
  readonly specificationVersion = BACKEND_SPEC_VERSION;
  readonly kind = "duckdb";
  readonly capabilities: BackendCapabilities;
  readonly #driver: DuckDBDriver;
  readonly #path: string;
  #counter = 0;
  /** Column layouts of feature tables; this process is the file's only writer, so they stay valid. */
  readonly #tables = new Map<string, Array<[string, string]> | null>();
  #readOnly = false;

  constructor(options: DuckDBBackendOptions) {
    this.#path = options.path ?? ":memory:";
    this.#driver = new DuckDBDriver(this.#path, options.instance, options.config);
    this.capabilities = {
      hashAlgorithms: ["md5", "sha256", "xxhash64", "xxhash32"],
      defaultHashAlgorithm: options.hashAlgorithm ?? "md5",
      atomicWrites: true,
    };
  }

  display(): string {
    return `duckdb(${this.#path})`;
  }

  async open(mode: AccessMode): Promise<void> {
    await this.#driver.open(mode === "r");
    await this.#driver.run(`ATTACH IF NOT EXISTS ':memory:' AS ${SCRATCH} (READ_WRITE)`);
    this.#readOnly = mode === "r";
  }
  async close(): Promise<void> {
    this.#driver.close();
    this.#tables.clear();
  }

  async #describe(table: string): Promise<Array<[string, string]> | null> {
    if (this.#tables.has(table)) return this.#tables.get(table)!;
    const columns = await this.#driver.describe(table);
    // Absent tables are not cached: another connection of an injected instance may create them.
    if (columns) this.#tables.set(table, columns);
    return columns;
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

  async ensureTable(table: string, schema: TableSchema): Promise<void> {
    const existing = await this.#describe(table);
    if (!existing) {
      const cols = Object.entries(schema).map(([n, t]) => `${q(n)} ${duckdbDialect.typeName(t)}`);
      await this.#driver.run(`CREATE TABLE IF NOT EXISTS ${q(table)} (${cols.join(", ")})`);
      this.#tables.delete(table);
      return;
    }
    const have = new Set(existing.map(([n]) => n));
    for (const [n, t] of Object.entries(schema))
      if (!have.has(n)) {
        await this.#driver.run(`ALTER TABLE ${q(table)} ADD COLUMN ${q(n)} ${duckdbDialect.typeName(t)}`);
        this.#tables.delete(table);
      }
  }

  async append(
    table: string,
    _schema: TableSchema,
    rows: readonly Row[],
    options: AppendOptions = {},
  ): Promise<number> {
    const columns = await this.#describe(table);
    if (!columns) throw new TableNotFoundError(`Table "${table}" does not exist`, { table });
    const key = options.idempotencyKey;
    if (key !== undefined)
      await this.#driver.run(
        `CREATE TABLE IF NOT EXISTS ${IDEMPOTENCY_TABLE} (idempotency_key VARCHAR PRIMARY KEY, table_name VARCHAR, row_count BIGINT, written_at TIMESTAMPTZ)`,
      );
    return this.#driver.append(q(table), columns, rows, SCRATCH, async (c) => {
      if (key === undefined) return true;
      const seen = await c.runAndReadAll(
        `SELECT 1 FROM ${IDEMPOTENCY_TABLE} WHERE idempotency_key = ${s(key)}`,
      );
      if (seen.currentRowCount > 0) return false;
      await c.run(`INSERT INTO ${IDEMPOTENCY_TABLE} VALUES (${s(key)}, ${s(table)}, ${rows.length}, now())`);
      return true;
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
    this.#tables.delete(table);
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
        upstreams.push({ relation, columns: await this.#loadScratch(relation, u.inline), raw: false });
      } else {
        const columns = await this.tableColumns(u.read.table);
        if (!columns)
          throw new TableNotFoundError(`Table "${u.read.table}" of feature "${u.feature}" does not exist`, {
            feature: u.feature,
            table: u.read.table,
          });
        upstreams.push({ relation: q(u.read.table), columns, raw: true });
      }
    }
    return { upstreams, current };
  }

  /** Loads JS rows into a scratch table (samples, fallback upstreams); returns its columns. */
  async #loadScratch(relation: string, rows: readonly Row[]): Promise<string[]> {
    const types: Record<string, string> = {};
    for (const r of rows)
      for (const [k, v] of Object.entries(r))
        if (!(k in types) && v !== null && v !== undefined)
          types[k] = duckdbDialect.typeName(k.endsWith("_by_field") ? "map" : inferType(v));
    const cols = Object.entries(types);
    if (cols.length === 0) cols.push(["__empty", "VARCHAR"]);
    await this.#driver.run(
      `CREATE OR REPLACE TABLE ${relation} (${cols.map(([n, t]) => `${q(n)} ${t}`).join(", ")})`,
    );
    // DESCRIBE spells TIMESTAMPTZ out; the append path keys its fast conversions on that spelling.
    const described: Array<[string, string]> = cols.map(([n, t]) => [
      n,
      t === "TIMESTAMPTZ" ? "TIMESTAMP WITH TIME ZONE" : t,
    ]);
    await this.#driver.append(relation, described, rows, SCRATCH);
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
        const staged = this.#stageTable(stageId);
        const orphans = this.#stageTable(`${stageId}__orphans`);
        const order = diffColumns.map(q).join(", ");
        const dataVersions = compiled.dataVersionIsProvenance
          ? `, ${q("metaxy_provenance_by_field")} AS ${q("metaxy_data_version_by_field")}, ${q("metaxy_provenance")} AS ${q("metaxy_data_version")}`
          : "";
        await driver.run(
          `CREATE OR REPLACE TABLE ${staged} AS SELECT ${STATUS}, ${compiled.expectedSelect}${dataVersions}, row_number() OVER (ORDER BY ${STATUS} = 'stale', ${order}) - 1 AS __batch_row FROM ${table} WHERE ${STATUS} <> 'orphaned'`,
        );
        await driver.run(`CREATE OR REPLACE TABLE ${orphans} AS ${compiled.orphansSql(table)}`);
        return this.openStage(stageId);
      },
      dispose: async () => {
        await driver.run(`DROP TABLE IF EXISTS ${table}`);
      },
    };
  }

  /** Stages persist in the database file; a read-only store keeps them in memory. */
  #stageTable(stageId: string): string {
    const name = q(STAGE_PREFIX + stageId.replace(/[^A-Za-z0-9_]/g, "_"));
    return this.#readOnly ? `${SCRATCH}.${name}` : name;
  }

  async openStage(stageId: string): Promise<StagedIncrementSource> {
    const staged = this.#stageTable(stageId);
    const orphans = this.#stageTable(`${stageId}__orphans`);
    const describe = (t: string) =>
      this.#driver.describe(t.split(".").pop()!.replaceAll('"', ""), this.#readOnly ? SCRATCH : undefined);
    const columns = await describe(staged);
    if (!columns || !(await describe(orphans)))
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
  const counts = { new: 0, stale: 0, orphaned: 0 };
  for (const r of rows) counts[r.s as IncrementKind] = Number(r.n);
  return counts;
}
