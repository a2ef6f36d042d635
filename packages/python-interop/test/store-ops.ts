import { duckdb } from "@metaxy/backend-duckdb";
import {
  DATA_VERSION_BY_FIELD,
  type HashAlgorithm,
  MetadataStore,
  PROVENANCE_BY_FIELD,
  isIn,
} from "@metaxy/core";
import type { InteropGraph, VideoInput } from "./graph.js";
import type { IdSets, PeerOp } from "./peer.js";

/** The same ops as python/peer.py, on this project's DuckDB store. */
export type Layout = "map" | "struct";

export async function openTs(path: string, hashAlgorithm: HashAlgorithm, g: InteropGraph, layout?: Layout) {
  return MetadataStore.open(duckdb({ path, layout }), { graph: g.graph, hashAlgorithm });
}

export async function writeRoot(store: MetadataStore, g: InteropGraph, rows: VideoInput[]): Promise<void> {
  await store.write(
    g.video,
    rows.map(({ audio, frames, ...r }) => ({ ...r, metaxy_provenance_by_field: { audio, frames } })),
  );
}

function idsOf(rows: readonly Record<string, unknown>[], idColumns: readonly string[]): string[] {
  return [...new Set(rows.map((r) => idColumns.map((c) => String(r[c])).join("|")))].sort();
}

export async function resolveIds(store: MetadataStore, feature: string): Promise<IdSets> {
  const def = store.graph.get(feature);
  await using inc = await store.resolveUpdate(def);
  const all = await inc.toArray();
  return {
    new: idsOf(all.new, def.spec.idColumns),
    stale: idsOf(all.stale, def.spec.idColumns),
    orphaned: idsOf(all.orphaned, def.spec.idColumns),
  };
}

/** Resolves and writes the new and stale rows, as the feature's computation would. */
export async function materialize(store: MetadataStore, feature: string): Promise<number> {
  const def = store.graph.get(feature);
  await using inc = await store.resolveUpdate(def);
  const own = new Set([...Object.keys(def.schema?.shape ?? {}), PROVENANCE_BY_FIELD, DATA_VERSION_BY_FIELD]);
  let n = 0;
  for await (const batch of inc.toProcess()) {
    const rows = batch.map((r) => {
      const out: Record<string, unknown> = Object.fromEntries(Object.entries(r).filter(([k]) => own.has(k)));
      if (feature === "interop/clip") out.text = "text";
      return out;
    });
    n += await store.write(def, rows as never);
  }
  return n;
}

export async function softDelete(store: MetadataStore, feature: string, ids: string[]): Promise<void> {
  const def = store.graph.get(feature);
  await store.delete(def, isIn(def.spec.idColumns[0], ids));
}

export const NOTHING: IdSets = { new: [], stale: [], orphaned: [] };

/** Runs a program of peer ops on this project's store (one open store), a result per op like Python's. */
export async function runTs(
  path: string,
  hashAlgorithm: HashAlgorithm,
  g: InteropGraph,
  ops: readonly PeerOp[],
  layout?: Layout,
): Promise<unknown[]> {
  const out: unknown[] = [];
  await using store = await openTs(path, hashAlgorithm, g, layout);
  for (const op of ops) {
    switch (op.op) {
      case "write_root":
        await writeRoot(store, g, op.rows);
        out.push({ written: op.rows.length });
        break;
      case "resolve":
        out.push(await resolveIds(store, op.feature));
        break;
      case "materialize":
        out.push({ written: await materialize(store, op.feature) });
        break;
      case "soft_delete":
        await softDelete(store, op.feature, op.ids);
        out.push({ deleted: op.ids.length });
        break;
      case "push":
        out.push(await store.pushGraphSnapshot({ project: "interop" }));
        break;
      case "definitions":
        throw new Error("definitions: read the graph directly");
    }
  }
  return out;
}
