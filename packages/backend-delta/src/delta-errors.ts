import { defineError } from "@metaxy/core";

/** Error codes of the Delta backend's own failures; errors from core keep their own `code`. */
export type DeltaErrorCode = "DELTA_COMMIT_CONFLICT" | "DELTA_UNSUPPORTED_PROTOCOL" | "DELTA_LOG_ERROR";

const deltaError = <C extends DeltaErrorCode>(name: string, code: C) => defineError(name, code);

/** Other writers kept taking the next version: the commit gave up after its attempts. */
export class DeltaCommitConflictError extends deltaError(
  "DeltaCommitConflictError",
  "DELTA_COMMIT_CONFLICT",
) {}
/** The table's protocol needs reader or writer features this backend does not implement. */
export class DeltaProtocolError extends deltaError("DeltaProtocolError", "DELTA_UNSUPPORTED_PROTOCOL") {}
/** A log file or a table directory is not what the Delta protocol says it should be. */
export class DeltaLogError extends deltaError("DeltaLogError", "DELTA_LOG_ERROR") {}
