// Inputs and results that cross Temporal's boundary. They are recorded in workflow history, so
// they carry references (stage ids, batch numbers, counts), never rows. Workflow code imports
// this file for types only.

/** Resolve options that can travel through history: filters as strings, no samples. */
export interface SerializableResolveOptions {
  filters?: Record<string, string | string[]>;
  globalFilters?: string | string[];
  targetFilters?: string | string[];
  stalenessPredicates?: string | string[];
  /** Bring back records that failed at their current provenance. */
  retryFailed?: boolean;
}

export type OrphanPolicy = "keep" | "soft-delete" | "hard-delete";

export interface StageIncrementInput {
  feature: string;
  batchSize: number;
  resolve?: SerializableResolveOptions;
}

/** A staged increment: what the workflow needs to fan it out. */
export interface StageRef {
  feature: string;
  stageId: string;
  batchSize: number;
  batchCount: number;
  new: number;
  stale: number;
  orphaned: number;
  /** Records left out because they failed at their current provenance. */
  failed: number;
}

export interface ProcessBatchInput {
  stage: StageRef;
  batchIndex: number;
}

export interface BatchResult {
  batchIndex: number;
  /** Increment rows computed. */
  processed: number;
  /** Rows written (an expansion writes several per increment row). */
  written: number;
  /** True when an earlier attempt had already committed this batch. */
  alreadyCommitted: boolean;
}

export interface RecordFailedBatchInput {
  stage: StageRef;
  batchIndex: number;
  error: string;
  attempts: number;
}

export interface OrphansResult {
  orphaned: number;
  deleted: number;
}

/** Per-feature figures of one materialisation. */
export interface FeatureRunSummary {
  feature: string;
  skipped: boolean;
  new: number;
  stale: number;
  orphaned: number;
  /** Records left out of this run because they had failed before at the same provenance. */
  previouslyFailed: number;
  batches: number;
  processed: number;
  written: number;
  /** Records whose batch failed after its retries in this run (now in the failed-records table). */
  failed: number;
  failedBatches: number;
  /** Runs of this workflow (1 + continue-as-new count). */
  runs: number;
}

export interface Progress {
  feature: string;
  totalBatches: number;
  doneBatches: number;
  failedBatches: number;
  processed: number;
  failed: number;
}

export interface MaterializeFeatureInput {
  feature: string;
  /** Rows per batch. Default 1000. */
  batchSize?: number;
  /** Batches in flight at once. Default 8. */
  window?: number;
  resolve?: SerializableResolveOptions;
  orphans?: OrphanPolicy;
  /** Attempts per batch before its records go to the failed table. Default 3. */
  maxAttempts?: number;
  /** Start-to-close timeout of one batch, e.g. "10 minutes". Default "30 minutes". */
  batchTimeout?: string;
  /** Heartbeat timeout of one batch. Default "30 seconds". */
  heartbeatTimeout?: string;
  /** Batches one run completes before it continues as new. Default 500. */
  batchesPerRun?: number;
  /** Carried across continue-as-new; not for callers. */
  carry?: MaterializeFeatureCarry;
}

export interface MaterializeFeatureCarry {
  stage: StageRef;
  nextBatch: number;
  processed: number;
  written: number;
  failed: number;
  failedBatches: number;
  runs: number;
}

export interface MaterializeGraphInput {
  /** Features to bring up to date, with their upstreams. Default: every feature of the graph. */
  features?: string[];
  /** Options applied to every feature; `perFeature` overrides them. */
  defaults?: Omit<MaterializeFeatureInput, "feature" | "carry">;
  perFeature?: Record<string, Omit<MaterializeFeatureInput, "feature" | "carry">>;
}

export interface GraphRunSummary {
  waves: string[][];
  features: FeatureRunSummary[];
}
