/**
 * Golden versions of features whose dependencies carry `sql_filters`. No reference vector has
 * one, so these pin the filter text that feeds spec, definition and project versions. Every
 * expected value below was checked against Python Metaxy 0.1.11: the same `sql_filters` give the
 * same `model_dump(mode="json")`, `feature_spec_version` and definition version (the schema of a
 * class with no columns, named as the key in PascalCase: `clips/eq_string` → `ClipsEqString`), and
 * each printed filter parses there to the same expression as the hand-written one.
 */
import { describe, expect, it } from "vitest";
import { FilterParseError } from "../src/errors.js";
import { parseFilter } from "../src/filters/filter-parser.js";
import { FeatureGraph } from "../src/graph/feature-graph.js";
import { type Expr, and, cmp, col, eq, isIn, isNull, lit, not, or } from "../src/plan/expression.js";
import { defineFeature, specToJson } from "../src/spec/define-feature.js";
import { formatFilterForVersion } from "../src/versioning/filter-version-format.js";
import { specVersionOfJson } from "../src/versioning/graph-versions.js";

const root = defineFeature({ key: "clips/raw", idColumns: ["clip_id"] });

function versionsOf(name: string, filters: (string | Expr)[]) {
  const feature = defineFeature({
    key: `clips/${name}`,
    idColumns: ["clip_id"],
    deps: [{ feature: root, filters }],
  });
  const spec = specToJson(feature.spec);
  return {
    sqlFilters: (spec.deps as { sql_filters: string[] }[])[0].sql_filters,
    specVersion: specVersionOfJson(spec, 64),
    definitionVersion: new FeatureGraph([root, feature]).definitionVersion(feature.key),
  };
}

// name, expression, printed text, full spec version, definition version (truncation 8)
const CASES: [string, Expr, string, string, string][] = [
  [
    "eq_string",
    eq("status", "active"),
    `("status" = 'active')`,
    "22202f2a2b9c509bd6e6455cd198722a1db866b437f8d17d09dd9b471e718c03",
    "8a060ece",
  ],
  [
    "ne_float",
    cmp("!=", col("score"), lit(1.5)),
    `("score" <> 1.5)`,
    "c7c35d9187bf3d9f90cd7ff52153877041e6b78726c2f454f22063cd65c0cf42",
    "320da648",
  ],
  [
    "range_and",
    and(cmp(">=", col("age"), lit(25)), cmp("<", col("age"), lit(65))),
    `(("age" >= 25) AND ("age" < 65))`,
    "00589416c7eb73e67e167d330c8a3d5bae4e50673fae3383ffe2269e497b862c",
    "4afcf907",
  ],
  [
    "or_not_quote",
    or(eq("a", 1), not(eq("b", "it's"))),
    `(("a" = 1) OR (NOT ("b" = 'it''s')))`,
    "47f169b8cb49b4239eb663f777bb7740f92b352cf83e374025aed8852ef00eb0",
    "8dc14ac9",
  ],
  [
    "in_strings",
    isIn("lang", ["en", "de"]),
    `("lang" IN ('en', 'de'))`,
    "309cf0e1753721fc99ced4f809add1fb815e7f6d13d0c69619a89ef8b91f0c8e",
    "67c0f58c",
  ],
  [
    "not_in_numbers",
    isIn("n", [1, -3, 2.5], true),
    `("n" NOT IN (1, -3, 2.5))`,
    "3162c166c69ea03c55d68f45ab5297666ca981d8f4956317d649b57485c4d66c",
    "a1436f8f",
  ],
  [
    "is_null",
    isNull(col("deleted_at")),
    `("deleted_at" IS NULL)`,
    "9aa4b4da450748a80b5c1baa57c7c9dd52f2ed317a83de09d27b6d2d7095610f",
    "afa4aed9",
  ],
  [
    "is_not_null",
    isNull(col("path"), true),
    `("path" IS NOT NULL)`,
    "e124c35d28c101a910123e6a760239eaaeae5c866d255a65b624127f61d4b26d",
    "2d9cd9a0",
  ],
  [
    "nested",
    and(or(eq("a", 1), cmp(">", col("b"), lit(2))), not(or(isNull(col("c")), isIn("d", ["x", "y"])))),
    `((("a" = 1) OR ("b" > 2)) AND (NOT (("c" IS NULL) OR ("d" IN ('x', 'y')))))`,
    "cdcdf0087bf25cd4ebd4f39819fc117df472dbb90fc44692a84f4e14a92aee0c",
    "010ada07",
  ],
  [
    "booleans",
    and(eq("flag", true), cmp("!=", col("other"), lit(false))),
    `(("flag" = TRUE) AND ("other" <> FALSE))`,
    "3218caeed531840a768f8a43b8abcfdb95640e1d7e1fd6a0215180683a458e15",
    "35a0a93c",
  ],
  [
    "dotted_and_quoted",
    and(eq("meta.lang", "en"), eq('we"ird', "o''k")),
    `(("meta.lang" = 'en') AND ("we""ird" = 'o''''k'))`,
    "4b7aa3d13fc9c4ac28622d9ca11fbe71586b1b787a79f6d4cadccb80125feec2",
    "78789168",
  ],
  [
    "column_vs_column",
    cmp("<=", col("start"), col("end")),
    `("start" <= "end")`,
    "9c1464e763731f7d30d69b8bb3d90bb3ec0a5b8ffe219acab86a03c445f6baa1",
    "51ac673f",
  ],
  [
    "bigint_zero",
    and(eq("big", 9007199254740993n), eq("zero", -0)),
    `(("big" = 9007199254740993) AND ("zero" = 0))`,
    "edefa544f59ea3d8b2a3ee7fd3c1185772b41b26d76fded0d4d379295f2da165",
    "dacb0e4a",
  ],
];

describe("filter text in feature versions", () => {
  it.each(CASES)(
    "%s: printed, spec and definition versions",
    (name, expr, printed, specVersion, definitionVersion) => {
      expect(formatFilterForVersion(expr)).toBe(printed);
      expect(versionsOf(name, [expr])).toEqual({ sqlFilters: [printed], specVersion, definitionVersion });
    },
  );

  it.each(CASES.filter(([name]) => name !== "bigint_zero"))(
    "%s: the printed text parses back to the expression",
    (_name, expr, printed) => {
      expect(parseFilter(printed)).toEqual(expr);
    },
  );

  it("hashes filter strings as written, next to printed expressions", () => {
    const filters = [
      "age >= 25",
      "status = 'active' AND NOT (x IS NULL)",
      "name IN ('a', 'it''s')",
      eq("k", "v"),
    ];
    expect(versionsOf("mixed", filters)).toEqual({
      sqlFilters: [
        "age >= 25",
        "status = 'active' AND NOT (x IS NULL)",
        "name IN ('a', 'it''s')",
        `("k" = 'v')`,
      ],
      specVersion: "8e61e75b2323f79b492279b8354eabaf7614e7008e9daafb921abde4e270faa3",
      definitionVersion: "0e4b0f99",
    });
  });

  it("prints empty AND / OR / IN as their constants and rejects non-finite numbers", () => {
    expect(formatFilterForVersion({ kind: "and", args: [] })).toBe("TRUE");
    expect(formatFilterForVersion({ kind: "or", args: [] })).toBe("FALSE");
    expect(formatFilterForVersion(isIn("x", []))).toBe("FALSE");
    expect(formatFilterForVersion(isIn("x", [], true))).toBe("TRUE");
    expect(formatFilterForVersion({ kind: "and", args: [eq("x", 1)] })).toBe(`("x" = 1)`);
    expect(() => formatFilterForVersion(eq("x", Number.NaN))).toThrow(FilterParseError);
  });
});
