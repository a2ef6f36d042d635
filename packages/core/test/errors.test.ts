import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  ColumnCollisionError,
  CycleError,
  DuplicateFieldError,
  FeatureGraph,
  FeatureKey,
  FilterParseError,
  InvalidKeyError,
  InvalidRenameError,
  MetadataSchemaError,
  MetadataStore,
  MissingFeatureDependencyError,
  RootFeatureWithoutSamplesError,
  ValidationError,
  defineFeature,
  memory,
  parseFilter,
} from "../src/index.js";

const root = defineFeature({
  key: "a/root",
  idColumns: ["id"],
  fields: ["x", "y"],
  schema: z.object({ id: z.string(), label: z.string() }),
});

describe("typed errors name what is at fault", () => {
  it("invalid keys", () => {
    for (const bad of ["", "A/b", "a//b", "a/b__c", "a/B", "9a"]) {
      expect(() => new FeatureKey(bad)).toThrow(InvalidKeyError);
    }
    expect(() => defineFeature({ key: "Bad/Key", idColumns: ["id"] })).toThrow(InvalidKeyError);
    expect(new FeatureKey("video/raw-x").tableName).toBe("video__raw_x");
  });

  it("duplicate field", () => {
    const err = catchError(() =>
      defineFeature({ key: "a/b", idColumns: ["id"], fields: ["x", { key: "x" }] }),
    );
    expect(err).toBeInstanceOf(DuplicateFieldError);
    expect(err).toMatchObject({ code: "DUPLICATE_FIELD", details: { feature: "a/b", field: "x" } });
  });

  it("empty id columns and unknown spec keys", () => {
    expect(() => defineFeature({ key: "a/b", idColumns: [] })).toThrow(ValidationError);
    expect(() => defineFeature({ key: "a/b", idColumns: ["id"], colour: "red" } as any)).toThrow(
      /colour|Unrecognized/,
    );
  });

  it("unknown dependency", () => {
    const child = defineFeature({ key: "a/child", idColumns: ["id"], deps: ["a/missing"] });
    const graph = new FeatureGraph([child]);
    const err = catchError(() => graph.plan("a/child"));
    expect(err).toBeInstanceOf(MissingFeatureDependencyError);
    expect(err).toMatchObject({ details: { feature: "a/child", dependency: "a/missing" } });
  });

  it("cycles, named in order", () => {
    const a = defineFeature({ key: "c/a", idColumns: ["id"], deps: ["c/c"] });
    const b = defineFeature({ key: "c/b", idColumns: ["id"], deps: ["c/a"] });
    const c = defineFeature({ key: "c/c", idColumns: ["id"], deps: ["c/b"] });
    const graph = new FeatureGraph([a, b]);
    const err = catchError(() => graph.add(c)) as CycleError;
    expect(err).toBeInstanceOf(CycleError);
    expect(err.message).toContain("c/c -> c/a -> c/b -> c/c"); // upstream → downstream, from the feature added
    expect(err.cycle).toEqual(["c/c", "c/a", "c/b", "c/c"]);
    expect(graph.has("c/c")).toBe(false); // the graph is left as it was
    const self = defineFeature({ key: "c/self", idColumns: ["id"], deps: ["c/self"] });
    expect(() => new FeatureGraph([self])).toThrow(CycleError);
  });

  it("rename onto a system column or an upstream id column", async () => {
    for (const rename of [{ label: "metaxy_provenance" }, { label: "id" }]) {
      const child = defineFeature({ key: "a/child", idColumns: ["id"], deps: [{ feature: root, rename }] });
      await using store = await MetadataStore.open(memory(), { graph: new FeatureGraph([root, child]) });
      const err = await store.resolveUpdate(child).catch((e) => e);
      expect(err).toBeInstanceOf(InvalidRenameError);
      expect(err.details.column).toBe(Object.values(rename)[0]);
    }
  });

  it("column collision between deps", async () => {
    const other = defineFeature({
      key: "a/other",
      idColumns: ["id"],
      fields: ["z"],
      schema: z.object({ id: z.string(), label: z.string() }),
    });
    const child = defineFeature({ key: "a/child", idColumns: ["id"], deps: [root, other] });
    await using store = await MetadataStore.open(memory(), { graph: new FeatureGraph([root, other, child]) });
    const err = await store.resolveUpdate(child).catch((e) => e);
    expect(err).toBeInstanceOf(ColumnCollisionError);
    expect(err.details).toMatchObject({ feature: "a/child", column: "label" });
    // renaming one side resolves it
    const fixed = defineFeature({
      key: "a/child",
      idColumns: ["id"],
      deps: [root, { feature: other, rename: { label: "other_label" } }],
    });
    await using store2 = await MetadataStore.open(memory(), {
      graph: new FeatureGraph([root, other, fixed]),
    });
    await store2.write(root, [{ id: "1", label: "r", metaxy_provenance_by_field: { x: "1", y: "1" } }]);
    await store2.write(other, [{ id: "1", label: "o", metaxy_provenance_by_field: { z: "1" } }]);
    const rows = (await (await store2.resolveUpdate(fixed)).toArray()).new;
    expect(rows).toMatchObject([{ id: "1", label: "r", other_label: "o" }]);
  });

  it("write without provenance stores nothing", async () => {
    await using store = await MetadataStore.open(memory(), { graph: new FeatureGraph([root]) });
    const err = await store.write(root, [{ id: "1", label: "x" } as any]).catch((e) => e);
    expect(err).toBeInstanceOf(MetadataSchemaError);
    expect(err.details).toMatchObject({ feature: "a/root", column: "metaxy_provenance_by_field" });
    expect(await store.hasFeature(root)).toBe(false);
  });

  it("root feature resolved without samples", async () => {
    await using store = await MetadataStore.open(memory(), { graph: new FeatureGraph([root]) });
    const err = await store.resolveUpdate(root).catch((e) => e);
    expect(err).toBeInstanceOf(RootFeatureWithoutSamplesError);
    expect(err.details.feature).toBe("a/root");
  });

  it("malformed filter strings", () => {
    for (const bad of ["", "a LIKE 'x'", "f(a) = 1", "a + 1 = 2", "a = 'unterminated"]) {
      expect(() => parseFilter(bad)).toThrow(FilterParseError);
    }
    expect(() =>
      defineFeature({
        key: "a/child",
        idColumns: ["id"],
        deps: [{ feature: root, filters: ["x LIKE 'y'"] }],
      }),
    ).toThrow(FilterParseError);
    expect(catchError(() => parseFilter(""))?.message).toBe("Filter string cannot be empty.");
  });
});

function catchError(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}
