import type { FQFieldKey, FeatureKey } from "../keys.js";
import type { FeatureDefinition, FeatureDep } from "../spec/define-feature.js";
import { parentFieldsOf } from "./field-deps.js";

/** A feature with its direct parents: what resolve-update needs to join and hash (SPEC §1.9). */
export interface FeaturePlan {
  readonly feature: FeatureDefinition;
  /** Upstream definitions, in the order of `featureDeps`. */
  readonly deps: readonly FeatureDefinition[];
  readonly featureDeps: readonly FeatureDep[];
  /** Columns the upstreams join on and the increment diffs on (empty for a root). */
  readonly inputIdColumns: readonly string[];
  /** Field key string → parent FQ field keys, sorted by FQ key string. */
  readonly fieldParents: ReadonlyMap<string, readonly FQFieldKey[]>;
  readonly isRoot: boolean;
}

export function buildFeaturePlan(
  feature: FeatureDefinition,
  lookup: (key: FeatureKey) => FeatureDefinition | undefined,
): FeaturePlan {
  const deps = feature.spec.deps.map((d) => lookup(d.feature)!);
  const fieldParents = new Map<string, readonly FQFieldKey[]>();
  for (const field of feature.spec.fields)
    fieldParents.set(field.key.toString(), parentFieldsOf(feature, field, lookup));
  return {
    feature,
    deps,
    featureDeps: feature.spec.deps,
    inputIdColumns: inputIdColumns(feature, deps),
    fieldParents,
    isRoot: deps.length === 0,
  };
}

/**
 * Per dep: identity → upstream id columns after rename; aggregation → `on` (default: the
 * downstream id columns); expansion → `on`. The result is their intersection, in first-dep order.
 */
export function inputIdColumns(feature: FeatureDefinition, deps: readonly FeatureDefinition[]): string[] {
  if (deps.length === 0) return [];
  const perDep = feature.spec.deps.map((dep, i): string[] => {
    const lineage = dep.lineage;
    if (lineage.type === "aggregation") return [...(lineage.on ?? feature.spec.idColumns)];
    if (lineage.type === "expansion") return [...lineage.on];
    return deps[i].spec.idColumns.map((c) => dep.rename?.[c] ?? c);
  });
  const [first, ...rest] = perDep;
  return [...new Set(first)].filter((c) => rest.every((cols) => cols.includes(c)));
}
