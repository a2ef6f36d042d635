import {
  type AnyZodObject,
  type DefineFeatureInput,
  type FeatureDefinition,
  FeatureGraph,
  MetaxyError,
  type Row,
  col,
  defineFeature,
  eq,
  lit,
  not,
} from "@metaxy/core";
import { z } from "zod";
import { type BackendConformanceOptions, idsOf, suiteTitle, useHarness } from "../harness.js";
import type { TestApi } from "../test-api.js";

/** The cases pass malformed inputs on purpose, so definitions drop their row types. */
const feature = (input: DefineFeatureInput<AnyZodObject | undefined>): FeatureDefinition =>
  defineFeature(input);

/** err/raw (typed: string, integer, boolean, timestamp columns) → err/child (filters on its dependency). */
function errGraph() {
  const raw = feature({
    key: "err/raw",
    idColumns: ["id"],
    fields: ["default"],
    schema: z.object({ id: z.string(), n: z.int(), label: z.string(), flag: z.boolean(), at: z.date() }),
  });
  const child = feature({ key: "err/child", idColumns: ["id"], deps: [raw], fields: ["default"] });
  return { raw, child, graph: new FeatureGraph([raw, child]) };
}

const rawRow = (i: number): Row => ({
  id: `r${i}`,
  n: i,
  label: `l${i}`,
  flag: i % 2 === 0,
  at: new Date(Date.UTC(2024, 0, i + 1)),
  metaxy_provenance_by_field: { default: `v${i}` },
});

/** Runs `fn`, expecting a Metaxy error: never a raw engine error, a RangeError or a TypeError. */
async function metaxyError(fn: () => unknown): Promise<MetaxyError> {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error("expected an error, got none");
  if (!MetaxyError.isInstance(error))
    throw new Error(`not a MetaxyError: ${String(error)}`, { cause: error });
  return error;
}

const deepFilter = (depth: number) => `${"(".repeat(depth)}n = 1${")".repeat(depth)}`;

/**
 * Bad inputs that reach the engine as SQL or rows fail with a typed error naming the feature and
 * column at fault, the same on every backend, before the engine sees them; what the engine still
 * raises arrives as ENGINE_ERROR, never raw.
 */
export function engineErrorsSuite(test: TestApi, options: BackendConformanceOptions): void {
  const { describe, it, expect } = test;
  describe(suiteTitle(options, "typed errors for bad inputs"), () => {
    const h = useHarness(test, options);

    async function seeded() {
      const g = errGraph();
      const store = await h.open(g.graph);
      await store.write(g.raw, [rawRow(0), rawRow(1), rawRow(2)]);
      return { ...g, store };
    }

    it("a filter on an unknown column is COLUMN_NOT_FOUND naming the feature and column", async () => {
      const { store, raw } = await seeded();
      const details = { feature: "err/raw", column: "nope" };
      for (const filters of ["nope = 1", "n = 1 AND nope IS NULL", "nope IN (1, 2)", "NOT nope"])
        expect(await metaxyError(() => store.read(raw, { filters }))).toMatchObject({
          code: "COLUMN_NOT_FOUND",
          details,
        });
      expect(await metaxyError(() => store.count(raw, { filters: "nope = 1" }))).toMatchObject({
        code: "COLUMN_NOT_FOUND",
        details,
      });
      for (const soft of [true, false])
        expect(await metaxyError(() => store.delete(raw, "nope = 1", { soft }))).toMatchObject({
          code: "COLUMN_NOT_FOUND",
          details,
        });
      expect(await store.count(raw, { withSampleHistory: true })).toBe(3);
    });

    it("reading unknown columns is COLUMN_NOT_FOUND", async () => {
      const { store, raw } = await seeded();
      expect(await metaxyError(() => store.read(raw, { columns: ["id", "nope"] }))).toMatchObject({
        code: "COLUMN_NOT_FOUND",
        details: { feature: "err/raw", column: "nope" },
      });
      expect(idsOf(await store.read(raw, { columns: ["id"] }), "id")).toEqual(["r0", "r1", "r2"]);
    });

    it("a value of the wrong type for its column is FILTER_TYPE_ERROR naming the column", async () => {
      const { store, raw } = await seeded();
      for (const [filters, column] of [
        ["n = 'abc'", "n"],
        ["n = '1'", "n"],
        ["n IN (1, 'x')", "n"],
        ["label = 1", "label"],
        ["flag = 'yes'", "flag"],
        ["at = 'not a date'", "at"],
        ["at = 5", "at"],
        ["label = n", "label"],
        ["label", "label"],
        ["NOT n", "n"],
      ] as const)
        expect([filters, await metaxyError(() => store.read(raw, { filters }))]).toMatchObject([
          filters,
          { code: "FILTER_TYPE_ERROR", details: { feature: "err/raw", column } },
        ]);
      // values that fit are fine
      expect(
        idsOf(
          await store.read(raw, { filters: "n >= 1 AND flag AND at > '2024-01-01' AND label != 'x'" }),
          "id",
        ),
      ).toEqual(["r2"]);
    });

    it("deeply nested filters are FILTER_PARSE_ERROR, not a stack overflow", async () => {
      const { store, raw, child } = await seeded();
      for (const filters of [deepFilter(5000), `${"NOT ".repeat(5000)}flag`])
        expect(await metaxyError(() => store.read(raw, { filters }))).toMatchObject({
          code: "FILTER_PARSE_ERROR",
        });
      let built = eq("n", 1);
      for (let i = 0; i < 5000; i++) built = not(built);
      expect(await metaxyError(() => store.read(raw, { filters: built }))).toMatchObject({
        code: "FILTER_PARSE_ERROR",
      });
      expect(
        await metaxyError(() => store.resolveUpdate(child, { globalFilters: deepFilter(5000) })),
      ).toMatchObject({ code: "FILTER_PARSE_ERROR" });
      // moderate nesting works
      expect(idsOf(await store.read(raw, { filters: deepFilter(50) }), "id")).toEqual(["r1"]);
    });

    it("a NUL character in a filter is FILTER_PARSE_ERROR", async () => {
      const { store, raw } = await seeded();
      for (const filters of ["label = 'l\u00001'", "label\u0000 = 'x'", "\u0000"])
        expect(await metaxyError(() => store.read(raw, { filters }))).toMatchObject({
          code: "FILTER_PARSE_ERROR",
        });
      for (const built of [
        eq("label", "l\u00001"),
        { kind: "compare", op: "=", left: col("la\u0000bel"), right: lit(1) },
      ])
        expect(await metaxyError(() => store.read(raw, { filters: built as never }))).toMatchObject({
          code: "FILTER_PARSE_ERROR",
        });
    });

    it("NUL characters in values that are not filters are stored and matched as they are", async () => {
      const { graph, raw } = errGraph();
      const store = await h.open(graph, { materializationId: "run\u00001" });
      const key = "batch\u00000";
      expect(await store.write(raw, [rawRow(0)], { idempotencyKey: key })).toBe(1);
      expect(await store.write(raw, [rawRow(0)], { idempotencyKey: key })).toBe(0);
      expect(await store.delete(raw, "id = 'r0'")).toBe(1);
      const rows = await store.read(raw, { includeSoftDeleted: true, withSampleHistory: true });
      expect(rows.map((r) => r.metaxy_materialization_id)).toEqual(["run\u00001", "run\u00001"]);
    });

    it("a null (or non-object) row is METADATA_SCHEMA_ERROR naming the row, writing nothing", async () => {
      const { store, raw } = await seeded();
      for (const bad of [null, undefined, 7, "row", [1]])
        expect(await metaxyError(() => store.write(raw, [rawRow(5), bad as never]))).toMatchObject({
          code: "METADATA_SCHEMA_ERROR",
          details: { feature: "err/raw", row: 1 },
        });
      expect(await metaxyError(() => store.write(raw, null as never))).toMatchObject({
        code: "METADATA_SCHEMA_ERROR",
      });
      expect(await store.count(raw, { withSampleHistory: true })).toBe(3);
    });

    it("samples without id columns, provenance or as objects are METADATA_SCHEMA_ERROR", async () => {
      const { store, raw } = await seeded();
      const prov = { metaxy_provenance_by_field: { default: "x" } };
      expect(await metaxyError(() => store.resolveUpdate(raw, { samples: [prov] }))).toMatchObject({
        code: "METADATA_SCHEMA_ERROR",
        details: { feature: "err/raw", column: "id", row: 0 },
      });
      expect(
        await metaxyError(() =>
          store.resolveUpdate(raw, {
            samples: [
              { id: "a", ...prov },
              { id: null, ...prov },
            ],
          }),
        ),
      ).toMatchObject({ code: "METADATA_SCHEMA_ERROR", details: { column: "id", row: 1 } });
      expect(await metaxyError(() => store.resolveUpdate(raw, { samples: [{ id: "a" }] }))).toMatchObject({
        code: "METADATA_SCHEMA_ERROR",
        details: { column: "metaxy_provenance_by_field" },
      });
      expect(await metaxyError(() => store.resolveUpdate(raw, { samples: [null as never] }))).toMatchObject({
        code: "METADATA_SCHEMA_ERROR",
        details: { row: 0 },
      });
      expect(
        await metaxyError(() => store.resolveUpdate(raw, { samples: [{ id: "a", __status: "x", ...prov }] })),
      ).toMatchObject({ code: "RESERVED_COLUMN", details: { column: "__status" } });
      expect(
        await metaxyError(() =>
          store.resolveUpdate(raw, { samples: [{ id: "a", ...prov }], targetFilters: "nope = 1" }),
        ),
      ).toMatchObject({ code: "COLUMN_NOT_FOUND", details: { column: "nope" } });
    });

    it("resolve-update filters are checked against the table each one reads", async () => {
      const { store, child } = await seeded();
      await store.write(child, [{ id: "r0", metaxy_provenance_by_field: { default: "x" } }]);
      const cases: Array<[object, string, Row]> = [
        [{ filters: { "err/raw": "nope = 1" } }, "COLUMN_NOT_FOUND", { feature: "err/raw", column: "nope" }],
        [{ filters: { "err/raw": "n = 'abc'" } }, "FILTER_TYPE_ERROR", { feature: "err/raw", column: "n" }],
        [{ globalFilters: "n = 1" }, "COLUMN_NOT_FOUND", { feature: "err/child", column: "n" }],
        [{ targetFilters: "nope = 1" }, "COLUMN_NOT_FOUND", { feature: "err/child", column: "nope" }],
        [{ stalenessPredicates: "id = 1" }, "FILTER_TYPE_ERROR", { feature: "err/child", column: "id" }],
      ];
      for (const [resolveOptions, code, details] of cases)
        expect([
          resolveOptions,
          await metaxyError(() => store.resolveUpdate(child, resolveOptions)),
        ]).toMatchObject([resolveOptions, { code, details }]);
    });

    it("a dependency's own filter on an unknown or mistyped column names the feature and dependency", async () => {
      const { graph, raw } = errGraph();
      const backend = await h.backend();
      const store = await h.open(graph, { backend });
      await store.write(raw, [rawRow(0)]);
      for (const [filter, code, column] of [
        ["nope = 1", "COLUMN_NOT_FOUND", "nope"],
        ["n = 'x'", "FILTER_TYPE_ERROR", "n"],
      ] as const) {
        const child = feature({
          key: "err/child",
          idColumns: ["id"],
          deps: [{ feature: raw, filters: [filter] }],
          fields: ["default"],
        });
        const s = await h.open(new FeatureGraph([raw, child]), { backend });
        expect(await metaxyError(() => s.resolveUpdate(child))).toMatchObject({
          code,
          details: { feature: "err/child", dependency: "err/raw", column },
        });
      }
    });
  });
}
