import { HASH_ALGORITHMS, hashString, initHashing } from "@metaxy/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clickhouseDialect as d } from "../src/clickhouse-dialect.js";
import type { ClickHouseDriver } from "../src/index.js";
import { embeddedDriver, sharedEnginePath } from "./engine.js";

// Inputs that break naive quoting, byte handling or length assumptions.
const HOSTILE = [
  "",
  "a",
  "\u0000",
  "a\u0000b\u0000",
  "'",
  "\\",
  "\\'",
  "''; DROP TABLE x; --",
  "{p0:String}",
  "tab\tnew\nline\rcr",
  "é",
  "日本語",
  "emoji 🧪👩‍🔬",
  "\u00ff\u0100\uffff",
  "x".repeat(100_000),
  "|".repeat(1000),
];

let driver: ClickHouseDriver;
beforeAll(async () => {
  await initHashing();
  driver = await embeddedDriver({ path: sharedEnginePath(), database: "hashes" });
  await driver.open("w");
});
afterAll(() => driver?.close());

describe("ClickHouse hashes equal core's", () => {
  for (const algorithm of HASH_ALGORITHMS) {
    it(`${algorithm}: bound parameters and string literals, full and truncated`, async () => {
      for (const input of HOSTILE) {
        const params = {};
        const bound = d.bind(input, params);
        const [row] = await driver.all(
          `SELECT ${d.hash(algorithm, bound, null)} AS full, ${d.hash(algorithm, d.string(input), null)} AS lit, ${d.hash(algorithm, bound, 8)} AS short`,
          params,
        );
        const expected = hashString(algorithm, input);
        expect({ input: input.slice(0, 40), full: row.full }).toEqual({
          input: input.slice(0, 40),
          full: expected,
        });
        expect(row.lit).toBe(expected);
        expect(row.short).toBe(expected.slice(0, 8));
      }
    });
  }

  it("NULL propagates through every hash", async () => {
    for (const algorithm of HASH_ALGORITHMS) {
      const [row] = await driver.all(`SELECT ${d.hash(algorithm, "CAST(NULL AS Nullable(String))", 8)} AS h`);
      expect(row.h).toBeNull();
    }
  });
});

describe("dialect round trips", () => {
  it("string literals and bound values come back unchanged", async () => {
    for (const input of HOSTILE) {
      const params = {};
      const [row] = await driver.all(
        `SELECT ${d.string(input)} AS lit, ${d.bind(input, params)} AS bound`,
        params,
      );
      expect(row.lit === input && row.bound === input).toBe(true);
    }
  });

  it("binds integers, floats, booleans, dates, big integers and NULL with their types", async () => {
    const params = {};
    const date = new Date("2026-03-04T05:06:07.089Z");
    const [row] = await driver.all(
      `SELECT ${d.bind(42, params)} AS i, ${d.bind(-1.5, params)} AS f, ${d.bind(true, params)} AS b, ${d.bind(date, params)} AS t, ${d.bind(2n ** 62n, params)} AS big, ${d.bind(null, params)} AS n, toTypeName(${d.bind(42, params)}) AS it`,
      params,
    );
    expect(row).toEqual({ i: 42, f: -1.5, b: true, t: date, big: 2n ** 62n, n: null, it: "Int64" });
    expect(Object.values(params)).not.toContain(null);
  });

  it("quotes hostile identifiers", async () => {
    for (const name of ["a`b", "a\\b", "select", "x y", "é"]) {
      const [row] = await driver.all(`SELECT 1 AS ${d.quoteIdent(name)}`);
      expect(Object.keys(row)).toEqual([name]);
    }
  });

  it("maps: a missing key reads NULL; ordered string_agg sorts and skips NULLs", async () => {
    const [row] = await driver.all(
      `SELECT ${d.mapGet(d.map(["a"], ["'1'"]), "a")} AS a, ${d.mapGet(d.map(["a"], ["'1'"]), "b")} AS b, ${d.mapGet(d.map([], []), "a")} AS e`,
    );
    expect(row).toEqual({ a: "1", b: null, e: null });
    const tuple = "CAST(tuple('1') AS Tuple(a Nullable(String)))";
    const [st] = await driver.all(`SELECT ${d.structGet(tuple, "a")} AS a, ${d.structGet(tuple, "b")} AS b`);
    expect(st).toEqual({ a: "1", b: null });
    const [agg] = await driver.all(
      `SELECT ${d.orderedStringAgg("v", "'|'", "k1, k2")} AS s FROM (SELECT arrayJoin([('b', 2, 'z'), ('a', 9, 'y'), ('a', 1, 'x'), ('c', 0, NULL)]) AS t, t.1 AS k1, t.2 AS k2, t.3 AS v)`,
    );
    expect(agg.s).toBe("x|y|z");
    const [none] = await driver.all(
      `SELECT ${d.orderedStringAgg("v", "'|'", "k")} AS s FROM (SELECT 1 AS k, CAST(NULL AS Nullable(String)) AS v)`,
    );
    expect(none.s).toBeNull();
  });
});
