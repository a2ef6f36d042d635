/**
 * Issue 14, both directions on one DuckDB store file, in the map and the struct layout: one side writes and
 * materialises, the other resolves and finds nothing to do; then soft deletes and a code-version
 * bump, after which both sides report the same new, stale and orphaned records.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HashAlgorithm } from "@metaxy/core";
import { afterAll, describe, expect, it } from "vitest";
import { interopGraph, videoRows } from "./graph.js";
import { query } from "./duckdb-query.js";
import { type IdSets, type PeerOp, runPython } from "./peer.js";
import { type Layout, NOTHING, runTs } from "./store-ops.js";

const HASHES: HashAlgorithm[] = ["md5", "xxhash64", "xxhash32", "xxh3_64"];
const FEATURES = ["interop/clip", "interop/scene"] as const;
const dir = mkdtempSync(join(tmpdir(), "metaxy-python-interop-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Side = (
  db: string,
  hash: HashAlgorithm,
  transcriptVersion: string,
  ops: PeerOp[],
  layout: Layout,
) => Promise<any[]>;
const python: Side = async (db, hash, transcriptVersion, ops, layout) =>
  runPython({ db, hash, transcriptVersion, ops, layout });
const ts: Side = (db, hash, transcriptVersion, ops, layout) =>
  runTs(db, hash, interopGraph({ transcriptVersion }), ops, layout) as Promise<any[]>;
const LAYOUTS: Layout[] = ["map", "struct"];

const resolveAll: PeerOp[] = FEATURES.map((feature) => ({ op: "resolve", feature }));
const materializeAll: PeerOp[] = FEATURES.map((feature) => ({ op: "materialize", feature }));

describe.each(LAYOUTS.flatMap((layout) => HASHES.map((hash) => [layout, hash] as const)))(
  "%s layout, %s",
  (layout, hash) => {
    it.each([
      ["Python writes, this project resolves", python, ts],
      ["this project writes, Python resolves", ts, python],
    ] as const)("%s", async (name, writer, reader) => {
      const db = join(dir, `${layout}-${hash}-${writer === python ? "py" : "ts"}.duckdb`);
      const w = (v: string, ops: PeerOp[]) => writer(db, hash, v, ops, layout);
      const r = (v: string, ops: PeerOp[]) => reader(db, hash, v, ops, layout);

      // 1. The writer materialises everything; neither side has anything left to do.
      const written = await w("1", [
        { op: "write_root", rows: videoRows(20) },
        ...materializeAll,
        ...resolveAll,
      ]);
      expect(written.slice(-2), `${name}: writer`).toEqual([NOTHING, NOTHING]);
      expect(await r("1", resolveAll), `${name}: reader`).toEqual([NOTHING, NOTHING]);
      const [column] = await query(
        db,
        "SELECT column_type FROM (DESCRIBE interop__clip) WHERE column_name = 'metaxy_provenance_by_field'",
      );
      expect(String(column.column_type)).toMatch(layout === "map" ? /^MAP\(/ : /^STRUCT\(/);

      // 2. Soft deletes (two clips, one video), then new root rows and a changed one: both agree.
      const changed = videoRows(24).filter((_r, i) => i === 3 || i >= 20);
      changed[0].audio = "audio-3-re-recorded";
      const afterDeletes = await w("1", [
        { op: "soft_delete", feature: "interop/clip", ids: ["s001", "s002"] },
        { op: "soft_delete", feature: "interop/video", ids: ["s005"] },
        { op: "write_root", rows: changed },
        ...resolveAll,
      ]);
      const writerView: IdSets[] = afterDeletes.slice(-2);
      expect(writerView[0].new).toEqual(["s001", "s002", "s020", "s021", "s022", "s023"]);
      expect(writerView[0].stale).toEqual(["s003"]);
      expect(writerView[0].orphaned).toEqual(["s005"]);
      expect(await r("1", resolveAll), `${name}: after soft deletes`).toEqual(writerView);

      // 3. The writer catches up (and soft-deletes the orphan); the reader agrees nothing is left.
      const caughtUp = await w("1", [
        ...materializeAll,
        { op: "soft_delete", feature: "interop/clip", ids: ["s005"] },
        ...resolveAll,
      ]);
      expect(caughtUp.slice(-2)).toEqual([NOTHING, NOTHING]);
      expect(await r("1", resolveAll)).toEqual([NOTHING, NOTHING]);

      // 4. Code-version bump of clip.transcript: both sides call the same 23 clips to recompute
      // (a new feature version: stored rows of the old one are history) and no scene.
      const bumped = await r("2", resolveAll);
      expect([...bumped[0].new, ...bumped[0].stale]).toHaveLength(23);
      expect(bumped[1]).toEqual(NOTHING);
      expect(await w("2", resolveAll)).toEqual(bumped);

      // 5. The reader recomputes them; the writer then finds nothing to do.
      await r("2", [{ op: "materialize", feature: "interop/clip" }]);
      expect(await w("2", resolveAll)).toEqual([NOTHING, NOTHING]);
    });
  },
);
