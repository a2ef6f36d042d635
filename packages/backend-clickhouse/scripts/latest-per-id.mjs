// Throwaway measurement: latest row per id on embedded ClickHouse (chdb) by three strategies.
// node scripts/latest-per-id.mjs [rows=1000000] [versionsPerId=4]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@clickhouse/client";
import { createChdbConnection } from "chdb/connection";

const rows = Number(process.argv[2] ?? 1_000_000);
const versions = Number(process.argv[3] ?? 4);
const dir = mkdtempSync(join(tmpdir(), "ch-latest-"));
const client = createClient({ connection: createChdbConnection({ path: dir }) });
const run = (query) => client.command({ query, clickhouse_settings: { join_use_nulls: 1 } });
const one = async (query) => (await (await client.query({ query, format: "JSONEachRow" })).json())[0];
try {
  await run(`CREATE TABLE t (sample_uid Nullable(String), value Nullable(Int64), path Nullable(String),
    metaxy_provenance Nullable(String), metaxy_data_version Nullable(String), metaxy_feature_version Nullable(String),
    metaxy_updated_at Nullable(DateTime64(6, 'UTC')), metaxy_deleted_at Nullable(DateTime64(6, 'UTC')),
    metaxy_provenance_by_field Map(String, String))
    ENGINE = MergeTree ORDER BY sample_uid SETTINGS allow_nullable_key = 1`);
  const t0 = performance.now();
  await run(`INSERT INTO t SELECT toString(number % ${Math.floor(rows / versions)}), number, concat('s3://b/', toString(number)),
    substring(lower(hex(MD5(toString(number)))), 1, 8), substring(lower(hex(MD5(toString(number)))), 1, 8), 'v1',
    toDateTime64('2026-01-01 00:00:00', 6, 'UTC') + toIntervalSecond(intDiv(number, 1000)),
    if(number % 97 = 0, toDateTime64('2026-02-01 00:00:00', 6, 'UTC'), NULL),
    map('a', toString(number), 'b', toString(number * 2)) FROM numbers(${rows})`);
  console.log(`load ${rows} rows: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  const order =
    "coalesce(metaxy_deleted_at, metaxy_updated_at) DESC, CASE WHEN metaxy_deleted_at IS NULL THEN 1 ELSE 0 END, metaxy_updated_at DESC, coalesce(metaxy_provenance, '') DESC, coalesce(metaxy_data_version, '') DESC";
  const src = "SELECT * FROM t WHERE metaxy_feature_version = 'v1'";
  const cols = [
    "sample_uid",
    "value",
    "path",
    "metaxy_provenance",
    "metaxy_data_version",
    "metaxy_feature_version",
    "metaxy_updated_at",
    "metaxy_deleted_at",
    "metaxy_provenance_by_field",
  ];
  const key =
    "(coalesce(metaxy_deleted_at, metaxy_updated_at), isNotNull(metaxy_deleted_at), metaxy_updated_at, coalesce(metaxy_provenance, ''), coalesce(metaxy_data_version, ''))";
  const strategies = {
    "LIMIT 1 BY": `${src} ORDER BY sample_uid, ${order} LIMIT 1 BY sample_uid`,
    "row_number() window": `SELECT * EXCEPT (__rn) FROM (SELECT *, row_number() OVER (PARTITION BY sample_uid ORDER BY ${order}) AS __rn FROM (${src})) WHERE __rn = 1`,
    "QUALIFY row_number()": `${src} QUALIFY row_number() OVER (PARTITION BY sample_uid ORDER BY ${order}) = 1`,
    "argMax(tuple)": `SELECT ${cols.map((c, i) => `__t.${i + 1} AS ${c}`).join(", ")} FROM (SELECT argMax(tuple(${cols.join(", ")}), ${key}) AS __t FROM (${src}) GROUP BY sample_uid)`,
  };
  const results = {};
  for (const [name, sql] of Object.entries(strategies)) {
    const times = [];
    let check;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      check = await one(
        `SELECT count() AS n, sum(cityHash64(metaxy_provenance, path, value, metaxy_provenance_by_field)) AS h FROM (${sql}) WHERE metaxy_deleted_at IS NULL`,
      );
      times.push((performance.now() - t) / 1000);
    }
    results[name] = { best_s: Math.min(...times).toFixed(3), median_s: times.sort()[1].toFixed(3), ...check };
  }
  console.table(results);
} finally {
  await client.close();
  rmSync(dir, { recursive: true, force: true });
}
