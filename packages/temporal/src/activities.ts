import { createHash } from "node:crypto";
import {
  and,
  eq,
  type Expr,
  type FeatureDefinition,
  IdempotencyConflictError,
  isIn,
  type Literal,
  or,
  type MetadataStore,
  type ResolveUpdateOptions,
  type Row,
  type StagedIncrement,
  ValidationError,
} from "@metaxy/core";
import { CancelledFailure, Context } from "@temporalio/activity";
import type {
  BatchResult,
  OrphanPolicy,
  OrphansResult,
  ProcessBatchInput,
  RecordFailedBatchInput,
  StageIncrementInput,
  StageRef,
} from "./types.js";

/** What a compute function is told about the batch it runs on. */
export interface ComputeContext {
  feature: string;
  /** The feature's definition (id columns, schema), e.g. to check rows computed elsewhere. */
  definition: FeatureDefinition;
  stageId: string;
  batchIndex: number;
  /** 1 on the first try. */
  attempt: number;
  workflowId: string;
  /**
   * The batch's write key, `<workflowId>/<feature>/<stage>/<batch>`: the same on every attempt,
   * e.g. to find work an earlier attempt started elsewhere.
   */
  idempotencyKey: string;
  /** Aborted when Temporal delivers a cancellation: pass it to model calls that take one. */
  signal: AbortSignal;
  /** Extra heartbeat (one is sent on a timer anyway), e.g. with progress details. */
  heartbeat(details?: unknown): void;
}

/**
 * Computes one batch: one result per increment row, in order. A result is the feature's row
 * without provenance (the activity copies it from the increment); for an expansion (1:N) feature,
 * the array of the row's children.
 */
export type ComputeFn = (rows: Row[], ctx: ComputeContext) => Promise<Array<Row | Row[]>>;

export interface MetaxyActivityDeps {
  /** The worker's store: every activity of the worker shares it. */
  store: MetadataStore;
  /** Compute per feature key (e.g. `"video/transcript"`). Root features need no compute. */
  compute: Readonly<Record<string, ComputeFn>>;
  /**
   * Expected rows of root features (each with `metaxy_provenance_by_field`), loaded inside the
   * activity so that they never travel through workflow history.
   */
  samples?: Readonly<Record<string, () => Promise<readonly Row[]> | readonly Row[]>>;
  /** How often a running batch heartbeats. Default 5 s. */
  heartbeatIntervalMs?: number;
}

/** The activity functions; register them on a worker (or let `createMetaxyWorker` do it). */
export type MetaxyActivities = ReturnType<typeof createMetaxyActivities>;

/**
 * Activities bound to a store and compute functions (Temporal's dependency-injection pattern).
 * They exchange references (stage ids, batch numbers, counts) with the workflow, never rows.
 */
export function createMetaxyActivities(deps: MetaxyActivityDeps) {
  const { store } = deps;
  const heartbeatEvery = deps.heartbeatIntervalMs ?? 5_000;

  const featureOf = (key: string): FeatureDefinition => store.graph.get(key);
  // A stage never changes once staged: its handle is opened once per worker, not once per batch.
  const stages = new Map<string, Promise<StagedIncrement>>();
  const openStage = (stageId: string): Promise<StagedIncrement> => {
    let staged = stages.get(stageId);
    if (!staged) {
      staged = store.openStagedIncrement(stageId);
      staged.catch(() => stages.delete(stageId));
      stages.set(stageId, staged);
    }
    return staged;
  };

  return {
    /** The features to materialise in topological waves: a wave depends only on earlier ones. */
    async planWaves(input: { features?: string[] }): Promise<string[][]> {
      const graph = store.graph;
      const targets = input.features ?? graph.keys.map(String);
      const wanted = new Set<string>();
      for (const t of targets) {
        wanted.add(String(graph.get(t).key));
        for (const u of graph.upstreamOf(t)) wanted.add(String(u));
      }
      const depth = new Map<string, number>();
      for (const key of graph.topologicalSort([...wanted]).map(String)) {
        const parents = graph.dependenciesOf(key).map(String);
        depth.set(key, Math.max(-1, ...parents.map((p: string) => depth.get(p) ?? -1)) + 1);
      }
      const waves: string[][] = [];
      for (const [key, d] of depth) (waves[d] ??= []).push(key);
      return waves;
    },

    /** Resolves the feature and stages its increment; returns counts and the batch count. */
    async stageIncrement(input: StageIncrementInput): Promise<StageRef> {
      const feature = featureOf(input.feature);
      const key = String(feature.key);
      const workflowId = workflowIdOf(Context.current());
      const samples = deps.samples?.[key];
      const options: ResolveUpdateOptions = {
        ...input.resolve,
        ...(samples ? { samples: await samples() } : {}),
      };
      await using increment = await store.resolveUpdate(feature, options);
      const counts = await increment.counts();
      const staged = await increment.stage(stageIdFor(workflowId, key));
      stages.delete(staged.stageId); // a re-run of the same workflow id re-stages under the same id
      return {
        feature: key,
        stageId: staged.stageId,
        batchSize: input.batchSize,
        batchCount: await staged.batchCount(input.batchSize),
        new: counts.new,
        stale: counts.stale,
        orphaned: counts.orphaned,
        failed: counts.failed,
      };
    },

    /**
     * Computes batch N of a staged increment and writes it under the key
     * `<workflowId>/<feature>/<stage>/<batch>`: a retry adds no second copy.
     */
    async processBatch({ stage, batchIndex }: ProcessBatchInput): Promise<BatchResult> {
      const ctx = Context.current();
      const workflowId = workflowIdOf(ctx);
      const feature = featureOf(stage.feature);
      const compute = deps.compute[stage.feature];
      if (!compute)
        throw new ValidationError(`No compute function for feature "${stage.feature}"`, {
          feature: stage.feature,
        });
      const staged = await openStage(stage.stageId);
      const rows = await staged.batch(batchIndex, stage.batchSize);
      const key = `${workflowId}/${stage.feature}/${stage.stageId}/${batchIndex}`;
      const timer = setInterval(() => ctx.heartbeat({ batchIndex }), heartbeatEvery);
      let results: Array<Row | Row[]>;
      try {
        ctx.heartbeat({ batchIndex });
        results = await compute(rows, {
          feature: stage.feature,
          definition: feature,
          stageId: stage.stageId,
          batchIndex,
          attempt: ctx.info.attempt,
          workflowId,
          idempotencyKey: key,
          signal: ctx.cancellationSignal,
          heartbeat: (details) => ctx.heartbeat(details ?? { batchIndex }),
        });
      } finally {
        clearInterval(timer);
      }
      if (results.length !== rows.length)
        throw new ValidationError(
          `compute for "${stage.feature}" returned ${results.length} results for ${rows.length} rows (batch ${batchIndex})`,
          { feature: stage.feature, batchIndex, rows: rows.length, results: results.length },
        );
      const out = results.flatMap((r, i) =>
        (Array.isArray(r) ? r : [r]).map((row) => ({
          ...row,
          metaxy_provenance_by_field: rows[i].metaxy_provenance_by_field,
        })),
      );
      // A cancellation delivered while computing: nothing of this batch is written.
      if (ctx.cancellationSignal.aborted) throw new CancelledFailure("batch cancelled before its write");
      try {
        await store.write(feature, out, { idempotencyKey: key });
        return { batchIndex, processed: rows.length, written: out.length, alreadyCommitted: false };
      } catch (e) {
        // An earlier attempt committed this batch and then lost its reply; a model that is not
        // deterministic computed other values this time. The committed copy stands.
        if (IdempotencyConflictError.isInstance(e))
          return { batchIndex, processed: rows.length, written: 0, alreadyCommitted: true };
        throw e;
      }
    },

    /** Puts the records of a batch that failed after its retries into the failed-records table. */
    async recordFailedBatch(input: RecordFailedBatchInput): Promise<number> {
      const { stage, batchIndex } = input;
      const workflowId = workflowIdOf(Context.current());
      const staged = await openStage(stage.stageId);
      const rows = await staged.batch(batchIndex, stage.batchSize);
      await store.recordFailures(featureOf(stage.feature), rows, {
        error: input.error,
        attempts: input.attempts,
        runId: workflowId,
      });
      return rows.length;
    },

    /** Keeps, soft-deletes or hard-deletes the stored rows that no longer have an upstream. */
    async handleOrphans(input: { stage: StageRef; policy: OrphanPolicy }): Promise<OrphansResult> {
      const { stage, policy } = input;
      if (policy === "keep" || stage.orphaned === 0) return { orphaned: stage.orphaned, deleted: 0 };
      const feature = featureOf(stage.feature);
      const staged = await openStage(stage.stageId);
      let deleted = 0;
      for await (const orphans of staged.orphans({ batchSize: 500 })) {
        Context.current().heartbeat();
        deleted += await store.delete(feature, sameIds(feature.spec.idColumns, orphans), {
          soft: policy === "soft-delete",
        });
      }
      return { orphaned: stage.orphaned, deleted };
    },

    /** Drops the staged rows once the workflow is done with them. */
    async dropStage(input: { stageId: string }): Promise<void> {
      const staged = await openStage(input.stageId).catch(() => null);
      stages.delete(input.stageId);
      await staged?.drop();
    },
  };
}

function workflowIdOf(ctx: Context): string {
  const id = ctx.info.workflowExecution?.workflowId;
  if (!id) throw new ValidationError("Metaxy activities run inside a workflow");
  return id;
}

/** A predicate matching exactly `rows` by their id columns. */
function sameIds(ids: readonly string[], rows: readonly Row[]): Expr {
  if (ids.length === 1)
    return isIn(
      ids[0],
      rows.map((r) => r[ids[0]] as Literal),
    );
  return or(...rows.map((r) => and(...ids.map((c) => eq(c, r[c] as Literal)))));
}

/** A stage id per (workflow, feature): stable across retries and continue-as-new, valid in every engine. */
export function stageIdFor(workflowId: string, feature: string): string {
  return `t${createHash("sha256").update(`${workflowId}\0${feature}`).digest("hex").slice(0, 24)}`;
}
