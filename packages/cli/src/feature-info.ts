import { type FeatureDefinition, type FeatureGraph, isSystemColumn, specToJson } from "@metaxy/core";

export interface FieldInfo {
  key: string;
  code_version: string;
  version: string;
  /** Resolved parent fields, `feature.field`. */
  deps: string[];
}

export interface FeatureInfo {
  key: string;
  version: string;
  is_root: boolean;
  is_external: boolean;
  project: string;
  source: string | null;
  field_count: number;
  fields: FieldInfo[];
  /** Upstream feature keys. */
  deps: string[];
}

export function fieldInfos(graph: FeatureGraph, def: FeatureDefinition): FieldInfo[] {
  return def.spec.fields.map((f) => {
    const key = f.key.toString();
    return {
      key,
      code_version: f.codeVersion,
      version: graph.fieldVersion(def.key, key),
      deps: graph.parentFields(def.key, key).map(String),
    };
  });
}

export function featureInfo(graph: FeatureGraph, def: FeatureDefinition): FeatureInfo {
  const fields = fieldInfos(graph, def);
  return {
    key: def.key.toString(),
    version: graph.featureVersion(def.key),
    is_root: def.spec.deps.length === 0,
    is_external: def.external,
    project: graph.projectOf(def.key),
    source: def.source,
    field_count: fields.length,
    fields,
    deps: def.spec.deps.map((d) => d.feature.toString()),
  };
}

/** Everything `describe feature` shows (SPEC §6). */
export function featureDescription(graph: FeatureGraph, def: FeatureDefinition) {
  const specJson = specToJson(def.spec) as { deps: Record<string, unknown>[] };
  const plan = graph.plan(def.key);
  return {
    project: graph.projectOf(def.key),
    key: def.key.toString(),
    version: graph.featureVersion(def.key),
    code_version: graph.codeVersion(def.key),
    spec_version: graph.specVersion(def.key),
    definition_version: graph.definitionVersion(def.key),
    description: def.spec.description,
    is_root: def.spec.deps.length === 0,
    is_external: def.external,
    source: def.source,
    id_columns: [...def.spec.idColumns],
    input_id_columns: [...plan.inputIdColumns],
    fields: fieldInfos(graph, def),
    dependencies: def.spec.deps.map((d, i) => ({
      feature: d.feature.toString(),
      select: d.select ? [...d.select] : null,
      rename: d.rename ? { ...d.rename } : null,
      filters: d.filters ? [...d.filters] : null,
      optional: d.optional,
      lineage: (specJson.deps[i].lineage as { relationship: unknown }).relationship,
      fields_mapping: (specJson.deps[i].fields_mapping as { mapping: unknown }).mapping,
    })),
    dependents: graph.features
      .filter((f) => f.spec.deps.some((d) => d.feature.equals(def.key)))
      .map((f) => f.key.toString()),
    // The schema is Pydantic's, with Python BaseFeature's system fields: list the feature's own.
    columns: Object.keys(((def.featureSchema as { properties?: object }).properties ?? {}) as object).filter(
      (c) => !isSystemColumn(c),
    ),
    metadata: { ...def.spec.metadata },
  };
}

export type FeatureDescription = ReturnType<typeof featureDescription>;
