/**
 * The text a dependency filter given as an expression contributes to `sql_filters`, and so to
 * the feature's spec, definition and project versions. Frozen on purpose and kept apart from the
 * SQL backends execute (`sql/compile-expression.ts`): a change to execution SQL must never change
 * a version. Filter strings are hashed as written (as Python Metaxy does); only expressions are
 * printed. The output is a filter string both parsers read back to the same filter.
 */
import { FilterParseError } from "../errors.js";
import type { CompareOp, Expr, Literal } from "../plan/expression.js";

const OPERATORS: Readonly<Record<CompareOp, string>> = {
  "=": "=",
  "!=": "<>",
  "<": "<",
  "<=": "<=",
  ">": ">",
  ">=": ">=",
};

/**
 * Prints `expr`: identifiers double-quoted, every compound node parenthesised, `!=` as `<>`,
 * strings single-quoted with `''` escapes; an empty AND / OR / IN prints as its constant.
 */
export function formatFilterForVersion(expr: Expr): string {
  switch (expr.kind) {
    case "column":
      return identifier(expr.name);
    case "literal":
      return literal(expr.value);
    case "compare":
      return `(${formatFilterForVersion(expr.left)} ${OPERATORS[expr.op]} ${formatFilterForVersion(expr.right)})`;
    case "and":
    case "or": {
      if (expr.args.length === 0) return expr.kind === "and" ? "TRUE" : "FALSE";
      if (expr.args.length === 1) return formatFilterForVersion(expr.args[0]);
      const joiner = expr.kind === "and" ? " AND " : " OR ";
      return `(${expr.args.map(formatFilterForVersion).join(joiner)})`;
    }
    case "not":
      return `(NOT ${formatFilterForVersion(expr.arg)})`;
    case "in":
      if (expr.values.length === 0) return expr.negated ? "TRUE" : "FALSE";
      return `(${identifier(expr.column)} ${expr.negated ? "NOT IN" : "IN"} (${expr.values.map(literal).join(", ")}))`;
    case "isNull":
      return `(${formatFilterForVersion(expr.arg)} ${expr.negated ? "IS NOT NULL" : "IS NULL"})`;
  }
}

const identifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

function literal(value: Literal): string {
  if (value === null) return "NULL";
  switch (typeof value) {
    case "string":
      return `'${value.replaceAll("'", "''")}'`;
    case "boolean":
      return value ? "TRUE" : "FALSE";
    case "bigint":
      return value.toString();
    case "number":
      if (!Number.isFinite(value))
        throw new FilterParseError(`Cannot print ${value} in a filter`, { value: String(value) });
      return Object.is(value, -0) ? "0" : String(value);
  }
}
