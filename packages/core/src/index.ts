export * from "./errors.js";
export { FeatureKey, FieldKey, FQFieldKey, compareParts, compareStrings, type KeyInput } from "./keys.js";
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
export { Lineage } from "./spec/lineage.js";
export { featureFromSpecJson } from "./spec/spec-from-json.js";
export { columnTypesOfSchema } from "./spec/column-types.js";
export * from "./spec/system-columns.js";
export { FeatureGraph, DEFAULT_PROJECT, type FeatureGraphOptions, type OnConflict } from "./graph/feature-graph.js";
export type { FeaturePlan } from "./graph/feature-plan.js";
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
export * from "./plan/expression.js";
