import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { MetadataStore } from "@metaxy/core";
import { videoFeatures } from "@metaxy/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { duckdb } from "../src/index.js";

const { raw, transcript, graph } = videoFeatures();
const rows = (n: number, tag = "") =>
  Array.from({ length: n }, (_, i) => ({
    sample_uid: `s${i}`,
    path: `/v/${i}`,
    metaxy_provenance_by_field: { audio: `a${i}${tag}`, frames: `f${i}` },
  }));
const dir = mkdtempSync(join(tmpdir(), "metaxy-struct-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function columnTypes(path: string, table: string): Promise<Record<string, string>> {
  const db = await DuckDBInstance.create(path, { access_mode: "READ_ONLY" });
  try {
    const c = await db.connect();
    const r = await c.runAndReadAll(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '${table}'`,
    );
    return Object.fromEntries(r.getRows().map(([n, t]) => [String(n), String(t)]));
  } finally {
    db.closeSync();
  }
}

describe("duckdb struct layout (Python Metaxy's default)", () => {
  it("creates STRUCT columns, reads them as maps, resolves and appends to them", async () => {
    const path = join(dir, "struct.duckdb");
    {
      await using store = await MetadataStore.open(duckdb({ path, layout: "struct" }), { graph });
      await store.write(raw, rows(3));
      const [first] = await store.read(raw, { filters: "sample_uid = 's0'" });
      expect(first.metaxy_provenance_by_field).toEqual({ audio: "a0", frames: "f0" });
      const inc = await (await store.resolveUpdate(transcript)).toArray();
      await store.write(
        transcript,
        inc.new.map((r) => ({
          sample_uid: r.sample_uid,
          text: "t",
          metaxy_provenance_by_field: r.metaxy_provenance_by_field,
        })),
      );
      expect(await (await store.resolveUpdate(transcript)).counts()).toMatchObject({ new: 0, stale: 0 });
      await store.write(raw, rows(1, "-v2"));
      const stale = await (await store.resolveUpdate(transcript)).toArray();
      expect(stale.stale.map((r) => r.sample_uid)).toEqual(["s0"]);
    }
    const types = await columnTypes(path, "video__raw");
    expect(types.metaxy_provenance_by_field).toBe("STRUCT(audio VARCHAR, frames VARCHAR)");
    expect(types.metaxy_data_version_by_field).toBe("STRUCT(audio VARCHAR, frames VARCHAR)");
  });

  it("detects the layout of an existing store, and widens a struct by the fields rows bring", async () => {
    const path = join(dir, "python-made.duckdb");
    // A table laid out as Python Metaxy lays it out by default.
    const db = await DuckDBInstance.create(path);
    const c = await db.connect();
    await c.run(
      `CREATE TABLE other__feature (id VARCHAR, metaxy_provenance_by_field STRUCT("default" VARCHAR))`,
    );
    db.closeSync();
    {
      await using store = await MetadataStore.open(duckdb({ path }), { graph });
      await store.write(raw, rows(2));
      expect(await store.count(raw)).toBe(2);
    }
    expect((await columnTypes(path, "video__raw")).metaxy_provenance_by_field).toBe(
      "STRUCT(audio VARCHAR, frames VARCHAR)",
    );
    {
      // A map-layout option does not change an existing struct table: it is appended to as a struct,
      // and a field the rows bring is added to it.
      await using store = await MetadataStore.open(duckdb({ path, layout: "map" }), { graph });
      await store.backend.write([
        {
          table: "other__feature",
          feature: "other/feature",
          schema: { id: "string", metaxy_provenance_by_field: "map" },
          rows: [{ id: "x", metaxy_provenance_by_field: { default: "d", extra: "e" } }],
        },
      ]);
      const read = [];
      for await (const b of store.backend.read(
        {
          table: "other__feature",
          featureVersion: null,
          idColumns: [],
          latestOnly: false,
          includeSoftDeleted: true,
          filters: [],
          columns: null,
        },
        10,
      ))
        read.push(...b);
      expect(read).toEqual([{ id: "x", metaxy_provenance_by_field: { default: "d", extra: "e" } }]);
    }
    expect((await columnTypes(path, "other__feature")).metaxy_provenance_by_field).toBe(
      'STRUCT("default" VARCHAR, extra VARCHAR)',
    );
  });
});
