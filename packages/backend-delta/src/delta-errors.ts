import { MetaxyError, type MetaxyErrorDetails } from "@metaxy/core";

/** Error codes of the Delta backend's own failures; errors from core keep their own `code`. */
export type DeltaErrorCode = "DELTA_COMMIT_CONFLICT" | "DELTA_UNSUPPORTED_PROTOCOL" | "DELTA_LOG_ERROR";

function defineDeltaError<C extends DeltaErrorCode>(name: string, code: C) {
  const marker = `metaxy.error.${name}`;
  return class extends MetaxyError {
    override readonly code: C = code;
    constructor(message: string, details?: MetaxyErrorDetails, options?: { cause?: unknown }) {
      super(message, details, options);
      this.name = name;
      Object.defineProperty(this, Symbol.for(marker), { value: true });
    }
    static override isInstance<T extends MetaxyError>(
      this: abstract new (
        ...args: any[]
      ) => T,
      value: unknown,
    ): value is T {
      return MetaxyError.hasMarker(value, marker);
    }
  };
}

/** Other writers kept taking the next version: the commit gave up after its attempts. */
export class DeltaCommitConflictError extends defineDeltaError(
  "DeltaCommitConflictError",
  "DELTA_COMMIT_CONFLICT",
) {}
/** The table's protocol needs reader or writer features this backend does not implement. */
export class DeltaProtocolError extends defineDeltaError(
  "DeltaProtocolError",
  "DELTA_UNSUPPORTED_PROTOCOL",
) {}
/** A log file or a table directory is not what the Delta protocol says it should be. */
export class DeltaLogError extends defineDeltaError("DeltaLogError", "DELTA_LOG_ERROR") {}
