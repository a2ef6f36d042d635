import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeatureGraph, MetadataStore, defineFeature } from "@metaxy/core";
import { afterAll, describe, expect, it } from "vitest";
import { delta } from "../src/index.js";
import { deltaRs } from "./delta-rs.js";

const dir = mkdtempSync(join(tmpdir(), "metaxy-delta-rs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const raw = defineFeature({ key: "video/raw", idColumns: ["sample_uid"], fields: ["audio", "frames"] });
const graph = new FeatureGraph([raw]);
const row = (i: number, tag = "") => ({
  sample_uid: i,
  label: `l${i}`,
  metaxy_provenance_by_field: { audio: `a${i}${tag}`, frames: `f${i}` },
});

const READ = `
import sys, json, deltalake
t = deltalake.DeltaTable(sys.argv[1])
fields = {f.name: str(f.type) for f in t.schema().fields}
rows = t.to_pyarrow_table().to_pylist()
old = deltalake.DeltaTable(sys.argv[1], version=0).to_pyarrow_table().num_rows
print(json.dumps({"version": t.version(), "protocol": [t.protocol().min_reader_version, t.protocol().min_writer_version],
  "fields": fields, "ids": sorted(r["sample_uid"] for r in rows), "history": len(t.history()), "v0": old,
  "tz": str(t.schema().to_arrow().field("metaxy_created_at").type)}, default=str))
`;

describe("delta-rs interoperability", () => {
  it("delta-rs reads what we wrote: schema, rows, versions, history, time travel; a retried batch commits nothing", async () => {
    const root = join(dir, "ours");
    await using store = await MetadataStore.open(delta({ root }), { graph });
    await store.write(raw, [row(1), row(2)]);
    await store.write(raw, [row(3)], { idempotencyKey: "batch-1" });
    expect(await store.write(raw, [row(3)], { idempotencyKey: "batch-1" })).toBe(0);
    const table = join(root, "video", "raw.delta");
    const out = deltaRs(READ, [table]);
    expect(out.protocol).toEqual([1, 2]);
    expect(out.version).toBe(1);
    expect(out.history).toBe(2);
    expect(out.v0).toBe(2);
    expect(out.ids).toEqual([1, 2, 3]);
    expect(out.fields.sample_uid).toMatch(/long/);
    expect(out.fields.metaxy_provenance_by_field).toMatch(/map/i);
    expect(out.tz).toMatch(/UTC/);
    expect(readdirSync(join(table, "_delta_log")).filter((n) => n.endsWith(".json"))).toHaveLength(2);
  });

  it("we read what delta-rs wrote, including a schema change and its checkpoint, and both write in turns", async () => {
    const root = join(dir, "theirs");
    {
      await using store = await MetadataStore.open(delta({ root }), { graph });
      await store.write(raw, [row(1)]);
    }
    const table = join(root, "video", "raw.delta");
    deltaRs(
      `
import sys, deltalake, pyarrow as pa
t = deltalake.DeltaTable(sys.argv[1])
old = t.to_pyarrow_table()
data = old.to_pylist()[0]
data["sample_uid"] = 2
data["extra"] = 1.5
tbl = pa.Table.from_pylist([data], schema=old.schema.append(pa.field("extra", pa.float64())))
deltalake.write_deltalake(sys.argv[1], tbl, mode="append", schema_mode="merge")
deltalake.DeltaTable(sys.argv[1]).create_checkpoint()
print("{}")
`,
      [table],
    );
    expect(readdirSync(join(table, "_delta_log"))).toContain("00000000000000000001.checkpoint.parquet");
    await using store = await MetadataStore.open(delta({ root }), { graph });
    const rows = await store.read(raw);
    expect(rows.map((r) => r.sample_uid).sort()).toEqual([1, 2]);
    expect(rows.find((r) => r.sample_uid === 2)?.extra).toBe(1.5);
    await store.write(raw, [row(3)]);
    const out = deltaRs(READ, [table]);
    expect(out.ids).toEqual([1, 2, 3]);
    expect(out.version).toBe(2);
    expect((await store.read(raw)).length).toBe(3);
  });

  it("our checkpoints are read by delta-rs and by us; hard deletes write remove actions delta-rs honours", async () => {
    const root = join(dir, "checkpointed");
    await using store = await MetadataStore.open(delta({ root, checkpointInterval: 3 }), { graph });
    for (let i = 0; i < 7; i++) await store.write(raw, [row(i)]);
    const table = join(root, "video", "raw.delta");
    const log = readdirSync(join(table, "_delta_log"));
    expect(log).toContain("00000000000000000006.checkpoint.parquet");
    expect(log).toContain("_last_checkpoint");
    expect(deltaRs(READ, [table]).ids).toEqual([0, 1, 2, 3, 4, 5, 6]);
    await store.delete(raw, "sample_uid < 2", { soft: false });
    expect(deltaRs(READ, [table]).ids).toEqual([2, 3, 4, 5, 6]);
    await using again = await MetadataStore.open(delta({ root }), { graph });
    expect((await again.read(raw)).map((r) => r.sample_uid).sort()).toEqual([2, 3, 4, 5, 6]);
  });
});
