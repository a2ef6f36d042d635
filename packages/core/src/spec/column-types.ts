import type { AnyZodObject } from "./define-feature.js";
import type { ColumnType } from "./system-columns.js";

/** Logical type of every column of a feature's zod schema (unwrapping optional/nullable/default). */
export function columnTypesOfSchema(schema: AnyZodObject): Record<string, ColumnType> {
  const out: Record<string, ColumnType> = {};
  for (const [name, field] of Object.entries(schema.shape)) out[name] = columnTypeOf(field);
  return out;
}

function columnTypeOf(field: any): ColumnType {
  let def = field?._zod?.def;
  // optional / nullable / default / readonly / pipe wrappers carry the inner type
  for (let i = 0; i < 10 && def; i++) {
    if (def.innerType) def = def.innerType._zod.def;
    else if (def.type === "pipe" && def.in) def = def.in._zod.def;
    else break;
  }
  switch (def?.type) {
    case "string":
    case "enum":
    case "literal":
      return def.type === "literal" && typeof def.values?.[0] !== "string"
        ? literalType(def.values?.[0])
        : "string";
    case "number":
      return isIntegerCheck(def) ? "integer" : "float";
    case "int":
    case "bigint":
      return "integer";
    case "boolean":
      return "boolean";
    case "date":
      return "timestamp";
    default:
      return "json";
  }
}

function literalType(value: unknown): ColumnType {
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "float";
  if (typeof value === "bigint") return "integer";
  if (typeof value === "boolean") return "boolean";
  return "string";
}

function isIntegerCheck(def: any): boolean {
  if (def.format && /int/.test(String(def.format))) return true;
  return (def.checks ?? []).some((c: any) =>
    /int/.test(String(c?._zod?.def?.format ?? c?._zod?.def?.check ?? "")),
  );
}
