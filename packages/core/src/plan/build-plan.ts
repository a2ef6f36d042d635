import { InvalidRenameError, RootFeatureWithoutSamplesError, ValidationError } from "../errors.js";
import type { FeatureGraph } from "../graph/feature-graph.js";
import type { FeatureKey } from "../keys.js";
import type { FeatureDefinition } from "../spec/define-feature.js";
import { isSystemColumn } from "../spec/system-columns.js";
import type { HashAlgorithm } from "../versioning/hash-algorithms.js";
import type { Expr } from "./expression.js";
import type { ReadQuery } from "./read-query.js";
import type {
  PlannedField,
  ResolveUpdatePlan,
  Row,
  UpstreamInput,
  UpstreamLineage,
} from "./resolve-update-plan.js";
import { checkColumnCollisions, upstreamUserColumns } from "./upstream-columns.js";

export interface BuildPlanOptions {
  hashAlgorithm: HashAlgorithm;
  truncation: number | null;
  samples?: readonly Row[];
  /** Runtime filters per upstream feature key string (applied when that upstream is read). */
  filters?: Readonly<Record<string, readonly Expr[]>>;
  /** Applied to every upstream read and to the target. */
  globalFilters?: readonly Expr[];
  /** Applied to the target's current rows (and to samples). */
  targetFilters?: readonly Expr[];
  stalenessPredicates?: readonly Expr[];
  skipComparison?: boolean;
}

/** Builds the resolve-update plan of `feature` (SPEC §3.2, DESIGN §3). */
export function buildResolveUpdatePlan(
  graph: FeatureGraph,
  key: FeatureKey,
  options: BuildPlanOptions,
): ResolveUpdatePlan {
  const plan = graph.plan(key);
  const def = plan.feature;
  const feature = def.key.toString();
  if (plan.isRoot && !options.samples)
    throw new RootFeatureWithoutSamplesError(
      `Feature "${feature}" has no upstream dependencies (root feature). Pass \`samples\` with its metaxy_provenance_by_field to resolve it.`,
      { feature },
    );
  validateRenames(def, plan.deps);

  const targetFilters = [
    ...(options.filters?.[feature] ?? []),
    ...(options.globalFilters ?? []),
    ...(options.targetFilters ?? []),
  ];
  const current: ReadQuery = {
    table: def.key.tableName,
    idColumns: def.spec.idColumns,
    featureVersion: graph.featureVersion(def.key),
    latestOnly: true,
    includeSoftDeleted: false,
    filters: targetFilters,
    columns: null,
  };
  const joinColumns = plan.inputIdColumns.length > 0 ? plan.inputIdColumns : def.spec.idColumns;
  if (joinColumns.length === 0)
    throw new ValidationError(`Feature "${feature}": its dependencies share no id columns to join on`, {
      feature,
    });

  const upstreams: UpstreamInput[] = plan.featureDeps.map((dep, i) => {
    const up = plan.deps[i];
    const upKey = up.key.toString();
    const rename = dep.rename ?? {};
    const upIds = up.spec.idColumns.map((c) => rename[c] ?? c);
    const lineage: UpstreamLineage =
      dep.lineage.type === "identity"
        ? { type: "identity" }
        : dep.lineage.type === "aggregation"
          ? { type: "aggregation", on: dep.lineage.on ?? def.spec.idColumns }
          : { type: "expansion", on: dep.lineage.on };
    let select: string[] | null = null;
    if (dep.select) {
      select = [...dep.select];
      // Ids stay selected for identity and aggregation: aggregation concatenates members in id order.
      const required = [
        ...(lineage.type === "expansion"
          ? lineage.on
          : lineage.type === "aggregation"
            ? [...lineage.on, ...upIds]
            : upIds),
        ...joinColumns.filter((c) => upIds.includes(c)),
      ];
      for (const c of required) if (!select.includes(c)) select.push(c);
    }
    return {
      feature: upKey,
      suffix: up.key.toColumnSuffix(),
      read: {
        table: up.key.tableName,
        idColumns: up.spec.idColumns,
        featureVersion: graph.featureVersion(up.key),
        latestOnly: true,
        includeSoftDeleted: false,
        filters: [...(options.filters?.[upKey] ?? []), ...(options.globalFilters ?? [])],
        columns: null,
      },
      rename,
      filters: dep.filterExprs,
      select,
      lineage,
      optional: dep.optional,
      fieldStructKeys: up.spec.fields.map((f) => f.key.toStructKey()).sort(),
      idColumns: upIds,
    };
  });

  // Static collision check where every upstream declares its columns.
  if (upstreams.length > 1 && plan.deps.every((d) => d.schema)) {
    const cols = upstreams.map((u, i) =>
      upstreamUserColumns(feature, u, Object.keys(plan.deps[i].schema!.shape)),
    );
    checkColumnCollisions(feature, upstreams, cols, joinColumns);
  }

  const upstreamIndex = new Map(upstreams.map((u, i) => [u.feature, i]));
  const fields: PlannedField[] = def.spec.fields.map((f) => ({
    keyString: f.key.toString(),
    structKey: f.key.toStructKey(),
    codeVersion: f.codeVersion,
    parents: (plan.fieldParents.get(f.key.toString()) ?? []).map((p) => {
      const index = upstreamIndex.get(p.feature.toString())!;
      return {
        fqKey: p.toString(),
        upstream: index,
        structKey: p.field.toStructKey(),
        optional: upstreams[index].optional,
      };
    }),
  }));

  const expected: ResolveUpdatePlan["expected"] = options.samples
    ? { kind: "samples", rows: options.samples, filters: targetFilters }
    : { kind: "upstreams", upstreams };

  return {
    feature,
    table: def.key.tableName,
    hashAlgorithm: options.hashAlgorithm,
    truncation: options.truncation,
    expected,
    joinColumns,
    diffColumns: joinColumns,
    fields,
    current,
    collapseCurrent: !options.samples && upstreams.some((u) => u.lineage.type === "expansion"),
    reduceExpected: !options.samples && upstreams.some((u) => u.lineage.type === "aggregation"),
    stalenessPredicates: options.stalenessPredicates ?? [],
    skipComparison: options.skipComparison ?? false,
    failures: null,
  };
}

/** Definition-time rename rules (SPEC §2.6, last paragraph). */
function validateRenames(def: FeatureDefinition, deps: readonly FeatureDefinition[]): void {
  const feature = def.key.toString();
  const targets = new Map<string, string>();
  def.spec.deps.forEach((dep, i) => {
    const upIds = new Set(deps[i].spec.idColumns);
    for (const [from, to] of Object.entries(dep.rename ?? {})) {
      if (isSystemColumn(to) || isSystemColumn(from))
        throw new InvalidRenameError(
          `Feature "${feature}": dependency "${dep.feature}" renames "${from}" to "${to}"; system columns cannot be renamed or overwritten`,
          { feature, dependency: dep.feature.toString(), column: isSystemColumn(to) ? to : from },
        );
      if (upIds.has(to) && !upIds.has(from))
        throw new InvalidRenameError(
          `Feature "${feature}": dependency "${dep.feature}" renames "${from}" onto its id column "${to}"`,
          { feature, dependency: dep.feature.toString(), column: to },
        );
      const key = `${dep.feature}:${to}`;
      if (targets.has(key))
        throw new InvalidRenameError(
          `Feature "${feature}": dependency "${dep.feature}" renames two columns to "${to}"`,
          { feature, dependency: dep.feature.toString(), column: to },
        );
      targets.set(key, from);
    }
  });
}
