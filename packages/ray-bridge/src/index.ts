export {
  JOB_STATUSES,
  type JobDetails,
  type JobStatus,
  RayJobsClient,
  type RayJobsClientOptions,
  type RuntimeEnv,
  type SubmitJobRequest,
  TERMINAL,
  type WaitOptions,
} from "./client.js";
export {
  matchResults,
  RUNNER_PATH,
  type RayComputeOptions,
  type RayJobEvent,
  rayCompute,
} from "./compute.js";
export * from "./errors.js";
export { ParquetFiles } from "./parquet.js";
export { submissionBase, submissionIdFor } from "./submission.js";
export { zipDirectory, zipFiles } from "./zip.js";
