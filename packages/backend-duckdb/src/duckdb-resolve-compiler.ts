import {
  DATA_VERSION,
  DATA_VERSION_BY_FIELD,
  type Expr,
  FilterParseError,
  PROVENANCE,
  PROVENANCE_BY_FIELD,
  type ResolveUpdatePlan,
  type UpstreamColumns,
  type UpstreamInput,
  checkColumnCollisions,
  compileExpr,
  compareStrings,
  exprColumns,
  upstreamUserColumns,
} from "@metaxy/core";
import { duckdbDialect as d, q, s } from "./duckdb-dialect.js";
import { compileRead } from "./duckdb-read-compiler.js";

/** Where each relation of a plan lives, and its stored columns. */
export interface ResolveSources {
  /** Per upstream: a relation and whether it still needs `read` semantics (a raw feature table). */
  readonly upstreams: ReadonlyArray<{ relation: string; columns: readonly string[]; raw: boolean }>;
  readonly samples?: { relation: string; columns: readonly string[] };
  /** The target's stored table, or null when it has none yet. */
  readonly current: { relation: string; columns: readonly string[] } | null;
}

export interface CompiledResolve {
  /** One SELECT: `__status` ('new' | 'stale' | 'orphaned'), expected columns, current columns as `__cur__<name>`. */
  readonly sql: string;
  /** SELECT of the distinct input ids (progress), or null for samples. */
  readonly inputIdsSql: string | null;
  readonly expectedColumns: readonly string[];
  readonly currentColumns: readonly string[];
}

export const STATUS = "__status";
export const CURRENT_PREFIX = "__cur__";
const PROVENANCE_COLUMNS = [PROVENANCE_BY_FIELD, PROVENANCE, DATA_VERSION_BY_FIELD, DATA_VERSION];
const dv = (i: number) => `__dv_${i}`;

/**
 * Compiles the core's resolve-update plan to DuckDB SQL: per upstream read-latest → rename →
 * filter → select → lineage; the join; per-field and record provenance; and new / stale /
 * orphaned in ONE full outer join against the stored rows.
 */
export function compileResolveUpdate(plan: ResolveUpdatePlan, sources: ResolveSources): CompiledResolve {
  const ctes: string[] = [];
  let expectedColumns: string[];
  let inputIdsSql: string | null = null;

  if (plan.expected.kind === "samples") {
    const src = sources.samples!;
    expectedColumns = compileSamples(plan, src, plan.expected.filters, ctes);
  } else {
    expectedColumns = compileUpstreams(plan, plan.expected.upstreams, sources, ctes);
    inputIdsSql = `SELECT DISTINCT ${plan.diffColumns.map(q).join(", ")} FROM expected`;
  }

  const currentColumns = sources.current ? [...sources.current.columns] : [];
  const expectedList = expectedColumns.map((c) => `e.${q(c)}`).join(", ");
  let diff: string;
  if (!sources.current || plan.skipComparison) {
    diff = `SELECT 'new' AS ${STATUS}, ${expectedList}${currentColumns.map((c) => `, NULL AS ${q(CURRENT_PREFIX + c)}`).join("")} FROM expected e`;
  } else {
    let cur = compileRead(plan.current, sources.current.relation);
    if (plan.collapseCurrent) {
      const keys = new Set(plan.diffColumns);
      // One row per parent; children disagreeing on provenance leave it NULL, i.e. stale.
      const collapsed = (c: string) =>
        keys.has(c)
          ? q(c)
          : c === PROVENANCE
            ? `CASE WHEN count(DISTINCT ${q(c)}) = 1 AND count(*) = count(${q(c)}) THEN any_value(${q(c)}) END AS ${q(c)}`
            : `any_value(${q(c)}) AS ${q(c)}`;
      cur = `SELECT ${currentColumns.map(collapsed).join(", ")} FROM (${cur}) GROUP BY ${plan.diffColumns.map(q).join(", ")}`;
    }
    ctes.push(`cur AS (${cur})`);
    const on = plan.diffColumns.map((c) => `e.${q(c)} = c.${q(c)}`).join(" AND ");
    const curCtx = columnContext(new Map(currentColumns.map((c) => [c, `c.${q(c)}`])), "staleness predicate");
    const predicates = plan.stalenessPredicates.map((p) => compileExpr(p, curCtx));
    const staleWhen = [
      `c.${q(PROVENANCE)} IS NULL`,
      `c.${q(PROVENANCE)} IS DISTINCT FROM e.${q(PROVENANCE)}`,
      ...predicates.map((p) => `coalesce(${p}, false)`),
    ].join(" OR ");
    diff =
      `SELECT CASE WHEN c.__present IS NULL THEN 'new' WHEN e.__present IS NULL THEN 'orphaned' WHEN ${staleWhen} THEN 'stale' END AS ${STATUS}, ` +
      `${expectedList}${currentColumns.map((c) => `, c.${q(c)} AS ${q(CURRENT_PREFIX + c)}`).join("")} ` +
      `FROM (SELECT *, true AS __present FROM expected) e FULL OUTER JOIN (SELECT *, true AS __present FROM cur) c ON ${on}`;
  }
  const sql = `WITH ${ctes.join(",\n")}\nSELECT * FROM (${diff}) WHERE ${STATUS} IS NOT NULL`;
  return {
    sql,
    inputIdsSql: inputIdsSql && `WITH ${ctes.join(",\n")}\n${inputIdsSql}`,
    expectedColumns,
    currentColumns,
  };
}

function compileSamples(
  plan: ResolveUpdatePlan,
  src: { relation: string; columns: readonly string[] },
  filters: readonly Expr[],
  ctes: string[],
): string[] {
  const has = new Set(src.columns);
  const ctx = columnContext(new Map(src.columns.map((c) => [c, q(c)])), "filter");
  const where = filters.length ? ` WHERE ${filters.map((f) => compileExpr(f, ctx)).join(" AND ")}` : "";
  const keys = plan.fields.map((f) => f.structKey).sort(compareStrings);
  const concat = (m: string) => keys.map((k) => d.mapGet(m, k)).join(" || '|' || ");
  const prov = d.hash(plan.hashAlgorithm, concat(q(PROVENANCE_BY_FIELD)), plan.truncation);
  const user = src.columns.filter((c) => !PROVENANCE_COLUMNS.includes(c));
  const dvbf = has.has(DATA_VERSION_BY_FIELD)
    ? `coalesce(${q(DATA_VERSION_BY_FIELD)}, ${q(PROVENANCE_BY_FIELD)})`
    : q(PROVENANCE_BY_FIELD);
  const dvExpr = has.has(DATA_VERSION_BY_FIELD)
    ? `CASE WHEN ${q(DATA_VERSION_BY_FIELD)} IS NULL THEN __prov ELSE ${has.has(DATA_VERSION) ? `coalesce(${q(DATA_VERSION)}, ${d.hash(plan.hashAlgorithm, concat(q(DATA_VERSION_BY_FIELD)), plan.truncation)})` : d.hash(plan.hashAlgorithm, concat(q(DATA_VERSION_BY_FIELD)), plan.truncation)} END`
    : "__prov";
  ctes.push(`samples AS (SELECT *, ${prov} AS __prov FROM ${src.relation}${where})`);
  ctes.push(
    `expected AS (SELECT ${[...user.map(q), q(PROVENANCE_BY_FIELD), `__prov AS ${q(PROVENANCE)}`, `${dvbf} AS ${q(DATA_VERSION_BY_FIELD)}`, `${dvExpr} AS ${q(DATA_VERSION)}`].join(", ")} FROM samples)`,
  );
  return [...user, ...PROVENANCE_COLUMNS];
}

function compileUpstreams(
  plan: ResolveUpdatePlan,
  upstreams: readonly UpstreamInput[],
  sources: ResolveSources,
  ctes: string[],
): string[] {
  const columnSets: UpstreamColumns[] = [];
  const relations: Array<{ name: string; columns: string[] }> = [];
  upstreams.forEach((u, i) => {
    const src = sources.upstreams[i];
    const read = src.raw ? compileRead(u.read, src.relation) : `SELECT * FROM ${src.relation}`;
    ctes.push(`u${i}_read AS (${read})`);
    const selected = upstreamUserColumns(plan.feature, u, src.columns);
    columnSets.push(selected);
    // Filters see every renamed column (before select) and the renamed system columns.
    const names = new Map<string, string>();
    for (const [source, name] of upstreamUserColumns(plan.feature, { ...u, select: null }, src.columns))
      names.set(name, q(source));
    for (const c of PROVENANCE_COLUMNS) names.set(c + u.suffix, q(c));
    const ctx = columnContext(names, `filter of dependency "${u.feature}"`);
    const where = u.filters.length ? ` WHERE ${u.filters.map((f) => compileExpr(f, ctx)).join(" AND ")}` : "";
    const cols = [
      ...selected.map(([source, name]) => `${q(source)} AS ${q(name)}`),
      `${q(DATA_VERSION_BY_FIELD)} AS ${dv(i)}`,
    ];
    ctes.push(`u${i} AS (SELECT ${cols.join(", ")} FROM u${i}_read${where})`);
    if (u.lineage.type === "aggregation") {
      const on = u.lineage.on;
      const selectedNames = new Set(selected.map(([, n]) => n));
      const orderCols = u.idColumns.filter((c) => selectedNames.has(c));
      const order = (orderCols.length > 0 ? orderCols : on).map(q).join(", ");
      const hashes = u.fieldStructKeys.map((sk) =>
        d.hash(
          plan.hashAlgorithm,
          `coalesce(string_agg(${d.mapGet(dv(i), sk)}, '|' ORDER BY ${order}), '')`,
          plan.truncation,
        ),
      );
      ctes.push(
        `u${i}_lineage AS (SELECT ${on.map(q).join(", ")}, ${d.map(u.fieldStructKeys, hashes)} AS ${dv(i)} FROM u${i} GROUP BY ${on.map(q).join(", ")})`,
      );
      relations.push({ name: `u${i}_lineage`, columns: [...on] });
    } else {
      relations.push({ name: `u${i}`, columns: selected.map(([, n]) => n) });
    }
  });
  if (upstreams.length > 1) checkColumnCollisions(plan.feature, upstreams, columnSets, plan.joinColumns);

  // Join: required deps inner, then optional deps left (or full outer when nothing is required).
  const required = upstreams.map((_, i) => i).filter((i) => !upstreams[i].optional);
  const optional = upstreams.map((_, i) => i).filter((i) => upstreams[i].optional);
  const order = [...required, ...optional];
  const keys = plan.joinColumns;
  let from = `${relations[order[0]].name} AS t${order[0]}`;
  const joined = [order[0]];
  let anyFull = false;
  const keyExpr = (c: string) =>
    anyFull ? `coalesce(${joined.map((j) => `t${j}.${q(c)}`).join(", ")})` : `t${order[0]}.${q(c)}`;
  for (const i of order.slice(1)) {
    const kind = !upstreams[i].optional
      ? "INNER JOIN"
      : required.length > 0
        ? "LEFT JOIN"
        : "FULL OUTER JOIN";
    from += ` ${kind} ${relations[i].name} AS t${i} ON ${keys.map((c) => `${keyExpr(c)} = t${i}.${q(c)}`).join(" AND ")}`;
    joined.push(i);
    if (kind === "FULL OUTER JOIN") anyFull = true;
  }
  const keySet = new Set(keys);
  const outColumns: string[] = [...keys];
  const select = keys.map((c) => `${keyExpr(c)} AS ${q(c)}`);
  for (const i of order)
    for (const c of relations[i].columns)
      if (!keySet.has(c) && !outColumns.includes(c)) {
        outColumns.push(c);
        select.push(`t${i}.${q(c)}`);
      }
  for (const i of order) select.push(`t${i}.${dv(i)}`);
  ctes.push(`joined AS (SELECT ${select.join(", ")} FROM ${from})`);

  // Provenance per field, then per record (SPEC §2.5).
  const fieldExprs = plan.fields.map((f) => {
    const parts = [s(`${f.keyString}|${f.codeVersion}`)];
    for (const p of f.parents) {
      const v = d.mapGet(dv(p.upstream), p.structKey);
      parts.push(s(p.fqKey), p.optional ? `coalesce(${v}, '')` : v);
    }
    return `${d.hash(plan.hashAlgorithm, parts.join(" || '|' || "), plan.truncation)} AS ${q(`__f_${f.structKey}`)}`;
  });
  ctes.push(`fields AS (SELECT *, ${fieldExprs.join(", ")} FROM joined)`);
  const structKeys = plan.fields.map((f) => f.structKey);
  const byField = d.map(
    structKeys,
    structKeys.map((k) => q(`__f_${k}`)),
  );
  const record = d.hash(
    plan.hashAlgorithm,
    [...structKeys]
      .sort(compareStrings)
      .map((k) => q(`__f_${k}`))
      .join(" || '|' || "),
    plan.truncation,
  );
  ctes.push(
    `provenance AS (SELECT ${outColumns.map(q).join(", ")}, ${byField} AS __pbf, ${record} AS __prov FROM fields)`,
  );
  if (plan.reduceExpected) {
    const dc = plan.diffColumns.map(q).join(", ");
    ctes.push(
      `expected AS (SELECT ${dc}, any_value(__pbf) AS ${q(PROVENANCE_BY_FIELD)}, any_value(__prov) AS ${q(PROVENANCE)}, any_value(__pbf) AS ${q(DATA_VERSION_BY_FIELD)}, any_value(__prov) AS ${q(DATA_VERSION)} FROM provenance GROUP BY ${dc})`,
    );
    return [...plan.diffColumns, ...PROVENANCE_COLUMNS];
  }
  ctes.push(
    `expected AS (SELECT ${outColumns.map(q).join(", ")}, __pbf AS ${q(PROVENANCE_BY_FIELD)}, __prov AS ${q(PROVENANCE)}, __pbf AS ${q(DATA_VERSION_BY_FIELD)}, __prov AS ${q(DATA_VERSION)} FROM provenance)`,
  );
  return [...outColumns, ...PROVENANCE_COLUMNS];
}

/** Compiles column references through `names`; an unknown column is a typed error, as in the reference engine. */
function columnContext(names: ReadonlyMap<string, string>, what: string) {
  return {
    quoteIdent: q,
    column(name: string): string {
      const sql = names.get(name);
      if (sql === undefined)
        throw new FilterParseError(`Filter references unknown column "${name}" (${what})`, { column: name });
      return sql;
    },
  };
}

export { exprColumns };
