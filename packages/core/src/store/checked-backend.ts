import { EngineError, type MetaxyErrorDetails } from "../errors.js";
import type { FeatureGraph } from "../graph/feature-graph.js";
import type { Expr } from "../plan/expression.js";
import type { ReadQuery } from "../plan/read-query.js";
import type { ResolveUpdatePlan, Row } from "../plan/resolve-update-plan.js";
import type {
  AccessMode,
  Backend,
  BackendCapabilities,
  IncrementSource,
  StagedIncrementSource,
  TableSchema,
  TableWrite,
  TombstoneValues,
} from "./backend.js";
import { checkDeleteCondition, checkPlan, checkReadQuery } from "./query-checks.js";
import { EVENTS_KEY, FEATURE_VERSIONS_KEY } from "./system-tables.js";

const SYSTEM_TABLES = new Map([FEATURE_VERSIONS_KEY, EVENTS_KEY].map((k) => [k.tableName, k.toString()]));

/**
 * The backend as a store sees it: every read, delete and resolve-update plan is checked against
 * the stored schemas first (unknown columns, mistyped filter values, reserved names), and every
 * error the engine still raises reaches the caller as an `EngineError` naming the feature, never
 * raw. Any backend gets this; none has to repeat it.
 */
export function checkedBackend(backend: Backend, graph: FeatureGraph): Backend {
  return new CheckedBackend(backend instanceof CheckedBackend ? backend.inner : backend, graph);
}

class CheckedBackend implements Backend {
  readonly #inner: Backend;
  readonly #graph: FeatureGraph;

  /** Present when the engine supports incremental resolves. */
  readonly tableMarks?: Backend["tableMarks"];
  /** Present when the engine estimates costs (BigQuery's dry runs). */
  readonly estimateResolveCost?: Backend["estimateResolveCost"];

  constructor(inner: Backend, graph: FeatureGraph) {
    this.#inner = inner;
    this.#graph = graph;
    const marks = inner.tableMarks?.bind(inner);
    if (marks)
      this.tableMarks = (requests) =>
        this.#run({}, "counting rows for a resolve checkpoint", () => marks(requests));
    const estimate = inner.estimateResolveCost?.bind(inner);
    if (estimate)
      this.estimateResolveCost = (plan) =>
        this.#run({ feature: plan.feature }, `estimating the cost of resolving "${plan.feature}"`, () =>
          estimate(plan),
        );
  }

  /** The backend this one checks (a store on `store.backend` checks against its own graph). */
  get inner(): Backend {
    return this.#inner;
  }

  get specificationVersion(): Backend["specificationVersion"] {
    return this.#inner.specificationVersion;
  }
  get kind(): string {
    return this.#inner.kind;
  }
  get capabilities(): BackendCapabilities {
    return this.#inner.capabilities;
  }
  display(): string {
    return this.#inner.display();
  }

  open(mode: AccessMode): Promise<void> {
    return this.#run({}, `opening ${this.display()}`, () => this.#inner.open(mode));
  }
  close(): Promise<void> {
    return this.#run({}, `closing ${this.display()}`, () => this.#inner.close());
  }

  tableExists(table: string): Promise<boolean> {
    return this.#run(this.#of(table), "looking up the table of", () => this.#inner.tableExists(table));
  }
  listTables(): Promise<string[]> {
    return this.#run({}, "listing tables", () => this.#inner.listTables());
  }
  tableColumns(table: string): Promise<string[] | null> {
    return this.#run(this.#of(table), "reading the columns of", () => this.#inner.tableColumns(table));
  }
  tableSchema(table: string): Promise<TableSchema | null> {
    return this.#run(this.#of(table), "reading the schema of", () => this.#inner.tableSchema(table));
  }

  write(writes: readonly TableWrite[]): Promise<number[]> {
    const features = writes.map((w) => w.feature);
    const details =
      features.length === 1 ? { feature: features[0] } : { feature: features.join(", "), features };
    return this.#run(details, "writing", () => this.#inner.write(writes));
  }

  appendTombstones(query: ReadQuery, values: TombstoneValues): Promise<number> {
    return this.#run(this.#of(query.table), "deleting rows of", async () => {
      await this.#checkRead(query);
      return this.#inner.appendTombstones(query, values);
    });
  }

  async *read(query: ReadQuery, batchSize: number): AsyncIterable<Row[]> {
    const details = this.#of(query.table);
    await this.#run(details, "reading", () => this.#checkRead(query));
    yield* this.#stream(details, "reading", () => this.#inner.read(query, batchSize));
  }

  count(query: ReadQuery): Promise<number> {
    return this.#run(this.#of(query.table), "counting rows of", async () => {
      await this.#checkRead(query);
      return this.#inner.count(query);
    });
  }

  deleteRows(table: string, where: Expr | null): Promise<number> {
    const details = this.#of(table);
    return this.#run(details, "deleting rows of", async () => {
      const schema = where && (await this.#inner.tableSchema(table));
      if (where && schema) checkDeleteCondition(details.feature ?? table, where, schema);
      return this.#inner.deleteRows(table, where);
    });
  }

  dropTable(table: string): Promise<void> {
    return this.#run(this.#of(table), "dropping the table of", () => this.#inner.dropTable(table));
  }

  resolveUpdate(plan: ResolveUpdatePlan): Promise<IncrementSource> {
    const details = { feature: plan.feature };
    return this.#run(details, "resolving", async () => {
      const current = await this.#inner.tableSchema(plan.current.table);
      const upstreams =
        plan.expected.kind === "upstreams"
          ? await Promise.all(
              plan.expected.upstreams.map((u) => (u.inline ? null : this.#inner.tableSchema(u.read.table))),
            )
          : [];
      checkPlan(plan, current, upstreams);
      return this.#increment(await this.#inner.resolveUpdate(plan), details);
    });
  }

  openStage(stageId: string): Promise<StagedIncrementSource> {
    return this.#run({ stageId }, `opening stage "${stageId}" of`, async () =>
      this.#staged(await this.#inner.openStage(stageId)),
    );
  }

  #increment(source: IncrementSource, details: MetaxyErrorDetails): IncrementSource {
    return {
      counts: () => this.#run(details, "counting the increment of", () => source.counts()),
      rows: (kind, batchSize) =>
        this.#stream(details, `reading ${kind} rows of`, () => source.rows(kind, batchSize)),
      ...(source.keys
        ? {
            keys: (batchSize: number) =>
              this.#stream(details, "reading the keys of", () => source.keys!(batchSize)),
          }
        : {}),
      progress: () => this.#run(details, "reading the progress of", () => source.progress()),
      stage: (stageId) =>
        this.#run({ ...details, stageId }, "staging", async () => this.#staged(await source.stage(stageId))),
      dispose: () => this.#run(details, "disposing of the increment of", () => source.dispose()),
    };
  }

  #staged(source: StagedIncrementSource): StagedIncrementSource {
    const details = { stageId: source.stageId };
    const what = `stage "${source.stageId}" of`;
    return {
      stageId: source.stageId,
      counts: () => this.#run(details, `counting ${what}`, () => source.counts()),
      page: (offset, limit) => this.#run(details, `reading ${what}`, () => source.page(offset, limit)),
      orphans: (batchSize) =>
        this.#stream(details, `reading orphans of ${what}`, () => source.orphans(batchSize)),
      drop: () => this.#run(details, `dropping ${what}`, () => source.drop()),
    };
  }

  async #checkRead(query: ReadQuery): Promise<void> {
    if (query.filters.length === 0 && !query.columns && !query.latestOnly) return;
    const schema = await this.#inner.tableSchema(query.table);
    if (schema) checkReadQuery(this.#of(query.table).feature ?? query.table, query, schema);
  }

  /** Details naming the feature stored in `table` (the table itself when no feature is). */
  #of(table: string): MetaxyErrorDetails {
    const feature = this.#graph.featureOfTable(table)?.key.toString() ?? SYSTEM_TABLES.get(table);
    return feature === undefined ? { table } : { feature };
  }

  async #run<T>(details: MetaxyErrorDetails, action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw EngineError.wrap(e, { ...details }, this.#context(details, action));
    }
  }

  async *#stream<T>(
    details: MetaxyErrorDetails,
    action: string,
    make: () => AsyncIterable<T>,
  ): AsyncIterable<T> {
    try {
      yield* make();
    } catch (e) {
      throw EngineError.wrap(e, { ...details }, this.#context(details, action));
    }
  }

  #context(details: MetaxyErrorDetails, action: string): string {
    const subject = details.feature ?? details.table;
    return `${this.kind} failed ${action}${subject === undefined ? "" : ` "${subject}"`}`;
  }
}
