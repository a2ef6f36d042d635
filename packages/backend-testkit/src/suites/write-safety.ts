import {
  type AnyZodObject,
  type Backend,
  type DefineFeatureInput,
  type FeatureDefinition,
  FeatureGraph,
  type Row,
  defineFeature,
} from "@metaxy/core";
import { z } from "zod";
import { type BackendConformanceOptions, suiteTitle, useHarness } from "../harness.js";
import type { TestApi } from "../test-api.js";

/** The cases write malformed rows on purpose, so definitions drop their row types. */
const feature = (input: DefineFeatureInput<AnyZodObject | undefined>): FeatureDefinition =>
  defineFeature(input);

/** clip/raw (zod, with a transform) → clip/caption (zod); clip/tags is schemaless. */
function clipGraph() {
  const raw = feature({
    key: "clip/raw",
    idColumns: ["clip_id"],
    fields: [
      { key: "audio", codeVersion: "1" },
      { key: "frames", codeVersion: "1" },
    ],
    schema: z.object({ clip_id: z.string(), title: z.string().trim().optional() }),
  });
  const caption = feature({
    key: "clip/caption",
    idColumns: ["clip_id"],
    deps: [raw],
    fields: [{ key: "text", codeVersion: "1", deps: [{ feature: raw, fields: ["audio"] }] }],
    schema: z.object({ clip_id: z.string(), text: z.string() }),
  });
  const tags = feature({
    key: "clip/tags",
    idColumns: ["clip_id"],
    fields: [{ key: "default", codeVersion: "1" }],
  });
  return { raw, caption, tags, graph: new FeatureGraph([raw, caption, tags]) };
}

const rawRow = (i: number, tag = ""): Row => ({
  clip_id: `c${i}`,
  metaxy_provenance_by_field: { audio: `a${i}${tag}`, frames: `f${i}` },
});
const captionRow = (i: number, text = "hello"): Row => ({
  clip_id: `c${i}`,
  text,
  metaxy_provenance_by_field: { text: `t${i}` },
});
const tagRow = (i: number, columns: Row = {}): Row => ({
  clip_id: `c${i}`,
  ...columns,
  metaxy_provenance_by_field: { default: `d${i}` },
});

async function rowCount(store: { count: (f: string, o: object) => Promise<number> }, key: string) {
  return store.count(key, { withSampleHistory: true }).catch(() => 0);
}

/**
 * Writes never lose a confirmed row and never store a bad one: idempotency keys scoped by feature,
 * all-or-nothing multi-feature writes, serialised schema changes, typed rejections that leave the
 * table as it was, and iteration that cannot look finished when the store was closed under it.
 */
export function writeSafetySuite(test: TestApi, options: BackendConformanceOptions): void {
  const { describe, it, expect } = test;
  describe(suiteTitle(options, "write safety"), () => {
    const h = useHarness(test, options);

    it("scopes idempotency keys by feature", async () => {
      const { graph, raw, caption } = clipGraph();
      const store = await h.open(graph);
      expect(await store.write(raw, [rawRow(0), rawRow(1)], { idempotencyKey: "run-1/batch-0" })).toBe(2);
      // the same key on another feature is another write
      expect(await store.write(caption, [captionRow(0)], { idempotencyKey: "run-1/batch-0" })).toBe(1);
      expect(await store.write(caption, [captionRow(0)], { idempotencyKey: "run-1/batch-0" })).toBe(0);
      expect(await rowCount(store, "clip/raw")).toBe(2);
      expect(await rowCount(store, "clip/caption")).toBe(1);
    });

    it("writeMulti with an idempotency key stores every feature, and a retry adds nothing", async () => {
      const { graph, raw, caption } = clipGraph();
      const store = await h.open(graph);
      const batches = new Map([
        [raw, [rawRow(0), rawRow(1)]],
        [caption, [captionRow(0), captionRow(1)]],
      ]);
      expect(await store.writeMulti(batches, { idempotencyKey: "wf/7" })).toBe(4);
      expect(await store.writeMulti(batches, { idempotencyKey: "wf/7" })).toBe(0);
      // the same rows in another order are the same write
      const reordered = new Map([
        [caption, [captionRow(1), captionRow(0)]],
        [raw, [rawRow(1), rawRow(0)]],
      ]);
      expect(await store.writeMulti(reordered, { idempotencyKey: "wf/7" })).toBe(0);
      expect(await rowCount(store, "clip/raw")).toBe(2);
      expect(await rowCount(store, "clip/caption")).toBe(2);
    });

    it("rejects a used idempotency key with other rows (IDEMPOTENCY_CONFLICT), storing nothing", async () => {
      const { graph, caption } = clipGraph();
      const store = await h.open(graph);
      await store.write(caption, [captionRow(0)], { idempotencyKey: "k" });
      await expect(
        store.write(caption, [captionRow(0, "changed")], { idempotencyKey: "k" }),
      ).rejects.toMatchObject({ code: "IDEMPOTENCY_CONFLICT", feature: "clip/caption" });
      expect((await store.read(caption)).map((r) => r.text)).toEqual(["hello"]);
    });

    // The backend finds the conflict inside its write: only a transaction can undo the other table.
    it("rolls back every feature of a writeMulti whose idempotency key conflicts on one (atomicWrites)", async (ctx) => {
      const backend = await h.backendWith(ctx, (c) => c.atomicWrites, "atomicWrites");
      if (!backend) return;
      const { graph, raw, caption } = clipGraph();
      const store = await h.open(graph, { backend });
      await store.write(caption, [captionRow(0)], { idempotencyKey: "k" });
      await expect(
        store.writeMulti(
          new Map([
            [raw, [rawRow(5)]],
            [caption, [captionRow(5)]],
          ]),
          { idempotencyKey: "k" },
        ),
      ).rejects.toMatchObject({ code: "IDEMPOTENCY_CONFLICT", feature: "clip/caption" });
      expect(await store.hasFeature(raw)).toBe(false);
      expect((await store.read(caption)).map((r) => r.text)).toEqual(["hello"]);
    });

    it("writeMulti is all-or-nothing when one feature's rows are invalid", async () => {
      const { graph, raw, caption } = clipGraph();
      const store = await h.open(graph);
      await store.write(raw, [rawRow(0)]);
      await expect(
        store.writeMulti({
          "clip/raw": [rawRow(1), rawRow(2)],
          "clip/caption": [captionRow(1), { ...captionRow(2), text: 42 }],
        }),
      ).rejects.toMatchObject({
        code: "METADATA_SCHEMA_ERROR",
        details: { feature: "clip/caption", column: "text", row: 1 },
      });
      expect(await rowCount(store, "clip/raw")).toBe(1);
      expect(await store.hasFeature(caption)).toBe(false);
    });

    it("concurrent first writes with different columns keep every column and value", async () => {
      const { graph, tags } = clipGraph();
      const store = await h.open(graph);
      const counts = await Promise.all([
        store.write(tags, [tagRow(0, { color: "red" })]),
        store.write(tags, [tagRow(1, { size: 3 })]),
        store.write(tags, [tagRow(2, { flag: true })]),
      ]);
      expect(counts).toEqual([1, 1, 1]);
      const rows = (await store.read(tags)).sort((a, b) =>
        String(a.clip_id).localeCompare(String(b.clip_id)),
      );
      expect(rows.map((r) => [r.clip_id, r.color ?? null, r.size ?? null, r.flag ?? null])).toEqual([
        ["c0", "red", null, null],
        ["c1", null, 3, null],
        ["c2", null, null, true],
      ]);
    });

    it("rejects values that do not fit a schemaless column, naming the column and row", async () => {
      const { graph, tags } = clipGraph();
      const store = await h.open(graph);
      await store.write(tags, [tagRow(0, { flag: true, score: 0.5, label: "x" })]);
      for (const [column, value] of [
        ["flag", "false"],
        ["score", "abc"],
        ["label", { nested: 1 }],
        ["label", 7],
      ] as const)
        await expect(store.write(tags, [tagRow(1), tagRow(2, { [column]: value })])).rejects.toMatchObject({
          code: "METADATA_SCHEMA_ERROR",
          details: { feature: "clip/tags", column, row: 1 },
        });
      // inside one write an integer column widens to float
      await store.write(tags, [tagRow(3, { count: 1 }), tagRow(4, { count: 1.5 })]);
      const counts = (await store.read(tags, { filters: "count IS NOT NULL" })).map((r) => r.count).sort();
      expect(counts).toEqual([1, 1.5]);
      expect(await rowCount(store, "clip/tags")).toBe(3);
    });

    it("a rejected write leaves the table's columns as they were", async () => {
      const { graph, tags } = clipGraph();
      const store = await h.open(graph);
      await store.write(tags, [tagRow(0, { label: "x" })]);
      const before = (await store.backend.tableColumns("clip__tags"))!.slice().sort();
      await expect(
        store.write(tags, [tagRow(1, { extra: "new column" }), tagRow(2, { label: 3 })]),
      ).rejects.toMatchObject({ code: "METADATA_SCHEMA_ERROR", column: "label" });
      expect((await store.backend.tableColumns("clip__tags"))!.slice().sort()).toEqual(before);
      expect(await rowCount(store, "clip/tags")).toBe(1);
    });

    it("a write rejected inside the backend's transaction takes its new columns back (atomicWrites)", async (ctx) => {
      const backend = await h.backendWith(ctx, (c) => c.atomicWrites, "atomicWrites");
      if (!backend) return;
      const { graph, caption, tags } = clipGraph();
      const store = await h.open(graph, { backend });
      await store.write(tags, [tagRow(0, { label: "x" })]);
      const before = (await store.backend.tableColumns("clip__tags"))!.slice().sort();
      await store.write(caption, [captionRow(0)], { idempotencyKey: "k" });
      await expect(
        store.writeMulti(
          new Map([
            [tags, [tagRow(3, { extra: "new column" })]],
            [caption, [captionRow(0, "other")]],
          ]),
          { idempotencyKey: "k" },
        ),
      ).rejects.toMatchObject({ code: "IDEMPOTENCY_CONFLICT" });
      expect((await store.backend.tableColumns("clip__tags"))!.slice().sort()).toEqual(before);
      expect(await rowCount(store, "clip/tags")).toBe(1);
    });

    it("stores what the zod schema parses (transforms applied)", async () => {
      const { graph, raw } = clipGraph();
      const store = await h.open(graph);
      await store.write(raw, [{ ...rawRow(0), title: "  padded  " }]);
      expect((await store.read(raw))[0].title).toBe("padded");
    });

    it("rejects provenance maps that name unknown fields or miss one", async () => {
      const { graph, raw } = clipGraph();
      const store = await h.open(graph);
      await expect(
        store.write(raw, [
          rawRow(0),
          { clip_id: "c1", metaxy_provenance_by_field: { audio: "a", frames: "f", lyrics: "l" } },
        ]),
      ).rejects.toMatchObject({
        code: "METADATA_SCHEMA_ERROR",
        details: { feature: "clip/raw", field: "lyrics", row: 1 },
      });
      await expect(
        store.write(raw, [{ clip_id: "c1", metaxy_provenance_by_field: { audio: "a" } }]),
      ).rejects.toMatchObject({
        code: "METADATA_SCHEMA_ERROR",
        details: { feature: "clip/raw", field: "frames", row: 0 },
      });
      expect(await store.hasFeature(raw)).toBe(false);
    });

    it("rejects two rows with the same id in one write", async () => {
      const { graph, raw } = clipGraph();
      const store = await h.open(graph);
      await expect(store.write(raw, [rawRow(0), rawRow(1), rawRow(0, "-again")])).rejects.toMatchObject({
        code: "METADATA_SCHEMA_ERROR",
        details: { feature: "clip/raw", column: "clip_id", row: 2, firstRow: 0 },
      });
      expect(await store.hasFeature(raw)).toBe(false);
    });

    it("rejects null and non-object rows with a typed error", async () => {
      const { graph, raw } = clipGraph();
      const store = await h.open(graph);
      for (const bad of [null, 3, "row", [rawRow(1)]])
        await expect(store.write(raw, [rawRow(0), bad as unknown as Row])).rejects.toMatchObject({
          code: "METADATA_SCHEMA_ERROR",
          details: { feature: "clip/raw", row: 1 },
        });
      await expect(store.write(raw, "rows" as unknown as Row[])).rejects.toMatchObject({
        code: "METADATA_SCHEMA_ERROR",
      });
    });

    it("soft delete appends tombstones inside the engine, without reading rows out", async () => {
      const { graph, raw } = clipGraph();
      const backend = await h.backend();
      const store = await h.open(graph, { backend });
      await store.write(raw, [rawRow(0), rawRow(1), rawRow(2)]);
      let reads = 0;
      const spied = spyOnReads(backend, () => reads++);
      try {
        expect(await store.delete(raw, "clip_id != 'c1'")).toBe(2);
      } finally {
        spied.restore();
      }
      expect(reads).toBe(0);
      expect((await store.read(raw)).map((r) => r.clip_id)).toEqual(["c1"]);
      const tombstones = await store.read(raw, {
        includeSoftDeleted: true,
        filters: "metaxy_deleted_at IS NOT NULL",
      });
      expect(tombstones.map((r) => r.clip_id).sort()).toEqual(["c0", "c2"]);
    });

    it("closing the store while an increment is iterated throws STORE_CLOSED", async () => {
      const { graph, raw, caption } = clipGraph();
      const store = await h.open(graph);
      await store.write(
        raw,
        Array.from({ length: 50 }, (_, i) => rawRow(i)),
      );
      const inc = await store.resolveUpdate(caption);
      const seen: number[] = [];
      const iterate = async () => {
        for await (const batch of inc.toProcess({ batchSize: 10 })) {
          seen.push(batch.length);
          if (seen.length === 1) await store.close();
        }
      };
      await expect(iterate()).rejects.toMatchObject({ code: "STORE_CLOSED" });
      expect(seen).toEqual([10]);
    });

    it("closing the store while a read is streamed throws STORE_CLOSED", async () => {
      const { graph, raw } = clipGraph();
      const store = await h.open(graph);
      await store.write(
        raw,
        Array.from({ length: 30 }, (_, i) => rawRow(i)),
      );
      const iterate = async () => {
        for await (const _batch of store.readBatches(raw, { batchSize: 10 })) await store.close();
      };
      await expect(iterate()).rejects.toMatchObject({ code: "STORE_CLOSED" });
    });
  });
}

/** Counts `backend.read` calls (a soft delete must not stream rows into JS). */
function spyOnReads(backend: Backend, onRead: () => void) {
  const original = backend.read;
  (backend as { read: Backend["read"] }).read = (...args) => {
    onRead();
    return original.apply(backend, args);
  };
  return {
    restore: () => {
      (backend as { read: Backend["read"] }).read = original;
    },
  };
}
