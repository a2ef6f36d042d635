/**
 * Evaluates filter expressions against in-memory rows with SQL three-valued logic, so the reference
 * engine filters exactly like the SQL backends (`compileExpr`) do.
 */
import { FilterParseError } from "../errors.js";
import type { CompareOp, Expr, Literal } from "../plan/expression.js";

/** SQL truth value: `null` is UNKNOWN. */
export type Truth = boolean | null;

/**
 * Evaluates `expr` against `row`. Comparisons involving NULL yield `null`; AND / OR / NOT follow
 * Kleene logic. A bare column (or literal) used as a predicate must hold a boolean or NULL.
 * Throws `FilterParseError` when the expression references a column absent from `row` or compares
 * values of incompatible types.
 */
export function evaluateExpr(expr: Expr, row: Record<string, unknown>): Truth {
  switch (expr.kind) {
    case "column":
      return asTruth(readColumn(row, expr.name), `column "${expr.name}"`);
    case "literal":
      return asTruth(expr.value, `literal ${String(expr.value)}`);
    case "compare":
      return compare(expr.op, operandValue(expr.left, row), operandValue(expr.right, row));
    case "and": {
      // Every argument is evaluated (no short-circuit) so unknown columns are always reported.
      let result: Truth = true;
      for (const arg of expr.args) {
        const value = evaluateExpr(arg, row);
        if (value === false) result = false;
        else if (value === null && result === true) result = null;
      }
      return result;
    }
    case "or": {
      let result: Truth = false;
      for (const arg of expr.args) {
        const value = evaluateExpr(arg, row);
        if (value === true) result = true;
        else if (value === null && result === false) result = null;
      }
      return result;
    }
    case "not": {
      const value = evaluateExpr(expr.arg, row);
      return value === null ? null : !value;
    }
    case "in":
      return evaluateIn(expr.column, expr.values, expr.negated, row);
    case "isNull": {
      const value = operandValue(expr.arg, row);
      return (value === null) !== expr.negated;
    }
  }
}

/** True only when every expression evaluates to exactly `true` (NULL rejects the row, as in SQL). */
export function matchesAll(exprs: readonly Expr[], row: Record<string, unknown>): boolean {
  let ok = true;
  for (const expr of exprs) if (evaluateExpr(expr, row) !== true) ok = false;
  return ok;
}

// -------------------------------------------------------------------------------------------------

function readColumn(row: Record<string, unknown>, name: string): unknown {
  if (!Object.hasOwn(row, name)) {
    throw new FilterParseError(`Filter references unknown column "${name}"`, { column: name });
  }
  const value = row[name];
  return value === undefined ? null : value;
}

/** The value an expression contributes as a comparison operand (`undefined` is normalised to `null`). */
function operandValue(expr: Expr, row: Record<string, unknown>): unknown {
  switch (expr.kind) {
    case "column":
      return readColumn(row, expr.name);
    case "literal":
      return expr.value;
    default:
      return evaluateExpr(expr, row);
  }
}

function asTruth(value: unknown, what: string): Truth {
  if (value === null || typeof value === "boolean") return value;
  throw new FilterParseError(
    `Filter uses ${what} as a condition, but its value ${describe(value)} is not a boolean`,
  );
}

function evaluateIn(
  column: string,
  values: readonly Literal[],
  negated: boolean,
  row: Record<string, unknown>,
) {
  const value = readColumn(row, column);
  // `x IN ()` is false for every x, NULL included (compileExpr renders it as FALSE).
  if (values.length === 0) return negated;
  if (value === null) return null;
  let sawNull = false;
  for (const candidate of values) {
    if (candidate === null) sawNull = true;
    else if (order(value, candidate) === 0) return !negated;
  }
  return sawNull ? null : negated;
}

function compare(op: CompareOp, left: unknown, right: unknown): Truth {
  if (left === null || right === null) return null;
  const c = order(left, right);
  switch (op) {
    case "=":
      return c === 0;
    case "!=":
      return c !== 0;
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    case ">=":
      return c >= 0;
  }
}

/** Total order of two non-null values of compatible types: negative, zero or positive. */
function order(a: unknown, b: unknown): number {
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === "number" || ta === "bigint") && (tb === "number" || tb === "bigint")) {
    return compareNumeric(a as number | bigint, b as number | bigint);
  }
  if (ta === "string" && tb === "string") return compareCodePoints(a as string, b as string);
  if (ta === "boolean" && tb === "boolean") return Number(a) - Number(b);
  if (a instanceof Date || b instanceof Date) {
    const x = toTime(a);
    const y = toTime(b);
    if (x !== undefined && y !== undefined) return compareNumeric(x, y);
  }
  throw new FilterParseError(`Filter cannot compare ${describe(a)} with ${describe(b)}`);
}

function toTime(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "string") {
    const time = Date.parse(value);
    return Number.isNaN(time) ? undefined : time;
  }
  return undefined;
}

/** Numeric order; NaN equals NaN and sorts above every other number (as in DuckDB / Postgres / Polars). */
function compareNumeric(a: number | bigint, b: number | bigint): number {
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return typeof a === "bigint" ? -compareNumberBigint(b as number, a) : compareNumberBigint(a, b as bigint);
}

function compareNumberBigint(n: number, b: bigint): number {
  if (Number.isNaN(n)) return 1;
  if (n === Number.POSITIVE_INFINITY) return 1;
  if (n === Number.NEGATIVE_INFINITY) return -1;
  const floor = Math.floor(n);
  const whole = BigInt(floor);
  if (whole !== b) return whole < b ? -1 : 1;
  return n === floor ? 0 : 1;
}

/** Orders strings by Unicode code point (SQL binary collation), not by UTF-16 code unit. */
function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a.charCodeAt(i) !== b.charCodeAt(i)) {
      // Preceding units are equal, so a low surrogate here pairs with the same high surrogate on both sides.
      return a.codePointAt(i)! - b.codePointAt(i)!;
    }
  }
  return a.length - b.length;
}

function describe(value: unknown): string {
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? "Invalid Date" : `Date ${value.toISOString()}`;
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  if (typeof value === "bigint") return `bigint ${value}`;
  if (typeof value === "object") return value === null ? "NULL" : (value.constructor?.name ?? "object");
  return `${typeof value} ${String(value)}`;
}
