import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MetadataStore } from "@metaxy/core";
import { videoFeatures } from "@metaxy/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { bigquery } from "../src/index.js";
import { EMULATOR, PROJECT, dropDataset, emulatorClient, freshDataset, recycleEmulator } from "./emulator.js";

const here = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(here, "../../cli/bin/metaxy.js");
const dir = join(here, ".tmp", `plan-cost-${process.pid}`);
const dataset = freshDataset("plan");

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropDataset(dataset);
});

describe("metaxy plan --cost on BigQuery (emulator)", () => {
  it("prints each resolve's dry-run estimate beside the plan", async () => {
    await recycleEmulator();
    const { graph, raw } = videoFeatures({ audioCodeVersion: "1" });
    const store = await MetadataStore.open(bigquery({ client: emulatorClient(), dataset }), { graph });
    await store.write(raw, [
      { sample_uid: "s1", path: "/v/1.mp4", metaxy_provenance_by_field: { audio: "a1", frames: "f1" } },
      { sample_uid: "s2", path: "/v/2.mp4", metaxy_provenance_by_field: { audio: "a2", frames: "f2" } },
    ]);
    await store.close();
    // A project whose store is this dataset on the emulator (the client wrapped as the tests wrap it).
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "metaxy.config.ts"),
      `import { defineConfig } from "@metaxy/core";
import { videoFeatures } from "@metaxy/core/testing";
import { bigquery } from "@metaxy/backend-bigquery";
import { BigQuery } from "@google-cloud/bigquery";

process.env.METADATA_SERVER_DETECTION = "none";
const client = new BigQuery({ projectId: ${JSON.stringify(PROJECT)}, apiEndpoint: ${JSON.stringify(EMULATOR)}, autoRetry: false });
export default defineConfig({
  project: "video",
  features: videoFeatures({ audioCodeVersion: "1" }).graph,
  stores: { dev: { backend: () => bigquery({ client, dataset: ${JSON.stringify(dataset)} }) } },
});
`,
    );
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: "utf8" });
    const json = run("plan", "--cost", "-f", "json");
    expect(json.status, json.stderr).toBe(0);
    const body = JSON.parse(json.stdout);
    const byKey = Object.fromEntries(body.features.map((f: { feature_key: string }) => [f.feature_key, f]));
    expect(byKey["video/transcript"].direct).toMatchObject({ new: 2, stale: 0 });
    expect(typeof byKey["video/transcript"].estimated_bytes_processed).toBe("number");
    // Roots have no resolve to estimate: their records come from ingestion.
    expect(byKey["video/raw"].estimated_bytes_processed).toBeNull();
    expect(typeof body.estimated_bytes_processed).toBe("number");
    const text = run("plan", "--cost");
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/Scan \(dry run\)/);
  });
});
