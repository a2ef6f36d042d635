import type { Row } from "@metaxy/core";

/** One parent field of a downstream field. */
export interface ParentField {
  feature: string;
  field: string;
}

/** A record of a feature that will be (re)computed, with the fields whose data changes. */
export interface AffectedRecord {
  row: Row;
  fields: ReadonlySet<string> | "all";
}

/** What the plan knows about one feature before estimating (gathered from the store). */
export interface CascadeInput {
  key: string;
  isRoot: boolean;
  /** Columns identifying a record in increments: input id columns (id columns for a root). */
  keyColumns: readonly string[];
  /** Columns kept per affected record: key columns plus what dependents need to map it. */
  exportColumns: readonly string[];
  /** Field key strings. */
  fields: readonly string[];
  /** Field key → its parent fields. */
  fieldParents: ReadonlyMap<string, readonly ParentField[]>;
  /** Upstream feature → the dependency's `rename` (`old → new`). */
  renames: ReadonlyMap<string, Readonly<Record<string, string>>>;
  rows: number;
  direct: { new: number; stale: number; orphaned: number } | null;
  /** New records (all fields) and stale records (their changed fields), as resolved now. */
  directAffected: readonly AffectedRecord[];
  /**
   * Records that will be recomputed because the feature's definition changed while its upstream is
   * not materialised at its current version yet (so resolving now shows nothing new).
   */
  versionChanged: { rows: readonly Row[] } | { count: number } | null;
  error?: string;
  notes: readonly string[];
}

export interface CascadeResult {
  feature_key: string;
  is_root: boolean;
  rows: number;
  /** New / stale / orphaned now; null for roots (their records come from ingestion) and errors. */
  direct: { new: number; stale: number; orphaned: number } | null;
  /** Records not in `direct` that will be recomputed once the upstream features have run. */
  cascaded: number;
  /** Distinct records to recompute: direct new + stale + cascaded. */
  total: number;
  /** `exact` id-level estimate, or `upper_bound` where ids could not be mapped through the lineage. */
  estimate: "exact" | "upper_bound";
  /** Upstream features whose changes cascade into this one. */
  via: string[];
  notes: string[];
  error?: string;
}

export function idKey(row: Row, columns: readonly string[]): string {
  return JSON.stringify(columns.map((c) => normalise(row[c])));
}

function normalise(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Date) return v.toISOString();
  return v ?? null;
}

/**
 * Estimates the downstream cascade (upstream-first `features`): a record of an upstream feature
 * that is recomputed changes the data of the fields it was recomputed for; every downstream field
 * depending on one of those fields then gets the mapped record recomputed too. Fields that only
 * depend on unaffected fields are not affected. Root features contribute nothing (their new data
 * is unknown until ingestion).
 */
export function estimateCascade(features: readonly CascadeInput[]): CascadeResult[] {
  const affected = new Map<string, Map<string, Map<string, Row>>>();
  const results: CascadeResult[] = [];
  for (const f of features) {
    const perField = new Map<string, Map<string, Row>>(f.fields.map((x) => [x, new Map()]));
    const direct = new Map<string, Row>();
    for (const a of f.directAffected) {
      const k = idKey(a.row, f.keyColumns);
      direct.set(k, a.row);
      for (const field of a.fields === "all" ? f.fields : a.fields) perField.get(field)?.set(k, a.row);
    }
    const cascaded = new Map<string, Row>();
    const via = new Set<string>();
    let unmapped = 0;
    for (const field of f.fields)
      for (const parent of f.fieldParents.get(field) ?? []) {
        const upstream = affected.get(parent.feature)?.get(parent.field);
        if (!upstream || upstream.size === 0) continue;
        via.add(parent.feature);
        const rename = f.renames.get(parent.feature) ?? {};
        let missed = 0;
        for (const row of upstream.values()) {
          const mapped = mapRow(row, rename, f.exportColumns, f.keyColumns);
          if (!mapped) {
            missed++;
            continue;
          }
          const k = idKey(mapped, f.keyColumns);
          perField.get(field)!.set(k, mapped);
          if (!direct.has(k)) cascaded.set(k, mapped);
        }
        unmapped = Math.max(unmapped, missed);
      }
    const notes = [...f.notes];
    let versionApprox = 0;
    if (f.versionChanged && "rows" in f.versionChanged)
      for (const row of f.versionChanged.rows) {
        const k = idKey(row, f.keyColumns);
        for (const m of perField.values()) m.set(k, row);
        if (!direct.has(k)) cascaded.set(k, row);
      }
    else if (f.versionChanged) versionApprox = f.versionChanged.count;
    affected.set(f.key, perField);
    const upperBound = unmapped > 0 || versionApprox > 0;
    if (unmapped > 0)
      notes.push(
        `${unmapped} upstream record(s) could not be mapped to this feature's ids; counted as an upper bound`,
      );
    const cascadedCount = Math.max(cascaded.size + unmapped, versionApprox);
    results.push({
      feature_key: f.key,
      is_root: f.isRoot,
      rows: f.rows,
      direct: f.direct,
      cascaded: cascadedCount,
      total: direct.size + cascadedCount,
      estimate: upperBound ? "upper_bound" : "exact",
      via: [...via],
      notes,
      ...(f.error ? { error: f.error } : {}),
    });
  }
  return results;
}

/** The upstream record in the downstream's column names, or null when a key column is missing. */
function mapRow(
  row: Row,
  rename: Readonly<Record<string, string>>,
  exportColumns: readonly string[],
  keyColumns: readonly string[],
): Row | null {
  const renamed: Row = {};
  for (const [c, v] of Object.entries(row)) renamed[rename[c] ?? c] = v;
  for (const c of keyColumns) if (renamed[c] === undefined) return null;
  const out: Row = {};
  for (const c of exportColumns) if (renamed[c] !== undefined) out[c] = renamed[c];
  return out;
}
