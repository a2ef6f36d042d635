import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { duckdb } from "@metaxy/backend-duckdb";
import { type Backend, memory } from "@metaxy/core";
import { afterAll, describe, expect, it } from "vitest";
import { quickstart } from "../src/quickstart/quickstart.js";

const dir = mkdtempSync(join(tmpdir(), "metaxy-examples-quickstart-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const backends: Array<[string, () => Backend]> = [
  ["duckdb file", () => duckdb({ path: join(dir, `quickstart-${++files}.duckdb`) })],
  ["memory", () => memory()],
];

describe.each(backends)("quickstart (the root README's example) on %s", (_name, backend) => {
  it("transcribes both videos, then only the one whose audio changed", async () => {
    const { first, second } = await quickstart(backend());
    // Increment rows come in no particular order.
    expect({ ...first, transcribed: [...first.transcribed].sort() }).toEqual({
      new: 2,
      stale: 0,
      orphaned: 0,
      failed: 0,
      transcribed: ["v1", "v2"],
    });
    expect(second).toEqual({ new: 0, stale: 1, orphaned: 0, failed: 0, transcribed: ["v2"] });
  });

  it("runs with the default backend, memory()", async () => {
    const { first, second } = await quickstart();
    expect([first.new, second.stale, second.transcribed]).toEqual([2, 1, ["v2"]]);
  });
});
