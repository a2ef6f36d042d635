import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeatureGraph, MetadataStore, defineFeature, StoreLockedError } from "@metaxy/core";
import { afterAll, describe, expect, it } from "vitest";
import { duckdb } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "metaxy-duckdb-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const writer = join(import.meta.dirname, "fixtures", "writer.mjs");
const raw = defineFeature({ key: "crash/raw", idColumns: ["sample_uid"], fields: ["default"] });
const graph = new FeatureGraph([raw]);

function start(args: string[]): {
  child: ChildProcess;
  waitFor: (line: string) => Promise<void>;
  output: () => string;
} {
  const child = spawn(process.execPath, [writer, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const waiters: Array<[string, () => void]> = [];
  child.stdout!.on("data", (d) => {
    out += d;
    for (const [line, resolve] of waiters) if (out.includes(line)) resolve();
  });
  child.stderr!.on("data", (d) => (out += d));
  return {
    child,
    output: () => out,
    waitFor: (line) =>
      new Promise((resolve, reject) => {
        if (out.includes(line)) return resolve();
        waiters.push([line, resolve]);
        child.on("exit", () =>
          out.includes(line) ? resolve() : reject(new Error(`child exited without "${line}":\n${out}`)),
        );
      }),
  };
}

const exited = (c: ChildProcess) =>
  new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.on("exit", r)));

describe("duckdb durability", () => {
  it("a process killed at any point of a large write leaves no partial batch", {
    timeout: 180_000,
  }, async () => {
    // Calibrate: how long does the whole write take here? Then kill at points spread across it,
    // the last ones inside the append/commit phase.
    const calibration = start([join(dir, "calibrate.duckdb"), "write", "200000"]);
    await calibration.waitFor("BIG_WRITE_START");
    const t0 = Date.now();
    await calibration.waitFor("BIG_WRITE_DONE");
    const duration = Date.now() - t0;
    let interrupted = 0;
    for (const fraction of [0.3, 0.6, 0.8, 0.9]) {
      const path = join(dir, `crash-${fraction}.duckdb`);
      const p = start([path, "write", "200000"]);
      await p.waitFor("BIG_WRITE_START");
      await new Promise((r) => setTimeout(r, duration * fraction));
      p.child.kill("SIGKILL");
      await exited(p.child);
      const finished = p.output().includes("BIG_WRITE_DONE");
      if (!finished) interrupted++;
      await using store = await MetadataStore.open(duckdb({ path }), { graph, mode: "r" });
      // all of the killed write, or none of it; the earlier committed write is intact
      expect(await store.count(raw, { withSampleHistory: true })).toBe(finished ? 201_000 : 1000);
    }
    expect(interrupted).toBeGreaterThanOrEqual(3);
  });

  it("a second writing process gets a typed STORE_LOCKED error naming the fix", async () => {
    const path = join(dir, "locked.duckdb");
    await using store = await MetadataStore.open(duckdb({ path }), { graph });
    await store.write(raw, [{ sample_uid: 1, metaxy_provenance_by_field: { default: "v" } }]);
    const p = start([path, "hold"]);
    await exited(p.child);
    expect(p.output()).toMatch(/ERROR STORE_LOCKED .*one writing process per file/);
    expect(new StoreLockedError("x").code).toBe("STORE_LOCKED");
  });
});
