// Workflow code: deterministic, bundled by the worker. It imports only @temporalio/workflow and
// types, and passes references (stage ids, batch numbers), never rows.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  type ChildWorkflowHandle,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from "@temporalio/workflow";
import type { MetaxyActivities } from "../activities.js";
import type {
  FeatureRunSummary,
  GraphRunSummary,
  MaterializeFeatureCarry,
  MaterializeFeatureInput,
  MaterializeGraphInput,
  Progress,
  StageRef,
} from "../types.js";

export type * from "../types.js";

/** Query a running `materializeFeature` for done / total / failed batches. */
export const progressQuery = defineQuery<Progress>("metaxy.progress");

const control = proxyActivities<MetaxyActivities>({
  startToCloseTimeout: "10 minutes",
  heartbeatTimeout: "1 minute",
  retry: { maximumAttempts: 5 },
});

/**
 * Brings one feature up to date: resolves and stages its increment, then computes the new and
 * stale records batch by batch with at most `window` batches in flight, continuing as new before
 * history grows large. A batch that still fails after its retries does not fail the run: its
 * records go to the failed-records table and the run reports them.
 */
export async function materializeFeature(input: MaterializeFeatureInput): Promise<FeatureRunSummary> {
  const batchSize = input.batchSize ?? 1000;
  const window = Math.max(1, input.window ?? 8);
  const batchesPerRun = Math.max(1, input.batchesPerRun ?? 500);
  const maxAttempts = input.maxAttempts ?? 3;

  // Registered before the first await, so a query never finds the run without its handler.
  let carry: MaterializeFeatureCarry | undefined = input.carry;
  const inFlight = new Map<number, Promise<void>>();
  setHandler(progressQuery, () => ({
    feature: input.feature,
    totalBatches: carry?.stage.batchCount ?? 0,
    doneBatches: carry ? carry.nextBatch - inFlight.size : 0,
    failedBatches: carry?.failedBatches ?? 0,
    processed: carry?.processed ?? 0,
    failed: carry?.failed ?? 0,
  }));
  carry ??= {
    stage: await control.stageIncrement({ feature: input.feature, batchSize, resolve: input.resolve }),
    nextBatch: 0,
    processed: 0,
    written: 0,
    failed: 0,
    failedBatches: 0,
    runs: 0,
  };
  carry.runs += 1;
  const { stage } = carry;
  const state = carry;

  const batches = proxyActivities<MetaxyActivities>({
    startToCloseTimeout: input.batchTimeout ?? "30 minutes",
    heartbeatTimeout: input.heartbeatTimeout ?? "30 seconds",
    retry: { maximumAttempts: maxAttempts },
    // Cancelling the run waits until each batch has acknowledged: nothing is written after.
    cancellationType: "WAIT_CANCELLATION_COMPLETED",
  });

  const launch = (batchIndex: number) => {
    const run = batches
      .processBatch({ stage, batchIndex })
      .then((r) => {
        state.processed += r.processed;
        state.written += r.written;
      })
      .catch(async (err) => {
        if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
        // Retries are exhausted: the records are set aside, the run goes on.
        const attempts = maxAttempts;
        state.failed += await control.recordFailedBatch({
          stage,
          batchIndex,
          error: messageOf(err),
          attempts,
        });
        state.failedBatches += 1;
      })
      .finally(() => inFlight.delete(batchIndex));
    inFlight.set(batchIndex, run);
  };

  try {
    let launchedThisRun = 0;
    const mustRoll = () => launchedThisRun >= batchesPerRun || workflowInfo().continueAsNewSuggested;
    while (state.nextBatch < stage.batchCount || inFlight.size > 0) {
      while (inFlight.size < window && state.nextBatch < stage.batchCount && !mustRoll()) {
        launch(state.nextBatch);
        state.nextBatch += 1;
        launchedThisRun += 1;
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight.values());
    }
    // Every launched batch has finished: the next run starts at `nextBatch` with nothing lost.
    if (state.nextBatch < stage.batchCount)
      return await continueAsNew<typeof materializeFeature>({ ...input, carry: state });
  } catch (err) {
    if (isCancellation(err))
      await CancellationScope.nonCancellable(async () => {
        await Promise.allSettled(inFlight.values());
        await control.dropStage({ stageId: stage.stageId });
      });
    throw err;
  }

  const orphans = await control.handleOrphans({ stage, policy: input.orphans ?? "soft-delete" });
  await control.dropStage({ stageId: stage.stageId });
  return summary(stage, state, orphans.orphaned);
}

/**
 * Brings a graph up to date in topological waves: the features of a wave run in parallel as
 * child workflows once the waves before them are done. A feature with nothing to do costs one
 * resolve and no child.
 */
export async function materializeGraph(input: MaterializeGraphInput = {}): Promise<GraphRunSummary> {
  const waves = await control.planWaves({ features: input.features });
  const { workflowId } = workflowInfo();
  const features: FeatureRunSummary[] = [];
  for (const wave of waves) {
    const children: Array<Promise<FeatureRunSummary>> = [];
    for (const feature of wave) {
      const options = { ...input.defaults, ...input.perFeature?.[feature] };
      const batchSize = options.batchSize ?? 1000;
      const stage = await control.stageIncrement({ feature, batchSize, resolve: options.resolve });
      if (stage.batchCount === 0 && stage.orphaned === 0) {
        await control.dropStage({ stageId: stage.stageId });
        features.push({ ...summary(stage, emptyCarry(stage), 0), skipped: true, runs: 0 });
        continue;
      }
      const carry = { ...emptyCarry(stage), runs: 0 };
      const child: ChildWorkflowHandle<typeof materializeFeature> = await startChild(materializeFeature, {
        workflowId: `${workflowId}/${feature}`,
        args: [{ ...options, feature, carry }],
      });
      children.push(child.result());
    }
    features.push(...(await Promise.all(children)));
  }
  return { waves, features };
}

function emptyCarry(stage: StageRef): MaterializeFeatureCarry {
  return { stage, nextBatch: 0, processed: 0, written: 0, failed: 0, failedBatches: 0, runs: 1 };
}

function summary(stage: StageRef, carry: MaterializeFeatureCarry, orphaned: number): FeatureRunSummary {
  return {
    feature: stage.feature,
    skipped: false,
    new: stage.new,
    stale: stage.stale,
    orphaned,
    previouslyFailed: stage.failed,
    batches: stage.batchCount,
    processed: carry.processed,
    written: carry.written,
    failed: carry.failed,
    failedBatches: carry.failedBatches,
    runs: carry.runs,
  };
}

function messageOf(err: ActivityFailure): string {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? "Error"}: ${cause.message}`;
  return cause?.message ?? err.message;
}
