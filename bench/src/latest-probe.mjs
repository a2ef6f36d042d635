// Diagnostics for the latest-per-id rule on DuckDB (not part of `pnpm bench`): one process = one
// variant x one phase x one run, on a cell seeded by `run-cell.js --mode seed` (--template).
//   node src/latest-probe.mjs --template <seeded.duckdb> --phase new|stale --variant V [--what resolve|read] [--explain] [--sql]
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { duckdb, duckdbDialect } from "@metaxy/backend-duckdb";
import { compileResolveUpdate, compileRead } from "../../packages/backend-sql/dist/index.js";
import { MetadataStore } from "@metaxy/core";
import { buildGraph } from "../dist/graphs.js";

const { values: a } = parseArgs({
  options: {
    phase: { type: "string", default: "new" },
    variant: { type: "string", default: "full" },
    what: { type: "string", default: "resolve" },
    explain: { type: "boolean", default: false },
    sql: { type: "boolean", default: false },
    template: { type: "string" },
  },
});
const q = duckdbDialect.quoteIdent;
const EFF = `coalesce(${q("metaxy_deleted_at")}, ${q("metaxy_updated_at")})`;
const STRUCT_KEY = `{e: ${EFF}, t: ${q("metaxy_deleted_at")} IS NOT NULL, u: ${q("metaxy_updated_at")}, p: coalesce(${q("metaxy_provenance")}, ''), d: coalesce(${q("metaxy_data_version")}, '')}`;

const FIXED3 = `${EFF} DESC, CASE WHEN ${q("metaxy_deleted_at")} IS NULL THEN 1 ELSE 0 END, ${q("metaxy_updated_at")} DESC`;
const STRINGS = `{p: coalesce(${q("metaxy_provenance")}, ''), d: coalesce(${q("metaxy_data_version")}, '')}`;
const RULE_STRUCT = `{en: ${EFF} IS NOT NULL, e: ${EFF}, t: ${q("metaxy_deleted_at")} IS NOT NULL, un: ${q("metaxy_updated_at")} IS NOT NULL, u: ${q("metaxy_updated_at")}, p: coalesce(${q("metaxy_provenance")}, ''), d: coalesce(${q("metaxy_data_version")}, '')}`;
const variants = {
  full: (sel, ids, order) => `${sel} QUALIFY row_number() OVER (PARTITION BY ${ids} ORDER BY ${order}) = 1`,
  effonly: (sel, ids) => `${sel} QUALIFY row_number() OVER (PARTITION BY ${ids} ORDER BY ${EFF} DESC) = 1`,
  rowid: (sel, ids) =>
    `${sel} QUALIFY row_number() OVER (PARTITION BY ${ids} ORDER BY ${EFF} DESC, rowid DESC) = 1`,
  fixed3: (sel, ids) =>
    `${sel} QUALIFY row_number() OVER (PARTITION BY ${ids} ORDER BY ${EFF} DESC, CASE WHEN ${q("metaxy_deleted_at")} IS NULL THEN 1 ELSE 0 END, ${q("metaxy_updated_at")} DESC) = 1`,
  distincton: (sel, ids, order) => `SELECT DISTINCT ON (${ids}) * FROM (${sel}) ORDER BY ${ids}, ${order}`,
  structmax: (sel, ids) =>
    `SELECT unnest(__l) FROM (SELECT arg_max(__s, ${STRUCT_KEY}) AS __l FROM (${sel}) __s GROUP BY ${ids})`,
  rankthenfull: (sel, ids, order) =>
    `SELECT * FROM (${sel} QUALIFY rank() OVER (PARTITION BY ${ids} ORDER BY ${EFF} DESC) = 1) QUALIFY row_number() OVER (PARTITION BY ${ids} ORDER BY ${order}) = 1`,
  peersunion: (sel, ids, order) => {
    const w = `PARTITION BY ${ids} ORDER BY ${EFF} DESC`;
    return `WITH __r AS MATERIALIZED (SELECT *, count(*) OVER (${w} RANGE BETWEEN CURRENT ROW AND CURRENT ROW) AS __peers FROM (${sel}) QUALIFY rank() OVER (${w}) = 1) SELECT * EXCLUDE (__peers) FROM __r WHERE __peers = 1 UNION ALL SELECT * EXCLUDE (__peers) FROM __r WHERE __peers > 1 QUALIFY row_number() OVER (PARTITION BY ${ids} ORDER BY ${order}) = 1`;
  },
  peersunion_nomat: (sel, ids, order) => {
    const w = `PARTITION BY ${ids} ORDER BY ${EFF} DESC`;
    return `WITH __r AS NOT MATERIALIZED (SELECT *, count(*) OVER (${w} RANGE BETWEEN CURRENT ROW AND CURRENT ROW) AS __peers FROM (${sel}) QUALIFY rank() OVER (${w}) = 1) SELECT * EXCLUDE (__peers) FROM __r WHERE __peers = 1 UNION ALL SELECT * EXCLUDE (__peers) FROM __r WHERE __peers > 1 QUALIFY row_number() OVER (PARTITION BY ${ids} ORDER BY ${order}) = 1`;
  },
  // one window sort on fixed-width keys (ids, eff, tomb, upd); the string tie-break is a framed
  // arg_max over the peer group (frame of one row unless those keys tie), keyed by a streaming
  // row number, so exactly one row per id survives.
  peerargmax: (sel, ids) => {
    const w = `PARTITION BY ${ids} ORDER BY ${FIXED3}`;
    return `SELECT * EXCLUDE (__i, __w, __rk) FROM (SELECT *, rank() OVER (${w}) AS __rk, arg_max(__i, ${STRINGS}) OVER (${w} RANGE BETWEEN CURRENT ROW AND CURRENT ROW) AS __w FROM (SELECT *, row_number() OVER () AS __i FROM (${sel})) QUALIFY __rk = 1 AND __i = __w)`;
  },
  peerargmax_rn: (sel, ids) => {
    const w = `PARTITION BY ${ids} ORDER BY ${FIXED3}`;
    return `SELECT * EXCLUDE (__i, __w, __rn) FROM (SELECT *, row_number() OVER (${w}) AS __rn, arg_max(__i, ${STRINGS}) OVER (${w} RANGE BETWEEN CURRENT ROW AND CURRENT ROW) AS __w FROM (SELECT *, row_number() OVER () AS __i FROM (${sel})) QUALIFY __i = __w AND __rn <= 0 + count(*) OVER (${w} RANGE BETWEEN CURRENT ROW AND CURRENT ROW))`;
  },
  peermax: (sel, ids) => {
    const w = `PARTITION BY ${ids} ORDER BY ${FIXED3}`;
    return `SELECT * EXCLUDE (__mx, __rk) FROM (SELECT *, rank() OVER (${w}) AS __rk, max(${STRINGS}) OVER (${w} RANGE BETWEEN CURRENT ROW AND CURRENT ROW) AS __mx FROM (${sel}) QUALIFY __rk = 1 AND ${STRINGS} = __mx)`;
  },
  // ids having two rows equal on (eff, tomb, upd) (a hash aggregate over narrow keys); every other
  // id is ordered strictly by those fixed-width keys, only tied ids get the string tie-breaks.
  tieset: (sel, ids, order, idList) => {
    const on = idList.map((c) => `f.${c} IS NOT DISTINCT FROM o.${c}`).join(" AND ");
    const tied = `SELECT ${ids} FROM (${sel}) GROUP BY ${ids}, ${EFF}, ${q("metaxy_deleted_at")} IS NULL, ${q("metaxy_updated_at")} HAVING count(*) > 1`;
    return `WITH __t AS (${tied}) SELECT f.* FROM (${sel}) f ANTI JOIN __t o ON ${on} QUALIFY row_number() OVER (PARTITION BY ${idList.map((c) => `f.${c}`).join(", ")} ORDER BY ${FIXED3}) = 1 UNION ALL SELECT f.* FROM (${sel}) f SEMI JOIN __t o ON ${on} QUALIFY row_number() OVER (PARTITION BY ${idList.map((c) => `f.${c}`).join(", ")} ORDER BY ${order}) = 1`;
  },
  tieset_mat: (sel, ids, order, idList) => {
    const on = idList.map((c) => `f.${c} IS NOT DISTINCT FROM o.${c}`).join(" AND ");
    const tied = `SELECT ${ids} FROM (${sel}) GROUP BY ${ids}, ${EFF}, ${q("metaxy_deleted_at")} IS NULL, ${q("metaxy_updated_at")} HAVING count(*) > 1`;
    return `WITH __t AS MATERIALIZED (${tied}) SELECT f.* FROM (${sel}) f ANTI JOIN __t o ON ${on} QUALIFY row_number() OVER (PARTITION BY ${idList.map((c) => `f.${c}`).join(", ")} ORDER BY ${FIXED3}) = 1 UNION ALL SELECT f.* FROM (${sel}) f SEMI JOIN __t o ON ${on} QUALIFY row_number() OVER (PARTITION BY ${idList.map((c) => `f.${c}`).join(", ")} ORDER BY ${order}) = 1`;
  },
  // the whole rule as ONE struct key, DESC: DuckDB's top-n window elimination may rewrite it
  structorder: (sel, ids) =>
    `${sel} QUALIFY row_number() OVER (PARTITION BY ${ids} ORDER BY ${RULE_STRUCT} DESC) = 1`,
  nocoalesce: (sel, ids) =>
    `${sel} QUALIFY row_number() OVER (PARTITION BY ${ids} ORDER BY ${FIXED3}, ${q("metaxy_provenance")} DESC, ${q("metaxy_data_version")} DESC) = 1`,
  leadcte: (sel, ids, order, idList) => {
    const w = `PARTITION BY ${ids} ORDER BY ${FIXED3}`;
    const same = (e) => `(lead(${e}) OVER (${w}) IS NOT DISTINCT FROM (${e}))`;
    const tie = `(${same(EFF)} AND ${same(`${q("metaxy_deleted_at")} IS NULL`)} AND ${same(q("metaxy_updated_at"))})`;
    const on = idList.map((c) => `f.${c} IS NOT DISTINCT FROM o.${c}`).join(" AND ");
    return `WITH __r AS MATERIALIZED (SELECT *, ${tie} AS __tie FROM (${sel}) QUALIFY row_number() OVER (${w}) = 1) SELECT * EXCLUDE (__tie) FROM __r WHERE NOT __tie UNION ALL SELECT f.* FROM (${sel}) f SEMI JOIN (SELECT * FROM __r WHERE __tie) o ON ${on} QUALIFY row_number() OVER (PARTITION BY ${idList.map((c) => `f.${c}`).join(", ")} ORDER BY ${order}) = 1`;
  },
  fixed3struct: (sel, ids) =>
    `${sel} QUALIFY row_number() OVER (PARTITION BY ${ids} ORDER BY ${FIXED3}, ${STRINGS} DESC) = 1`,
  fixed3prov: (sel, ids) =>
    `${sel} QUALIFY row_number() OVER (PARTITION BY ${ids} ORDER BY ${FIXED3}, coalesce(${q("metaxy_provenance")}, '') DESC) = 1`,
  // one window sort on (ids, eff); a tie group (peers > 1) keeps all its rows, then only those
  // rows get the full order in a second window whose partition is a singleton for every other id.
  peerskey: (sel, ids, order) => {
    const w = `PARTITION BY ${ids} ORDER BY ${EFF} DESC`;
    return `SELECT * EXCLUDE (__peers) FROM (SELECT *, count(*) OVER (${w} RANGE BETWEEN CURRENT ROW AND CURRENT ROW) AS __peers FROM (${sel}) QUALIFY rank() OVER (${w}) = 1) QUALIFY __peers = 1 OR row_number() OVER (PARTITION BY ${ids}, __peers = 1 ORDER BY ${order}) = 1`;
  },
};

const b = buildGraph("simple");
const phase = a.phase;
if (!a.template) throw new Error("--template <a cell seeded by run-cell.js --mode seed> is required");
const template = a.template;
const dir = mkdtempSync(join(tmpdir(), "metaxy_latest_probe_"));
const path = join(dir, "bench.duckdb");
copyFileSync(template, path);
const instance = await DuckDBInstance.create(path);
const c = await instance.connect();
const v = variants[a.variant];
if (!v) throw new Error(`variant ${a.variant}`);
const dialect = {
  ...duckdbDialect,
  firstPerPartition: (sel, partitionBy, orderBy) => v(sel, partitionBy.join(", "), orderBy, partitionBy),
};
try {
  const store = await MetadataStore.open(duckdb({ instance }), { graph: b.graph, hashAlgorithm: "md5" });
  const plan = await store.planResolveUpdate(b.leaf);
  const leafCols = await store.backend.tableColumns(b.leaf.key.tableName);
  await store.close();
  let sql;
  if (a.what === "resolve") {
    const upstreams = plan.expected.upstreams.map((u) => ({ relation: q(u.read.table), raw: true }));
    const current = leafCols ? { relation: q(b.leaf.key.tableName), columns: leafCols } : null;
    sql = compileResolveUpdate(dialect, plan, { upstreams, current }).sql;
  } else {
    sql = compileRead(dialect, plan.expected.upstreams[0].read);
  }
  if (a.sql) console.error(sql);
  if (a.explain) {
    const r = await c.runAndReadAll(`EXPLAIN ANALYZE ${sql}`);
    console.error(
      r
        .getRowsJS()
        .map((x) => x[1])
        .join("\n"),
    );
  }
  const t0 = performance.now();
  await c.run(`CREATE TEMP TABLE t AS ${sql}`);
  const ms = performance.now() - t0;
  const check = (
    await c.runAndReadAll(
      a.what === "resolve"
        ? `SELECT count(*)::VARCHAR, coalesce(bit_xor(hash(__status, sample_uid, metaxy_provenance)), 0)::VARCHAR FROM t`
        : `SELECT count(*)::VARCHAR, coalesce(bit_xor(hash(sample_uid, metaxy_provenance, metaxy_updated_at)), 0)::VARCHAR FROM t`,
    )
  ).getRowsJS()[0];
  console.log(
    JSON.stringify({
      variant: a.variant,
      phase,
      what: a.what,
      ms: Math.round(ms),
      rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      check,
    }),
  );
} finally {
  c.closeSync();
  instance.closeSync();
  rmSync(dir, { recursive: true, force: true });
}
