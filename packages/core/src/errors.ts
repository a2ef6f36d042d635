/**
 * Errors raised by Metaxy. Every error carries a stable `code` and the feature / field / column
 * at fault, so that callers (and the CLI's JSON output) can react without parsing messages.
 */
export interface MetaxyErrorDetails {
  feature?: string;
  field?: string;
  column?: string;
  [key: string]: unknown;
}

const MARKER = Symbol.for("metaxy.error");

export class MetaxyError extends Error {
  readonly code: string = "METAXY_ERROR";
  readonly details: MetaxyErrorDetails;
  readonly [MARKER] = true;

  constructor(message: string, details: MetaxyErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }

  get feature(): string | undefined {
    return this.details.feature;
  }
  get field(): string | undefined {
    return this.details.field;
  }
  get column(): string | undefined {
    return this.details.column;
  }

  /** Works across duplicated copies of the package, unlike `instanceof`. */
  static isInstance(value: unknown): value is MetaxyError {
    return typeof value === "object" && value !== null && (value as any)[MARKER] === true;
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...this.details };
  }
}

function defineError<C extends string>(code: C) {
  return class extends MetaxyError {
    override readonly code: C = code;
  };
}

/** A key, spec or graph is invalid (ValueError in Python Metaxy). */
export class ValidationError extends defineError("VALIDATION_ERROR") {}
export class InvalidKeyError extends defineError("INVALID_KEY") {}
export class DuplicateFieldError extends defineError("DUPLICATE_FIELD") {}
export class FeatureConflictError extends defineError("FEATURE_CONFLICT") {}
export class CycleError extends defineError("DEPENDENCY_CYCLE") {
  get cycle(): string[] {
    return (this.details.cycle as string[]) ?? [];
  }
}
/** A dependency names a feature that is not in the graph. */
export class MissingFeatureDependencyError extends defineError("MISSING_FEATURE_DEPENDENCY") {}
/** A field has no upstream fields to depend on. */
export class NoUpstreamFieldsError extends defineError("NO_UPSTREAM_FIELDS") {}
/** A feature key is not in the graph. */
export class UnknownFeatureError extends defineError("UNKNOWN_FEATURE") {}
export class FieldNotFoundError extends defineError("FIELD_NOT_FOUND") {}
export class ColumnCollisionError extends defineError("COLUMN_COLLISION") {}
export class InvalidRenameError extends defineError("INVALID_RENAME") {}
export class EmptyCodeVersionError extends defineError("EMPTY_CODE_VERSION") {}

export class MetadataStoreError extends defineError("METADATA_STORE_ERROR") {}
/** The feature has no metadata in the store (nor in its fallback stores). */
export class FeatureNotFoundError extends defineError("FEATURE_NOT_FOUND") {}
export class SystemDataNotFoundError extends defineError("SYSTEM_DATA_NOT_FOUND") {}
/** Rows handed to `write` lack provenance or carry values of the wrong type. */
export class MetadataSchemaError extends defineError("METADATA_SCHEMA_ERROR") {}
export class StoreNotOpenError extends defineError("STORE_NOT_OPEN") {}
export class TableNotFoundError extends defineError("TABLE_NOT_FOUND") {}
export class HashAlgorithmNotSupportedError extends defineError("HASH_ALGORITHM_NOT_SUPPORTED") {}
/** A root feature was resolved without `samples`. */
export class RootFeatureWithoutSamplesError extends defineError("ROOT_FEATURE_WITHOUT_SAMPLES") {}
/** Another process holds the store's write lock (e.g. a second DuckDB writer). */
export class StoreLockedError extends defineError("STORE_LOCKED") {}
export class InvalidConfigError extends defineError("INVALID_CONFIG") {}
export class FilterParseError extends defineError("FILTER_PARSE_ERROR") {}
export class InvariantViolationError extends defineError("INVARIANT_VIOLATION") {}
export class IdempotencyConflictError extends defineError("IDEMPOTENCY_CONFLICT") {}
export class StoreClosedError extends defineError("STORE_CLOSED") {}
