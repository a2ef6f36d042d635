import { DELETED_AT, FEATURE_VERSION, UPDATED_AT } from "@metaxy/core";
import { type ReadQuery, compileExpr } from "@metaxy/core/backend";
import { q, s } from "./duckdb-dialect.js";

const exprContext = { quoteIdent: q };

/** `read` semantics (SPEC §4.2) as one DuckDB SELECT over `source` (a table name, quoted). */
export function compileRead(query: ReadQuery, source = q(query.table)): string {
  const where =
    query.featureVersion === null ? "" : ` WHERE ${q(FEATURE_VERSION)} = ${s(query.featureVersion)}`;
  let sql = `SELECT * FROM ${source}${where}`;
  if (query.latestOnly && query.idColumns.length > 0)
    sql += ` QUALIFY row_number() OVER (PARTITION BY ${query.idColumns.map(q).join(", ")} ORDER BY coalesce(${q(DELETED_AT)}, ${q(UPDATED_AT)}) DESC, rowid DESC) = 1`;
  const post: string[] = [];
  if (!query.includeSoftDeleted) post.push(`${q(DELETED_AT)} IS NULL`);
  for (const f of query.filters) post.push(compileExpr(f, exprContext));
  const columns = query.columns ? query.columns.map(q).join(", ") : "*";
  if (post.length === 0 && columns === "*") return sql;
  return `SELECT ${columns} FROM (${sql})${post.length ? ` WHERE ${post.join(" AND ")}` : ""}`;
}
