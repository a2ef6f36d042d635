import { describe, expect, it } from "vitest";
import { FilterParseError, MetaxyError } from "../errors.js";
import { and, cmp, col, type Expr, eq, isIn, isNull, lit, not, or } from "../plan/expression.js";
import { MAX_FILTER_DEPTH, checkExpr, parseFilter, parseFilters } from "./filter-parser.js";

function parseError(text: string): FilterParseError {
  try {
    parseFilter(text);
  } catch (e) {
    expect(e).toBeInstanceOf(FilterParseError);
    return e as FilterParseError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`);
}

describe("parseFilter: comparisons", () => {
  it.each([
    ["x = 1", "="],
    ["x != 1", "!="],
    ["x <> 1", "!="],
    ["x > 1", ">"],
    ["x < 1", "<"],
    ["x >= 1", ">="],
    ["x <= 1", "<="],
  ] as const)("%s", (text, op) => {
    expect(parseFilter(text)).toEqual(cmp(op, col("x"), lit(1)));
  });

  it("needs no whitespace around operators", () => {
    expect(parseFilter("x>=1")).toEqual(cmp(">=", col("x"), lit(1)));
    expect(parseFilter("x<>'a'")).toEqual(cmp("!=", col("x"), lit("a")));
  });

  it("keeps a literal on the left", () => {
    expect(parseFilter("5 < x")).toEqual(cmp("<", lit(5), col("x")));
    expect(parseFilter("'a' = name")).toEqual(cmp("=", lit("a"), col("name")));
  });

  it("compares two columns", () => {
    expect(parseFilter("a >= b")).toEqual(cmp(">=", col("a"), col("b")));
  });

  it("accepts parenthesised operands", () => {
    expect(parseFilter("(x) = (1)")).toEqual(eq("x", 1));
    expect(parseFilter("((x)) > ((-2))")).toEqual(cmp(">", col("x"), lit(-2)));
  });
});

describe("parseFilter: literals", () => {
  it("parses strings with '' escapes", () => {
    expect(parseFilter("s = 'it''s'")).toEqual(eq("s", "it's"));
    expect(parseFilter("s = ''")).toEqual(eq("s", ""));
    expect(parseFilter("s = ''''")).toEqual(eq("s", "'"));
    expect(parseFilter("s = 'a \"b\" AND c = 1'")).toEqual(eq("s", 'a "b" AND c = 1'));
    expect(parseFilter("s = 'ünï ✓ 😀'")).toEqual(eq("s", "ünï ✓ 😀"));
    expect(parseFilter("s = 'back\\slash'")).toEqual(eq("s", "back\\slash"));
  });

  it("parses integers as numbers when safe, bigints otherwise", () => {
    expect(parseFilter("x = 0")).toEqual(eq("x", 0));
    expect(parseFilter("x = 007")).toEqual(eq("x", 7));
    expect(parseFilter("x = 9007199254740991")).toEqual(eq("x", Number.MAX_SAFE_INTEGER));
    expect(parseFilter("x = 9007199254740992")).toEqual(eq("x", 9007199254740992n));
    expect(parseFilter("x = -9007199254740991")).toEqual(eq("x", -Number.MAX_SAFE_INTEGER));
    expect(parseFilter("x = -9223372036854775808")).toEqual(eq("x", -9223372036854775808n));
    expect(parseFilter("x = 18446744073709551615")).toEqual(eq("x", 18446744073709551615n));
  });

  it("parses floats", () => {
    expect(parseFilter("x = 1.5")).toEqual(eq("x", 1.5));
    expect(parseFilter("x = .5")).toEqual(eq("x", 0.5));
    expect(parseFilter("x = 2.")).toEqual(eq("x", 2));
    expect(parseFilter("x = 1e3")).toEqual(eq("x", 1000));
    expect(parseFilter("x = 1.5E-3")).toEqual(eq("x", 0.0015));
    expect(parseFilter("x = 2e+2")).toEqual(eq("x", 200));
  });

  it("applies unary minus to numbers", () => {
    expect(parseFilter("x > -5")).toEqual(cmp(">", col("x"), lit(-5)));
    expect(parseFilter("x > - 2.5")).toEqual(cmp(">", col("x"), lit(-2.5)));
    expect(parseFilter("-1 < x")).toEqual(cmp("<", lit(-1), col("x")));
  });

  it("parses TRUE / FALSE case-insensitively", () => {
    expect(parseFilter("flag = TRUE")).toEqual(eq("flag", true));
    expect(parseFilter("flag = false")).toEqual(eq("flag", false));
    expect(parseFilter("flag != True")).toEqual(cmp("!=", col("flag"), lit(true)));
  });

  it("accepts boolean and NULL literals as predicates", () => {
    expect(parseFilter("TRUE")).toEqual(lit(true));
    expect(parseFilter("false OR x = 1")).toEqual(or(lit(false), eq("x", 1)));
    expect(parseFilter("NULL")).toEqual(lit(null));
  });
});

describe("parseFilter: identifiers", () => {
  it("parses plain identifiers (including _ $ digits and unicode)", () => {
    expect(parseFilter("_a1$ = 1")).toEqual(eq("_a1$", 1));
    expect(parseFilter("größe = 1")).toEqual(eq("größe", 1));
  });

  it("joins dotted names into one column", () => {
    expect(parseFilter("a.b = 1")).toEqual(eq("a.b", 1));
    expect(parseFilter("a.b.c IS NULL")).toEqual(isNull(col("a.b.c")));
    expect(parseFilter("a . b = 1")).toEqual(eq("a.b", 1));
  });

  it("accepts double-quoted and backquoted identifiers", () => {
    expect(parseFilter('"my col" = 1')).toEqual(eq("my col", 1));
    expect(parseFilter('"a""b" = 1')).toEqual(eq('a"b', 1));
    expect(parseFilter("`my col` = 1")).toEqual(eq("my col", 1));
    expect(parseFilter("`a``b` = 1")).toEqual(eq("a`b", 1));
    expect(parseFilter('"a.b" = 1')).toEqual(eq("a.b", 1));
    expect(parseFilter('"a"."b c".`d` = 1')).toEqual(eq("a.b c.d", 1));
    expect(parseFilter('"select" = 1')).toEqual(eq("select", 1));
  });

  it("lets quoted identifiers use keyword names", () => {
    expect(parseFilter('"and" = 1 AND "NULL" IS NULL')).toEqual(and(eq("and", 1), isNull(col("NULL"))));
  });

  it("treats a bare column as a boolean predicate", () => {
    expect(parseFilter("is_valid")).toEqual(col("is_valid"));
    expect(parseFilter("NOT is_valid")).toEqual(not(col("is_valid")));
    expect(parseFilter("(is_valid)")).toEqual(col("is_valid"));
    expect(parseFilter("is_valid AND x = 1")).toEqual(and(col("is_valid"), eq("x", 1)));
    expect(parseFilter('"a.b" OR NOT c.d')).toEqual(or(col("a.b"), not(col("c.d"))));
  });
});

describe("parseFilter: NULL handling", () => {
  it("parses IS NULL / IS NOT NULL", () => {
    expect(parseFilter("x IS NULL")).toEqual(isNull(col("x")));
    expect(parseFilter("x is not null")).toEqual(isNull(col("x"), true));
    expect(parseFilter("(x) IS NOT NULL")).toEqual(isNull(col("x"), true));
  });

  it("turns = NULL / != NULL / <> NULL into IS [NOT] NULL", () => {
    expect(parseFilter("x = NULL")).toEqual(isNull(col("x")));
    expect(parseFilter("x != NULL")).toEqual(isNull(col("x"), true));
    expect(parseFilter("x <> null")).toEqual(isNull(col("x"), true));
    expect(parseFilter("NULL = x")).toEqual(isNull(col("x")));
    expect(parseFilter("NULL <> x")).toEqual(isNull(col("x"), true));
  });

  it("keeps other comparisons with NULL as comparisons", () => {
    expect(parseFilter("x > NULL")).toEqual(cmp(">", col("x"), lit(null)));
    expect(parseFilter("1 = NULL")).toEqual(cmp("=", lit(1), lit(null)));
  });
});

describe("parseFilter: IN", () => {
  it("parses IN / NOT IN with literal lists", () => {
    expect(parseFilter("x IN (1, 2, 3)")).toEqual(isIn("x", [1, 2, 3]));
    expect(parseFilter("x in ('a')")).toEqual(isIn("x", ["a"]));
    expect(parseFilter("x NOT IN ('a', 'b')")).toEqual(isIn("x", ["a", "b"], true));
    expect(parseFilter("x not in (-1, 2.5, TRUE, FALSE, NULL, 'it''s', 99999999999999999999)")).toEqual(
      isIn("x", [-1, 2.5, true, false, null, "it's", 99999999999999999999n], true),
    );
    expect(parseFilter("a.b IN (1)")).toEqual(isIn("a.b", [1]));
    expect(parseFilter("(x) IN (1)")).toEqual(isIn("x", [1]));
  });

  it("distinguishes NOT x IN from x NOT IN", () => {
    expect(parseFilter("NOT x IN (1)")).toEqual(not(isIn("x", [1])));
  });

  it("rejects a non-column left side", () => {
    expect(parseError("5 IN (1, 2)").message).toMatch(/^Unsupported IN: the left side must be a column/);
    expect(parseError("(x = 1) IN (TRUE)").message).toMatch(/^Unsupported IN/);
    expect(parseError("'a' NOT IN ('a')").message).toMatch(/^Unsupported NOT IN/);
  });

  it("rejects non-literal list items", () => {
    expect(parseError("x IN (1, y)").message).toMatch(/^Unsupported IN list item .*only literals/);
    expect(parseError('x IN ("y")').message).toMatch(/^Unsupported IN list item/);
    expect(parseError("x IN (SELECT 1)").message).toMatch(/^Unsupported IN list item/);
    expect(parseError("x IN ((1))").message).toMatch(/^Unsupported IN list item/);
    expect(parseError("x IN (1 + 1)").message).toMatch(/^Unsupported arithmetic/);
  });

  it("rejects malformed lists", () => {
    expect(parseError("x IN ()").message).toMatch(/^Unsupported empty IN list/);
    expect(parseError("x IN 1").message).toMatch(/Unexpected "1"/);
    expect(parseError("x IN (1,)").message).toMatch(/^Unsupported IN list item/);
    expect(parseError("x IN (1 2)").message).toMatch(/Unexpected "2"/);
    expect(parseError("x IN (1, 2").message).toMatch(/Missing "\)"/);
  });
});

describe("parseFilter: logic and precedence", () => {
  it("parses keywords case-insensitively", () => {
    expect(parseFilter("a = 1 and b = 2 Or NoT c = 3")).toEqual(
      or(and(eq("a", 1), eq("b", 2)), not(eq("c", 3))),
    );
  });

  it("binds AND tighter than OR", () => {
    expect(parseFilter("a = 1 OR b = 2 AND c = 3")).toEqual(or(eq("a", 1), and(eq("b", 2), eq("c", 3))));
    expect(parseFilter("a = 1 AND b = 2 OR c = 3")).toEqual(or(and(eq("a", 1), eq("b", 2)), eq("c", 3)));
  });

  it("binds NOT tighter than AND, looser than comparisons", () => {
    expect(parseFilter("NOT a = 1 AND b = 2")).toEqual(and(not(eq("a", 1)), eq("b", 2)));
    expect(parseFilter("NOT a IS NULL")).toEqual(not(isNull(col("a"))));
    expect(parseFilter("NOT NOT a")).toEqual(not(not(col("a"))));
  });

  it("collects chains into n-ary nodes", () => {
    expect(parseFilter("a AND b AND c")).toEqual(and(col("a"), col("b"), col("c")));
    expect(parseFilter("a OR b OR c")).toEqual(or(col("a"), col("b"), col("c")));
  });

  it("respects parentheses", () => {
    expect(parseFilter("(a = 1 OR b = 2) AND c = 3")).toEqual(and(or(eq("a", 1), eq("b", 2)), eq("c", 3)));
    expect(parseFilter("NOT (a = 1 OR b = 2)")).toEqual(not(or(eq("a", 1), eq("b", 2))));
    expect(parseFilter("(((a = 1)))")).toEqual(eq("a", 1));
    expect(parseFilter("(age > 25 OR age < 18) AND status != 'deleted'")).toEqual(
      and(
        or(cmp(">", col("age"), lit(25)), cmp("<", col("age"), lit(18))),
        cmp("!=", col("status"), lit("deleted")),
      ),
    );
  });

  it("ignores surrounding and inner whitespace (incl. newlines and tabs)", () => {
    expect(parseFilter("\n\t a\n=\t1  ")).toEqual(eq("a", 1));
  });
});

describe("parseFilter: errors", () => {
  it.each(["", "   ", "\n\t"])("rejects empty input %j", (text) => {
    const err = parseError(text);
    expect(err.message).toBe("Filter string cannot be empty.");
    expect(err.code).toBe("FILTER_PARSE_ERROR");
  });

  it("rejects non-string input", () => {
    expect(() => parseFilter(42 as unknown as string)).toThrow(FilterParseError);
  });

  it.each([
    ["name LIKE 'a%'", /^Unsupported operator "LIKE"/],
    ["name not like 'a%'", /^Unsupported operator "NOT LIKE"/],
    ["name ILIKE 'a%'", /^Unsupported operator "ILIKE"/],
    ["x BETWEEN 1 AND 2", /^Unsupported operator "BETWEEN"/],
    ["x NOT BETWEEN 1 AND 2", /^Unsupported operator "NOT BETWEEN"/],
    ["lower(name) = 'a'", /^Unsupported function call "lower\(...\)"/],
    ["x = abs(y)", /^Unsupported function call "abs\(...\)"/],
    ["a.f(x)", /^Unsupported function call "a.f\(...\)"/],
    ["x + 1 > 2", /^Unsupported arithmetic operator "\+"/],
    ["x > 1 + 2", /^Unsupported arithmetic operator "\+"/],
    ["x - 1 > 2", /^Unsupported arithmetic operator "-"/],
    ["x * 2 = 4", /^Unsupported arithmetic operator "\*"/],
    ["x / 2 = 4", /^Unsupported arithmetic operator "\/"/],
    ["x % 2 = 0", /^Unsupported arithmetic operator "%"/],
    ["a || b = 'x'", /^Unsupported arithmetic operator "\|\|"/],
    ["x = -y", /^Unsupported unary minus/],
    ["x = -'a'", /^Unsupported unary minus/],
    ["x == 1", /^Unsupported operator "=="/],
    ["x IS TRUE", /^Unsupported "IS TRUE"/],
    ["x IS NOT 5", /^Unsupported "IS NOT 5"/],
    ["(a = 1) = TRUE", /^Unsupported operand/],
    ["x = (a = 1)", /^Unsupported operand/],
    ["5", /^Unsupported predicate/],
    ["'abc'", /^Unsupported predicate/],
    ["x = 1 AND 2", /^Unsupported predicate/],
    ["NOT 0", /^Unsupported predicate/],
  ])("rejects unsupported %s", (text, pattern) => {
    const err = parseError(text);
    expect(err.message).toMatch(pattern);
    expect(err.message).toContain(`in filter "${text}"`);
    expect(err.details).toEqual({ filter: text });
  });

  it.each([
    ["s = 'abc", /^Unterminated string literal starting at position 4/],
    ["s = 'it''s", /^Unterminated string literal/],
    ['"abc = 1', /^Unterminated quoted identifier/],
    ["`abc = 1", /^Unterminated quoted identifier/],
    ['"" = 1', /^Empty quoted identifier/],
    ["x = 1 y", /^Unexpected "y" at position 6/],
    ["x = 1 = 2", /^Unexpected "=" at position 6/],
    ["x = 1)", /^Unbalanced "\)" at position 5/],
    ["(x = 1", /^Missing "\)" for "\(" at position 0/],
    ["()", /^Empty parentheses/],
    ["x =", /^Unexpected end of input \(expected a column or a literal\)/],
    ["= 1", /^Unexpected "="/],
    ["x = 1 AND", /^Unexpected end of input/],
    ["AND x = 1", /^Unexpected "AND"/],
    ["x = NOT y", /^Unexpected "NOT"/],
    ["x NOT y", /^Unexpected "NOT"/],
    ["x IS", /^Missing NULL after "IS"/],
    ["x = 1; DROP TABLE t", /^Unexpected character ";"/],
    ["x ! 1", /^Unexpected character "!"/],
    ["x = @p", /^Unexpected character "@"/],
    ["x = 1abc", /^Malformed number "1a"/],
    ["x = 1.2.3", /^Malformed number/],
    ["x = 1e", /^Malformed number/],
    ["a. = 1", /^Unexpected "=" .*expected a name after "\."/],
    ["x = 1e999", /^Numeric literal "1e999" .* out of range/],
    ["x = 'a' 'b'", /^Unexpected string 'b'/],
  ])("rejects malformed %s", (text, pattern) => {
    const err = parseError(text);
    expect(err.message).toMatch(pattern);
    expect(err.message).toContain(`in filter "${text}"`);
    expect(err.details).toEqual({ filter: text });
  });

  it("raises MetaxyError subclasses with a stable code and JSON form", () => {
    const err = parseError("name LIKE 'a%'");
    expect(MetaxyError.isInstance(err)).toBe(true);
    expect(err.toJSON()).toMatchObject({ error: "FILTER_PARSE_ERROR", filter: "name LIKE 'a%'" });
  });
});

describe("parseFilters", () => {
  it("returns [] for undefined and empty arrays", () => {
    expect(parseFilters(undefined)).toEqual([]);
    expect(parseFilters([])).toEqual([]);
  });

  it("parses strings and passes expressions through", () => {
    const expr: Expr = isIn("y", [1]);
    expect(parseFilters("x = 1")).toEqual([eq("x", 1)]);
    const passed = parseFilters(expr);
    expect(passed).toHaveLength(1);
    expect(passed[0]).toBe(expr);
    const mixed = parseFilters(["x = 1", expr, "z IS NULL"]);
    expect(mixed).toEqual([eq("x", 1), expr, isNull(col("z"))]);
    expect(mixed[1]).toBe(expr);
  });

  it("propagates parse errors", () => {
    expect(() => parseFilters(["x = 1", ""])).toThrow("Filter string cannot be empty.");
  });
});

describe("parseFilter: limits", () => {
  const nested = (depth: number) => `${"(".repeat(depth)}x = 1${")".repeat(depth)}`;

  it(`accepts ${MAX_FILTER_DEPTH} levels of nesting and rejects one more, without overflowing the stack`, () => {
    expect(parseFilter(nested(MAX_FILTER_DEPTH))).toEqual(eq("x", 1));
    expect(parseError(nested(MAX_FILTER_DEPTH + 1)).message).toMatch(
      `Filter nests deeper than ${MAX_FILTER_DEPTH} levels at position ${MAX_FILTER_DEPTH}`,
    );
    for (const text of [nested(5000), `${"NOT ".repeat(5000)}x`, `x IN (${"(".repeat(5000)}1)`])
      expect(() => parseFilter(text)).toThrow(FilterParseError);
    const nots = `${"NOT ".repeat(MAX_FILTER_DEPTH)}x`;
    expect(() => parseFilter(nots)).not.toThrow();
    expect(() => parseFilter(`NOT ${nots}`)).toThrow(/nests deeper/);
  });

  it("cuts a long filter short in the message but keeps it whole in the details", () => {
    const text = nested(5000);
    const err = parseError(text);
    expect(err.message.length).toBeLessThan(400);
    expect(err.details.filter).toBe(text);
  });

  it("rejects NUL characters anywhere, quoted or not", () => {
    for (const text of ["x = 'a\u0000b'", "x\u0000 = 1", "\u0000", '"a\u0000" = 1']) {
      const err = parseError(text);
      expect(err.message).toMatch(/^NUL character at position \d+ in filter/);
      expect(err.message).not.toContain("\u0000");
    }
  });
});

describe("checkExpr: expressions built in code", () => {
  it("passes valid expressions through unchanged", () => {
    const expr = and(eq("x", 1), or(isNull(col("y")), isIn("z", ["a", 2n, null])), not(col("flag")));
    expect(checkExpr(expr)).toBe(expr);
    expect(parseFilters([expr])).toEqual([expr]);
  });

  it.each([
    ["an unknown kind", { kind: "like", column: "x" }, /unknown node kind "like"/],
    [
      "an unknown operator",
      { kind: "compare", op: "~", left: col("x"), right: lit(1) },
      /unknown comparison/,
    ],
    ["an empty column name", eq("", 1), /column name "" is not a non-empty string/],
    ["a NUL in a column name", eq("a\u0000", 1), /contains a NUL character/],
    ["a NUL in a string", eq("a", "x\u0000y"), /contains a NUL character/],
    ["a non-finite number", eq("a", Number.NaN), /not a finite number/],
    ["an object literal", { kind: "literal", value: {} }, /is not a string, number/],
    ["a missing args array", { kind: "and" }, /needs an args array/],
  ])("rejects %s", (_, expr, message) => {
    expect(() => parseFilters([expr as Expr])).toThrow(FilterParseError);
    expect(() => checkExpr(expr as Expr)).toThrow(message);
  });

  it(`rejects nesting deeper than ${MAX_FILTER_DEPTH} levels without overflowing the stack`, () => {
    let deep: Expr = col("flag");
    for (let i = 0; i < 100_000; i++) deep = not(deep);
    expect(() => checkExpr(deep)).toThrow(/nests deeper than/);
  });
});
