import { describe, expect, it, vi } from "vitest";
import {
  type Backend,
  BackendSpecVersionError,
  FeatureGraph,
  MetadataStore,
  defineFeature,
  memory,
} from "../src/index.js";
import { BACKEND_SPEC_VERSION } from "../src/backend.js";

const graph = new FeatureGraph([defineFeature({ key: "a", idColumns: ["id"], fields: ["x"] })]);

/** A memory backend claiming another contract version (a backend built against another core). */
function backendOfVersion(version: unknown): Backend {
  const backend = memory();
  Object.defineProperty(backend, "specificationVersion", { value: version });
  return backend;
}

describe("MetadataStore.open checks the backend's contract version", () => {
  it("accepts the current one", async () => {
    expect(memory().specificationVersion).toBe(BACKEND_SPEC_VERSION);
    const store = await MetadataStore.open(memory(), { graph });
    await store.close();
  });

  it.each([
    ["an older version", "v1", '"v1"'],
    ["a newer version", "v3", '"v3"'],
    ["no version", undefined, "(none declared)"],
  ])(
    "refuses %s with a typed error naming the backend and both versions, before opening it",
    async (_, found, shown) => {
      const backend = backendOfVersion(found);
      const open = vi.spyOn(backend, "open");
      const err = await MetadataStore.open(backend, { graph }).catch((e: unknown) => e);
      expect(BackendSpecVersionError.isInstance(err)).toBe(true);
      expect(err).toMatchObject({
        code: "BACKEND_SPEC_VERSION_MISMATCH",
        details: { backend: "memory", expected: BACKEND_SPEC_VERSION, found: found ?? null },
      });
      expect((err as Error).message).toContain(`Backend "memory" implements backend contract ${shown}`);
      expect((err as Error).message).toContain(`expects "${BACKEND_SPEC_VERSION}"`);
      expect(open).not.toHaveBeenCalled();
    },
  );
});
