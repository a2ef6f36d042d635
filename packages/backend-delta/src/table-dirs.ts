import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";

/** Python Metaxy's DeltaMetadataStore layouts: `nested` (its default) or `flat`. */
export type DeltaLayout = "nested" | "flat";

/**
 * Where a feature's Delta table lives, as Python Metaxy 0.1.11's `DeltaMetadataStore._feature_uri`
 * puts it: `nested` → `<root>/<part1>/<part2>.delta` (the key's parts, empty parts dropped),
 * `flat` → `<root>/<table name>.delta` (parts joined by `__`, `-` folded to `_`).
 */
export function featureDir(root: string, featureKey: string, table: string, layout: DeltaLayout): string {
  const parts = featureKey.split("/").filter((p) => p.length > 0);
  // A table not named after the key it is written for (a failed-records table names its feature
  // for errors) goes flat, under its own name.
  const named = parts.map((p) => p.replaceAll("-", "_")).join("__") === table;
  if (layout === "flat" || !named) return join(root, `${table}.delta`);
  return `${join(root, ...parts)}.delta`;
}

/** The table name of a table directory under `root`, for either layout. */
export function tableNameOf(root: string, dir: string): string {
  const rel = relative(root, dir).slice(0, -".delta".length);
  return rel
    .split(sep)
    .map((p) => p.replaceAll("-", "_"))
    .join("__");
}

/**
 * Every `*.delta` directory under `root` (not descending into tables, nor into `_*` / `.*`
 * directories, where the backend keeps its own files), by table name.
 */
export async function scanTables(root: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith("_") || e.name.startsWith(".")) continue;
      const path = join(dir, e.name);
      if (e.name.endsWith(".delta")) found.set(tableNameOf(root, path), path);
      else await walk(path);
    }
  };
  await walk(root);
  return found;
}
