/**
 * Compiles filter expressions to standard SQL for the SQL backends. Every compound node is fully
 * parenthesised, so the output never depends on a dialect's operator precedence.
 */
import { FilterParseError } from "../errors.js";
import type { Expr, Literal } from "../plan/expression.js";

export interface SqlExprContext {
  /** Quotes an identifier for the target dialect (e.g. `"name"` or `` `name` ``). */
  quoteIdent(name: string): string;
  /** Renders a literal; defaults to {@link sqlLiteral}. */
  literal?(value: Literal): string;
  /** Renders a column reference; defaults to `quoteIdent(name)`. */
  column?(name: string): string;
}

/** Standard SQL literal: `'it''s'`, `42`, `1.5`, `TRUE` / `FALSE`, `NULL`. */
export function sqlLiteral(value: Literal): string {
  if (value === null) return "NULL";
  switch (typeof value) {
    case "string":
      return `'${value.replaceAll("'", "''")}'`;
    case "boolean":
      return value ? "TRUE" : "FALSE";
    case "bigint":
      return value.toString();
    case "number":
      if (!Number.isFinite(value)) {
        throw new FilterParseError(`Cannot render ${value} as a SQL literal`, { value: String(value) });
      }
      return Object.is(value, -0) ? "0" : String(value);
  }
}

const SQL_OPS = { "=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=" } as const;

/** Compiles `expr` to a SQL boolean expression (suitable for a `WHERE` clause). */
export function compileExpr(expr: Expr, ctx: SqlExprContext): string {
  const column = (name: string) => (ctx.column ? ctx.column(name) : ctx.quoteIdent(name));
  const literal = (value: Literal) => (ctx.literal ? ctx.literal(value) : sqlLiteral(value));

  const compile = (e: Expr): string => {
    switch (e.kind) {
      case "column":
        return column(e.name);
      case "literal":
        return literal(e.value);
      case "compare":
        return `(${compile(e.left)} ${SQL_OPS[e.op]} ${compile(e.right)})`;
      case "and":
      case "or": {
        if (e.args.length === 0) return e.kind === "and" ? "TRUE" : "FALSE";
        if (e.args.length === 1) return compile(e.args[0]);
        return `(${e.args.map(compile).join(e.kind === "and" ? " AND " : " OR ")})`;
      }
      case "not":
        return `(NOT ${compile(e.arg)})`;
      case "in":
        // SQL has no empty IN list; nothing is a member of the empty set (NULL included).
        if (e.values.length === 0) return e.negated ? "TRUE" : "FALSE";
        return `(${column(e.column)} ${e.negated ? "NOT IN" : "IN"} (${e.values.map(literal).join(", ")}))`;
      case "isNull":
        return `(${compile(e.arg)} ${e.negated ? "IS NOT NULL" : "IS NULL"})`;
    }
  };
  return compile(expr);
}
