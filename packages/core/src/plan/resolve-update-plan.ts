import type { ColumnType } from "../spec/system-columns.js";
import type { HashAlgorithm } from "../versioning/hash-algorithms.js";
import type { Expr } from "./expression.js";
import type { ReadQuery } from "./read-query.js";

export type Row = Record<string, unknown>;

/** How one upstream is read and shaped before the join (SPEC §2.6). */
export interface UpstreamInput {
  readonly feature: string;
  /** `__video_raw`: suffix of this upstream's renamed system columns. */
  readonly suffix: string;
  /** Latest live rows of the upstream's current version, runtime + global filters applied. */
  readonly read: ReadQuery;
  /** User rename `{ old: new }`, applied before `filters` and `select`. */
  readonly rename: Readonly<Record<string, string>>;
  /** The dependency's static filters (post-rename names). */
  readonly filters: readonly Expr[];
  /**
   * User columns to keep after rename (already extended with lineage and id columns);
   * `null` keeps every user column.
   */
  readonly select: readonly string[] | null;
  readonly lineage: UpstreamLineage;
  readonly optional: boolean;
  /** Struct keys of the upstream's fields, sorted (the aggregation hashing order). */
  readonly fieldStructKeys: readonly string[];
  /** Upstream id columns after rename (aggregation concatenation order). */
  readonly idColumns: readonly string[];
  /**
   * Rows that live in another store (a fallback): engines read them from here instead of
   * `read.table`, batch by batch, so they never all sit in JS memory at once.
   */
  readonly inline?: InlineRows;
}

/** An upstream's rows streamed from another engine: latest, live and filtered by `read.filters`. */
export interface InlineRows {
  /** Every column the rows may carry, with its logical type (the source table's schema). */
  readonly schema: Readonly<Record<string, ColumnType>>;
  /** The rows, in batches; each call reads the source again. */
  batches(): AsyncIterable<Row[]>;
}

export type UpstreamLineage =
  | { readonly type: "identity" }
  | { readonly type: "aggregation"; readonly on: readonly string[] }
  | { readonly type: "expansion"; readonly on: readonly string[] };

/** One parent field of a downstream field, as the provenance hash reads it. */
export interface ParentFieldRef {
  /** `video/raw.audio`, the string hashed. */
  readonly fqKey: string;
  /** Index into `ResolveUpdatePlan.upstreams`. */
  readonly upstream: number;
  /** Entry of the upstream's `metaxy_data_version_by_field`. */
  readonly structKey: string;
  readonly optional: boolean;
}

export interface PlannedField {
  readonly keyString: string;
  readonly structKey: string;
  readonly codeVersion: string;
  /** Sorted by `fqKey`. */
  readonly parents: readonly ParentFieldRef[];
}

/**
 * The resolve-update plan (DESIGN §3): built once in core, interpreted by the reference engine
 * and compiled to SQL by backends. Data, not SQL text.
 */
export interface ResolveUpdatePlan {
  readonly feature: string;
  readonly table: string;
  readonly hashAlgorithm: HashAlgorithm;
  /** `null` keeps whole hashes. */
  readonly truncation: number | null;
  /** Where expected rows come from: upstream tables, or user-supplied samples. */
  readonly expected:
    | { readonly kind: "upstreams"; readonly upstreams: readonly UpstreamInput[] }
    | { readonly kind: "samples"; readonly rows: readonly Row[]; readonly filters: readonly Expr[] };
  /** Columns the upstreams are joined on. */
  readonly joinColumns: readonly string[];
  /** Columns expected and current rows are compared on. */
  readonly diffColumns: readonly string[];
  /** Every field of the feature, in spec order. */
  readonly fields: readonly PlannedField[];
  /** The stored rows of the feature (current version, latest, live, target filters). */
  readonly current: ReadQuery;
  /** Collapse current rows to one per `diffColumns` (expansion lineage). */
  readonly collapseCurrent: boolean;
  /** Reduce expected to one row per `diffColumns` (aggregation lineage). */
  readonly reduceExpected: boolean;
  /** Current rows matching any of these are stale regardless of provenance. */
  readonly stalenessPredicates: readonly Expr[];
  /** Report every expected row as new; no comparison. */
  readonly skipComparison: boolean;
}

export type IncrementKind = "new" | "stale" | "orphaned";
export const INCREMENT_KINDS: readonly IncrementKind[] = ["new", "stale", "orphaned"];

export interface IncrementCounts {
  readonly new: number;
  readonly stale: number;
  readonly orphaned: number;
}
