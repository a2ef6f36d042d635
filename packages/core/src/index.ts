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
export { pythonJsonDumps } from "./versioning/python-json.js";
export { formatFilterForVersion } from "./versioning/filter-version-format.js";
export * from "./plan/expression.js";
export { parseFilter, parseFilters, checkExpr, MAX_FILTER_DEPTH } from "./filters/filter-parser.js";
export { evaluateExpr, matchesAll } from "./engine/evaluate-expression.js";
export { compileExpr, sqlLiteral, type SqlExprContext } from "./sql/compile-expression.js";
export type { ReadQuery } from "./plan/read-query.js";
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
} from "./plan/resolve-update-plan.js";
export { INCREMENT_KINDS } from "./plan/resolve-update-plan.js";
export {
  buildResolveUpdatePlan,
  upstreamReads,
  type BuildPlanOptions,
  type UpstreamSource,
} from "./plan/build-plan.js";
export { evaluateResolveUpdate, type EvaluatedIncrement, type LoadRows } from "./engine/reference-engine.js";
export { readLatest } from "./engine/read-latest.js";
export { tupleKey, compareValues } from "./engine/row-keys.js";
export {
  BACKEND_SPEC_VERSION,
  type AccessMode,
  type TableWrite,
  type TombstoneValues,
  type Backend,
  type BackendCapabilities,
  type IncrementSource,
  type StagedIncrementSource,
  type TableSchema,
} from "./store/backend.js";
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
export { prepareWrite, tableSchemaOf, inferType, valueFits } from "./store/write-preparation.js";
export { writeFingerprint } from "./store/idempotency.js";
export {
  FEATURE_VERSIONS_KEY,
  EVENTS_KEY,
  FEATURE_VERSIONS_SCHEMA,
  type PushResult,
  type GraphSnapshotSummary,
} from "./store/system-tables.js";
export { memory, type MemoryBackendOptions } from "./backends/memory.js";
export {
  defineConfig,
  validateConfig,
  DEFAULT_STORE_NAME,
  type MetaxyConfig,
  type StoreConfig,
} from "./config/define-config.js";
export {
  loadConfig,
  resolveConfig,
  findConfigFile,
  openStore,
  storeConfigOf,
  CONFIG_FILE_NAMES,
  type LoadConfigOptions,
  type ConfigOverrides,
  type ImportModule,
  type ConfigEnv,
  type OpenStoreOptions,
  type ResolvedMetaxyConfig,
  type ResolvedStoreConfig,
} from "./config/load-config.js";
export { type FailureInfo, failedRecordsTable } from "./store/failed-records.js";
