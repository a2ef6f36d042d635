import { MetaxyError, TableNotFoundError } from "@metaxy/core";

/** Error codes of the CLI's own failures (SPEC §6); errors from core keep their own `code`. */
export type CliErrorCode =
  | "CONFLICTING_FLAGS"
  | "FEATURES_NOT_FOUND"
  | "GENERIC_ERROR"
  | "INVALID_ARGUMENT"
  | "INVALID_FEATURE_KEY"
  | "MISSING_CONFIRMATION"
  | "MISSING_REQUIRED_FLAG"
  | "NO_FEATURES"
  | "SNAPSHOT_ERROR"
  | "SNAPSHOT_LOAD_FAILED"
  | "OPERATION_FAILED"
  | "NOT_IN_SYNC";

const CLI_ERROR_MARKER = "metaxy.error.CliError";

/**
 * A failure the CLI reports as `Error: <message>` (+ `Hint:`), or `{"error": code, ...}` in JSON.
 * A `MetaxyError`, so callers of the CLI's functions handle one error family.
 */
export class CliError extends MetaxyError {
  override readonly code: CliErrorCode | string;

  constructor(
    code: CliErrorCode | string,
    message: string,
    details: Record<string, unknown> = {},
    readonly hint?: string,
  ) {
    super(message, details);
    this.code = code;
    this.name = "CliError";
    Object.defineProperty(this, Symbol.for(CLI_ERROR_MARKER), { value: true });
  }

  static override isInstance<T extends MetaxyError>(
    this: abstract new (
      ...args: any[]
    ) => T,
    value: unknown,
  ): value is T {
    return MetaxyError.hasMarker(value, CLI_ERROR_MARKER);
  }
}

export interface ErrorPayload {
  code: string;
  message: string;
  hint?: string;
  details: Record<string, unknown>;
}

/** Normalises anything thrown into the payload printed by the CLI. */
export function errorPayload(e: unknown): ErrorPayload {
  if (CliError.isInstance(e)) return { code: e.code, message: e.message, hint: e.hint, details: e.details };
  if (MetaxyError.isInstance(e)) {
    const { feature, field, column, ...rest } = e.details;
    const details: Record<string, unknown> = {};
    if (feature !== undefined) details.feature = feature;
    if (field !== undefined) details.field = field;
    if (column !== undefined) details.column = column;
    Object.assign(details, rest);
    const hint = TableNotFoundError.isInstance(e)
      ? "This store has no data for the feature yet: write to it first (run the pipeline), or enable autoCreateTables."
      : hintFor(e.code);
    return { code: e.code, message: e.message, hint, details };
  }
  if (e instanceof Error) return { code: "GENERIC_ERROR", message: e.message, details: {} };
  return { code: "GENERIC_ERROR", message: String(e), details: {} };
}

function hintFor(code: string): string | undefined {
  switch (code) {
    case "INVALID_CONFIG":
      return "Check metaxy.config.ts (or the file named by --config / METAXY_CONFIG).";
    case "STORE_LOCKED":
      return "Another process writes to this store; retry when it has finished.";
    case "SYSTEM_DATA_NOT_FOUND":
      return "Run `metaxy push` to record the feature graph first.";
    case "FILTER_PARSE_ERROR":
      return "Filters are SQL WHERE expressions, e.g. --filter \"sample_uid = 'a'\".";
    default:
      return undefined;
  }
}
