/**
 * Checks filters against the columns they will run on, before any engine sees them: an unknown
 * column or a value of the wrong type is a typed error naming the feature and column, the same
 * on every backend (the reference engine would find it only on a row; DuckDB raises a raw
 * Binder or Conversion error).
 */
import { ColumnNotFoundError, FilterTypeError } from "../errors.js";
import type { Expr, Literal } from "../plan/expression.js";
import type { ColumnType } from "../spec/system-columns.js";

/** Column name → logical type; `undefined` when only the name is known. */
export type KnownColumns = ReadonlyMap<string, ColumnType | undefined>;

export interface FilterScope {
  /** The feature named in the error's details. */
  readonly feature: string;
  /** Whose columns these are, for messages: `Feature "a/b"`, `Dependency "a/b" of "c/d"`. */
  readonly subject: string;
  /** What names the columns, for messages: "filter", "selected columns". */
  readonly what: string;
  /** Extra details for the error (e.g. the dependent feature). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** What a value or column compares as; `null` = not checked (JSON, unknown types). */
type Kind = "number" | "string" | "boolean" | "timestamp" | "map" | null;

const KIND_OF_TYPE: Record<ColumnType, Kind> = {
  integer: "number",
  float: "number",
  string: "string",
  boolean: "boolean",
  timestamp: "timestamp",
  timestamp_ntz: "timestamp",
  map: "map",
  json: null,
};

const SHOWN_COLUMNS = 30;

export function checkFilterColumns(exprs: readonly Expr[], columns: KnownColumns, scope: FilterScope): void {
  for (const e of exprs) checkPredicate(e, columns, scope);
}

/** Every column of `names` is known. */
export function checkColumnsExist(names: readonly string[], columns: KnownColumns, scope: FilterScope): void {
  for (const n of names) typeOfColumn(n, columns, scope);
}

function checkPredicate(e: Expr, columns: KnownColumns, scope: FilterScope): void {
  switch (e.kind) {
    case "column": {
      const kind = kindOfColumn(e.name, columns, scope);
      if (kind !== null && kind !== "boolean")
        throw mismatch(scope, e.name, columns, "is used as a condition, but it is not boolean");
      return;
    }
    case "literal":
      return;
    case "and":
    case "or":
      for (const a of e.args) checkPredicate(a, columns, scope);
      return;
    case "not":
      checkPredicate(e.arg, columns, scope);
      return;
    case "isNull":
      checkOperand(e.arg, columns, scope);
      return;
    case "in": {
      const kind = kindOfColumn(e.column, columns, scope);
      for (const v of e.values)
        if (!literalFits(kind, v))
          throw mismatch(scope, e.column, columns, `is compared with ${describeLiteral(v)} (IN list)`);
      return;
    }
    case "compare": {
      checkOperand(e.left, columns, scope);
      checkOperand(e.right, columns, scope);
      const [column, other] = e.left.kind === "column" ? [e.left, e.right] : [e.right, e.left];
      if (column.kind !== "column") return;
      const kind = kindOfColumn(column.name, columns, scope);
      if (other.kind === "literal") {
        if (!literalFits(kind, other.value))
          throw mismatch(scope, column.name, columns, `is compared with ${describeLiteral(other.value)}`);
      } else if (other.kind === "column") {
        const otherKind = kindOfColumn(other.name, columns, scope);
        if (kind !== null && otherKind !== null && (kind !== otherKind || kind === "map"))
          throw mismatch(
            scope,
            column.name,
            columns,
            `is compared with column "${other.name}" (${columns.get(other.name)})`,
          );
      } else if (kind !== null && kind !== "boolean") {
        throw mismatch(scope, column.name, columns, "is compared with a condition");
      }
      return;
    }
  }
}

/** A comparison operand: a column, a literal, or (in built expressions) a condition. */
function checkOperand(e: Expr, columns: KnownColumns, scope: FilterScope): void {
  if (e.kind === "column") typeOfColumn(e.name, columns, scope);
  else if (e.kind !== "literal") checkPredicate(e, columns, scope);
}

function typeOfColumn(name: string, columns: KnownColumns, scope: FilterScope): ColumnType | undefined {
  if (!columns.has(name)) {
    const known = [...columns.keys()];
    const shown =
      known.length > SHOWN_COLUMNS ? `${known.slice(0, SHOWN_COLUMNS).join(", ")}, …` : known.join(", ");
    throw new ColumnNotFoundError(
      `${scope.subject} has no column "${name}" (${scope.what}). Columns: ${shown || "(none)"}`,
      { ...scope.details, feature: scope.feature, column: name },
    );
  }
  return columns.get(name);
}

function kindOfColumn(name: string, columns: KnownColumns, scope: FilterScope): Kind {
  const type = typeOfColumn(name, columns, scope);
  return type === undefined ? null : KIND_OF_TYPE[type];
}

function literalFits(kind: Kind, value: Literal): boolean {
  if (value === null || kind === null) return true;
  switch (kind) {
    case "number":
      return typeof value === "number" || typeof value === "bigint";
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "timestamp":
      // Engines cast an ISO string to a timestamp; anything else fails there.
      return typeof value === "string" && !Number.isNaN(Date.parse(value));
    case "map":
      return false;
  }
}

function mismatch(
  scope: FilterScope,
  column: string,
  columns: KnownColumns,
  problem: string,
): FilterTypeError {
  const type = columns.get(column);
  return new FilterTypeError(
    `${scope.subject}, ${scope.what}: column "${column}"${type ? ` (${type})` : ""} ${problem}`,
    { ...scope.details, feature: scope.feature, column, columnType: type ?? null },
  );
}

function describeLiteral(value: Literal): string {
  if (typeof value === "string") return `string '${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  if (typeof value === "bigint") return `integer ${value}`;
  return `${typeof value} ${String(value)}`;
}
