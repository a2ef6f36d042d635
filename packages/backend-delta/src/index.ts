export { delta, type DeltaBackendOptions } from "./delta-backend.js";
export {
  DeltaCommitConflictError,
  DeltaLogError,
  DeltaProtocolError,
  type DeltaErrorCode,
} from "./delta-errors.js";
export {
  type Action,
  type AddFile,
  type CheckpointIO,
  type CommitOptions,
  type CommitResult,
  DeltaLog,
  type Metadata,
  type Protocol,
  type RemoveFile,
  Snapshot,
  type Txn,
  putIfAbsent,
} from "./delta-log.js";
export { type DeltaLayout, featureDir } from "./table-dirs.js";
