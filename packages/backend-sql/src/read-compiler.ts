import { DATA_VERSION, DELETED_AT, FEATURE_VERSION, PROVENANCE, UPDATED_AT } from "@metaxy/core";
import { type ReadQuery, compileExpr } from "@metaxy/core/backend";
import type { SqlDialect } from "./dialect.js";
import type { SqlParams } from "./driver.js";

/** `read` semantics (SPEC §4.2) as one SELECT over `source` (a quoted relation; default the table). */
export function compileRead(
  d: SqlDialect,
  query: ReadQuery,
  source = d.quoteIdent(query.table),
  params: SqlParams = {},
): string {
  const q = d.quoteIdent;
  const where =
    query.featureVersion === null
      ? ""
      : ` WHERE ${q(FEATURE_VERSION)} = ${d.bind(query.featureVersion, params)}`;
  let sql = `SELECT * FROM ${source}${where}`;
  if (query.latestOnly && query.idColumns.length > 0)
    sql = d.firstPerPartition(sql, query.idColumns.map(q), latestOrder(q));
  const post: string[] = [];
  if (!query.includeSoftDeleted) post.push(`${q(DELETED_AT)} IS NULL`);
  for (const f of query.filters)
    post.push(compileExpr(f, { quoteIdent: q, literal: (v) => d.bind(v, params) }));
  const columns = query.columns ? query.columns.map(q).join(", ") : "*";
  if (post.length === 0 && columns === "*") return sql;
  return `SELECT ${columns} FROM (${sql})${post.length ? ` WHERE ${post.join(" AND ")}` : ""}`;
}

/** The ORDER BY of core's `compareLatest`, latest first, in portable SQL. */
export function latestOrder(q: (name: string) => string): string {
  return [
    `coalesce(${q(DELETED_AT)}, ${q(UPDATED_AT)}) DESC`,
    `CASE WHEN ${q(DELETED_AT)} IS NULL THEN 1 ELSE 0 END`,
    `${q(UPDATED_AT)} DESC`,
    `coalesce(${q(PROVENANCE)}, '') DESC`,
    `coalesce(${q(DATA_VERSION)}, '') DESC`,
  ].join(", ");
}
