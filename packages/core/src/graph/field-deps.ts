import { FieldNotFoundError, NoUpstreamFieldsError } from "../errors.js";
import { FQFieldKey, type FeatureKey, compareStrings } from "../keys.js";
import type { FeatureDefinition, FieldSpec } from "../spec/define-feature.js";
import { resolveFieldsMapping } from "../spec/fields-mapping.js";

export interface ResolvedFieldDep {
  readonly feature: FeatureKey;
  readonly fields: "ALL" | readonly FieldSpec["key"][];
}

/**
 * The field-level dependencies of one downstream field (SPEC §1.9): explicit deps win; otherwise
 * every feature dep's fields mapping is resolved against the upstream spec.
 */
export function resolveFieldDeps(
  feature: FeatureDefinition,
  field: FieldSpec,
  lookup: (key: FeatureKey) => FeatureDefinition | undefined,
): ResolvedFieldDep[] {
  const deps = feature.spec.deps;
  if (deps.length === 0) return [];
  if (field.deps === "ALL") return deps.map((d) => ({ feature: d.feature, fields: "ALL" as const }));
  if (field.deps.length > 0) return field.deps.map((d) => ({ feature: d.feature, fields: d.fields }));
  const out: ResolvedFieldDep[] = [];
  for (const dep of deps) {
    const upstream = lookup(dep.feature);
    if (!upstream) continue;
    const fields = resolveFieldsMapping(
      dep.fieldsMapping,
      field.key,
      upstream.spec.fields.map((f) => f.key),
    );
    if (fields.length > 0) out.push({ feature: dep.feature, fields });
  }
  if (out.length === 0)
    throw new NoUpstreamFieldsError(
      `No upstream fields found for field "${field.key}" of feature "${feature.key}"`,
      { feature: feature.key.toString(), field: field.key.toString() },
    );
  return out;
}

/** Parent fields of `field` as FQ keys, sorted by their string form (the hashing order). */
export function parentFieldsOf(
  feature: FeatureDefinition,
  field: FieldSpec,
  lookup: (key: FeatureKey) => FeatureDefinition | undefined,
): FQFieldKey[] {
  const seen = new Map<string, FQFieldKey>();
  for (const dep of resolveFieldDeps(feature, field, lookup)) {
    const upstream = lookup(dep.feature);
    if (!upstream) continue;
    if (dep.fields !== "ALL") {
      const missing = dep.fields.find((k) => !upstream.spec.fields.some((f) => f.key.equals(k)));
      if (missing)
        throw new FieldNotFoundError(
          `Field "${field.key}" of feature "${feature.key}" depends on "${dep.feature}.${missing}", but "${dep.feature}" has no field "${missing}"`,
          {
            feature: feature.key.toString(),
            field: field.key.toString(),
            dependency: `${dep.feature}.${missing}`,
          },
        );
    }
    const wanted = dep.fields === "ALL" ? upstream.spec.fields.map((f) => f.key) : dep.fields;
    for (const k of wanted) {
      const fq = new FQFieldKey(dep.feature, k);
      seen.set(fq.toString(), fq);
    }
  }
  return [...seen.values()].sort((a, b) => compareStrings(a.toString(), b.toString()));
}
