import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import * as errors from "../src/errors.js";
import {
  ColumnCollisionError,
  CycleError,
  DuplicateFieldError,
  EmptyCodeVersionError,
  EngineError,
  FeatureGraph,
  FeatureKey,
  FilterParseError,
  InvalidKeyError,
  InvalidRenameError,
  MetadataSchemaError,
  MetadataStore,
  MetaxyError,
  type MetaxyErrorCode,
  MissingFeatureDependencyError,
  RootFeatureWithoutSamplesError,
  TableNotFoundError,
  ValidationError,
  defineFeature,
  featureFromSpecJson,
  memory,
  parseFilter,
  pythonJsonDumps,
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

type ErrorClassName = {
  [K in keyof typeof errors]: (typeof errors)[K] extends typeof MetaxyError ? K : never;
}[keyof typeof errors];
type ErrorClass = (typeof errors)[ErrorClassName];
type ClassCodes<K extends ErrorClassName> = K extends "MetaxyError"
  ? "METAXY_ERROR"
  : InstanceType<(typeof errors)[K]>["code"];

const errorClasses = Object.entries(errors).filter(
  (e): e is [string, ErrorClass] =>
    typeof e[1] === "function" && (e[1] === MetaxyError || e[1].prototype instanceof MetaxyError),
);
const subclasses = errorClasses.filter(([, cls]) => cls !== MetaxyError);

describe("error classes", () => {
  it("MetaxyErrorCode lists exactly the codes of the error classes", () => {
    expectTypeOf<ClassCodes<ErrorClassName>>().toEqualTypeOf<MetaxyErrorCode>();
    const codes = subclasses.map(([, cls]) => new cls("m").code);
    expect(new Set(codes).size).toBe(codes.length); // one class per code
    expect(codes).toEqual(expect.arrayContaining(["IDEMPOTENCY_CONFLICT", "STORE_CLOSED", "ENGINE_ERROR"]));
  });

  it("each class's isInstance recognises its own errors only", () => {
    expect(subclasses.length).toBeGreaterThan(30);
    for (const [name, cls] of subclasses) {
      const err = new cls("boom", { feature: "a/b" });
      expect(err.name).toBe(name);
      expect(MetaxyError.isInstance(err)).toBe(true);
      for (const [otherName, other] of subclasses)
        expect([otherName, other.isInstance(err)]).toEqual([otherName, otherName === name]);
    }
    expect(errors.FeatureNotFoundError.isInstance(new ValidationError("x"))).toBe(false);
    for (const notOurs of [
      new Error("x"),
      { code: "VALIDATION_ERROR" },
      null,
      undefined,
      "VALIDATION_ERROR",
    ]) {
      expect(MetaxyError.isInstance(notOurs)).toBe(false);
      expect(ValidationError.isInstance(notOurs)).toBe(false);
    }
  });

  it("isInstance works across two copies of the package, where instanceof does not", async () => {
    const copy: typeof errors = await import(/* @vite-ignore */ `../src/errors.js?copy=${Date.now()}`);
    expect(copy.ValidationError).not.toBe(ValidationError);
    const foreign = new copy.ValidationError("from the other copy");
    expect(foreign).not.toBeInstanceOf(ValidationError);
    expect(ValidationError.isInstance(foreign)).toBe(true);
    expect(MetaxyError.isInstance(foreign)).toBe(true);
    expect(errors.FeatureNotFoundError.isInstance(foreign)).toBe(false);
    expect(copy.ValidationError.isInstance(new ValidationError("x"))).toBe(true);
  });

  it("isInstance narrows to the class, extra members included", () => {
    const e: unknown = new CycleError("c", { cycle: ["a", "b", "a"] });
    if (CycleError.isInstance(e)) {
      expectTypeOf(e).toEqualTypeOf<CycleError>();
      expect(e.cycle).toEqual(["a", "b", "a"]);
    } else expect.unreachable();
  });

  it("EngineError keeps the engine's error as cause; Metaxy errors pass through wrap", () => {
    const raw = new Error('Binder Error: column "nope" not found');
    const wrapped = EngineError.wrap(raw, { feature: "a/b" }, "Reading a/b");
    expect(EngineError.isInstance(wrapped)).toBe(true);
    expect(wrapped).toMatchObject({ code: "ENGINE_ERROR", cause: raw, details: { feature: "a/b" } });
    expect(wrapped.message).toBe('Reading a/b: Binder Error: column "nope" not found');
    const ours = new ValidationError("x");
    expect(EngineError.wrap(ours)).toBe(ours);
  });
});

describe("no plain Error, RangeError or TypeError", () => {
  it("batchSize that is not a positive integer", async () => {
    await using store = await MetadataStore.open(memory(), { graph: new FeatureGraph([root]) });
    const inc = await store.resolveUpdate(root, {
      samples: [{ id: "1", metaxy_provenance_by_field: { x: "1", y: "1" } }],
    });
    const err = await (async () => {
      for await (const _ of inc.toProcess({ batchSize: 0 })) break;
    })().catch((e) => e);
    expect(ValidationError.isInstance(err)).toBe(true);
    expect(err.details).toMatchObject({ batchSize: 0 });
  });

  it("hash truncation below the minimum", () => {
    const err = catchError(() => new FeatureGraph([], { hashTruncationLength: 3 }));
    expect(ValidationError.isInstance(err)).toBe(true);
    expect(err.details).toMatchObject({ hashTruncationLength: 3 });
  });

  it("unknown lineage and fields-mapping types in a spec", () => {
    const spec = (dep: Record<string, unknown>) => ({
      key: "a/child",
      id_columns: ["id"],
      deps: [{ feature: "a/root", ...dep }],
    });
    const lineage = catchError(() => featureFromSpecJson(spec({ lineage: { type: "N:N" } })));
    expect(ValidationError.isInstance(lineage)).toBe(true);
    const mapping = catchError(() => featureFromSpecJson(spec({ fields_mapping: { type: "some" } })));
    expect(ValidationError.isInstance(mapping)).toBe(true);
  });

  it("a value JSON cannot carry", () => {
    expect(ValidationError.isInstance(catchError(() => pythonJsonDumps({ f: () => 1 })))).toBe(true);
  });

  it("an empty code version", () => {
    const err = catchError(() =>
      defineFeature({ key: "a/b", idColumns: ["id"], fields: [{ key: "x", codeVersion: "" }] }),
    );
    expect(EmptyCodeVersionError.isInstance(err)).toBe(true);
    expect(err).toMatchObject({ code: "EMPTY_CODE_VERSION", details: { feature: "a/b", field: "x" } });
  });

  it("a backend tombstone append to a missing table", async () => {
    const backend = memory();
    const query = {
      table: "a__missing",
      idColumns: ["id"],
      featureVersion: null,
      latestOnly: true,
      includeSoftDeleted: false,
      filters: [],
      columns: null,
    };
    const err = await backend.appendTombstones(query, {}).catch((e: unknown) => e as any);
    expect(TableNotFoundError.isInstance(err)).toBe(true);
    expect(err.details).toMatchObject({ table: "a__missing" });
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
