/**
 * A feature's JSON schema exactly as Pydantic 2 (`model_json_schema()`) renders the Python Metaxy
 * 0.1.11 class declaring the same columns, so that `feature_definition_version` and the project
 * version are the same on both sides. The rules, from pydantic/json_schema.py:
 *
 * - the model: `{"additionalProperties": false, "properties": ..., "required": [...], "title":
 *   <class name>, "type": "object"}` (+ `"description"`: the class docstring), Python
 *   `BaseFeature`'s eight system fields first, then the declared columns in declaration order;
 * - a property's title is `name.title().replace("_", " ").strip()` (`n_frames` → `"N Frames"`);
 * - `required` lists the columns without a default, in order (absent when empty);
 * - `str` / `int` / `float` / `bool` → `{"type": "string" | "integer" | "number" | "boolean"}`,
 *   `datetime` → `{"format": "date-time", "type": "string"}`, `Literal[...]` → `enum` (one value:
 *   `const`) with its type, `list[T]` → `items`, `dict[str, T]` → `additionalProperties`, `Any` → `{}`;
 * - `T | None` → `{"anyOf": [T, {"type": "null"}]}`, with the title and default outside;
 * - keys sorted at every level except inside `properties` and `default`.
 *
 * zod → Python: `z.string()` str, `z.int()` / `z.bigint()` int, `z.number()` float, `z.boolean()`
 * bool, `z.date()` datetime, `z.enum` / `z.literal` Literal, `z.array` list, `z.record(z.string(), T)`
 * dict[str, T], `z.any()` / `z.unknown()` Any; `.nullable()` `T | None` (required); `.optional()` /
 * `.nullish()` `T | None = None`; `.default(v)` `= v`; `.describe(text)` `Field(description=text)`;
 * string `min` / `max` / `regex` and number `gte` / `gt` / `lte` / `lt` as Field constraints.
 * Anything else (nested objects, unions, other string formats, transforms) falls back to zod's
 * own JSON schema and cannot match a Pydantic class.
 */
import { z } from "zod";
import type { AnyZodObject } from "./define-feature.js";

type Json = Record<string, unknown>;

const nullable = (inner: Json): Json => ({ anyOf: [inner, { type: "null" }] });
const systemField = (title: string, description: string, type: Json, required = false): Json => ({
  ...(required ? type : nullable(type)),
  ...(required ? {} : { default: null }),
  description,
  title,
});
const STRING = { type: "string" };
const STRING_MAP = { additionalProperties: { type: "string" }, type: "object" };

/** Python `BaseFeature`'s fields as Pydantic renders them (metaxy 0.1.11). */
const SYSTEM_PROPERTIES: Json = {
  metaxy_provenance_by_field: systemField(
    "Metaxy Provenance By Field",
    "Field-level provenance hashes (maps field names to hashes)",
    STRING_MAP,
    true,
  ),
  metaxy_provenance: systemField("Metaxy Provenance", "Hash of metaxy_provenance_by_field", STRING),
  metaxy_feature_version: systemField(
    "Metaxy Feature Version",
    "Hash of the feature definition (dependencies + fields + code_versions)",
    STRING,
  ),
  metaxy_project_version: systemField(
    "Metaxy Project Version",
    "Hash of the entire feature graph project version",
    STRING,
  ),
  metaxy_data_version_by_field: systemField(
    "Metaxy Data Version By Field",
    "Field-level data version hashes (maps field names to version hashes)",
    STRING_MAP,
  ),
  metaxy_data_version: systemField("Metaxy Data Version", "Hash of metaxy_data_version_by_field", STRING),
  metaxy_created_at: systemField("Metaxy Created At", "Timestamp when the metadata row was created (UTC)", {
    format: "date-time",
    type: "string",
  }),
  metaxy_materialization_id: systemField(
    "Metaxy Materialization Id",
    "External orchestration run ID (e.g., Dagster Run ID)",
    STRING,
  ),
};

export interface PydanticSchemaOptions {
  /** The Python class name (the schema's title). */
  title: string;
  /** The class docstring. */
  description?: string | null;
}

/** The JSON schema Pydantic gives the Python feature class with these columns (see above). */
export function pydanticJsonSchema(schema: AnyZodObject | undefined, options: PydanticSchemaOptions): Json {
  const properties: Json = { ...SYSTEM_PROPERTIES };
  const required: string[] = [];
  for (const [name, field] of Object.entries(schema?.shape ?? {})) {
    const { json, hasDefault } = fieldSchema(field as z.ZodType);
    properties[name] = { ...json, title: pythonTitle(name) };
    if (!hasDefault) required.push(name);
  }
  return sortLikePydantic({
    additionalProperties: false,
    ...(options.description ? { description: options.description } : {}),
    properties,
    ...(required.length > 0 ? { required } : {}),
    title: options.title,
    type: "object",
  }) as Json;
}

/** Python's `str.title()` then `_` → space: a letter after a non-letter is upper-cased, others lower. */
export function pythonTitle(name: string): string {
  let out = "";
  let prevCased = false;
  for (const ch of name) {
    const cased = ch.toLowerCase() !== ch.toUpperCase();
    out += cased ? (prevCased ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    prevCased = cased;
  }
  return out.replaceAll("_", " ").trim();
}

/** A Python class name or its dotted import path (`myapp.features.VideoRaw`). */
export const PYTHON_CLASS_PATH = /^([A-Za-z_][A-Za-z0-9_]*\.)*[A-Za-z_][A-Za-z0-9_]*$/;

/** A Python class name from a feature key: `video/raw_clips` → `VideoRawClips`. */
export function defaultPythonClassName(key: string): string {
  return key
    .split(/[/_-]/)
    .filter((p) => p.length > 0)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join("");
}

function fieldSchema(field: z.ZodType): { json: Json; hasDefault: boolean } {
  let node: any = field;
  let isNullable = false;
  let hasDefault = false;
  let defaultValue: unknown;
  let description: string | undefined;
  for (let depth = 0; depth < 16; depth++) {
    description ??= node.description;
    const def = node._zod.def;
    if (def.type === "optional") {
      isNullable = true;
      if (!hasDefault) {
        hasDefault = true;
        defaultValue = null;
      }
    } else if (def.type === "nullable") isNullable = true;
    else if (def.type === "default" || def.type === "prefault") {
      hasDefault = true;
      defaultValue = typeof def.defaultValue === "function" ? def.defaultValue() : def.defaultValue;
    } else if (def.type !== "readonly") break;
    node = def.innerType;
  }
  const inner = valueSchema(node);
  const json: Json = isNullable ? nullable(inner) : { ...inner };
  if (hasDefault) json.default = defaultValue instanceof Date ? defaultValue.toISOString() : defaultValue;
  if (description !== undefined) json.description = description;
  return { json, hasDefault };
}

function valueSchema(node: any): Json {
  const def = node._zod.def;
  switch (def.type) {
    case "string":
      return { type: "string", ...stringConstraints(def.checks) };
    case "number": {
      const integer = typeof def.format === "string" && /int/.test(def.format);
      return { type: integer ? "integer" : "number", ...numberConstraints(def.checks) };
    }
    case "bigint":
      return { type: "integer" };
    case "boolean":
      return { type: "boolean" };
    case "date":
      return { format: "date-time", type: "string" };
    case "any":
    case "unknown":
      return {};
    case "enum":
      return literals(Object.values(def.entries));
    case "literal":
      return literals(def.values);
    case "union": {
      // A union of literals is one Python Literal[...].
      const options = def.options.map((o: any) => o._zod.def);
      if (options.every((o: any) => o.type === "literal" || o.type === "enum"))
        return literals(
          options.flatMap((o: any) => (o.type === "enum" ? Object.values(o.entries) : o.values)),
        );
      break;
    }
    case "array":
      return { items: valueSchema(def.element), type: "array" };
    case "record":
      if (def.keyType?._zod.def.type === "string")
        return { additionalProperties: valueSchema(def.valueType), type: "object" };
  }
  // Not expressible as a Pydantic column here: zod's own rendering (cannot match Python).
  const { $schema: _ignored, ...rest } = z.toJSONSchema(node, { unrepresentable: "any" }) as Json;
  return rest;
}

function literals(values: readonly unknown[]): Json {
  const types = new Set(values.map(literalType));
  const type = types.size === 1 ? [...types][0] : undefined;
  const base = values.length === 1 ? { const: values[0] } : { enum: [...values] };
  return type ? { ...base, type } : base;
}

function literalType(v: unknown): string | undefined {
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  if (v === null) return "null";
  return undefined;
}

function checkDefs(checks: readonly any[] | undefined): any[] {
  return (checks ?? []).map((c) => c?._zod?.def ?? {});
}

function stringConstraints(checks: readonly any[] | undefined): Json {
  const out: Json = {};
  for (const c of checkDefs(checks)) {
    if (c.check === "min_length") out.minLength = c.minimum;
    else if (c.check === "max_length") out.maxLength = c.maximum;
    else if (c.check === "length_equals") out.minLength = out.maxLength = c.length;
    else if (c.check === "string_format" && c.format === "regex") out.pattern = c.pattern.source;
  }
  return out;
}

function numberConstraints(checks: readonly any[] | undefined): Json {
  const out: Json = {};
  for (const c of checkDefs(checks)) {
    if (c.check === "greater_than") out[c.inclusive ? "minimum" : "exclusiveMinimum"] = c.value;
    else if (c.check === "less_than") out[c.inclusive ? "maximum" : "exclusiveMaximum"] = c.value;
    else if (c.check === "multiple_of") out.multipleOf = c.value;
  }
  return out;
}

/** Pydantic's `GenerateJsonSchema.sort`: keys sorted everywhere but inside `properties` and `default`. */
function sortLikePydantic(value: unknown, parentKey?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => sortLikePydantic(v, parentKey));
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  const keys = Object.keys(value);
  if (parentKey !== "properties" && parentKey !== "default") keys.sort();
  const out: Json = {};
  for (const k of keys) out[k] = sortLikePydantic((value as Json)[k], k);
  return out;
}
