export {
  type ComputeContext,
  type ComputeFn,
  createMetaxyActivities,
  type MetaxyActivities,
  type MetaxyActivityDeps,
  stageIdFor,
} from "./activities.js";
export { getProgress, startGraphMaterialization, startMaterialization, type StartOptions } from "./client.js";
export * from "./types.js";
export {
  bundleMetaxyWorkflows,
  createMetaxyWorker,
  type MetaxyWorkerOptions,
  workflowsPath,
} from "./worker.js";
