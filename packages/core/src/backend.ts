// `@metaxy/core/backend`: the contract a storage backend implements, with the helpers backends
// share (write preparation, the reference engine, SQL expression compilation). Users of a store
// need none of it; it is versioned by BACKEND_SPEC_VERSION, which `MetadataStore.open` checks.
export {
  BACKEND_SPEC_VERSION,
  assertSpecificationVersion,
  type AccessMode,
  type Backend,
  type BackendCapabilities,
  type IncrementSource,
  type MarkRequest,
  type ResolveCost,
  type TableMark,
  type StagedIncrementSource,
  type TableSchema,
  type TableWrite,
  type TombstoneValues,
} from "./store/backend.js";
export type { ReadQuery } from "./plan/read-query.js";
// Every type of the plan a backend interprets (the main entry re-exports the same ones).
export type * from "./plan/resolve-update-plan.js";
export {
  buildResolveUpdatePlan,
  upstreamReads,
  type BuildPlanOptions,
  type UpstreamSource,
} from "./plan/build-plan.js";
export { evaluateResolveUpdate, type EvaluatedIncrement, type LoadRows } from "./engine/reference-engine.js";
export { evaluateExpr, matchesAll } from "./engine/evaluate-expression.js";
export { readLatest } from "./engine/read-latest.js";
export { effectiveTime, scopeKeys, type LoadRawRows } from "./engine/resolve-scope.js";
export { CHECKPOINTS_TABLE, pendingTable, planIdentity } from "./store/resolve-checkpoints.js";
export { tupleKey, compareValues } from "./engine/row-keys.js";
export { compileExpr, sqlLiteral, type SqlExprContext } from "./sql/compile-expression.js";
export { prepareWrite, tableSchemaOf, inferType, valueFits } from "./store/write-preparation.js";
export { writeFingerprint } from "./store/idempotency.js";
export { FEATURE_VERSIONS_KEY, EVENTS_KEY, FEATURE_VERSIONS_SCHEMA } from "./store/system-tables.js";
