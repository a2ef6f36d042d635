import {
  type AnyZodObject,
  type Backend,
  type DefineFeatureInput,
  type FeatureDefinition,
  FeatureGraph,
  type MetadataStore,
  type Row,
  SYSTEM_COLUMN_TYPES,
  defineFeature,
} from "@metaxy/core";
import type { TableSchema } from "@metaxy/core/backend";
import { z } from "zod";
import { videoGraph } from "../fixtures/graphs.js";
import { rawRows } from "../fixtures/rows.js";
import { type BackendConformanceOptions, idsOf, suiteTitle, useHarness } from "../harness.js";
import type { TestApi } from "../test-api.js";

/** The cases write loosely typed rows, so definitions drop their row types. */
const feature = (input: DefineFeatureInput<AnyZodObject | undefined>): FeatureDefinition =>
  defineFeature(input);

const row = (id: string, columns: Row = {}): Row => ({
  id,
  ...columns,
  metaxy_provenance_by_field: { default: `v-${id}` },
});

/** Schemaless `names/tags`, and `names/child` reading it. */
function tagsGraph() {
  const tags = feature({ key: "names/tags", idColumns: ["id"], fields: ["default"] });
  const child = feature({ key: "names/child", idColumns: ["id"], deps: [tags], fields: ["default"] });
  return { tags, child, graph: new FeatureGraph([tags, child]) };
}

/**
 * Rows appended through the backend directly, as another writer (Python Metaxy, an older
 * version) could have stored them: column names Metaxy itself refuses to write.
 */
async function foreignWrite(
  backend: Backend,
  store: MetadataStore,
  def: FeatureDefinition,
  rows: Row[],
  user: TableSchema,
): Promise<void> {
  const at = new Date();
  const full = rows.map((r) => ({
    metaxy_provenance: `p-${String(r.id)}`,
    metaxy_data_version_by_field: r.metaxy_provenance_by_field,
    metaxy_data_version: `p-${String(r.id)}`,
    metaxy_feature_version: store.graph.featureVersion(def.key),
    metaxy_project_version: store.graph.projectVersion(),
    metaxy_created_at: at,
    metaxy_updated_at: at,
    metaxy_deleted_at: null,
    metaxy_materialization_id: null,
    ...r,
  }));
  await backend.write([
    {
      table: def.key.tableName,
      feature: def.key.toString(),
      schema: { ...user, ...SYSTEM_COLUMN_TYPES },
      rows: full,
    },
  ]);
}

/**
 * Names that must never meet: two features in one table, a user feature in a system table, two
 * stages in one table, a user column in an engine's column. Every collision is a typed error
 * naming what collides, or the names are kept apart.
 */
export function namesSuite(test: TestApi, options: BackendConformanceOptions): void {
  const { describe, it, expect } = test;
  describe(suiteTitle(options, "table and column names"), () => {
    const h = useHarness(test, options);

    it("rejects two features that map to one table when the graph is built, naming both", async () => {
      const a = feature({ key: "video/raw-x", idColumns: ["id"] });
      const b = feature({ key: "video/raw_x", idColumns: ["id"] });
      expect(caught(() => new FeatureGraph([a, b]))).toMatchObject({
        code: "TABLE_NAME_COLLISION",
        details: { feature: "video/raw_x", table: "video__raw_x", features: ["video/raw-x", "video/raw_x"] },
      });
      // a leading or trailing "_" next to the "__" separator collides too
      const c = feature({ key: "ab_/c", idColumns: ["id"] });
      const d = feature({ key: "ab/_c", idColumns: ["id"] });
      expect(caught(() => new FeatureGraph([c, d]))).toMatchObject({ code: "TABLE_NAME_COLLISION" });
      // the graph is left as it was
      const graph = new FeatureGraph([a]);
      expect(caught(() => graph.add(b))).toMatchObject({ code: "TABLE_NAME_COLLISION" });
      expect(graph.keys.map(String)).toEqual(["video/raw-x"]);
      graph.remove(a);
      graph.add(b); // its table is free again
    });

    it("keeps features with similar keys in tables of their own", async () => {
      const a = feature({ key: "names/b_c", idColumns: ["id"], fields: ["default"] });
      const b = feature({ key: "names_b/c", idColumns: ["id"], fields: ["default"] });
      const store = await h.open(new FeatureGraph([a, b]));
      await store.write(a, [row("a1"), row("a2")]);
      await store.write(b, [row("b1")]);
      expect(idsOf(await store.read(a), "id")).toEqual(["a1", "a2"]);
      expect(idsOf(await store.read(b), "id")).toEqual(["b1"]);
    });

    it("never lets a user feature address a system table", async () => {
      for (const key of ["metaxy-system/feature_versions", "metaxy_system/feature_versions", "metaxy/x"])
        expect(caught(() => feature({ key, idColumns: ["id"] }))).toMatchObject({
          code: "TABLE_NAME_COLLISION",
          details: { feature: key },
        });
      const { graph, raw } = videoGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(2));
      await store.pushGraphSnapshot();
      // dropping (or looking up) a key that aliases the snapshot table is refused; the snapshots stay
      for (const key of ["metaxy_system/feature_versions", "metaxy-system/feature_versions"]) {
        await expect(store.dropFeature(key)).rejects.toMatchObject({ code: "TABLE_NAME_COLLISION" });
        await expect(store.hasFeature(key)).rejects.toMatchObject({ code: "TABLE_NAME_COLLISION" });
      }
      expect((await store.graphSnapshots()).length).toBe(1);
    });

    it("keeps stage ids apart that differ only in case or punctuation", async () => {
      const { graph, tags, child } = tagsGraph();
      const store = await h.open(graph);
      const ids = ["run-1", "run_1", "Run-1", "run/1", "run.1", "run 1", "a", "a__orphans", "é"];
      // stage i holds i + 1 new rows
      for (const [i, stageId] of ids.entries()) {
        await store.write(tags, [row(`s${i}`)]);
        const staged = await (await store.resolveUpdate(child)).stage(stageId);
        expect(staged.stageId).toBe(stageId);
      }
      for (const [i, stageId] of ids.entries()) {
        const staged = await store.openStagedIncrement(stageId);
        expect([stageId, await staged.counts()]).toEqual([
          stageId,
          { new: i + 1, stale: 0, orphaned: 0, failed: 0 },
        ]);
        const batch = await staged.batch(0, 100);
        expect(idsOf(batch, "id")).toEqual(Array.from({ length: i + 1 }, (_, j) => `s${j}`));
      }
      await (await store.openStagedIncrement("run_1")).drop();
      expect(await (await store.openStagedIncrement("run-1")).counts()).toMatchObject({ new: 1 });
      await expect(store.openStagedIncrement("run_1")).rejects.toThrow();
    });

    it("rejects stage ids that are empty or not strings (INVALID_STAGE_ID)", async () => {
      const { graph, tags, child } = tagsGraph();
      const store = await h.open(graph);
      await store.write(tags, [row("s0")]);
      const inc = await store.resolveUpdate(child);
      for (const bad of ["", 7, null, "x".repeat(257)]) {
        await expect(inc.stage(bad as string)).rejects.toMatchObject({ code: "INVALID_STAGE_ID" });
        await expect(store.openStagedIncrement(bad as string)).rejects.toMatchObject({
          code: "INVALID_STAGE_ID",
        });
      }
      await inc.dispose();
    });

    it("rejects user columns named like engine or Metaxy columns (RESERVED_COLUMN), writing nothing", async () => {
      const { graph, tags } = tagsGraph();
      const store = await h.open(graph);
      await store.write(tags, [row("s0", { label: "x" })]);
      for (const column of [
        "__status",
        "__cur__id",
        "rowid",
        "ROWID",
        "metaxy_extra",
        "Metaxy_Provenance",
        "",
      ])
        await expect(store.write(tags, [row("s1"), row("s2", { [column]: 1 })])).rejects.toMatchObject({
          code: "RESERVED_COLUMN",
          details: { feature: "names/tags", column, row: 1 },
        });
      const typed = () =>
        feature({
          key: "names/typed",
          idColumns: ["id"],
          schema: z.object({ id: z.string(), __status: z.string() }),
        });
      expect(caught(typed)).toMatchObject({
        code: "RESERVED_COLUMN",
        details: { feature: "names/typed", column: "__status" },
      });
      expect(await store.count(tags, { withSampleHistory: true })).toBe(1);
      expect(
        (await store.backend.tableColumns("names__tags"))!.filter((c) => !c.startsWith("metaxy_")).sort(),
      ).toEqual(["id", "label"]);
    });

    it("rejects columns that differ only in case, in one write or across writes (COLUMN_COLLISION)", async () => {
      const { graph, tags } = tagsGraph();
      const store = await h.open(graph);
      await expect(store.write(tags, [row("s0", { Label: "a", label: "b" })])).rejects.toMatchObject({
        code: "COLUMN_COLLISION",
        details: { feature: "names/tags", columns: ["Label", "label"] },
      });
      await store.write(tags, [row("s0", { label: "a" })]);
      await expect(store.write(tags, [row("s1", { LABEL: "b" })])).rejects.toMatchObject({
        code: "COLUMN_COLLISION",
        details: { feature: "names/tags", columns: ["label", "LABEL"] },
      });
      expect(idsOf(await store.read(tags), "id")).toEqual(["s0"]);
    });

    it("picks the latest row per id by one portable rule, equal metaxy_updated_at included", async () => {
      const { graph, tags } = tagsGraph();
      const backend = await h.backend();
      const store = await h.open(graph, { backend });
      const at = new Date("2026-01-01T00:00:00Z");
      const before = new Date("2025-12-31T23:59:59Z");
      const version = (label: string, provenance: string, columns: Row = {}) =>
        row("s0", { label, metaxy_provenance: provenance, metaxy_updated_at: at, ...columns });
      // Appended in this order: ties are broken by content, never by append order.
      await foreignWrite(
        backend,
        store,
        tags,
        [
          version("b", "pb"),
          version("a", "pa"),
          { ...version("c", "pc", { metaxy_data_version: "d1" }), id: "s1" },
          { ...version("d", "pc", { metaxy_data_version: "d2" }), id: "s1" },
          { ...version("gone", "pa", { metaxy_updated_at: before, metaxy_deleted_at: at }), id: "s2" },
          { ...version("live", "pz"), id: "s2" },
          { ...version("old", "pz", { metaxy_updated_at: before }), id: "s3" },
          { ...version("new", "pa"), id: "s3" },
          { ...version("early", "pz", { metaxy_updated_at: before, metaxy_deleted_at: at }), id: "s4" },
          { ...version("late", "pa", { metaxy_deleted_at: at }), id: "s4" },
        ],
        { id: "string", label: "string" },
      );
      const labels = (rows: Row[]) => Object.fromEntries(rows.map((r) => [r.id, r.label]));
      // the greater provenance, then the greater data version; a tombstone wins its instant;
      // a later time beats any content; between tombstones of one instant the later write wins
      expect(labels(await store.read(tags))).toEqual({ s0: "b", s1: "d", s3: "new" });
      expect(labels(await store.read(tags, { includeSoftDeleted: true }))).toEqual({
        s0: "b",
        s1: "d",
        s2: "gone",
        s3: "new",
        s4: "late",
      });
    });

    it("refuses an upstream's stored engine-named column in an increment, unless select leaves it out", async () => {
      const { graph, tags, child } = tagsGraph();
      const backend = await h.backend();
      const store = await h.open(graph, { backend });
      await foreignWrite(
        backend,
        store,
        tags,
        [row("s0", { __status: "mine" }), row("s1", { __status: "x" })],
        {
          id: "string",
          __status: "string",
        },
      );
      await expect(store.resolveUpdate(child)).rejects.toMatchObject({
        code: "RESERVED_COLUMN",
        details: { feature: "names/child", dependency: "names/tags", column: "__status" },
      });
      const selecting = feature({
        key: "names/child",
        idColumns: ["id"],
        deps: [{ feature: tags, select: [] }],
        fields: ["default"],
      });
      const narrow = await h.open(new FeatureGraph([tags, selecting]), { backend });
      const all = await (await narrow.resolveUpdate(selecting)).toArray();
      expect(idsOf(all.new, "id")).toEqual(["s0", "s1"]);
      for (const r of all.new) expect("__status" in r).toBe(false);
    });
  });
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}
