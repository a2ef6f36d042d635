import type { Client, WorkflowHandle, WorkflowStartOptions } from "@temporalio/client";
import type {
  FeatureRunSummary,
  GraphRunSummary,
  MaterializeFeatureInput,
  MaterializeGraphInput,
  Progress,
} from "./types.js";

export interface StartOptions extends Omit<WorkflowStartOptions, "args" | "taskQueue" | "workflowId"> {
  taskQueue: string;
  /** Default: `metaxy/<feature>/<timestamp>` or `metaxy/graph/<timestamp>`. */
  workflowId?: string;
}

/** Starts `materializeFeature` for one feature. */
export function startMaterialization(
  client: Client,
  input: MaterializeFeatureInput,
  options: StartOptions,
): Promise<WorkflowHandle<(i: MaterializeFeatureInput) => Promise<FeatureRunSummary>>> {
  return client.workflow.start("materializeFeature", {
    ...options,
    workflowId: options.workflowId ?? `metaxy/${input.feature}/${Date.now()}`,
    args: [input],
  });
}

/** Starts `materializeGraph`: the features (default: all) with their upstreams, in waves. */
export function startGraphMaterialization(
  client: Client,
  input: MaterializeGraphInput,
  options: StartOptions,
): Promise<WorkflowHandle<(i: MaterializeGraphInput) => Promise<GraphRunSummary>>> {
  return client.workflow.start("materializeGraph", {
    ...options,
    workflowId: options.workflowId ?? `metaxy/graph/${Date.now()}`,
    args: [input],
  });
}

/** Done / total / failed batches of a running `materializeFeature`. */
export function getProgress(handle: WorkflowHandle): Promise<Progress> {
  return handle.query<Progress>("metaxy.progress");
}
