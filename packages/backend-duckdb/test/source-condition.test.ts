import { describe, expect, it } from "vitest";

// The workspace's `@metaxy/source` export condition (vitest.shared.ts): these tests run against
// core's and the testkit's TypeScript source, so editing them needs no rebuild of their dist.
describe("workspace packages resolve to their source in tests", () => {
  it("@metaxy/core and its subpaths are core's src modules, not dist", async () => {
    expect(await import("@metaxy/core")).toBe(await import("../../core/src/index.js"));
    expect(await import("@metaxy/core/backend")).toBe(await import("../../core/src/backend.js"));
    expect(await import("@metaxy/core")).not.toBe(await import("../../core/dist/index.js"));
  });

  it("@metaxy/backend-testkit is the testkit's src", async () => {
    expect(await import("@metaxy/backend-testkit")).toBe(await import("../../backend-testkit/src/index.js"));
  });
});
