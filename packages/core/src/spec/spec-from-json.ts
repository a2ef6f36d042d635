import { ValidationError } from "../errors.js";
import {
  type FeatureDefinition,
  type FeatureDepInput,
  type FieldInput,
  defineFeature,
  ALL_FIELDS,
} from "./define-feature.js";
import { fieldsMappingFromJson } from "./fields-mapping.js";
import { lineageFromJson } from "./lineage.js";
import { PYTHON_CLASS_PATH } from "./pydantic-schema.js";

/**
 * Rebuilds a feature from Python Metaxy's spec JSON (`model_dump(mode="json")`, as stored in
 * graph snapshots). Omitted keys take their defaults, so reduced forms are accepted too.
 */
export function featureFromSpecJson(
  json: any,
  options: {
    featureSchema?: Record<string, unknown>;
    project?: string;
    source?: string;
    /** Python's `feature_class_path`. */
    pythonClass?: string | null;
    external?: boolean;
  } = {},
): FeatureDefinition {
  if (typeof json === "string") json = JSON.parse(json);
  if (!json || typeof json !== "object" || !json.key)
    throw new ValidationError(`Not a feature spec: ${JSON.stringify(json)?.slice(0, 200)}`);
  const fields: FieldInput[] = (json.fields ?? ["default"]).map((f: any) =>
    typeof f === "string"
      ? f
      : {
          key: f.key,
          codeVersion: f.code_version ?? undefined,
          deps:
            f.deps === "ALL" || f.deps === ALL_FIELDS
              ? "ALL"
              : (f.deps ?? []).map((d: any) => ({
                  feature: d.feature,
                  fields:
                    d.fields === undefined || d.fields === "ALL" || d.fields === ALL_FIELDS
                      ? "ALL"
                      : d.fields,
                })),
        },
  );
  const deps: FeatureDepInput[] = (json.deps ?? []).map((d: any) =>
    typeof d === "string" || Array.isArray(d)
      ? d
      : {
          feature: d.feature,
          select: d.select ?? null,
          rename: d.rename ?? null,
          fieldsMapping: fieldsMappingFromJson(d.fields_mapping),
          filters: d.sql_filters ?? d.filters ?? null,
          lineage: lineageFromJson(d.lineage),
          optional: d.optional ?? false,
        },
  );
  const def = defineFeature({
    key: json.key,
    idColumns: json.id_columns ?? ["sample_uid"],
    fields,
    deps,
    metadata: json.metadata ?? {},
    description: json.description ?? null,
    project: options.project,
    source: options.source,
    // A stored path that is no Python class path (older snapshots kept a source file) is dropped.
    pythonClass:
      options.pythonClass && PYTHON_CLASS_PATH.test(options.pythonClass) ? options.pythonClass : undefined,
  });
  return Object.freeze({
    ...def,
    featureSchema: options.featureSchema ?? {},
    external: options.external ?? true,
  });
}
