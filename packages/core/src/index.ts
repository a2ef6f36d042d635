// The main entry: everything to define features and graphs and to use a MetadataStore. It imports
// no Node built-in and awaits nothing at load, so that it bundles for workflow sandboxes and
// browsers. Node-only parts: `@metaxy/core/node`; the backend contract: `@metaxy/core/backend`.
export * from "./errors.js";
export {
  FeatureKey,
  FieldKey,
  FQFieldKey,
  RESERVED_TABLE_PREFIX,
  assertUserFeatureKey,
  compareParts,
  compareStrings,
  type KeyInput,
} from "./keys.js";
export {
  defineFeature,
  specToJson,
  toFeatureKey,
  ALL_FIELDS,
  DEFAULT_CODE_VERSION,
  type AnyZodObject,
  type DefineFeatureInput,
  type FeatureDefinition,
  type FeatureDep,
  type FeatureDepInput,
  type FeatureRef,
  type FeatureSpec,
  type FieldDep,
  type FieldInput,
  type FieldSpec,
} from "./spec/define-feature.js";
export { FieldsMapping, resolveFieldsMapping } from "./spec/fields-mapping.js";
export {
  Lineage,
  type IdentityLineage,
  type AggregationLineage,
  type ExpansionLineage,
} from "./spec/lineage.js";
export { featureFromSpecJson } from "./spec/spec-from-json.js";
export { columnTypesOfSchema } from "./spec/column-types.js";
export {
  pydanticJsonSchema,
  pythonTitle,
  defaultPythonClassName,
  type PydanticSchemaOptions,
} from "./spec/pydantic-schema.js";
export * from "./spec/system-columns.js";
export { reservedColumnReason } from "./spec/reserved-columns.js";
export {
  FeatureGraph,
  DEFAULT_PROJECT,
  type FeatureGraphOptions,
  type OnConflict,
} from "./graph/feature-graph.js";
export type { FeaturePlan } from "./graph/feature-plan.js";
export {
  graphToSnapshot,
  graphFromSnapshot,
  type GraphSnapshot,
  type FeatureSnapshot,
} from "./graph/snapshot.js";
export {
  GraphVersions,
  specVersionOfJson,
  definitionVersionOf,
  projectVersionOf,
} from "./versioning/graph-versions.js";
export {
  HASH_ALGORITHMS,
  DEFAULT_HASH_TRUNCATION,
  initHashing,
  hashString,
  truncatedHash,
  assertHashAlgorithm,
  type HashAlgorithm,
} from "./versioning/hash-algorithms.js";
export {
  fieldProvenance,
  fieldProvenanceConcat,
  recordProvenance,
  byFieldConcat,
  type FieldProvenanceInput,
} from "./versioning/record-hash.js";
export { pythonJsonDumps, pythonJsonDumpsUnsorted } from "./versioning/python-json.js";
export { formatFilterForVersion } from "./versioning/filter-version-format.js";
export * from "./plan/expression.js";
export { parseFilter, parseFilters, checkExpr, MAX_FILTER_DEPTH } from "./filters/filter-parser.js";
export type {
  ResolveUpdatePlan,
  ExpectedFromUpstreams,
  ExpectedFromSamples,
  UpstreamInput,
  UpstreamColumn,
  InlineRows,
  UpstreamLineage,
  JoinKind,
  JoinedColumn,
  PlannedField,
  ParentFieldRef,
  Row,
  IncrementKind,
  IncrementCounts,
  ResolveScope,
  ScopedUpstream,
} from "./plan/resolve-update-plan.js";
export type { ResolveMode } from "./store/resolve-checkpoints.js";
export { INCREMENT_KINDS } from "./plan/resolve-update-plan.js";
// The contract's own types, since the store's API names them; the rest of it is `@metaxy/core/backend`.
export type { AccessMode, Backend, BackendCapabilities } from "./store/backend.js";
export {
  Increment,
  StagedIncrement,
  MAX_STAGE_ID_LENGTH,
  type BatchOptions,
} from "./store/increment.js";
export {
  MetadataStore,
  type MetadataStoreOptions,
  type WriteOptions,
  type ReadOptions,
  type ResolveUpdateOptions,
  type DeleteOptions,
  type FilterInput,
} from "./store/metadata-store.js";
export type {
  FeatureRow,
  FeatureReadRow,
  FeatureColumn,
  ReadRow,
  IncrementRow,
  IncrementRowOf,
  SampleRow,
  FieldVersions,
  ProvenanceColumns,
  SystemColumnValues,
  WriteSystemColumns,
} from "./store/row-types.js";
export type { IncrementKeys } from "./spec/increment-keys.js";
export type { PushResult, GraphSnapshotSummary } from "./store/system-tables.js";
export { memory, type MemoryBackendOptions } from "./backends/memory.js";
export {
  defineConfig,
  validateConfig,
  DEFAULT_STORE_NAME,
  type MetaxyConfig,
  type StoreConfig,
} from "./config/define-config.js";
export { type FailureInfo, failedRecordsTable } from "./store/failed-records.js";
