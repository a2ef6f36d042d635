import { z } from "zod";
import {
  ColumnCollisionError,
  DuplicateFieldError,
  EmptyCodeVersionError,
  MetaxyError,
  ValidationError,
} from "../errors.js";
import { checkExpr, parseFilter } from "../filters/filter-parser.js";
import { FeatureKey, FieldKey, type KeyInput, assertUserFeatureKey } from "../keys.js";
import type { Expr } from "../plan/expression.js";
import { formatFilterForVersion } from "../versioning/filter-version-format.js";
import { FieldsMapping, fieldsMappingToJson } from "./fields-mapping.js";
import type { IncrementKeys } from "./increment-keys.js";
import { Lineage, lineageToJson } from "./lineage.js";
import { ColumnNames, assertUserColumn } from "./reserved-columns.js";
import { PYTHON_CLASS_PATH, defaultPythonClassName, pydanticJsonSchema } from "./pydantic-schema.js";
import { isSystemColumn } from "./system-columns.js";

export const DEFAULT_CODE_VERSION = "__metaxy_initial__";
/** Serialised form of "depends on all fields" (Python's `SpecialFieldDep.ALL`). */
export const ALL_FIELDS = "__METAXY_ALL_DEP__";

export type AnyZodObject = z.ZodObject<any>;

/** Anything that names a feature: a key string, parts, a FeatureKey or a defined feature. */
export type FeatureRef = KeyInput | FeatureKey | { readonly key: FeatureKey };

export interface FieldDep {
  readonly feature: FeatureKey;
  readonly fields: "ALL" | readonly FieldKey[];
}

export interface FieldSpec {
  readonly key: FieldKey;
  readonly codeVersion: string;
  /** Explicit field-level lineage; empty = resolve through the feature deps' fields mappings. */
  readonly deps: "ALL" | readonly FieldDep[];
}

export interface FeatureDep {
  readonly feature: FeatureKey;
  /** Columns to keep, named after `rename`. `null` = all; `[]` = only the required ones. */
  readonly select: readonly string[] | null;
  readonly rename: Readonly<Record<string, string>> | null;
  readonly fieldsMapping: FieldsMapping;
  /** Filter strings as written (serialised into the spec version). */
  readonly filters: readonly string[] | null;
  /** The same filters, parsed. They see post-rename column names. */
  readonly filterExprs: readonly Expr[];
  readonly lineage: Lineage;
  readonly optional: boolean;
}

export interface FeatureSpec {
  readonly key: FeatureKey;
  readonly idColumns: readonly string[];
  readonly deps: readonly FeatureDep[];
  readonly fields: readonly FieldSpec[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly description: string | null;
}

/** Type-level key of what `defineFeature` knows about a feature's rows (never set at run time). */
declare const rowTypes: unique symbol;

/**
 * A defined feature. `Id` names its id columns and `Keys` the columns every row of its increment
 * carries (see `IncrementKeys`); both are `string` when not known statically.
 */
export interface FeatureDefinition<
  S extends AnyZodObject | undefined = AnyZodObject | undefined,
  Id extends string = string,
  Keys extends string = string,
> {
  readonly kind: "metaxy.feature";
  readonly key: FeatureKey;
  readonly spec: FeatureSpec;
  /** The zod object typing this feature's user columns (optional for schemaless features). */
  readonly schema: S;
  /**
   * JSON schema of `schema` as Pydantic renders the Python class with these columns (hashed into
   * the definition version; see pydantic-schema.ts).
   */
  readonly featureSchema: Readonly<Record<string, unknown>>;
  /**
   * The Python class this feature is in Python Metaxy (`feature_class_path`, e.g.
   * `"myapp.features.VideoRaw"`); its last segment is the schema's title. Default: the key in
   * PascalCase (`video/raw` → `VideoRaw`).
   */
  readonly pythonClass: string;
  /** Project this feature belongs to; `undefined` takes the graph's project. */
  readonly project: string | undefined;
  /** Loaded from a snapshot or declared elsewhere, not defined by this codebase. */
  readonly external: boolean;
  /** Where it was defined (a module path or "snapshot"), shown by the CLI. */
  readonly source: string | null;
  /** Type-level only: row typing, see `FeatureRow`, `FeatureReadRow`, `IncrementRow`. */
  readonly [rowTypes]?: { readonly idColumns: Id; readonly incrementKeys: Keys };
}

// ---- input schemas (zod): structure is validated here, semantics below ----

const keyInput = z.union([z.string(), z.array(z.string()), z.instanceof(FeatureKey), z.instanceof(FieldKey)]);
const featureRefInput = z.union([keyInput, z.custom<{ key: FeatureKey }>((v) => isDefinitionLike(v))]);

const fieldDepInput = z.strictObject({
  feature: featureRefInput,
  fields: z.union([z.literal("ALL"), z.literal(ALL_FIELDS), z.array(keyInput)]).optional(),
});

const fieldInput = z.union([
  z.string(),
  z.strictObject({
    key: keyInput,
    codeVersion: z.string().optional(),
    deps: z.union([z.literal("ALL"), z.literal(ALL_FIELDS), z.array(fieldDepInput)]).optional(),
  }),
]);

const fieldsMappingInput = z.custom<FieldsMapping>(
  (v) => typeof v === "object" && v !== null && typeof (v as any).type === "string",
);
const lineageInput = z.custom<Lineage>(
  (v) => typeof v === "object" && v !== null && typeof (v as any).type === "string",
);
const exprInput = z.custom<Expr>(
  (v) => typeof v === "object" && v !== null && typeof (v as any).kind === "string",
);

const featureDepInput = z.union([
  featureRefInput,
  z.strictObject({
    feature: featureRefInput,
    select: z.array(z.string()).nullable().optional(),
    rename: z.record(z.string(), z.string()).nullable().optional(),
    fieldsMapping: fieldsMappingInput.optional(),
    filters: z
      .array(z.union([z.string(), exprInput]))
      .nullable()
      .optional(),
    lineage: lineageInput.optional(),
    optional: z.boolean().optional(),
  }),
]);

const featureInput = z.strictObject({
  key: keyInput,
  idColumns: z.array(z.string().min(1)).min(1, "idColumns must list at least one column"),
  fields: z.array(fieldInput).optional(),
  deps: z.array(featureDepInput).optional(),
  schema: z.custom<AnyZodObject>((v) => v instanceof z.ZodObject, "schema must be a zod object").optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  description: z.string().nullable().optional(),
  project: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, "project must match ^[a-zA-Z0-9_-]+$")
    .optional(),
  source: z.string().optional(),
  pythonClass: z
    .string()
    .regex(PYTHON_CLASS_PATH, "pythonClass must be a Python class name or dotted path")
    .optional(),
});

export type FieldDepInput = z.input<typeof fieldDepInput>;
export type FieldInput = z.input<typeof fieldInput>;
export type FeatureDepInput = z.input<typeof featureDepInput>;

export interface DefineFeatureInput<
  S extends AnyZodObject | undefined,
  Id extends string = string,
  D extends FeatureDepInput = FeatureDepInput,
> {
  key: KeyInput;
  idColumns: Id[];
  fields?: FieldInput[];
  deps?: D[];
  schema?: S;
  metadata?: Record<string, unknown>;
  description?: string | null;
  project?: string;
  source?: string;
  /**
   * The Python Metaxy class of this feature: a class name (`"VideoRaw"`) or its import path
   * (`"myapp.features.VideoRaw"`, Python's `feature_class_path`). The class name is the title of
   * the feature's JSON schema, so it must match for the definition and project versions to agree
   * with Python's. Default: the key in PascalCase (`video/raw` → `VideoRaw`).
   */
  pythonClass?: string;
}

function isDefinitionLike(v: unknown): v is { key: FeatureKey } {
  return typeof v === "object" && v !== null && (v as any).key instanceof FeatureKey;
}

export function toFeatureKey(ref: FeatureRef): FeatureKey {
  if (isDefinitionLike(ref)) return ref.key;
  return FeatureKey.from(ref as KeyInput);
}

/**
 * Declare a feature: its key, id columns, fields (with code versions), dependencies and zod schema.
 * The schema types the rows written and read; the id columns and dependencies type the key
 * columns of its increment rows.
 */
export function defineFeature<
  S extends AnyZodObject | undefined = undefined,
  const Id extends string = string,
  D extends FeatureDepInput = never,
>(input: DefineFeatureInput<S, Id, D>): FeatureDefinition<S, Id, IncrementKeys<Id, D>> {
  const keyHint = typeof input?.key === "string" ? input.key : String(input?.key ?? "?");
  const parsed = featureInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(
      `Invalid feature "${keyHint}": ${issue.path.join(".") || "(root)"}: ${issue.message}`,
      { feature: keyHint, path: issue.path.join(".") },
    );
  }
  const key = FeatureKey.from(input.key);
  const feature = key.toString();
  wrapKey(() => assertUserFeatureKey(key), feature);
  const fields = (input.fields ?? ["default"]).map((f) => normaliseField(f, feature));
  checkFieldKeys(fields, feature);
  const deps = (input.deps ?? []).map((d) => normaliseFeatureDep(d as FeatureDepInput, feature));
  checkDependencySuffixes(deps, feature);
  const schema = input.schema as S;
  for (const id of input.idColumns) assertUserColumn(feature, id, "id column");
  if (schema) {
    const shape = (schema as AnyZodObject).shape;
    for (const id of input.idColumns) {
      if (!(id in shape))
        throw new ValidationError(`Feature "${feature}": id column "${id}" is not in its schema`, {
          feature,
          column: id,
        });
    }
    const columns = new ColumnNames(feature);
    for (const column of Object.keys(shape)) columns.add(column, "schema column");
  }
  const pythonClass = input.pythonClass ?? defaultPythonClassName(feature);
  const spec: FeatureSpec = Object.freeze({
    key,
    idColumns: Object.freeze([...input.idColumns]),
    deps: Object.freeze(deps),
    fields: Object.freeze(fields),
    metadata: Object.freeze({ ...(input.metadata ?? {}) }),
    description: input.description ?? null,
  });
  return Object.freeze({
    kind: "metaxy.feature" as const,
    key,
    spec,
    schema,
    featureSchema: pydanticJsonSchema(schema as AnyZodObject | undefined, {
      title: pythonClass.slice(pythonClass.lastIndexOf(".") + 1),
      description: spec.description,
    }),
    pythonClass,
    project: input.project,
    external: false,
    source: input.source ?? null,
  });
}

/** Field keys are unique, and so are their map entry names (`a/b_c` and `a_b/c` are both `a_b_c`). */
function checkFieldKeys(fields: readonly FieldSpec[], feature: string): void {
  const byKey = new Set<string>();
  const byEntry = new Map<string, string>();
  for (const f of fields) {
    const s = f.key.toString();
    if (byKey.has(s))
      throw new DuplicateFieldError(`Duplicate field key found: "${s}" in feature "${feature}"`, {
        feature,
        field: s,
      });
    byKey.add(s);
    const entry = f.key.toStructKey();
    const other = byEntry.get(entry);
    if (other !== undefined)
      throw new DuplicateFieldError(
        `Fields "${other}" and "${s}" of feature "${feature}" both map to the entry "${entry}" of metaxy_provenance_by_field; rename one of them`,
        { feature, field: s, fields: [other, s] },
      );
    byEntry.set(entry, s);
  }
}

/**
 * Each dependency's system columns travel renamed with its key's suffix (`video/raw` →
 * `__video_raw`), so two dependencies may not share one (`a/b_c` and `a_b/c` both give `__a_b_c`).
 */
function checkDependencySuffixes(deps: readonly FeatureDep[], feature: string): void {
  const bySuffix = new Map<string, string>();
  for (const d of deps) {
    const dep = d.feature.toString();
    const suffix = d.feature.toColumnSuffix();
    const other = bySuffix.get(suffix);
    if (other !== undefined && other !== dep)
      throw new ColumnCollisionError(
        `Feature "${feature}": dependencies "${other}" and "${dep}" both name their columns with the suffix "${suffix}"; rename one of them`,
        { feature, dependencies: [other, dep] },
      );
    bySuffix.set(suffix, dep);
  }
}

function normaliseField(input: FieldInput, feature: string): FieldSpec {
  if (typeof input === "string") {
    return Object.freeze({
      key: wrapKey(() => FieldKey.from(input), feature),
      codeVersion: DEFAULT_CODE_VERSION,
      deps: [],
    });
  }
  const key = wrapKey(() => FieldKey.from(input.key as KeyInput), feature);
  const codeVersion = input.codeVersion ?? DEFAULT_CODE_VERSION;
  if (codeVersion === "")
    throw new EmptyCodeVersionError(`Field "${key}" of feature "${feature}" has an empty code version`, {
      feature,
      field: key.toString(),
    });
  const deps =
    input.deps === "ALL" || input.deps === ALL_FIELDS
      ? ("ALL" as const)
      : Object.freeze(
          (input.deps ?? []).map((d) =>
            Object.freeze({
              feature: wrapKey(() => toFeatureKey(d.feature as FeatureRef), feature),
              fields:
                d.fields === undefined || d.fields === "ALL" || d.fields === ALL_FIELDS
                  ? ("ALL" as const)
                  : Object.freeze(d.fields.map((f) => wrapKey(() => FieldKey.from(f as KeyInput), feature))),
            }),
          ),
        );
  return Object.freeze({ key, codeVersion, deps });
}

function normaliseFeatureDep(input: FeatureDepInput, feature: string): FeatureDep {
  const obj =
    typeof input === "object" && input !== null && !Array.isArray(input) && "feature" in input
      ? (input as Exclude<FeatureDepInput, KeyInput> & { feature: FeatureRef })
      : { feature: input as FeatureRef };
  const upstream = wrapKey(() => toFeatureKey(obj.feature), feature);
  const o = obj as {
    select?: string[] | null;
    rename?: Record<string, string> | null;
    fieldsMapping?: FieldsMapping;
    filters?: (string | Expr)[] | null;
    lineage?: Lineage;
    optional?: boolean;
  };
  const rename = o.rename ?? null;
  const select = o.select ?? null;
  // Renames onto system columns are InvalidRenameError at plan time; other reserved names here.
  for (const to of Object.values(rename ?? {}))
    if (!isSystemColumn(to)) assertUserColumn(feature, to, "rename target");
  if (select && rename) {
    const sources = new Set(Object.keys(rename));
    const targets = new Set(Object.values(rename));
    const pre = select.filter((c) => sources.has(c) && !targets.has(c));
    if (pre.length > 0)
      throw new ValidationError(
        `Feature "${feature}", dependency "${upstream}": select contains pre-rename column name(s) ${pre.join(", ")}; select names columns after rename`,
        { feature, dependency: upstream.toString(), column: pre[0] },
      );
  }
  const filterStrings: string[] = [];
  const filterExprs: Expr[] = [];
  for (const f of o.filters ?? []) {
    try {
      filterExprs.push(typeof f === "string" ? parseFilter(f) : checkExpr(f));
    } catch (e) {
      if (MetaxyError.isInstance(e)) {
        e.details.feature = feature;
        e.details.dependency = upstream.toString();
      }
      throw e;
    }
    filterStrings.push(typeof f === "string" ? f : formatFilterForVersion(f));
  }
  return Object.freeze({
    feature: upstream,
    select: select ? Object.freeze([...select]) : null,
    rename: rename ? Object.freeze({ ...rename }) : null,
    fieldsMapping: o.fieldsMapping ?? FieldsMapping.default(),
    filters: o.filters ? Object.freeze(filterStrings) : null,
    filterExprs: Object.freeze(filterExprs),
    lineage: o.lineage ?? Lineage.identity(),
    optional: o.optional ?? false,
  });
}

function wrapKey<T>(make: () => T, feature: string): T {
  try {
    return make();
  } catch (e) {
    if (MetaxyError.isInstance(e)) e.details.feature ??= feature;
    throw e;
  }
}

/** The spec as Python Metaxy's `model_dump(mode="json")` renders it (hashed into the spec version). */
export function specToJson(spec: FeatureSpec): Record<string, unknown> {
  return {
    key: spec.key.toString(),
    id_columns: [...spec.idColumns],
    deps: spec.deps.map((d) => ({
      feature: d.feature.toString(),
      select: d.select ? [...d.select] : null,
      rename: d.rename ? { ...d.rename } : null,
      fields_mapping: fieldsMappingToJson(d.fieldsMapping),
      sql_filters: d.filters ? [...d.filters] : null,
      lineage: lineageToJson(d.lineage),
      optional: d.optional,
    })),
    fields: spec.fields.map((f) => ({
      key: f.key.toString(),
      code_version: f.codeVersion,
      deps:
        f.deps === "ALL"
          ? ALL_FIELDS
          : f.deps.map((d) => ({
              feature: d.feature.toString(),
              fields: d.fields === "ALL" ? ALL_FIELDS : d.fields.map(String),
            })),
    })),
    metadata: { ...spec.metadata },
    description: spec.description,
  };
}
