import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeatureGraph, MetadataStore, defineFeature } from "@metaxy/core";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { delta } from "../src/index.js";
import { pythonMetaxy } from "./python-metaxy.js";

// The graph of test/python/metaxy_peer.py: a root and one feature depending on it.
const schema = z.object({ sample_uid: z.number().int() });
const video = defineFeature({
  key: "interop/video",
  idColumns: ["sample_uid"],
  fields: [
    { key: "audio", codeVersion: "1" },
    { key: "frames", codeVersion: "1" },
  ],
  schema,
});
const caption = defineFeature({
  key: "interop/caption",
  idColumns: ["sample_uid"],
  deps: [video],
  fields: [{ key: "text", codeVersion: "1" }],
  schema,
});
const graph = new FeatureGraph([video, caption], { project: "interop" });
const open = (root: string) => MetadataStore.open(delta({ root }), { graph, hashAlgorithm: "md5" });
const videoRows = (n: number, tag = "") =>
  Array.from({ length: n }, (_, i) => ({
    sample_uid: i,
    metaxy_provenance_by_field: { audio: `a${i}${tag}`, frames: `f${i}` },
  }));
const nothing = { new: 0, stale: 0, orphaned: 0 };

const dir = mkdtempSync(join(tmpdir(), "metaxy-delta-python-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Python Metaxy 0.1.11 (DeltaMetadataStore, map layout, md5) on the same tables", () => {
  it("computes the same feature versions", () => {
    expect(pythonMetaxy("versions")).toEqual({
      video: graph.featureVersion(video),
      caption: graph.featureVersion(caption),
    });
  });

  it("reads a store we wrote and resolves nothing to do", async () => {
    const root = join(dir, "ours");
    {
      await using store = await open(root);
      await store.write(video, videoRows(5));
    }
    // Before we write the dependent feature, Python sees all of it to do.
    expect(pythonMetaxy("resolve", root)).toEqual({ new: 5, stale: 0, orphaned: 0 });
    {
      await using store = await open(root);
      const inc = await (await store.resolveUpdate(caption)).toArray();
      expect(inc.new).toHaveLength(5);
      await store.write(caption, inc.new);
      expect(await (await store.resolveUpdate(caption)).counts()).toMatchObject(nothing);
    }
    expect(pythonMetaxy("resolve", root)).toEqual(nothing);
    // A changed upstream value written here is one stale record there.
    {
      await using store = await open(root);
      await store.write(video, videoRows(1, "-v2"));
    }
    expect(pythonMetaxy("resolve", root)).toEqual({ new: 0, stale: 1, orphaned: 0 });
  });

  it("writes a store we read and resolve with nothing to do", async () => {
    const root = join(dir, "theirs");
    expect(pythonMetaxy("write-root", root, "5")).toEqual({ written: 5 });
    {
      await using store = await open(root);
      expect((await store.read(video)).map((r) => r.sample_uid).sort()).toEqual([0, 1, 2, 3, 4]);
      expect(await (await store.resolveUpdate(caption)).counts()).toMatchObject({
        new: 5,
        stale: 0,
        orphaned: 0,
      });
    }
    expect(pythonMetaxy("write-caption", root)).toEqual({ new: 5, stale: 0, orphaned: 0 });
    {
      await using store = await open(root);
      expect(await (await store.resolveUpdate(caption)).counts()).toMatchObject(nothing);
      // We append to Python's tables, and Python resolves our change.
      await store.write(video, videoRows(1, "-v2"));
      expect(await (await store.resolveUpdate(caption)).counts()).toMatchObject({
        new: 0,
        stale: 1,
        orphaned: 0,
      });
    }
    expect(pythonMetaxy("write-caption", root)).toEqual({ new: 0, stale: 1, orphaned: 0 });
    await using store = await open(root);
    expect(await (await store.resolveUpdate(caption)).counts()).toMatchObject(nothing);
  });
});
