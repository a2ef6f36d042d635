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

/** Every code an error of `@metaxy/core` carries. Packages built on core (the CLI) add their own. */
export type MetaxyErrorCode =
  | "METAXY_ERROR"
  | "VALIDATION_ERROR"
  | "INVALID_KEY"
  | "DUPLICATE_FIELD"
  | "FEATURE_CONFLICT"
  | "DEPENDENCY_CYCLE"
  | "MISSING_FEATURE_DEPENDENCY"
  | "NO_UPSTREAM_FIELDS"
  | "UNKNOWN_FEATURE"
  | "FIELD_NOT_FOUND"
  | "COLUMN_COLLISION"
  | "INVALID_RENAME"
  | "EMPTY_CODE_VERSION"
  | "METADATA_STORE_ERROR"
  | "FEATURE_NOT_FOUND"
  | "SYSTEM_DATA_NOT_FOUND"
  | "METADATA_SCHEMA_ERROR"
  | "STORE_NOT_OPEN"
  | "TABLE_NOT_FOUND"
  | "HASH_ALGORITHM_NOT_SUPPORTED"
  | "HASH_ALGORITHM_MISMATCH"
  | "HASHING_NOT_READY"
  | "ROOT_FEATURE_WITHOUT_SAMPLES"
  | "STORE_LOCKED"
  | "INVALID_CONFIG"
  | "FILTER_PARSE_ERROR"
  | "FILTER_TYPE_ERROR"
  | "INVARIANT_VIOLATION"
  | "IDEMPOTENCY_CONFLICT"
  | "STORE_CLOSED"
  | "TABLE_NAME_COLLISION"
  | "RESERVED_COLUMN"
  | "COLUMN_NOT_FOUND"
  | "BACKEND_SPEC_VERSION_MISMATCH"
  | "ENGINE_ERROR"
  | "INVALID_STAGE_ID";

// Markers are registered symbols (`Symbol.for`), so two copies of this package recognise each
// other's errors, which `instanceof` does not. Each class has its own marker besides the base one.
const BASE_MARKER = "metaxy.error";

function mark(error: object, marker: string): void {
  Object.defineProperty(error, Symbol.for(marker), { value: true });
}

type ErrorConstructor<T> = abstract new (...args: any[]) => T;

export class MetaxyError extends Error {
  readonly code: string = "METAXY_ERROR";
  readonly details: MetaxyErrorDetails;

  constructor(message: string, details: MetaxyErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
    mark(this, BASE_MARKER);
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

  /** Any Metaxy error; works across duplicated copies of the package, unlike `instanceof`. */
  static isInstance<T extends MetaxyError>(this: ErrorConstructor<T>, value: unknown): value is T {
    return MetaxyError.hasMarker(value, BASE_MARKER);
  }

  /**
   * Whether `value` carries the registered symbol `Symbol.for(marker)` set to true. Subclasses
   * outside core set their own marker (`metaxy.error.<Name>`) in their constructor and check it here.
   */
  static hasMarker(value: unknown, marker: string): boolean {
    return typeof value === "object" && value !== null && (value as any)[Symbol.for(marker)] === true;
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...this.details };
  }
}

/**
 * A base class for errors of one `code`, recognised by `isInstance` across copies of the package.
 * Packages built on core (backends, bridges) define their own codes with it:
 * `class MyError extends defineError("MyError", "MY_CODE") {}`.
 */
export function defineError<C extends string>(name: string, code: C) {
  const marker = `${BASE_MARKER}.${name}`;
  return class extends MetaxyError {
    override readonly code: C = code;

    constructor(message: string, details?: MetaxyErrorDetails, options?: { cause?: unknown }) {
      super(message, details, options);
      this.name = name;
      mark(this, marker);
    }

    /** Only errors of this class (from any copy of the package). */
    static override isInstance<T extends MetaxyError>(this: ErrorConstructor<T>, value: unknown): value is T {
      return MetaxyError.hasMarker(value, marker);
    }
  };
}

const coreError = <C extends MetaxyErrorCode>(name: string, code: C) => defineError(name, code);

/** A key, spec or graph is invalid (ValueError in Python Metaxy). */
export class ValidationError extends coreError("ValidationError", "VALIDATION_ERROR") {}
export class InvalidKeyError extends coreError("InvalidKeyError", "INVALID_KEY") {}
export class DuplicateFieldError extends coreError("DuplicateFieldError", "DUPLICATE_FIELD") {}
export class FeatureConflictError extends coreError("FeatureConflictError", "FEATURE_CONFLICT") {}
export class CycleError extends coreError("CycleError", "DEPENDENCY_CYCLE") {
  get cycle(): string[] {
    return (this.details.cycle as string[]) ?? [];
  }
}
/** A dependency names a feature that is not in the graph. */
export class MissingFeatureDependencyError extends coreError(
  "MissingFeatureDependencyError",
  "MISSING_FEATURE_DEPENDENCY",
) {}
/** A field has no upstream fields to depend on. */
export class NoUpstreamFieldsError extends coreError("NoUpstreamFieldsError", "NO_UPSTREAM_FIELDS") {}
/** A feature key is not in the graph. */
export class UnknownFeatureError extends coreError("UnknownFeatureError", "UNKNOWN_FEATURE") {}
export class FieldNotFoundError extends coreError("FieldNotFoundError", "FIELD_NOT_FOUND") {}
export class ColumnCollisionError extends coreError("ColumnCollisionError", "COLUMN_COLLISION") {}
export class InvalidRenameError extends coreError("InvalidRenameError", "INVALID_RENAME") {}
/** A field's code version is the empty string (Python refuses to record such a graph). */
export class EmptyCodeVersionError extends coreError("EmptyCodeVersionError", "EMPTY_CODE_VERSION") {}

export class MetadataStoreError extends coreError("MetadataStoreError", "METADATA_STORE_ERROR") {}
/** The feature has no metadata in the store (nor in its fallback stores). */
export class FeatureNotFoundError extends coreError("FeatureNotFoundError", "FEATURE_NOT_FOUND") {}
export class SystemDataNotFoundError extends coreError("SystemDataNotFoundError", "SYSTEM_DATA_NOT_FOUND") {}
/** Rows handed to `write` lack provenance or carry values of the wrong type. */
export class MetadataSchemaError extends coreError("MetadataSchemaError", "METADATA_SCHEMA_ERROR") {}
export class StoreNotOpenError extends coreError("StoreNotOpenError", "STORE_NOT_OPEN") {}
/** The store was closed while an operation (e.g. iterating an increment) was still running. */
export class StoreClosedError extends coreError("StoreClosedError", "STORE_CLOSED") {}
/** A feature's table does not exist in the store (and is not created on demand). */
export class TableNotFoundError extends coreError("TableNotFoundError", "TABLE_NOT_FOUND") {}
/** Two feature keys (or a feature key and a system table) map to one table name. */
export class TableNameCollisionError extends coreError("TableNameCollisionError", "TABLE_NAME_COLLISION") {}
/** A user column uses a name the engine or Metaxy reserves. */
export class ReservedColumnError extends coreError("ReservedColumnError", "RESERVED_COLUMN") {}
/** A column named in a read, filter or select is not in the feature's table. */
export class ColumnNotFoundError extends coreError("ColumnNotFoundError", "COLUMN_NOT_FOUND") {}
export class HashAlgorithmNotSupportedError extends coreError(
  "HashAlgorithmNotSupportedError",
  "HASH_ALGORITHM_NOT_SUPPORTED",
) {}
/** xxhash was used synchronously before its WebAssembly module was loaded (`initHashing()`). */
export class HashingNotReadyError extends coreError("HashingNotReadyError", "HASHING_NOT_READY") {}
/** A root feature was resolved without `samples`. */
export class RootFeatureWithoutSamplesError extends coreError(
  "RootFeatureWithoutSamplesError",
  "ROOT_FEATURE_WITHOUT_SAMPLES",
) {}
/** Another process holds the store's write lock (e.g. a second DuckDB writer). */
export class StoreLockedError extends coreError("StoreLockedError", "STORE_LOCKED") {}
/** An idempotency key was reused for a write of different rows. */
export class IdempotencyConflictError extends coreError("IdempotencyConflictError", "IDEMPOTENCY_CONFLICT") {}
/** The backend implements another version of the backend contract than this core. */
export class BackendSpecVersionError extends coreError(
  "BackendSpecVersionError",
  "BACKEND_SPEC_VERSION_MISMATCH",
) {}
/** A stage id is empty, malformed, or names no staged increment. */
export class InvalidStageIdError extends coreError("InvalidStageIdError", "INVALID_STAGE_ID") {}
export class InvalidConfigError extends coreError("InvalidConfigError", "INVALID_CONFIG") {}
export class FilterParseError extends coreError("FilterParseError", "FILTER_PARSE_ERROR") {}
/** A filter compares a column with a value (or column) of another type, e.g. a string with an integer column. */
export class FilterTypeError extends coreError("FilterTypeError", "FILTER_TYPE_ERROR") {}
export class InvariantViolationError extends coreError("InvariantViolationError", "INVARIANT_VIOLATION") {}

/** An error raised by the storage engine or its driver; the original is kept as `cause`. */
export class EngineError extends coreError("EngineError", "ENGINE_ERROR") {
  /** Wraps a raw engine error; a Metaxy error passes through unchanged. */
  static wrap(cause: unknown, details: MetaxyErrorDetails = {}, context?: string): MetaxyError {
    if (MetaxyError.isInstance(cause)) return cause;
    const text = cause instanceof Error ? cause.message : String(cause);
    return new EngineError(context ? `${context}: ${text}` : text, details, { cause });
  }
}
/** A store's stored provenance was hashed with another algorithm than the one it was opened with. */
export class HashAlgorithmMismatchError extends coreError(
  "HashAlgorithmMismatchError",
  "HASH_ALGORITHM_MISMATCH",
) {}
