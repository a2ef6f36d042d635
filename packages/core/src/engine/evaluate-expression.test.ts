import { describe, expect, it } from "vitest";
import { FilterParseError } from "../errors.js";
import { parseFilter } from "../filters/filter-parser.js";
import { and, cmp, col, type Expr, eq, isIn, isNull, lit, not, or } from "../plan/expression.js";
import { evaluateExpr, matchesAll } from "./evaluate-expression.js";

const T = lit(true);
const F = lit(false);
const N = lit(null);

const ev = (filter: string, row: Record<string, unknown>) => evaluateExpr(parseFilter(filter), row);

describe("evaluateExpr: comparisons", () => {
  it("compares numbers", () => {
    const row = { x: 5 };
    expect(ev("x = 5", row)).toBe(true);
    expect(ev("x != 5", row)).toBe(false);
    expect(ev("x <> 4", row)).toBe(true);
    expect(ev("x > 4", row)).toBe(true);
    expect(ev("x >= 5", row)).toBe(true);
    expect(ev("x < 5", row)).toBe(false);
    expect(ev("x <= 4.5", row)).toBe(false);
    expect(ev("4 < x", row)).toBe(true);
    expect(ev("x > -1", row)).toBe(true);
  });

  it("compares numbers with bigints", () => {
    expect(ev("x = 9007199254740993", { x: 9007199254740993n })).toBe(true);
    expect(ev("x > 9007199254740992", { x: 9007199254740993n })).toBe(true);
    expect(ev("x < 9007199254740993", { x: 5 })).toBe(true);
    expect(ev("x = 5", { x: 5n })).toBe(true);
    expect(ev("x > 4.5", { x: 5n })).toBe(true);
    expect(ev("x < 5.5", { x: 5n })).toBe(true);
    expect(ev("x > 5.5", { x: 5n })).toBe(false);
    expect(ev("x < -4.5", { x: -5n })).toBe(true);
    expect(ev("x > 4", { x: Number.POSITIVE_INFINITY })).toBe(true);
    expect(ev("x > 9007199254740993", { x: Number.POSITIVE_INFINITY })).toBe(true);
    expect(ev("x < 9007199254740993", { x: Number.NEGATIVE_INFINITY })).toBe(true);
    expect(ev("1.0 = x", { x: 1n })).toBe(true);
  });

  it("orders NaN above every number and equal to itself", () => {
    expect(ev("x > 1e300", { x: Number.NaN })).toBe(true);
    expect(ev("x = y", { x: Number.NaN, y: Number.NaN })).toBe(true);
    expect(ev("x < y", { x: 1, y: Number.NaN })).toBe(true);
  });

  it("compares strings by code point", () => {
    expect(ev("s = 'abc'", { s: "abc" })).toBe(true);
    expect(ev("s < 'abd'", { s: "abc" })).toBe(true);
    expect(ev("s < 'abc'", { s: "ab" })).toBe(true);
    expect(ev("s > 'B'", { s: "a" })).toBe(true); // binary collation: 'a' (0x61) > 'B' (0x42)
    // U+1F600 (surrogate pair 0xD83D 0xDE00) sorts after U+FF5E, unlike UTF-16 code-unit order.
    expect(ev("s > '\uFF5E'", { s: "😀" })).toBe(true);
    expect(ev("s < '😀'", { s: "\uFF5E" })).toBe(true);
    expect(ev("s < '😁'", { s: "😀" })).toBe(true);
  });

  it("compares booleans", () => {
    expect(ev("b = TRUE", { b: true })).toBe(true);
    expect(ev("b = TRUE", { b: false })).toBe(false);
    expect(ev("b < TRUE", { b: false })).toBe(true);
    expect(ev("b != FALSE", { b: true })).toBe(true);
  });

  it("compares Dates with Dates and ISO strings by time", () => {
    const d = new Date("2024-05-01T12:00:00Z");
    expect(ev("d = '2024-05-01T12:00:00Z'", { d })).toBe(true);
    expect(ev("d = '2024-05-01T14:00:00+02:00'", { d })).toBe(true);
    expect(ev("d > '2024-05-01'", { d })).toBe(true);
    expect(ev("'2025-01-01' > d", { d })).toBe(true);
    expect(ev("d < e", { d, e: new Date("2024-05-02T00:00:00Z") })).toBe(true);
    expect(ev("d = e", { d, e: new Date(d.getTime()) })).toBe(true);
  });

  it("compares two columns", () => {
    expect(ev("a < b", { a: 1, b: 2 })).toBe(true);
    expect(ev("a = b", { a: "x", b: "x" })).toBe(true);
  });

  it("throws on incompatible types", () => {
    expect(() => ev("x = 'a'", { x: 1 })).toThrow(FilterParseError);
    expect(() => ev("x = 1", { x: "1" })).toThrow(/cannot compare string "1" with number 1/);
    expect(() => ev("x = TRUE", { x: 1 })).toThrow(FilterParseError);
    expect(() => ev("d = 'not a date'", { d: new Date(0) })).toThrow(FilterParseError);
    expect(() => ev("d = 5", { d: new Date(0) })).toThrow(FilterParseError);
    expect(() => ev("x = 1", { x: { a: 1 } })).toThrow(/cannot compare Object with number 1/);
  });
});

describe("evaluateExpr: NULL semantics", () => {
  it("makes any comparison with NULL unknown", () => {
    for (const op of ["=", "!=", "<", "<=", ">", ">="] as const) {
      expect(evaluateExpr(cmp(op, col("x"), lit(1)), { x: null })).toBeNull();
      expect(evaluateExpr(cmp(op, col("x"), N), { x: 1 })).toBeNull();
      expect(evaluateExpr(cmp(op, N, N), {})).toBeNull();
    }
    expect(evaluateExpr(cmp("=", col("x"), col("y")), { x: null, y: null })).toBeNull();
  });

  it("treats undefined values as NULL", () => {
    expect(ev("x = 1", { x: undefined })).toBeNull();
    expect(ev("x IS NULL", { x: undefined })).toBe(true);
  });

  it("evaluates IS [NOT] NULL (and = NULL / != NULL) to true/false", () => {
    expect(ev("x IS NULL", { x: null })).toBe(true);
    expect(ev("x IS NULL", { x: 0 })).toBe(false);
    expect(ev("x IS NOT NULL", { x: "" })).toBe(true);
    expect(ev("x IS NOT NULL", { x: null })).toBe(false);
    expect(ev("x = NULL", { x: null })).toBe(true);
    expect(ev("x != NULL", { x: Number.NaN })).toBe(true);
    expect(evaluateExpr(isNull(N), {})).toBe(true);
    expect(evaluateExpr(isNull(lit(1), true), {})).toBe(true);
    expect(evaluateExpr(isNull(eq("x", 1)), { x: null })).toBe(true);
  });

  it("implements Kleene AND", () => {
    const table: [Expr, Expr, boolean | null][] = [
      [T, T, true],
      [T, F, false],
      [T, N, null],
      [F, N, false],
      [N, F, false],
      [N, N, null],
      [F, F, false],
    ];
    for (const [a, b, expected] of table) expect(evaluateExpr(and(a, b), {})).toBe(expected);
    expect(evaluateExpr({ kind: "and", args: [] }, {})).toBe(true);
  });

  it("implements Kleene OR", () => {
    const table: [Expr, Expr, boolean | null][] = [
      [T, T, true],
      [T, F, true],
      [T, N, true],
      [N, T, true],
      [F, N, null],
      [N, N, null],
      [F, F, false],
    ];
    for (const [a, b, expected] of table) expect(evaluateExpr(or(a, b), {})).toBe(expected);
    expect(evaluateExpr({ kind: "or", args: [] }, {})).toBe(false);
  });

  it("implements Kleene NOT", () => {
    expect(evaluateExpr(not(T), {})).toBe(false);
    expect(evaluateExpr(not(F), {})).toBe(true);
    expect(evaluateExpr(not(N), {})).toBeNull();
    expect(ev("NOT x = 1", { x: null })).toBeNull();
  });

  it("combines NULL comparisons through logic like SQL", () => {
    const row = { x: null, y: 2 };
    expect(ev("x = 1 OR y = 2", row)).toBe(true);
    expect(ev("x = 1 AND y = 2", row)).toBeNull();
    expect(ev("x = 1 AND y = 3", row)).toBe(false);
    expect(ev("NOT (x = 1 OR y = 3)", row)).toBeNull();
  });
});

describe("evaluateExpr: IN", () => {
  it("matches list members", () => {
    expect(ev("x IN (1, 2, 3)", { x: 2 })).toBe(true);
    expect(ev("x IN (1, 2, 3)", { x: 4 })).toBe(false);
    expect(ev("x NOT IN (1, 2, 3)", { x: 4 })).toBe(true);
    expect(ev("x NOT IN (1, 2, 3)", { x: 2 })).toBe(false);
    expect(ev("s IN ('a', 'b')", { s: "b" })).toBe(true);
    expect(ev("x IN (9007199254740993)", { x: 9007199254740993n })).toBe(true);
    expect(ev("x IN (2)", { x: 2n })).toBe(true);
    expect(ev("b IN (TRUE)", { b: true })).toBe(true);
  });

  it("is unknown for a NULL left side", () => {
    expect(ev("x IN (1, 2)", { x: null })).toBeNull();
    expect(ev("x NOT IN (1, 2)", { x: null })).toBeNull();
  });

  it("is unknown when the list holds NULL and nothing matches", () => {
    expect(ev("x IN (1, NULL)", { x: 2 })).toBeNull();
    expect(ev("x NOT IN (1, NULL)", { x: 2 })).toBeNull();
    expect(ev("x IN (1, NULL)", { x: 1 })).toBe(true);
    expect(ev("x NOT IN (1, NULL)", { x: 1 })).toBe(false);
    expect(ev("x IN (NULL)", { x: null })).toBeNull();
  });

  it("treats an empty list as FALSE (TRUE when negated), like compileExpr", () => {
    expect(evaluateExpr(isIn("x", []), { x: 1 })).toBe(false);
    expect(evaluateExpr(isIn("x", [], true), { x: 1 })).toBe(true);
    expect(evaluateExpr(isIn("x", []), { x: null })).toBe(false);
    expect(() => evaluateExpr(isIn("missing", []), {})).toThrow(FilterParseError);
  });

  it("throws on incompatible member types", () => {
    expect(() => ev("x IN ('a')", { x: 1 })).toThrow(FilterParseError);
  });
});

describe("evaluateExpr: predicates and columns", () => {
  it("uses a bare boolean column as a predicate", () => {
    expect(ev("is_valid", { is_valid: true })).toBe(true);
    expect(ev("is_valid", { is_valid: false })).toBe(false);
    expect(ev("is_valid", { is_valid: null })).toBeNull();
    expect(ev("NOT is_valid", { is_valid: false })).toBe(true);
    expect(ev("NOT is_valid", { is_valid: null })).toBeNull();
    expect(ev("TRUE", {})).toBe(true);
    expect(ev("NULL", {})).toBeNull();
  });

  it("rejects a non-boolean column used as a predicate", () => {
    expect(() => ev("n", { n: 1 })).toThrow(/Filter uses column "n" as a condition/);
    expect(() => evaluateExpr(lit(1), {})).toThrow(FilterParseError);
  });

  it("resolves dotted column names as single keys", () => {
    expect(ev("a.b = 1", { "a.b": 1 })).toBe(true);
  });

  it("throws FilterParseError for an unknown column", () => {
    const attempt = () => ev("missing = 1", { x: 1 });
    expect(attempt).toThrow(FilterParseError);
    expect(attempt).toThrow('Filter references unknown column "missing"');
    try {
      attempt();
    } catch (e) {
      expect((e as FilterParseError).details).toEqual({ column: "missing" });
      expect((e as FilterParseError).column).toBe("missing");
    }
    expect(() => ev("missing IS NULL", {})).toThrow(FilterParseError);
    expect(() => ev("missing IN (1)", {})).toThrow(FilterParseError);
    expect(() => ev("flag", {})).toThrow(FilterParseError);
    // No short-circuit: the unknown column is reported even when the result is already decided.
    expect(() => ev("x = 2 AND missing = 1", { x: 1 })).toThrow(FilterParseError);
    expect(() => ev("x = 1 OR missing = 1", { x: 1 })).toThrow(FilterParseError);
  });

  it("does not resolve inherited properties", () => {
    expect(() => ev("toString IS NULL", {})).toThrow(FilterParseError);
  });

  it("evaluates nested boolean operands of programmatic comparisons", () => {
    expect(evaluateExpr(cmp("=", eq("x", 1), T), { x: 1 })).toBe(true);
    expect(evaluateExpr(cmp("=", eq("x", 1), T), { x: null })).toBeNull();
  });
});

describe("matchesAll", () => {
  it("is true only when every expression is exactly true", () => {
    const exprs = [parseFilter("x > 1"), parseFilter("s IN ('a', 'b')")];
    expect(matchesAll(exprs, { x: 2, s: "a" })).toBe(true);
    expect(matchesAll(exprs, { x: 1, s: "a" })).toBe(false);
    expect(matchesAll(exprs, { x: null, s: "a" })).toBe(false);
    expect(matchesAll(exprs, { x: 2, s: null })).toBe(false);
    expect(matchesAll([parseFilter("NOT x = 1")], { x: null })).toBe(false);
  });

  it("accepts every row when there are no expressions", () => {
    expect(matchesAll([], {})).toBe(true);
  });

  it("filters rows like a WHERE clause", () => {
    const rows = [
      { id: 1, age: 30, status: "ok" },
      { id: 2, age: 10, status: "deleted" },
      { id: 3, age: null, status: "ok" },
      { id: 4, age: 15, status: null },
    ];
    const exprs = [parseFilter("(age > 25 OR age < 18) AND status != 'deleted'")];
    expect(rows.filter((r) => matchesAll(exprs, r)).map((r) => r.id)).toEqual([1]);
    const nulls = [parseFilter("age IS NULL OR status = NULL")];
    expect(rows.filter((r) => matchesAll(nulls, r)).map((r) => r.id)).toEqual([3, 4]);
  });
});
