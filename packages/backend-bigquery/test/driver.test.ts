import {
  FeatureGraph,
  HashAlgorithmNotSupportedError,
  MetadataStore,
  defineFeature,
  type Row,
} from "@metaxy/core";
import type { TableWrite } from "@metaxy/core/backend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BigQueryDriver, bigquery } from "../src/index.js";
import { dropDataset, emulatorClient, freshDataset, recycleEmulator } from "./emulator.js";

const schema = {
  sample_uid: "string",
  n: "integer",
  x: "float",
  at: "timestamp",
  metaxy_provenance_by_field: "map",
} as const;
const rows = (count: number): Row[] =>
  Array.from({ length: count }, (_, i) => ({
    sample_uid: `s${i}`,
    n: i,
    // Not NaN or ±Infinity: the emulator cannot return them (a gap listed in the README).
    x: i / 3,
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)),
    // Many entries per map: the emulator's JSON loader would shuffle record fields.
    metaxy_provenance_by_field: Object.fromEntries(
      Array.from({ length: 6 }, (_, j) => [`f${j}`, `v${i}_${j}`]),
    ),
  }));
const write = (table: string, r: Row[], key?: string, fingerprint = "fp"): TableWrite => ({
  table,
  feature: table,
  schema,
  rows: r,
  idColumns: ["sample_uid"],
  idempotency: key === undefined ? undefined : { key, fingerprint },
});

const dataset = freshDataset("driver");
let d: BigQueryDriver;
beforeAll(async () => {
  await recycleEmulator();
  d = new BigQueryDriver({ client: emulatorClient(), dataset });
  await d.open("w");
});
afterAll(async () => {
  await d?.close();
  await dropDataset(dataset);
});
const count = async (table: string) =>
  Number((await d.all(`SELECT COUNT(*) AS n FROM ${d.relation(table, false)}`))[0].n);

describe("BigQuery driver (emulator)", () => {
  it("round-trips maps, floats and timestamps exactly through the staged load", async () => {
    expect(await d.write([write("values", rows(8))])).toEqual([8]);
    const back = await d.all(`SELECT * FROM ${d.relation("values", false)} ORDER BY n`);
    expect(back.map((r) => r.metaxy_provenance_by_field)).toEqual(
      rows(8).map((r) => r.metaxy_provenance_by_field),
    );
    expect(back[1].x).toBe(1 / 3);
    expect((back[7].at as Date).toISOString()).toBe("2026-01-01T00:00:00.007Z");
    expect(await d.describe("values")).toEqual([
      ["sample_uid", "STRING"],
      ["n", "INT64"],
      ["x", "FLOAT64"],
      ["at", "TIMESTAMP"],
      ["metaxy_provenance_by_field", "ARRAY<STRUCT<key STRING, value STRING>>"],
    ]);
  });

  it("a retry after a crash between the insert and the key's record writes nothing (the job id is found done)", async () => {
    expect(await d.write([write("retry", rows(3), "k1")])).toEqual([3]);
    // The crash: the insert job ran, but the key was never marked done.
    await d.run(`DELETE FROM ${d.relation("metaxy_system__idempotency", false)} WHERE state = 'done'`);
    expect(await d.write([write("retry", rows(3), "k1")])).toEqual([0]);
    expect(await count("retry")).toBe(3);
    // Another fingerprint for the same key is refused, and writes nothing.
    await expect(d.write([write("retry", rows(2), "k1", "other")])).rejects.toMatchObject({
      code: "IDEMPOTENCY_CONFLICT",
    });
    expect(await count("retry")).toBe(3);
  });

  it("dry-runs a statement: bytes it would scan, nothing run", async () => {
    await d.write([write("scan", rows(5))]);
    const estimate = await d.dryRun(`SELECT * FROM ${d.relation("scan", false)}`);
    expect(estimate.bytesProcessed).toBeGreaterThanOrEqual(0);
    expect(typeof estimate.bytesProcessed).toBe("number");
  });
});

describe("BigQuery store (emulator)", () => {
  const raw = defineFeature({ key: "video/raw", idColumns: ["sample_uid"], fields: ["audio"] });
  const clip = defineFeature({
    key: "video/clip",
    idColumns: ["sample_uid"],
    deps: [raw],
    fields: ["audio"],
  });
  const graph = new FeatureGraph([raw, clip]);

  it("refuses xxhash with a typed error (BigQuery has none)", async () => {
    const ds = freshDataset("hash");
    await expect(
      MetadataStore.open(bigquery({ client: emulatorClient(), dataset: ds }), {
        graph,
        hashAlgorithm: "xxhash64",
      }),
    ).rejects.toBeInstanceOf(HashAlgorithmNotSupportedError);
    await dropDataset(ds);
  });

  it("estimates a resolve's cost by a dry run of its statement", async () => {
    const ds = freshDataset("cost");
    const store = await MetadataStore.open(bigquery({ client: emulatorClient(), dataset: ds }), { graph });
    try {
      await store.write(raw, [
        { sample_uid: "s1", metaxy_provenance_by_field: { audio: "a1" } },
        { sample_uid: "s2", metaxy_provenance_by_field: { audio: "a2" } },
      ]);
      const plan = await store.planResolveUpdate(clip);
      const cost = await store.backend.estimateResolveCost!(plan);
      expect(typeof cost.bytesProcessed).toBe("number");
      // A dry run runs nothing: the resolve still finds both records new.
      const increment = await store.resolveUpdate(clip);
      expect((await increment.counts()).new).toBe(2);
      await increment.dispose();
    } finally {
      await store.close();
      await dropDataset(ds);
    }
  });
});
