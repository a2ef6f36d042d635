import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type Backend,
  EngineError,
  FeatureGraph,
  MetadataStore,
  MetaxyError,
  defineFeature,
  featureFromSpecJson,
  graphFromSnapshot,
  graphToSnapshot,
  memory,
} from "../src/index.js";

function caught(fn: () => unknown): MetaxyError {
  try {
    fn();
  } catch (e) {
    if (MetaxyError.isInstance(e)) return e;
    throw e;
  }
  throw new Error("expected a throw");
}

const base = { idColumns: ["id"], fields: ["default"] };

describe("feature keys → table names", () => {
  it("rejects keys in the store's namespace at defineFeature, and when a graph is rebuilt from specs", () => {
    for (const key of [
      "metaxy-system/feature_versions",
      "metaxy_system/events",
      "metaxy_stage/x",
      "metaxy/a",
    ])
      expect(caught(() => defineFeature({ key, ...base }))).toMatchObject({
        code: "TABLE_NAME_COLLISION",
        details: { feature: key },
      });
    expect(
      caught(() => featureFromSpecJson({ key: "metaxy_system/feature_versions", id_columns: ["id"] })).code,
    ).toBe("TABLE_NAME_COLLISION");
    // other keys starting with "metaxy" are the user's
    expect(defineFeature({ key: "metaxyish/a", ...base }).key.tableName).toBe("metaxyish__a");
  });

  it("rejects two features sharing a table at graph build and keeps the mapping injective", () => {
    const a = defineFeature({ key: "v/raw-x", ...base });
    const b = defineFeature({ key: "v/raw_x", ...base });
    expect(caught(() => new FeatureGraph([a, b]))).toMatchObject({
      code: "TABLE_NAME_COLLISION",
      message: expect.stringContaining('"v/raw-x" and "v/raw_x"'),
    });
    const graph = new FeatureGraph([a]);
    expect(graph.featureOfTable("v__raw_x")).toBe(a);
    // re-registering the same key is not a collision
    graph.add(defineFeature({ key: "v/raw-x", ...base }), { onConflict: "ignore" });
    expect(graph.featureOfTable("v__raw_x")).toBe(a);
    // a snapshot round trip keeps the mapping
    expect(graphFromSnapshot(graphToSnapshot(graph)).featureOfTable("v__raw_x")?.key.toString()).toBe(
      "v/raw-x",
    );
  });

  it("rejects two fields sharing a provenance map entry, naming both", () => {
    expect(
      caught(() => defineFeature({ key: "a/b", idColumns: ["id"], fields: ["x/y_z", "x_y/z"] })),
    ).toMatchObject({
      code: "DUPLICATE_FIELD",
      details: { feature: "a/b", fields: ["x/y_z", "x_y/z"] },
    });
  });

  it("rejects two dependencies sharing a column suffix, naming both", () => {
    const p = defineFeature({ key: "p/q_r", ...base });
    const q = defineFeature({ key: "p_q/r", ...base });
    expect(caught(() => defineFeature({ key: "c/d", ...base, deps: [p, q] }))).toMatchObject({
      code: "COLUMN_COLLISION",
      details: { feature: "c/d", dependencies: ["p/q_r", "p_q/r"] },
    });
  });
});

describe("reserved column names at defineFeature", () => {
  it.each([
    "__status",
    "__cur__id",
    "rowid",
    "RowId",
    "metaxy_provenance",
    "METAXY_PROVENANCE",
    "metaxy_other",
  ])("rejects schema column %s (RESERVED_COLUMN)", (column) => {
    const err = caught(() =>
      defineFeature({ key: "a/b", ...base, schema: z.object({ id: z.string(), [column]: z.string() }) }),
    );
    expect(err).toMatchObject({ code: "RESERVED_COLUMN", details: { feature: "a/b", column } });
  });

  it("rejects reserved id columns and rename targets", () => {
    expect(caught(() => defineFeature({ key: "a/b", idColumns: ["__status"] }))).toMatchObject({
      code: "RESERVED_COLUMN",
      details: { column: "__status" },
    });
    const up = defineFeature({ key: "a/up", ...base });
    expect(
      caught(() =>
        defineFeature({ key: "a/b", ...base, deps: [{ feature: up, rename: { label: "__status" } }] }),
      ),
    ).toMatchObject({ code: "RESERVED_COLUMN", details: { feature: "a/b", column: "__status" } });
  });

  it("rejects schema columns that differ only in case (COLUMN_COLLISION)", () => {
    const err = caught(() =>
      defineFeature({
        key: "a/b",
        ...base,
        schema: z.object({ id: z.string(), Name: z.string(), name: z.string() }),
      }),
    );
    expect(err).toMatchObject({
      code: "COLUMN_COLLISION",
      details: { feature: "a/b", columns: ["Name", "name"] },
    });
  });

  it("accepts ordinary names, including ones with inner double underscores", () => {
    const schema = z.object({ id: z.string(), a__b: z.string(), _private: z.string(), row_id: z.int() });
    expect(() => defineFeature({ key: "a/b", ...base, schema })).not.toThrow();
  });
});

describe("checked backend", () => {
  /** A memory backend whose engine calls fail with a raw error. */
  function failing(method: keyof Backend): Backend {
    const inner = memory();
    return new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === method)
          return () => {
            const raw = new TypeError("engine exploded");
            if (method === "read")
              return {
                async *[Symbol.asyncIterator]() {
                  yield* [];
                  throw raw;
                },
              };
            return Promise.reject(raw);
          };
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  const feature = defineFeature({ key: "a/b", ...base });
  const graph = new FeatureGraph([feature]);
  const rows = [{ id: "x", metaxy_provenance_by_field: { default: "v" } }];

  it.each<[keyof Backend, (s: MetadataStore) => Promise<unknown>]>([
    ["write", (s: MetadataStore) => s.write(feature, rows)],
    ["tableSchema", (s: MetadataStore) => s.write(feature, rows)],
    ["tableExists", (s: MetadataStore) => s.read(feature)],
    ["read", async (s: MetadataStore) => s.read(feature, { allowFallback: false })],
    ["resolveUpdate", (s: MetadataStore) => s.resolveUpdate(feature, { samples: rows })],
    ["deleteRows", (s: MetadataStore) => s.delete(feature, null, { soft: false })],
    ["dropTable", (s: MetadataStore) => s.dropFeature(feature)],
  ])("a raw error of %s reaches the caller as ENGINE_ERROR naming the feature", async (method, act) => {
    const backend = failing(method);
    await using store = await MetadataStore.open(backend, { graph });
    if (method !== "write" && method !== "tableSchema")
      await store.write(feature, rows).catch(() => undefined);
    const err = (await act(store).then(
      () => undefined,
      (e: unknown) => e,
    )) as EngineError;
    expect(EngineError.isInstance(err)).toBe(true);
    expect(err).toMatchObject({ code: "ENGINE_ERROR", details: { feature: "a/b" } });
    expect(err.message).toContain("memory failed");
    expect(err.message).toContain("engine exploded");
    expect(err.cause).toBeInstanceOf(TypeError);
  });

  it("lets Metaxy errors of the engine through unchanged", async () => {
    await using store = await MetadataStore.open(memory(), { graph });
    const err = await store.openStagedIncrement("nope").catch((e) => e);
    expect(err.code).toBe("METADATA_STORE_ERROR");
  });
});
