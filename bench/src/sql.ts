/**
 * The SQL the benchmark writes by hand: seeding feature tables straight from Parquet (the rows
 * `store.write` would have written), and the raw-SQL floor (one statement doing the same
 * latest-per-id, join, md5 hashing and compare as `resolveUpdate`).
 */
import type { FeatureDefinition, FeatureGraph } from "@metaxy/core";
import { duckdbDialect } from "@metaxy/backend-duckdb";
import { type BenchGraph, sortedStrings, tableColumns } from "./graphs.js";

const q = duckdbDialect.quoteIdent;
const s = duckdbDialect.string;

export function createTableSql(def: FeatureDefinition): string {
  const cols = tableColumns(def).map(([n, t]) => `${q(n)} ${t}`);
  return `CREATE TABLE IF NOT EXISTS ${q(def.key.tableName)} (${cols.join(", ")})`;
}

function md5Trunc(graph: FeatureGraph, expr: string): string {
  return `left(md5(${expr}), ${graph.hashTruncationLength})`;
}

/** `map([...keys], [...values])` in field definition order, like the backend's append path. */
function fieldMap(fields: readonly string[], values: readonly string[]): string {
  return `map([${fields.map(s).join(", ")}], [${values.join(", ")}])`;
}

export function tsLiteral(ms: number): string {
  return `TIMESTAMPTZ ${s(new Date(ms).toISOString())}`;
}

/**
 * Appends a root Parquet file to the root's feature table, exactly as `store.write` would:
 * provenance_by_field = the field columns, provenance = trunc(md5(values joined by '|' in sorted
 * field-key order)), data versions = copies, feature/project versions of the graph, created =
 * updated = `ts`, deleted_at / materialization_id NULL.
 */
export function insertRootSql(b: BenchGraph, rootIndex: number, parquetPath: string, tsMs: number): string {
  const root = b.roots[rootIndex];
  const fields = root.fields;
  const pbf = fieldMap(
    fields,
    fields.map((f) => `${q(f)}::VARCHAR`),
  );
  const prov = md5Trunc(
    b.graph,
    sortedStrings(fields)
      .map((f) => `${q(f)}::VARCHAR`)
      .join(" || '|' || "),
  );
  const ts = tsLiteral(tsMs);
  const values = {
    sample_uid: `${q("sample_uid")}::BIGINT`,
    metaxy_provenance_by_field: pbf,
    metaxy_provenance: prov,
    metaxy_data_version_by_field: pbf,
    metaxy_data_version: prov,
    metaxy_feature_version: s(b.graph.featureVersion(root.def)),
    metaxy_project_version: s(b.graph.projectVersion()),
    metaxy_created_at: ts,
    metaxy_updated_at: ts,
    metaxy_deleted_at: "NULL",
    metaxy_materialization_id: "NULL",
  } as Record<string, string>;
  const cols = tableColumns(root.def).map(([n]) => n);
  for (const c of cols) if (!(c in values)) throw new Error(`insertRootSql: no value for column ${c}`);
  return `INSERT INTO ${q(root.def.key.tableName)} (${cols.map(q).join(", ")}) SELECT ${cols.map((c) => values[c]).join(", ")} FROM read_parquet(${s(parquetPath)})`;
}

/**
 * Writes the `new` rows of a compiled resolve-update (`compileResolveUpdate(...).sql`) into the
 * leaf table as `store.write(leaf, increment rows)` would.
 */
export function insertLeafFromResolveSql(
  b: BenchGraph,
  compiled: { sql: string; expectedSelect: string },
  tsMs: number,
): string {
  const ts = tsLiteral(tsMs);
  const values: Record<string, string> = {
    sample_uid: q("sample_uid"),
    metaxy_provenance_by_field: q("metaxy_provenance_by_field"),
    metaxy_provenance: q("metaxy_provenance"),
    // computed rows: data versions are the provenance (the increment leaves them out)
    metaxy_data_version_by_field: q("metaxy_provenance_by_field"),
    metaxy_data_version: q("metaxy_provenance"),
    metaxy_feature_version: s(b.graph.featureVersion(b.leaf)),
    metaxy_project_version: s(b.graph.projectVersion()),
    metaxy_created_at: ts,
    metaxy_updated_at: ts,
    metaxy_deleted_at: "NULL",
    metaxy_materialization_id: "NULL",
  };
  const cols = tableColumns(b.leaf).map(([n]) => n);
  for (const c of cols)
    if (!(c in values)) throw new Error(`insertLeafFromResolveSql: no value for column ${c}`);
  return `INSERT INTO ${q(b.leaf.key.tableName)} (${cols.map(q).join(", ")}) SELECT ${cols.map((c) => values[c]).join(", ")} FROM (SELECT ${compiled.expectedSelect} FROM (${compiled.sql}) WHERE __status = 'new')`;
}

export const FLOOR_TABLE = "floor_increment";
/**
 * How the floor picks the latest row per id. "portable" (the default) is the rule the library
 * evaluates in every engine (docs/architecture.md): row_number() over effective time, tombstone,
 * updated_at, provenance and data version — the floor must compute the same result. The others
 * are kept for comparison, measured at N = 1M (see README): "window" (a rowid tie-break, the rule
 * before the SQL layer) is the fastest or tied; "window-norowid" is rewritten by DuckDB 1.5 into a
 * hash aggregate with arg_max, and "argmax" is that aggregate written out — both slower here
 * because they aggregate MAP values.
 */
export type FloorLatest = "portable" | "window" | "window-norowid" | "argmax";
export const FLOOR_LATEST: FloorLatest = "portable";

const PORTABLE_ORDER =
  "coalesce(metaxy_deleted_at, metaxy_updated_at) DESC, CASE WHEN metaxy_deleted_at IS NULL THEN 1 ELSE 0 END, metaxy_updated_at DESC, coalesce(metaxy_provenance, '') DESC, coalesce(metaxy_data_version, '') DESC";

export function floorSql(b: BenchGraph, leafExists: boolean, latest: FloorLatest = FLOOR_LATEST): string {
  const g = b.graph;
  const trunc = g.hashTruncationLength;
  const ctes: string[] = [];
  const order = "coalesce(metaxy_deleted_at, metaxy_updated_at)";
  const latestRows = (table: string, fv: string, col: string, as: string) =>
    latest === "argmax"
      ? `SELECT sample_uid, l.v AS ${as} FROM (SELECT sample_uid, arg_max({v: ${col}, del: metaxy_deleted_at}, ${order}) AS l FROM ${q(table)} WHERE metaxy_feature_version = ${s(fv)} GROUP BY sample_uid) WHERE l.del IS NULL`
      : `SELECT sample_uid, ${as} FROM (SELECT sample_uid, ${col} AS ${as}, metaxy_deleted_at FROM ${q(table)} WHERE metaxy_feature_version = ${s(fv)} QUALIFY row_number() OVER (PARTITION BY sample_uid ORDER BY ${latest === "portable" ? PORTABLE_ORDER : `${order} DESC${latest === "window" ? ", rowid DESC" : ""}`}) = 1) WHERE metaxy_deleted_at IS NULL`;
  b.roots.forEach((r, i) => {
    ctes.push(
      `u${i} AS (${latestRows(r.def.key.tableName, g.featureVersion(r.def), "metaxy_data_version_by_field", "dv")})`,
    );
  });
  const from = b.roots.map((_, i) => (i === 0 ? "u0" : `JOIN u${i} USING (sample_uid)`)).join(" ");
  // Every leaf field depends on every root field (identity deps, default mapping).
  const parents: Array<[fq: string, expr: string]> = [];
  b.roots.forEach((r, i) => {
    for (const f of r.fields)
      parents.push([`${r.def.key.toString()}.${f}`, `map_extract_value(u${i}.dv, ${s(f)})`]);
  });
  parents.sort((a, b2) => (a[0] < b2[0] ? -1 : a[0] > b2[0] ? 1 : 0));
  const leafFields = b.leaf.spec.fields.map((f) => ({ key: f.key.toString(), code: f.codeVersion }));
  const fieldExprs = leafFields.map(
    (f) =>
      `left(md5(${[s(`${f.key}|${f.code}`), ...parents.flatMap(([fq, e]) => [s(fq), e])].join(" || '|' || ")}), ${trunc}) AS ${q(`f_${f.key}`)}`,
  );
  ctes.push(`h AS (SELECT sample_uid, ${fieldExprs.join(", ")} FROM ${from})`);
  const pbf = fieldMap(
    leafFields.map((f) => f.key),
    leafFields.map((f) => q(`f_${f.key}`)),
  );
  const prov = `left(md5(${sortedStrings(leafFields.map((f) => f.key))
    .map((k) => q(`f_${k}`))
    .join(" || '|' || ")}), ${trunc})`;
  ctes.push(
    `e AS (SELECT sample_uid, ${pbf} AS metaxy_provenance_by_field, ${prov} AS metaxy_provenance FROM h)`,
  );
  const expected =
    "e.sample_uid, e.metaxy_provenance_by_field, e.metaxy_provenance, e.metaxy_provenance_by_field AS metaxy_data_version_by_field, e.metaxy_provenance AS metaxy_data_version";
  let body: string;
  if (!leafExists) {
    body = `SELECT 'new' AS __status, ${expected} FROM e`;
  } else {
    ctes.push(
      `c AS (${latestRows(b.leaf.key.tableName, g.featureVersion(b.leaf), "metaxy_provenance", "prov")})`,
    );
    body =
      `SELECT * FROM (SELECT CASE WHEN c.sample_uid IS NULL THEN 'new' WHEN e.sample_uid IS NULL THEN 'orphaned' ` +
      `WHEN c.prov IS DISTINCT FROM e.metaxy_provenance THEN 'stale' END AS __status, ${expected}, c.sample_uid AS __cur_sample_uid ` +
      `FROM e FULL OUTER JOIN c ON e.sample_uid = c.sample_uid) WHERE __status IS NOT NULL`;
  }
  return `CREATE OR REPLACE TEMP TABLE ${FLOOR_TABLE} AS WITH ${ctes.join(",\n")}\n${body}`;
}
