import { InvalidStageIdError, ValidationError } from "../errors.js";
import type { IncrementCounts, IncrementKind } from "../plan/resolve-update-plan.js";
import type { FeatureDefinition } from "../spec/define-feature.js";
import type { IncrementSource, StagedIncrementSource } from "./backend.js";
import type { ResolveMode } from "./resolve-checkpoints.js";
import { type OpenCheck, openOnly, whileOpen } from "./open-guard.js";
import type { FeatureReadRow, IncrementRow, IncrementRowOf } from "./row-types.js";

const ALWAYS_OPEN: OpenCheck = () => true;

export interface BatchOptions {
  /** Rows per batch. Default 1000. */
  batchSize?: number;
}

/**
 * The result of `resolveUpdate`: a handle on rows that stay in the engine. Count them, stream
 * them in batches, or stage them for an orchestrator; `toArray()` only for small results.
 * `F`, the feature, types the rows (see `IncrementRow`); `Extra` the columns of root samples.
 */
export class Increment<F = FeatureDefinition, Extra = unknown> implements AsyncDisposable {
  readonly feature: string;
  /** `"incremental"`: only keys changed since the last checkpoint were evaluated (resolve-checkpoints.ts). */
  readonly mode: ResolveMode;
  /** Why the resolve was full; null when incremental. */
  readonly reason: string | null;
  readonly #source: IncrementSource;
  readonly #isOpen: OpenCheck;
  #counts: IncrementCounts | undefined;

  /** `isOpen` tells whether the store is still open: reading a closed store's increment throws STORE_CLOSED. */
  constructor(
    feature: string,
    source: IncrementSource,
    isOpen: OpenCheck = ALWAYS_OPEN,
    how: { mode: ResolveMode; reason: string | null } = { mode: "full", reason: null },
  ) {
    this.feature = feature;
    this.#source = source;
    this.#isOpen = isOpen;
    this.mode = how.mode;
    this.reason = how.reason;
  }

  async counts(): Promise<IncrementCounts> {
    this.#counts ??= await openOnly(this.#isOpen, `counting "${this.feature}"`, () => this.#source.counts());
    return this.#counts;
  }

  /** Whether anything needs work (new or stale rows, or orphans). */
  async isEmpty(): Promise<boolean> {
    const c = await this.counts();
    return c.new + c.stale + c.orphaned === 0;
  }

  /** Rows to (re)compute: new, then stale. */
  async *toProcess(options: BatchOptions = {}): AsyncGenerator<IncrementRow<F, Extra>[]> {
    yield* this.batches("new", options);
    yield* this.batches("stale", options);
  }

  /** Rows of one kind: new and stale rows to compute, or orphans (stored rows no input has any more). */
  async *batches<K extends IncrementKind>(
    kind: K,
    options: BatchOptions = {},
  ): AsyncGenerator<IncrementRowOf<F, K, Extra>[]> {
    const rows = this.#source.rows(kind, batchSizeOf(options)) as AsyncIterable<
      IncrementRowOf<F, K, Extra>[]
    >;
    for await (const batch of whileOpen(rows, this.#isOpen, `reading ${kind} rows of "${this.feature}"`))
      if (batch.length > 0) yield batch;
  }

  /** Every row in memory. Use for small increments; stream large ones with `toProcess`. */
  async toArray(): Promise<{
    new: IncrementRow<F, Extra>[];
    stale: IncrementRow<F, Extra>[];
    orphaned: FeatureReadRow<F>[];
    failed: IncrementRow<F, Extra>[];
  }> {
    const out = {
      new: [] as IncrementRow<F, Extra>[],
      stale: [] as IncrementRow<F, Extra>[],
      orphaned: [] as FeatureReadRow<F>[],
      failed: [] as IncrementRow<F, Extra>[],
    };
    for (const kind of ["new", "stale", "failed"] as const)
      for await (const b of this.batches(kind, { batchSize: 10_000 })) for (const r of b) out[kind].push(r);
    for await (const b of this.batches("orphaned", { batchSize: 10_000 }))
      for (const r of b) out.orphaned.push(r);
    return out;
  }

  /** Percentage of input ids already materialised (stale counts as done); null without input. */
  async progress(): Promise<number | null> {
    const p = await openOnly(this.#isOpen, `reading progress of "${this.feature}"`, () =>
      this.#source.progress(),
    );
    if (!p || p.total === 0) return null;
    return ((p.total - p.missing) / p.total) * 100;
  }

  /** Materialises the increment under `stageId` so that workers can page through it by batch number. */
  async stage(stageId: string): Promise<StagedIncrement<F, Extra>> {
    assertStageId(stageId);
    const staged = await openOnly(this.#isOpen, `staging "${this.feature}"`, () =>
      this.#source.stage(stageId),
    );
    return new StagedIncrement<F, Extra>(staged, this.#isOpen);
  }

  async dispose(): Promise<void> {
    await this.#source.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** A staged increment: rows to process numbered 0..n-1, fetched by batch number. */
export class StagedIncrement<F = FeatureDefinition, Extra = unknown> {
  readonly #source: StagedIncrementSource;
  readonly #isOpen: OpenCheck;
  constructor(source: StagedIncrementSource, isOpen: OpenCheck = ALWAYS_OPEN) {
    this.#source = source;
    this.#isOpen = isOpen;
  }
  get stageId(): string {
    return this.#source.stageId;
  }
  counts(): Promise<IncrementCounts> {
    return openOnly(this.#isOpen, `counting stage "${this.stageId}"`, () => this.#source.counts());
  }
  async batchCount(batchSize: number): Promise<number> {
    const size = batchSizeOf({ batchSize });
    const c = await this.counts();
    return Math.ceil((c.new + c.stale) / size);
  }
  /** Batch `index` (0-based) of the rows to process. */
  async batch(index: number, batchSize: number): Promise<IncrementRow<F, Extra>[]> {
    batchSizeOf({ batchSize });
    if (!Number.isInteger(index) || index < 0)
      throw new ValidationError(`Batch index must be a non-negative integer, got ${index}`, {
        stageId: this.stageId,
        index,
      });
    return openOnly(
      this.#isOpen,
      `reading batch ${index} of stage "${this.stageId}"`,
      () => this.#source.page(index * batchSize, batchSize) as Promise<IncrementRow<F, Extra>[]>,
    );
  }
  async *orphans(options: BatchOptions = {}): AsyncGenerator<FeatureReadRow<F>[]> {
    const rows = this.#source.orphans(batchSizeOf(options)) as AsyncIterable<FeatureReadRow<F>[]>;
    yield* whileOpen(rows, this.#isOpen, `reading orphans of stage "${this.stageId}"`);
  }
  drop(): Promise<void> {
    return this.#source.drop();
  }
}

/** Longest stage id: backends name tables after stage ids. */
export const MAX_STAGE_ID_LENGTH = 256;

/**
 * A stage id is any non-empty string of at most {@link MAX_STAGE_ID_LENGTH} characters. Ids are
 * compared exactly: `run-1`, `run_1` and `Run-1` are three stages on every backend (a backend
 * naming tables after ids must map them injectively, case included).
 */
export function assertStageId(stageId: unknown): asserts stageId is string {
  if (typeof stageId !== "string" || stageId.length === 0 || stageId.length > MAX_STAGE_ID_LENGTH)
    throw new InvalidStageIdError(
      `A stage id must be a non-empty string of at most ${MAX_STAGE_ID_LENGTH} characters, got ${typeof stageId === "string" ? `${stageId.length} characters` : typeof stageId}`,
      { stageId: typeof stageId === "string" ? stageId.slice(0, MAX_STAGE_ID_LENGTH) : String(stageId) },
    );
}

function batchSizeOf(options: BatchOptions): number {
  const n = options.batchSize ?? 1000;
  if (!Number.isInteger(n) || n <= 0)
    throw new ValidationError(`batchSize must be a positive integer, got ${n}`, { batchSize: n });
  return n;
}
