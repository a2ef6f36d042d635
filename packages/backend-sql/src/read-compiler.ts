import { DELETED_AT, FEATURE_VERSION, UPDATED_AT } from "@metaxy/core";
import { type ReadQuery, compileExpr } from "@metaxy/core/backend";
import type { SqlDialect } from "./dialect.js";

/** `read` semantics (SPEC §4.2) as one SELECT over `source` (a quoted relation; default the table). */
export function compileRead(d: SqlDialect, query: ReadQuery, source = d.quoteIdent(query.table)): string {
  const q = d.quoteIdent;
  const where =
    query.featureVersion === null ? "" : ` WHERE ${q(FEATURE_VERSION)} = ${d.string(query.featureVersion)}`;
  let sql = `SELECT * FROM ${source}${where}`;
  if (query.latestOnly && query.idColumns.length > 0)
    sql = d.firstPerPartition(
      sql,
      query.idColumns.map(q),
      [`coalesce(${q(DELETED_AT)}, ${q(UPDATED_AT)}) DESC`, ...d.latestTieBreak].join(", "),
    );
  const post: string[] = [];
  if (!query.includeSoftDeleted) post.push(`${q(DELETED_AT)} IS NULL`);
  for (const f of query.filters) post.push(compileExpr(f, { quoteIdent: q }));
  const columns = query.columns ? query.columns.map(q).join(", ") : "*";
  if (post.length === 0 && columns === "*") return sql;
  return `SELECT ${columns} FROM (${sql})${post.length ? ` WHERE ${post.join(" AND ")}` : ""}`;
}
