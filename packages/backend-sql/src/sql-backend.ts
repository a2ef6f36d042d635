import {
  type AccessMode,
  type Backend,
  type BackendCapabilities,
  type ColumnType,
  DELETED_AT,
  UPDATED_AT,
  type Expr,
  type IncrementCounts,
  type IncrementKind,
  MetadataStoreError,
  type ResolveUpdatePlan,
  type Row,
  TableNotFoundError,
} from "@metaxy/core";
import {
  BACKEND_SPEC_VERSION,
  type IncrementSource,
  type MarkRequest,
  type ReadQuery,
  type ResolveCost,
  type TableMark,
  type StagedIncrementSource,
  type TableSchema,
  type TableWrite,
  type TombstoneValues,
  compileExpr,
  inferType,
} from "@metaxy/core/backend";
import type { SqlDialect } from "./dialect.js";
import type { SqlDriver, SqlParams } from "./driver.js";
import { compileRead } from "./read-compiler.js";
import {
  CURRENT_PREFIX,
  type CompiledResolve,
  type ResolveSources,
  STATUS,
  compileResolveUpdate,
} from "./resolve-compiler.js";
import { stageTableNames } from "./stage-names.js";

export interface SqlBackendOptions {
  /** Short engine name: "duckdb", "clickhouse". */
  readonly kind: string;
  readonly capabilities: BackendCapabilities;
  /**
   * Whether resolves may be incremental (`tableMarks`, checkpoints). Default true. An engine
   * where reading fewer rows saves nothing and every statement has a fixed latency (BigQuery
   * bills whole columns, each job takes about a second) turns it off: every resolve is full.
   */
  readonly incremental?: boolean;
}

/**
 * A Metaxy backend over any SQL engine: reads, counts, deletes, tombstones, resolve-update,
 * increments and stages are generic SQL of `driver.dialect`; the driver runs statements and owns
 * the engine's write path. A new SQL backend is a dialect and a driver, never a copy of this.
 */
export class SqlBackend implements Backend {
  readonly specificationVersion = BACKEND_SPEC_VERSION;
  readonly kind: string;
  readonly capabilities: BackendCapabilities;
  readonly #driver: SqlDriver;
  readonly #d: SqlDialect;
  #counter = 0;
  #readOnly = false;
  /** Present when the driver can dry-run a statement (BigQuery). */
  readonly estimateResolveCost?: (plan: ResolveUpdatePlan) => Promise<ResolveCost>;
  /** Present unless the backend turned incremental resolves off (`SqlBackendOptions.incremental`). */
  readonly tableMarks?: (requests: readonly MarkRequest[]) => Promise<TableMark[]>;

  constructor(driver: SqlDriver, options: SqlBackendOptions) {
    this.#driver = driver;
    this.#d = driver.dialect;
    this.kind = options.kind;
    this.capabilities = options.capabilities;
    const dryRun = driver.dryRun?.bind(driver);
    if (dryRun) this.estimateResolveCost = (plan) => this.#estimate(plan, dryRun);
    if (options.incremental !== false) this.tableMarks = (requests) => this.#tableMarks(requests);
  }

  display(): string {
    return this.#driver.display();
  }

  async open(mode: AccessMode): Promise<void> {
    await this.#driver.open(mode);
    this.#readOnly = mode === "r";
  }
  close(): Promise<void> {
    return this.#driver.close();
  }

  async tableExists(table: string): Promise<boolean> {
    return (await this.#driver.describe(table)) !== null;
  }
  listTables(): Promise<string[]> {
    return this.#driver.listTables();
  }
  async tableColumns(table: string): Promise<string[] | null> {
    return (await this.#driver.describe(table))?.map(([n]) => n) ?? null;
  }
  async tableSchema(table: string): Promise<TableSchema | null> {
    const columns = await this.#driver.describe(table);
    if (!columns) return null;
    return Object.fromEntries(
      columns.map(([n, t]) => [n, this.#structFields(n, t) ? "map" : this.#driver.logicalType(t)]),
    );
  }

  /** Struct field names of a `*_by_field` column in Python Metaxy's struct layout, else null. */
  #structFields(column: string, engineType: string): string[] | null {
    return column.endsWith("_by_field") ? (this.#driver.structFields?.(engineType) ?? null) : null;
  }

  /**
   * The relation a feature table is read through, and its columns: struct-layout `*_by_field`
   * columns are turned into maps, so every compiler sees one layout. Null when absent.
   */
  async #source(table: string): Promise<{ relation: string; columns: string[] } | null> {
    const described = await this.#driver.describe(table);
    if (!described) return null;
    const d = this.#d;
    const q = d.quoteIdent;
    const columns = described.map(([n]) => n);
    const structs = described.flatMap(([n, t]) => {
      const fields = this.#structFields(n, t);
      return fields ? [{ name: n, fields }] : [];
    });
    // The driver qualifies the name where the engine needs it (BigQuery: `dataset.table`).
    const relation = this.#driver.relation(table, false);
    if (structs.length === 0) return { relation, columns };
    const maps = structs.map(({ name, fields }) => {
      const col = `t.${q(name)}`;
      const map = d.map(
        fields,
        fields.map((f) => d.structGet(col, f)),
      );
      return `CASE WHEN ${col} IS NULL THEN NULL ELSE ${map} END AS ${q(name)}`;
    });
    const rest = d.allExcept(
      "t",
      structs.map(({ name }) => q(name)),
    );
    return { relation: `(SELECT ${rest}, ${maps.join(", ")} FROM ${relation} t)`, columns };
  }

  write(writes: readonly TableWrite[]): Promise<number[]> {
    return this.#driver.write(writes);
  }

  async appendTombstones(query: ReadQuery, values: TombstoneValues): Promise<number> {
    const columns = await this.tableColumns(query.table);
    if (!columns) return 0;
    const q = this.#d.quoteIdent;
    const params: SqlParams = {};
    const select = columns.map((n) =>
      n in values ? `${this.#d.bind((values[n] ?? null) as Date, params)} AS ${q(n)}` : q(n),
    );
    const read = compileRead(
      this.#d,
      { ...query, columns: null },
      this.#driver.relation(query.table, false),
      params,
    );
    return this.#driver.insertSelect(
      query.table,
      columns,
      `SELECT ${select.join(", ")} FROM (${read})`,
      params,
    );
  }

  async *read(query: ReadQuery, batchSize: number): AsyncIterable<Row[]> {
    const source = await this.#source(query.table);
    if (!source) return;
    const params: SqlParams = {};
    const sql = compileRead(this.#d, query, source.relation, params);
    yield* this.#driver.stream(sql, batchSize, params);
  }
  async count(query: ReadQuery): Promise<number> {
    if (!(await this.tableExists(query.table))) return 0;
    const params: SqlParams = {};
    return this.#count(
      `SELECT count(*) AS n FROM (${compileRead(this.#d, query, this.#driver.relation(query.table, false), params)})`,
      params,
    );
  }
  async deleteRows(table: string, where: Expr | null): Promise<number> {
    if (!(await this.tableExists(table))) return 0;
    const params: SqlParams = {};
    const cond = where
      ? compileExpr(where, { quoteIdent: this.#d.quoteIdent, literal: (v) => this.#d.bind(v, params) })
      : null;
    return this.#driver.deleteWhere(table, cond, params);
  }
  async dropTable(table: string): Promise<void> {
    await this.#driver.dropTable(this.#driver.relation(table, false));
    this.#driver.forget(table);
  }

  /** Row counts and high-water marks of effective time, one statement per table. */
  async #tableMarks(requests: readonly MarkRequest[]): Promise<TableMark[]> {
    const q = this.#d.quoteIdent;
    const eff = `coalesce(${q(DELETED_AT)}, ${q(UPDATED_AT)})`;
    const out: TableMark[] = [];
    for (const { table, since } of requests) {
      const source = await this.#source(table);
      if (!source) {
        out.push({ rows: 0, latest: null, since: 0 });
        continue;
      }
      const params: SqlParams = {};
      const after =
        since === null
          ? "count(*)"
          : `sum(CASE WHEN ${eff} > ${this.#d.bind(since, params)} THEN 1 ELSE 0 END)`;
      const [r] = await this.#driver.all(
        `SELECT count(*) AS n, max(${eff}) AS latest, ${after} AS since FROM ${source.relation}`,
        params,
      );
      const latest = r.latest == null ? null : new Date(Math.floor(new Date(r.latest as Date).getTime()));
      out.push({ rows: Number(r.n), latest, since: Number(r.since ?? 0) });
    }
    return out;
  }

  async #count(sql: string, params: SqlParams = {}): Promise<number> {
    return Number((await this.#driver.all(sql, params))[0].n);
  }

  async resolveUpdate(plan: ResolveUpdatePlan): Promise<IncrementSource> {
    const id = ++this.#counter;
    const scratch: string[] = [];
    const params: SqlParams = {};
    const table = this.#driver.relation(`inc_${id}`, true);
    try {
      const sources = await this.#sources(plan, id, scratch);
      const compiled = compileResolveUpdate(this.#d, plan, sources, params);
      await this.#driver.createTableAs(table, compiled.sql, params, true);
      return this.#incrementSource(table, compiled, params, plan.diffColumns);
    } finally {
      for (const t of scratch) await this.#driver.dropTable(t);
    }
  }

  /** The dry run of the statement `resolveUpdate` would run for `plan` (inputs staged as it would). */
  async #estimate(plan: ResolveUpdatePlan, dryRun: NonNullable<SqlDriver["dryRun"]>): Promise<ResolveCost> {
    const id = ++this.#counter;
    const scratch: string[] = [];
    const params: SqlParams = {};
    try {
      const compiled = compileResolveUpdate(this.#d, plan, await this.#sources(plan, id, scratch), params);
      return await dryRun(compiled.sql, params);
    } finally {
      for (const t of scratch) await this.#driver.dropTable(t);
    }
  }

  /** Relations of every input: feature tables, or scratch tables for samples and fallback rows. */
  async #sources(plan: ResolveUpdatePlan, id: number, scratch: string[]): Promise<ResolveSources> {
    const failures = plan.failures ? this.#driver.relation(plan.failures.table, false) : undefined;
    return { ...(await this.#inputs(plan, id, scratch)), failures };
  }

  async #inputs(plan: ResolveUpdatePlan, id: number, scratch: string[]): Promise<ResolveSources> {
    const current = await this.#source(plan.current.table);
    if (plan.expected.kind === "samples") {
      const relation = this.#driver.relation(`samples_${id}`, true);
      scratch.push(relation);
      const rows = plan.expected.rows;
      const types: Record<string, ColumnType> = {};
      for (const r of rows)
        for (const [k, v] of Object.entries(r))
          if (!(k in types) && v !== null && v !== undefined)
            types[k] = k.endsWith("_by_field") ? "map" : inferType(v);
      await this.#driver.loadScratch(relation, types, [rows]);
      return { upstreams: [], samples: { relation, columns: Object.keys(types) }, current };
    }
    const upstreams = [];
    for (const [i, u] of plan.expected.upstreams.entries()) {
      if (u.inline) {
        // A fallback store's rows: copied into the engine one batch at a time.
        const relation = this.#driver.relation(`upstream_${id}_${i}`, true);
        scratch.push(relation);
        await this.#driver.loadScratch(relation, u.inline.schema, u.inline.batches());
        upstreams.push({ relation, raw: false });
      } else {
        const source = await this.#source(u.read.table);
        if (!source)
          throw new TableNotFoundError(`Table "${u.read.table}" of feature "${u.feature}" does not exist`, {
            feature: u.feature,
            table: u.read.table,
          });
        upstreams.push({ relation: source.relation, raw: true });
      }
    }
    if (!plan.scope?.pending) return { upstreams, current };
    const pending = await this.#source(plan.scope.pending.table);
    if (!pending)
      throw new TableNotFoundError(
        `Pending keys table "${plan.scope.pending.table}" of feature "${plan.feature}" does not exist`,
        {
          feature: plan.feature,
          table: plan.scope.pending.table,
        },
      );
    return { upstreams, current, pending: pending.relation };
  }

  #incrementSource(
    table: string,
    compiled: CompiledResolve,
    params: SqlParams,
    diffColumns: readonly string[],
  ): IncrementSource {
    const driver = this.#driver;
    const q = this.#d.quoteIdent;
    const selectFor = (kind: IncrementKind) =>
      kind === "orphaned"
        ? compiled.orphansSql(table)
        : `SELECT ${compiled.expectedSelect} FROM ${table} WHERE ${STATUS} = '${kind}'`;
    let counts: IncrementCounts | undefined;
    return {
      counts: async () => (counts ??= await countStatuses(driver, table)),
      rows: (kind, batchSize) => {
        // Orphans re-read the target with the plan's own read (and its bound values).
        const rows = driver.stream(selectFor(kind), batchSize, kind === "orphaned" ? params : {});
        return kind === "orphaned" || !compiled.dataVersionIsProvenance ? rows : withDataVersions(rows);
      },
      keys: async function* (batchSize) {
        // Every kind's key: the expected row's, or the stored row's for an orphan (a key has one kind).
        const list = (prefix: string) => diffColumns.map((c) => `${q(prefix + c)} AS ${q(c)}`).join(", ");
        yield* driver.stream(
          `SELECT DISTINCT ${list("")} FROM ${table} WHERE ${STATUS} <> 'orphaned'`,
          batchSize,
        );
        counts ??= await countStatuses(driver, table);
        if (counts.orphaned > 0)
          yield* driver.stream(
            `SELECT DISTINCT ${list(CURRENT_PREFIX)} FROM ${table} WHERE ${STATUS} = 'orphaned'`,
            batchSize,
          );
      },
      progress: async () => {
        if (!compiled.inputIdsSql) return null;
        const total = await this.#count(`SELECT count(*) AS n FROM (${compiled.inputIdsSql})`, params);
        const dc = diffColumns.map(q).join(", ");
        const missing = await this.#count(
          `SELECT count(*) AS n FROM (SELECT DISTINCT ${dc} FROM ${table} WHERE ${STATUS} = 'new')`,
        );
        return { total, missing };
      },
      stage: async (stageId) => {
        // The stage holds finished rows (maps built, orphans fetched): it outlives this process.
        const { staged, orphans, names } = this.#stageTables(stageId);
        // Columns are named in an outer SELECT: standard SQL cannot reuse a SELECT's own aliases.
        const orderBy = diffColumns.map((_, i) => `__order_${i}`);
        const inner = `SELECT ${STATUS}, ${compiled.expectedSelect}, ${diffColumns.map((c, i) => `${q(c)} AS ${orderBy[i]}`).join(", ")} FROM ${table} WHERE ${STATUS} IN ('new', 'stale')`;
        const dataVersions = compiled.dataVersionIsProvenance
          ? `, x.${q("metaxy_provenance_by_field")} AS ${q("metaxy_data_version_by_field")}, x.${q("metaxy_provenance")} AS ${q("metaxy_data_version")}`
          : "";
        await driver.createTableAs(
          staged,
          `SELECT ${this.#d.allExcept("x", orderBy)}${dataVersions}, row_number() OVER (ORDER BY CASE WHEN x.${STATUS} = 'stale' THEN 1 ELSE 0 END, ${orderBy.map((o) => `x.${o}`).join(", ")}) - 1 AS __batch_row FROM (${inner}) x`,
          {},
          this.#readOnly,
        );
        await driver.createTableAs(orphans, compiled.orphansSql(table), params, this.#readOnly);
        for (const n of names) driver.forget(n);
        return this.openStage(stageId);
      },
      dispose: () => driver.dropTable(table),
    };
  }

  /** The two tables of a stage: persistent, or scratch in a read-only store. */
  #stageTables(stageId: string): { staged: string; orphans: string; names: [string, string] } {
    const names = stageTableNames(stageId);
    const [staged, orphans] = names.map((n) => this.#driver.relation(n, this.#readOnly));
    return { staged, orphans, names };
  }

  async openStage(stageId: string): Promise<StagedIncrementSource> {
    const { staged, orphans, names } = this.#stageTables(stageId);
    const driver = this.#driver;
    const q = this.#d.quoteIdent;
    // Another process may have dropped or replaced the stage: never trust a cached layout.
    for (const n of names) driver.forget(n);
    const columns = await driver.describe(names[0], this.#readOnly);
    if (!columns || !(await driver.describe(names[1], this.#readOnly)))
      throw new MetadataStoreError(`No staged increment "${stageId}"`, { stageId });
    const expected = columns
      .map(([n]) => n)
      .filter((n) => n !== STATUS && n !== "__batch_row")
      .map(q)
      .join(", ");
    return {
      stageId,
      counts: async () => {
        const c = await countStatuses(driver, staged);
        return { ...c, orphaned: await this.#count(`SELECT count(*) AS n FROM ${orphans}`) };
      },
      page: (offset, limit) =>
        driver.all(
          `SELECT ${expected} FROM ${staged} WHERE __batch_row >= ${offset} AND __batch_row < ${offset + limit} ORDER BY __batch_row`,
        ),
      orphans: (batchSize) => driver.stream(`SELECT * FROM ${orphans}`, batchSize),
      drop: async () => {
        await driver.dropTable(staged);
        await driver.dropTable(orphans);
        for (const n of names) driver.forget(n);
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

async function countStatuses(driver: SqlDriver, table: string): Promise<IncrementCounts> {
  const rows = await driver.all(`SELECT ${STATUS} AS s, count(*) AS n FROM ${table} GROUP BY ${STATUS}`);
  const counts = { new: 0, stale: 0, orphaned: 0, failed: 0 };
  for (const r of rows) counts[r.s as IncrementKind] = Number(r.n);
  return counts;
}
