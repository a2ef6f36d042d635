import {
  DATA_VERSION,
  DATA_VERSION_BY_FIELD,
  type Expr,
  FilterParseError,
  PROVENANCE,
  PROVENANCE_BY_FIELD,
  type ExpectedFromUpstreams,
  type JoinKind,
  type Literal,
  type ResolveScope,
  type ResolveUpdatePlan,
  type UpstreamColumn,
  DELETED_AT,
  FEATURE_VERSION,
  UPDATED_AT,
  exprColumns,
} from "@metaxy/core";
import { type ReadQuery, compileExpr } from "@metaxy/core/backend";
import type { SqlDialect } from "./dialect.js";
import type { SqlParams } from "./driver.js";
import { compileRead } from "./read-compiler.js";

/** Where each relation of a plan lives (and, for samples and the target, its columns). */
export interface ResolveSources {
  /**
   * Per upstream: a relation holding (at least) the plan's `renamed` source columns, and whether
   * it still needs `read` semantics (a raw feature table).
   */
  readonly upstreams: ReadonlyArray<{ relation: string; raw: boolean }>;
  readonly samples?: { relation: string; columns: readonly string[] };
  /** The target's stored table, or null when it has none yet. */
  readonly current: { relation: string; columns: readonly string[] } | null;
  /** The pending-keys table of an incremental resolve (`plan.scope.pending`), when it exists. */
  readonly pending?: string | null;
  /** The failed-records table (`plan.failures`), when the plan has one. */
  readonly failures?: string;
}

export interface CompiledResolve {
  /**
   * One SELECT: `__status` ('new' | 'stale' | 'orphaned'), the stored expected columns, and the
   * current rows' diff columns as `__cur__<name>`. Maps are not built here (only when rows are read).
   */
  readonly sql: string;
  /** SELECT of the distinct input ids (progress), or null for samples. */
  readonly inputIdsSql: string | null;
  /** Select list turning stored expected columns into increment rows (user columns + provenance columns). */
  readonly expectedSelect: string;
  /** `expectedSelect` leaves out the data-version columns; readers copy them from the provenance ones. */
  readonly dataVersionIsProvenance: boolean;
  /** Full stored rows of the orphans recorded in `incrementTable` (read on demand). */
  orphansSql(incrementTable: string): string;
}

export const STATUS = "__status";
export const CURRENT_PREFIX = "__cur__";
const PROVENANCE_COLUMNS = [PROVENANCE_BY_FIELD, PROVENANCE, DATA_VERSION_BY_FIELD, DATA_VERSION];
const dv = (i: number) => `__dv_${i}`;
const JOIN_SQL: Record<JoinKind, string> = {
  inner: "INNER JOIN",
  left: "LEFT JOIN",
  full: "FULL OUTER JOIN",
};

/**
 * Compiles the core's resolve-update plan to the SQL of dialect `d`: per upstream read-latest →
 * rename → filter → select → lineage; the join; per-field and record provenance; and new / stale /
 * orphaned in ONE full outer join against the stored rows.
 */
export function compileResolveUpdate(
  d: SqlDialect,
  plan: ResolveUpdatePlan,
  sources: ResolveSources,
  params: SqlParams = {},
): CompiledResolve {
  const q = d.quoteIdent;
  const ctes: string[] = [];
  let expected: ExpectedShape;
  let inputIdsSql: string | null = null;

  const scope = plan.scope ? compileScope(d, plan, plan.scope, sources, ctes, params) : null;
  if (plan.expected.kind === "samples") {
    const src = sources.samples!;
    expected = compileSamples(d, plan, src, plan.expected.filters, ctes, params);
  } else {
    expected = compileUpstreams(d, plan, plan.expected, sources, ctes, params, scope);
    inputIdsSql = `SELECT DISTINCT ${plan.diffColumns.map(q).join(", ")} FROM expected`;
  }

  const stored = expected.stored;
  const expectedList = stored.map((c) => `e.${q(c)}`).join(", ");
  const keys = plan.diffColumns;
  const curKeys = keys.map((c) => q(CURRENT_PREFIX + c));
  let diff: string;
  let fullCurrent: string | null = null;
  if (!sources.current || plan.skipComparison) {
    diff = `SELECT 'new' AS ${STATUS}, ${expectedList}${keys.map((c) => `, NULL AS ${q(CURRENT_PREFIX + c)}`).join("")} FROM expected e`;
  } else {
    const currentColumns = sources.current.columns;
    const identity = keys.map((c) => ({ source: c, name: c }));
    const relation = scope
      ? `(${scope.rows(sources.current.relation, plan.current, identity, plan.scope!.targetMark)})`
      : sources.current.relation;
    const read = compileRead(d, plan.current, relation, params);
    const predicateColumns = [...new Set(plan.stalenessPredicates.flatMap((p) => [...exprColumns(p)]))];
    // The comparison needs only ids, provenance and predicate columns: DuckDB prunes the rest.
    const needed = [...new Set([...keys, PROVENANCE, ...predicateColumns])];
    const collapse = plan.collapseCurrent;
    // Orphans are read later, by key, outside this statement: from the unrestricted rows.
    const unscoped = scope ? compileRead(d, plan.current, sources.current.relation, params) : read;
    fullCurrent = collapse ? collapseCurrent(d, unscoped, currentColumns, collapse.by) : unscoped;
    ctes.push(
      `cur AS (${collapse ? collapseCurrent(d, read, needed, collapse.by) : `SELECT ${needed.map(q).join(", ")} FROM (${read})`})`,
    );
    // Column references of the two sides: `e.x` / `c.x` after a join, `g.__e_x` / `g.__c_x` after
    // UNION ALL + GROUP BY (engines whose joins are slow, or fill unmatched columns with defaults).
    // (Keys are one column of `g`: the stale test runs only where both sides are present.)
    const union = d.diffShape === "union";
    const keySet = new Set(keys);
    const eRef = (c: string) => (!union ? `e.${q(c)}` : keySet.has(c) ? `g.${q(c)}` : `g.${q(`__e_${c}`)}`);
    const cRef = (c: string) => (!union ? `c.${q(c)}` : keySet.has(c) ? `g.${q(c)}` : `g.${q(`__c_${c}`)}`);
    const curCtx = columnContext(d, new Map(needed.map((c) => [c, cRef(c)])), "staleness predicate", params);
    const predicates = plan.stalenessPredicates.map((p) => compileExpr(p, curCtx));
    const staleWhen = [
      `${cRef(PROVENANCE)} IS NULL`,
      d.isDistinctFrom(cRef(PROVENANCE), eRef(PROVENANCE)),
      ...predicates.map((p) => `coalesce(${p}, false)`),
    ].join(" OR ");
    if (union) {
      const eCols = stored.filter((c) => !keySet.has(c));
      const cCols = needed.filter((c) => !keySet.has(c));
      const side = (mine: "e" | "c") => {
        const list = [
          ...keys.map(q),
          `${mine === "e" ? 1 : "NULL"} AS __e_present`,
          `${mine === "c" ? 1 : "NULL"} AS __c_present`,
          ...eCols.map((c) => `${mine === "e" ? q(c) : "NULL"} AS ${q(`__e_${c}`)}`),
          ...cCols.map((c) => `${mine === "c" ? q(c) : "NULL"} AS ${q(`__c_${c}`)}`),
        ];
        return `SELECT ${list.join(", ")} FROM ${mine === "e" ? "expected" : "cur"}`;
      };
      const grouped = [
        ...keys.map(q),
        "max(__e_present) AS __e_present",
        "max(__c_present) AS __c_present",
        ...[...eCols.map((c) => `__e_${c}`), ...cCols.map((c) => `__c_${c}`)].map(
          (c) => `${d.anyValue(q(c))} AS ${q(c)}`,
        ),
      ];
      ctes.push(`sides AS (${side("e")} UNION ALL ${side("c")})`);
      ctes.push(`g AS (SELECT ${grouped.join(", ")} FROM sides GROUP BY ${keys.map(q).join(", ")})`);
      const expectedCols = stored.map((c) =>
        keySet.has(c)
          ? `CASE WHEN g.__e_present IS NOT NULL THEN g.${q(c)} END AS ${q(c)}`
          : `${eRef(c)} AS ${q(c)}`,
      );
      diff =
        `SELECT CASE WHEN g.__c_present IS NULL THEN 'new' WHEN g.__e_present IS NULL THEN 'orphaned' WHEN ${staleWhen} THEN 'stale' END AS ${STATUS}, ` +
        `${expectedCols.join(", ")}${keys.map((c) => `, CASE WHEN g.__c_present IS NOT NULL THEN g.${q(c)} END AS ${q(CURRENT_PREFIX + c)}`).join("")} FROM g`;
    } else {
      const on = keys.map((c) => `e.${q(c)} = c.${q(c)}`).join(" AND ");
      diff =
        `SELECT CASE WHEN c.__present IS NULL THEN 'new' WHEN e.__present IS NULL THEN 'orphaned' WHEN ${staleWhen} THEN 'stale' END AS ${STATUS}, ` +
        `${expectedList}${keys.map((c) => `, c.${q(c)} AS ${q(CURRENT_PREFIX + c)}`).join("")} ` +
        `FROM (SELECT *, true AS __present FROM expected) e FULL OUTER JOIN (SELECT *, true AS __present FROM cur) c ON ${on}`;
    }
  }
  let sql = `WITH ${ctes.join(",\n")}\nSELECT * FROM (${diff}) WHERE ${STATUS} IS NOT NULL`;
  if (plan.failures) {
    // Records that failed for good at this provenance are set aside, not handed out again.
    const match = [...keys, PROVENANCE].map((c) => `f.${q(c)} = d.${q(c)}`).join(" AND ");
    sql =
      `SELECT CASE WHEN d.${STATUS} IN ('new', 'stale') AND EXISTS (SELECT 1 FROM (${compileRead(d, plan.failures, sources.failures, params)}) f WHERE ${match}) ` +
      `THEN 'failed' ELSE d.${STATUS} END AS ${STATUS}, ${d.allExcept("d", [STATUS])} FROM (${sql}) d`;
  }
  return {
    sql,
    inputIdsSql: inputIdsSql && `WITH ${ctes.join(",\n")}\n${inputIdsSql}`,
    expectedSelect: expected.select,
    dataVersionIsProvenance: expected.dataVersionIsProvenance ?? false,
    orphansSql: (table) =>
      fullCurrent === null
        ? "SELECT 1 AS __none FROM (SELECT 1 AS __one) AS t WHERE false"
        : d.semiJoin(
            `(${fullCurrent})`,
            `(SELECT ${keys.map((c, i) => `${curKeys[i]} AS ${q(c)}`).join(", ")} FROM ${table} WHERE ${STATUS} = 'orphaned')`,
            keys.map((c) => `f.${q(c)} = o.${q(c)}`).join(" AND "),
          ),
  };
}

/** Expansion: one row per parent; children disagreeing on provenance leave it NULL, i.e. stale. */
function collapseCurrent(
  d: SqlDialect,
  read: string,
  columns: readonly string[],
  keys: readonly string[],
): string {
  const q = d.quoteIdent;
  const keySet = new Set(keys);
  const collapsed = (c: string) =>
    keySet.has(c)
      ? q(c)
      : c === PROVENANCE
        ? `CASE WHEN count(DISTINCT ${q(c)}) = 1 AND count(*) = count(${q(c)}) THEN ${d.anyValue(q(c))} END AS ${q(c)}`
        : `${d.anyValue(q(c))} AS ${q(c)}`;
  return `SELECT ${columns.map(collapsed).join(", ")} FROM (${read}) GROUP BY ${keys.map(q).join(", ")}`;
}

/** Stored expected columns, and the select list that turns them into increment rows. */
interface ExpectedShape {
  stored: string[];
  select: string;
  /** The select omits the data-version columns: they are copies of the provenance ones. */
  dataVersionIsProvenance?: boolean;
}

function compileSamples(
  d: SqlDialect,
  plan: ResolveUpdatePlan,
  src: { relation: string; columns: readonly string[] },
  filters: readonly Expr[],
  ctes: string[],
  params: SqlParams,
): ExpectedShape {
  const q = d.quoteIdent;
  const has = new Set(src.columns);
  const ctx = columnContext(d, new Map(src.columns.map((c) => [c, q(c)])), "filter", params);
  const where = filters.length ? ` WHERE ${filters.map((f) => compileExpr(f, ctx)).join(" AND ")}` : "";
  const concat = (m: string) => plan.recordOrder.map((k) => d.mapGet(m, k)).join(" || '|' || ");
  const prov = d.hash(plan.hashAlgorithm, concat(q(PROVENANCE_BY_FIELD)), plan.truncation);
  const user = src.columns.filter((c) => !PROVENANCE_COLUMNS.includes(c));
  const dvbfMissing = d.mapIsNull
    ? d.mapIsNull(q(DATA_VERSION_BY_FIELD))
    : `${q(DATA_VERSION_BY_FIELD)} IS NULL`;
  const dvbf = has.has(DATA_VERSION_BY_FIELD)
    ? `CASE WHEN ${dvbfMissing} THEN ${q(PROVENANCE_BY_FIELD)} ELSE ${q(DATA_VERSION_BY_FIELD)} END`
    : q(PROVENANCE_BY_FIELD);
  const dvExpr = has.has(DATA_VERSION_BY_FIELD)
    ? `CASE WHEN ${dvbfMissing} THEN __prov ELSE ${has.has(DATA_VERSION) ? `coalesce(${q(DATA_VERSION)}, ${d.hash(plan.hashAlgorithm, concat(q(DATA_VERSION_BY_FIELD)), plan.truncation)})` : d.hash(plan.hashAlgorithm, concat(q(DATA_VERSION_BY_FIELD)), plan.truncation)} END`
    : "__prov";
  ctes.push(`samples AS (SELECT *, ${prov} AS __prov FROM ${src.relation}${where})`);
  ctes.push(
    `expected AS (SELECT ${[...user.map(q), q(PROVENANCE_BY_FIELD), `__prov AS ${q(PROVENANCE)}`, `${dvbf} AS ${q(DATA_VERSION_BY_FIELD)}`, `${dvExpr} AS ${q(DATA_VERSION)}`].join(", ")} FROM samples)`,
  );
  const stored = [...user, ...PROVENANCE_COLUMNS];
  return { stored, select: stored.map(q).join(", ") };
}

function compileUpstreams(
  d: SqlDialect,
  plan: ResolveUpdatePlan,
  expected: ExpectedFromUpstreams,
  sources: ResolveSources,
  ctes: string[],
  params: SqlParams,
  scope: CompiledScope | null,
): ExpectedShape {
  const q = d.quoteIdent;
  const { upstreams, joinOrder, joinColumns: keys } = expected;
  upstreams.forEach((u, i) => {
    const src = sources.upstreams[i];
    let read = src.raw ? compileRead(d, u.read, src.relation, params) : `SELECT * FROM ${src.relation}`;
    if (scope) {
      const s = plan.scope!.upstreams[i];
      if (s.regroupBy.length === 0)
        read = compileRead(d, u.read, `(${scope.rows(src.relation, u.read, s.keys, s.mark)})`, params);
      else {
        // Rows may change group: every version of an id ever in a scoped group, then only scoped groups.
        const ids = s.regroupBy.map((c) => ({ source: c, name: c }));
        const members = `(${d.semiJoin(src.relation, `(${scope.restrict(src.relation, s.keys)})`, keyMatch(d, ids))})`;
        read = scope.restrict(`(${compileRead(d, u.read, members, params)})`, s.keys);
      }
    }
    ctes.push(`u${i}_read AS (${read})`);
    // Filters see every renamed column (before select) and the renamed system columns.
    const ctx = columnContext(
      d,
      new Map(u.renamed.map((c) => [c.name, q(c.source)])),
      `filter of dependency "${u.feature}"`,
      params,
    );
    const where = u.filters.length ? ` WHERE ${u.filters.map((f) => compileExpr(f, ctx)).join(" AND ")}` : "";
    const cols = [
      ...u.columns.map((c) => `${q(c.source)} AS ${q(c.name)}`),
      `${q(DATA_VERSION_BY_FIELD)} AS ${dv(i)}`,
    ];
    ctes.push(`u${i} AS (SELECT ${cols.join(", ")} FROM u${i}_read${where})`);
    if (u.lineage.type === "aggregation") {
      const { on, orderBy, fieldStructKeys } = u.lineage;
      const order = orderBy.map(q).join(", ");
      const hashes = fieldStructKeys.map((sk) =>
        d.hash(
          plan.hashAlgorithm,
          `coalesce(${d.orderedStringAgg(d.mapGet(dv(i), sk), "'|'", order)}, '')`,
          plan.truncation,
        ),
      );
      ctes.push(
        `u${i}_lineage AS (SELECT ${on.map(q).join(", ")}, ${d.map(fieldStructKeys, hashes)} AS ${dv(i)} FROM u${i} GROUP BY ${on.map(q).join(", ")})`,
      );
    }
  });
  const relation = (i: number) => (upstreams[i].lineage.type === "aggregation" ? `u${i}_lineage` : `u${i}`);

  const [base, ...rest] = joinOrder;
  let from = `${relation(base)} AS t${base}`;
  const joined = [base];
  let anyFull = false;
  // After a full join a key is the first non-null in join order; otherwise the base's.
  const keyExpr = (c: string) =>
    anyFull ? `coalesce(${joined.map((j) => `t${j}.${q(c)}`).join(", ")})` : `t${base}.${q(c)}`;
  for (const i of rest) {
    const kind = JOIN_SQL[upstreams[i].join!];
    from += ` ${kind} ${relation(i)} AS t${i} ON ${keys.map((c) => `${keyExpr(c)} = t${i}.${q(c)}`).join(" AND ")}`;
    joined.push(i);
    if (upstreams[i].join === "full") anyFull = true;
  }
  const select = [
    ...keys.map((c) => `${keyExpr(c)} AS ${q(c)}`),
    ...expected.joinedColumns.map((c) => `t${c.upstream}.${q(c.name)}`),
    ...joinOrder.map((i) => `t${i}.${dv(i)}`),
  ];
  ctes.push(`joined AS (SELECT ${select.join(", ")} FROM ${from})`);

  // Provenance per field, then per record (SPEC §2.5). Each parent value is extracted from its
  // map once; constant pieces are folded into one literal; NULL propagates as with `||`.
  const values = new Map<string, string>();
  const valueColumn = (upstream: number, structKey: string) => {
    const id = `${upstream}\u0000${structKey}`;
    if (!values.has(id)) values.set(id, `__v_${values.size}`);
    return values.get(id)!;
  };
  const fieldExprs = plan.fields.map((f) => {
    const pieces: string[] = [];
    const nullable: string[] = [];
    let literal = `${f.keyString}|${f.codeVersion}`;
    for (const p of f.parents) {
      const v = q(valueColumn(p.upstream, p.structKey));
      pieces.push(d.string(`${literal}|${p.fqKey}|`));
      if (p.optional) pieces.push(`coalesce(${v}, '')`);
      else {
        pieces.push(v);
        nullable.push(v);
      }
      literal = "";
    }
    if (literal) pieces.push(d.string(literal));
    return `${d.hash(plan.hashAlgorithm, concatOrNull(d, pieces, nullable), plan.truncation)} AS ${q(`__f_${f.structKey}`)}`;
  });
  const extracted = [...values.entries()].map(([id, column]) => {
    const [upstream, structKey] = id.split("\u0000");
    return `${d.mapGet(dv(Number(upstream)), structKey)} AS ${q(column)}`;
  });
  ctes.push(`parent_values AS (SELECT *${extracted.map((e) => `, ${e}`).join("")} FROM joined)`);
  ctes.push(`fields AS (SELECT *, ${fieldExprs.join(", ")} FROM parent_values)`);
  const structKeys = plan.fields.map((f) => f.structKey);
  const fieldColumns = structKeys.map((k) => `__f_${k}`);
  const recordFields = plan.recordOrder.map((k) => q(`__f_${k}`));
  const record = d.hash(
    plan.hashAlgorithm,
    concatOrNull(
      d,
      recordFields.flatMap((f, i) => (i === 0 ? [f] : ["'|'", f])),
      recordFields,
    ),
    plan.truncation,
  );
  const columns = expected.columns.map(q).join(", ");
  ctes.push(
    expected.reduce
      ? `expected AS (SELECT ${columns}, ${fieldColumns.map((c) => `${d.anyValue(q(c))} AS ${q(c)}`).join(", ")}, ${d.anyValue(record)} AS ${q(PROVENANCE)} FROM fields GROUP BY ${expected.reduce.by.map(q).join(", ")})`
      : `expected AS (SELECT ${columns}, ${fieldColumns.map(q).join(", ")}, ${record} AS ${q(PROVENANCE)} FROM fields)`,
  );
  // Per-field hashes stay plain columns; the `*_by_field` maps are built only when rows are read.
  const readMap = d.map(structKeys, fieldColumns.map(q));
  return {
    stored: [...expected.columns, ...fieldColumns, PROVENANCE],
    // data versions equal provenance here: the JS side copies them instead of decoding twice
    select: [...expected.columns.map(q), `${readMap} AS ${q(PROVENANCE_BY_FIELD)}`, q(PROVENANCE)].join(", "),
    dataVersionIsProvenance: true,
  };
}

/** The scope of an incremental resolve, compiled: a `scope` CTE of keys and how to restrict a relation to it. */
interface CompiledScope {
  /** SELECT of `relation`'s rows whose `keys` (stored column → key name) are in the scope. */
  restrict(relation: string, keys: readonly UpstreamColumn[]): string;
  /**
   * The rows `read` (latest per id) needs from `relation` for the scope's keys (`keys`, stored
   * column → key name). When the keys are the read's ids and the table's mark is known, a key
   * with a row after the mark that passes the read's feature-version filter has its latest row
   * after the mark: those keys take only the rows after the mark (a pruned scan), and only the
   * other keys are looked up in the whole table (no scan at all when there are none).
   */
  rows(relation: string, read: ReadQuery, keys: readonly UpstreamColumn[], mark: Date | null): string;
}

/**
 * `scope AS (...)`: the distinct keys of fresh upstream rows (every group any version of a fresh
 * id was in, for a regrouping aggregation), of fresh target rows, and the pending keys — the
 * SQL of core's `scopeKeys`.
 */
function compileScope(
  d: SqlDialect,
  plan: ResolveUpdatePlan,
  scope: ResolveScope,
  sources: ResolveSources,
  ctes: string[],
  params: SqlParams,
): CompiledScope {
  const q = d.quoteIdent;
  const keys = plan.diffColumns;
  const fresh = (relation: string, mark: Date | null) =>
    mark === null ? `SELECT * FROM ${relation}` : freshRows(d, relation, mark, params);
  const project = (relation: string, through: readonly UpstreamColumn[]) =>
    `SELECT ${keys.map((k) => `${q(through.find((c) => c.name === k)!.source)} AS ${q(k)}`).join(", ")} FROM (${relation})`;
  const parts: string[] = [];
  if (plan.expected.kind === "upstreams")
    plan.expected.upstreams.forEach((_, i) => {
      const s = scope.upstreams[i];
      const relation = sources.upstreams[i].relation;
      if (s.regroupBy.length === 0) parts.push(project(fresh(relation, s.mark), s.keys));
      else {
        const ids = s.regroupBy.map((c) => ({ source: c, name: c }));
        parts.push(project(d.semiJoin(relation, `(${fresh(relation, s.mark)})`, keyMatch(d, ids)), s.keys));
      }
    });
  const identity = keys.map((c) => ({ source: c, name: c }));
  if (sources.current) parts.push(project(fresh(sources.current.relation, scope.targetMark), identity));
  if (scope.pending && sources.pending)
    parts.push(project(compileRead(d, scope.pending, sources.pending, params), identity));
  ctes.push(`scope AS (SELECT DISTINCT * FROM (${parts.join(" UNION ALL ")}))`);
  let n = 0;
  return {
    restrict: (relation, through) => restrictTo(d, relation, "scope", keys, through),
    rows(relation, read, through, mark) {
      const ids = new Set(read.idColumns);
      const byIds = read.latestOnly && through.length === ids.size && through.every((c) => ids.has(c.source));
      if (mark === null || !byIds) return restrictTo(d, relation, "scope", keys, through);
      const version =
        read.featureVersion === null
          ? ""
          : ` WHERE ${q(FEATURE_VERSION)} = ${d.bind(read.featureVersion, params)}`;
      const after = `SELECT * FROM (${freshRows(d, relation, mark, params)})${version}`;
      const covered = `covered_${n}`;
      const rest = `rest_${n++}`;
      ctes.push(`${covered} AS (SELECT DISTINCT *, true AS __covered FROM (${project(after, through)}))`);
      // Scope keys without such a row (an anti join that also works where unmatched columns get defaults).
      const match = keys.map((k) => d.sameKey(`o.${q(k)}`, `c.${q(k)}`)).join(" AND ");
      ctes.push(
        `${rest} AS (SELECT ${keys.map((k) => `o.${q(k)}`).join(", ")} FROM scope o LEFT JOIN ${covered} c ON ${match} WHERE NOT coalesce(c.__covered, false))`,
      );
      return `${after} UNION ALL ${restrictTo(d, relation, rest, keys, through)}`;
    },
  };
}

/**
 * Rows with effective time `coalesce(metaxy_deleted_at, metaxy_updated_at)` after `mark`, as two
 * disjoint branches whose plain column comparisons engines can prune by (a coalesce they cannot).
 */
function freshRows(d: SqlDialect, relation: string, mark: Date, params: SqlParams): string {
  const q = d.quoteIdent;
  const m = d.bind(mark, params);
  const [del, upd] = [q(DELETED_AT), q(UPDATED_AT)];
  return (
    `SELECT * FROM ${relation} WHERE ${upd} > ${m} AND coalesce(${del}, ${upd}) > ${m} UNION ALL ` +
    `SELECT * FROM ${relation} WHERE ${del} > ${m} AND NOT coalesce(${upd} > ${m}, false)`
  );
}

/**
 * Rows of `relation` whose keys (`through`: stored column → key name) are in `keyRelation`,
 * NULL matching NULL. Keys without NULLs join on plain `=`, which engines can push into the scan
 * (DuckDB's join filters); keys with a NULL part take a null-safe join, over no rows at all
 * when no key has one.
 */
function restrictTo(
  d: SqlDialect,
  relation: string,
  keyRelation: string,
  keys: readonly string[],
  through: readonly UpstreamColumn[],
): string {
  const q = d.quoteIdent;
  const src = (k: string) => q(through.find((c) => c.name === k)!.source);
  const equal = keys.map((k) => `f.${src(k)} = o.${q(k)}`).join(" AND ");
  const complete = keys.map((k) => `${q(k)} IS NOT NULL`).join(" AND ");
  const partial = keys.map((k) => `${q(k)} IS NULL`).join(" OR ");
  const partialRows = keys.map((k) => `${src(k)} IS NULL`).join(" OR ");
  return (
    `${d.semiJoin(relation, `(SELECT * FROM ${keyRelation} WHERE ${complete})`, equal)} UNION ALL ` +
    d.semiJoin(
      `(SELECT * FROM ${relation} WHERE ${partialRows})`,
      `(SELECT * FROM ${keyRelation} WHERE ${partial})`,
      keyMatch(d, through),
    )
  );
}

/** `f.<source> = o.<name>` for every key, NULL matching NULL (a NULL key is in a scope like any other). */
function keyMatch(d: SqlDialect, through: readonly UpstreamColumn[]): string {
  const q = d.quoteIdent;
  return through.map((c) => d.sameKey(`f.${q(c.source)}`, `o.${q(c.name)}`)).join(" AND ");
}

/** `concat` of `pieces`, NULL when any of `nullable` is (SQL `||` semantics, without its intermediate strings). */
function concatOrNull(d: SqlDialect, pieces: readonly string[], nullable: readonly string[]): string {
  const concat = pieces.length === 1 ? d.toText(pieces[0]) : `concat(${pieces.join(", ")})`;
  return nullable.length === 0
    ? concat
    : `CASE WHEN ${nullable.map((n) => `${n} IS NULL`).join(" OR ")} THEN NULL ELSE ${concat} END`;
}

/** Compiles column references through `names`; an unknown column is a typed error, as in the reference engine. */
function columnContext(d: SqlDialect, names: ReadonlyMap<string, string>, what: string, params: SqlParams) {
  return {
    quoteIdent: d.quoteIdent,
    literal: (value: Literal) => d.bind(value, params),
    column(name: string): string {
      const sql = names.get(name);
      if (sql === undefined)
        throw new FilterParseError(`Filter references unknown column "${name}" (${what})`, { column: name });
      return sql;
    },
  };
}
