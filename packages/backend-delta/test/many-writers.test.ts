import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeatureGraph, MetadataStore, defineFeature } from "@metaxy/core";
import { afterAll, describe, expect, it } from "vitest";
import { delta } from "../src/index.js";
import { deltaRs } from "./delta-rs.js";

const dir = mkdtempSync(join(tmpdir(), "metaxy-delta-writers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const writer = join(import.meta.dirname, "fixtures", "writer.mjs");
const raw = defineFeature({ key: "many/raw", idColumns: ["sample_uid"], fields: ["default"] });
const graph = new FeatureGraph([raw]);

function start(args: string[]) {
  const child = spawn(process.execPath, [writer, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, exited, output: () => out };
}
const COUNT = `
import sys, json, deltalake
t = deltalake.DeltaTable(sys.argv[1])
ids = [r["sample_uid"] for r in t.to_pyarrow_table(columns=["sample_uid"]).to_pylist()]
print(json.dumps({"rows": len(ids), "distinct": len(set(ids)), "version": t.version()}))
`;

describe("many writers", () => {
  it("four processes appending 50 commits each lose nothing and duplicate nothing", {
    timeout: 300_000,
  }, async () => {
    const root = join(dir, "four");
    const procs = [0, 1, 2, 3].map((w) => start([root, String(w), "50"]));
    const codes = await Promise.all(procs.map((p) => p.exited));
    expect(codes, procs.map((p) => p.output()).join("\n")).toEqual([0, 0, 0, 0]);
    await using store = await MetadataStore.open(delta({ root }), { graph, mode: "r" });
    const rows = await store.read(raw, { withSampleHistory: true });
    expect(rows).toHaveLength(200);
    expect(new Set(rows.map((r) => r.sample_uid)).size).toBe(200);
    const table = join(root, "many", "raw.delta");
    expect(deltaRs(COUNT, [table])).toEqual({ rows: 200, distinct: 200, version: 199 });
    expect(
      readdirSync(join(table, "_delta_log")).filter((n) => n.endsWith(".checkpoint.parquet")).length,
    ).toBeGreaterThan(0);
  });

  it("a writer SIGKILLed mid-commit leaves the table readable at a committed version, no repair needed", {
    timeout: 300_000,
  }, async () => {
    const root = join(dir, "killed");
    const first = start([root, "9", "3", "10"]);
    expect(await first.exited).toBe(0);
    let before = 0;
    for (const delay of [150, 300, 450]) {
      const p = start([root, String(delay), "1000", "2000"]);
      await new Promise((r) => setTimeout(r, delay + 600));
      p.child.kill("SIGKILL");
      await p.exited;
      const committed = (p.output().match(/COMMITTED/g) ?? []).length;
      await using store = await MetadataStore.open(delta({ root }), { graph });
      const n = await store.count(raw, { withSampleHistory: true });
      // every confirmed commit is there, whole; at most the one in flight besides
      expect((n - 30 - before) % 2000).toBe(0);
      expect(n - 30 - before).toBeGreaterThanOrEqual(committed * 2000);
      expect(n - 30 - before).toBeLessThanOrEqual((committed + 1) * 2000);
      before = n - 30;
      const check = deltaRs(COUNT, [join(root, "many", "raw.delta")]);
      expect(check.rows).toBe(n);
      expect(check.distinct).toBe(n);
    }
  });
});
