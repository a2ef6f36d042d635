import { describe, expect, it } from "vitest";
import { FilterParseError } from "../errors.js";
import { parseFilter } from "../filters/filter-parser.js";
import {
  and,
  cmp,
  col,
  type Expr,
  eq,
  isIn,
  isNull,
  type Literal,
  lit,
  not,
  or,
} from "../plan/expression.js";
import { compileExpr, type SqlExprContext, sqlLiteral } from "./compile-expression.js";

const ansi: SqlExprContext = { quoteIdent: (name) => `"${name.replaceAll('"', '""')}"` };
const sql = (expr: Expr, ctx: SqlExprContext = ansi) => compileExpr(expr, ctx);
const sqlOf = (filter: string, ctx: SqlExprContext = ansi) => compileExpr(parseFilter(filter), ctx);

describe("sqlLiteral", () => {
  it.each([
    ["abc", "'abc'"],
    ["it's", "'it''s'"],
    ["''", "''''''"],
    ["", "''"],
    [42, "42"],
    [-1.5, "-1.5"],
    [0.1, "0.1"],
    [-0, "0"],
    [1e21, "1e+21"],
    [9007199254740993n, "9007199254740993"],
    [-5n, "-5"],
    [true, "TRUE"],
    [false, "FALSE"],
    [null, "NULL"],
  ] as [Literal, string][])("renders %s as %s", (value, expected) => {
    expect(sqlLiteral(value)).toBe(expected);
  });

  it("rejects non-finite numbers", () => {
    expect(() => sqlLiteral(Number.NaN)).toThrow(FilterParseError);
    expect(() => sqlLiteral(Number.POSITIVE_INFINITY)).toThrow(FilterParseError);
  });
});

describe("compileExpr", () => {
  it("compiles comparisons, mapping != to <>", () => {
    expect(sql(eq("x", 1))).toBe('("x" = 1)');
    expect(sql(cmp("!=", col("x"), lit("a")))).toBe(`("x" <> 'a')`);
    expect(sqlOf("x <> 1")).toBe('("x" <> 1)');
    expect(sqlOf("x < 1")).toBe('("x" < 1)');
    expect(sqlOf("x <= 1")).toBe('("x" <= 1)');
    expect(sqlOf("x > 1")).toBe('("x" > 1)');
    expect(sqlOf("x >= -1.5")).toBe('("x" >= -1.5)');
    expect(sqlOf("5 < x")).toBe('(5 < "x")');
    expect(sqlOf("a = b")).toBe('("a" = "b")');
  });

  it("quotes identifiers with ctx.quoteIdent (dotted names stay one identifier)", () => {
    expect(sqlOf('"we""ird" = 1')).toBe('("we""ird" = 1)');
    expect(sqlOf("a.b = 1")).toBe('("a.b" = 1)');
    expect(sqlOf("x = 1", { quoteIdent: (n) => `\`${n}\`` })).toBe("(`x` = 1)");
  });

  it("renders literals by default and escapes strings", () => {
    expect(sqlOf("s = 'it''s'")).toBe(`("s" = 'it''s')`);
    expect(sqlOf("s = 'x'' OR 1=1 --'")).toBe(`("s" = 'x'' OR 1=1 --')`);
    expect(sqlOf("b = TRUE AND c = FALSE")).toBe('(("b" = TRUE) AND ("c" = FALSE))');
    expect(sqlOf("x = 18446744073709551615")).toBe('("x" = 18446744073709551615)');
    expect(sql(cmp(">", col("x"), lit(null)))).toBe('("x" > NULL)');
  });

  it("compiles AND / OR / NOT with full parenthesisation", () => {
    expect(sqlOf("a = 1 OR b = 2 AND c = 3")).toBe('(("a" = 1) OR (("b" = 2) AND ("c" = 3)))');
    expect(sqlOf("(a = 1 OR b = 2) AND c = 3")).toBe('((("a" = 1) OR ("b" = 2)) AND ("c" = 3))');
    expect(sqlOf("a AND b AND c")).toBe('("a" AND "b" AND "c")');
    expect(sqlOf("NOT (a = 1 OR b = 2)")).toBe('(NOT (("a" = 1) OR ("b" = 2)))');
    expect(sqlOf("NOT is_valid")).toBe('(NOT "is_valid")');
    expect(sqlOf("NOT NOT a")).toBe('(NOT (NOT "a"))');
  });

  it("compiles degenerate AND / OR", () => {
    expect(sql({ kind: "and", args: [] })).toBe("TRUE");
    expect(sql({ kind: "or", args: [] })).toBe("FALSE");
    expect(sql({ kind: "and", args: [eq("x", 1)] })).toBe('("x" = 1)');
    expect(sql({ kind: "or", args: [eq("x", 1)] })).toBe('("x" = 1)');
  });

  it("compiles bare columns and boolean literals as predicates", () => {
    expect(sqlOf("is_valid")).toBe('"is_valid"');
    expect(sqlOf("TRUE")).toBe("TRUE");
    expect(sqlOf("NULL")).toBe("NULL");
  });

  it("compiles IS [NOT] NULL (including = NULL / != NULL)", () => {
    expect(sqlOf("x IS NULL")).toBe('("x" IS NULL)');
    expect(sqlOf("x IS NOT NULL")).toBe('("x" IS NOT NULL)');
    expect(sqlOf("x = NULL")).toBe('("x" IS NULL)');
    expect(sqlOf("x <> NULL")).toBe('("x" IS NOT NULL)');
    expect(sql(isNull(eq("x", 1)))).toBe('(("x" = 1) IS NULL)');
  });

  it("compiles IN / NOT IN", () => {
    expect(sqlOf("x IN (1, 2, 3)")).toBe('("x" IN (1, 2, 3))');
    expect(sqlOf("x NOT IN ('a', 'it''s', NULL, TRUE, -2)")).toBe(
      `("x" NOT IN ('a', 'it''s', NULL, TRUE, -2))`,
    );
    expect(sqlOf("NOT x IN (1)")).toBe('(NOT ("x" IN (1)))');
  });

  it("compiles an empty IN list to FALSE (TRUE when negated)", () => {
    expect(sql(isIn("x", []))).toBe("FALSE");
    expect(sql(isIn("x", [], true))).toBe("TRUE");
    expect(sql(and(eq("y", 1), isIn("x", [])))).toBe('(("y" = 1) AND FALSE)');
  });

  it("uses ctx.column for every column reference", () => {
    const ctx: SqlExprContext = { ...ansi, column: (name) => `t.${ansi.quoteIdent(name)}` };
    expect(sqlOf("a = 1 AND b IN (1) AND c IS NULL AND d AND e < f", ctx)).toBe(
      '((t."a" = 1) AND (t."b" IN (1)) AND (t."c" IS NULL) AND t."d" AND (t."e" < t."f"))',
    );
  });

  it("uses ctx.literal for every literal", () => {
    const params: Literal[] = [];
    const ctx: SqlExprContext = {
      ...ansi,
      literal: (value) => {
        params.push(value);
        return `$${params.length}`;
      },
    };
    expect(sqlOf("a = 'x' OR b IN (1, NULL) OR c > 2.5", ctx)).toBe(
      '(("a" = $1) OR ("b" IN ($2, $3)) OR ("c" > $4))',
    );
    expect(params).toEqual(["x", 1, null, 2.5]);
  });

  it("produces SQL that parses back to the same expression", () => {
    const filters = [
      "x = 1",
      "x <> 'it''s'",
      "5 < x AND y >= -2.5",
      "a = 1 OR b = 2 AND NOT c = 3",
      "(a = 1 OR b = 2) AND c IS NOT NULL",
      "x IN (1, 'a', NULL, TRUE, 99999999999999999999) OR x NOT IN (2)",
      'NOT is_valid OR "a.b" IS NULL',
      "x = 1.5e-7",
    ];
    for (const filter of filters) {
      const expr = parseFilter(filter);
      expect(parseFilter(compileExpr(expr, ansi))).toEqual(expr);
    }
    const programmatic: Expr[] = [
      and(eq("x", 1), or(isNull(col("y")), not(isIn("z", ["a"], true)))),
      cmp("<=", lit(1e21), col("big")),
    ];
    for (const expr of programmatic) expect(parseFilter(compileExpr(expr, ansi))).toEqual(expr);
  });
});
