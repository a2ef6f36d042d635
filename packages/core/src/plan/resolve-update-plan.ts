import type { ColumnType } from "../spec/system-columns.js";
import type { HashAlgorithm } from "../versioning/hash-algorithms.js";
import type { Expr } from "./expression.js";
import type { ReadQuery } from "./read-query.js";

export type Row = Record<string, unknown>;

/** A stored column and its name after rename. */
export interface UpstreamColumn {
  readonly source: string;
  readonly name: string;
}

/** How an upstream joins the ones before it in `joinOrder` (SPEC §2.6, join). */
export type JoinKind = "inner" | "left" | "full";

/**
 * How one upstream is read and shaped before the join (SPEC §2.6). Every choice is made here:
 * engines read `read` (or `inline`), apply `renamed`, `filters`, `columns`, `lineage`, and join.
 */
export interface UpstreamInput {
  readonly feature: string;
  /** `__video_raw`: suffix of this upstream's renamed system columns. */
  readonly suffix: string;
  /** Latest live rows of the upstream's current version, runtime + global filters applied. */
  readonly read: ReadQuery;
  /**
   * Every stored column after rename: the user columns under the dependency's `rename`, and the
   * four provenance / data-version columns under their `suffix` names. What `filters` see.
   */
  readonly renamed: readonly UpstreamColumn[];
  /** The dependency's static filters (post-rename names). */
  readonly filters: readonly Expr[];
  /**
   * The user columns this upstream keeps (after rename and select; select extended with the
   * lineage and id columns), in order. Its data versions travel alongside, under `suffix`.
   */
  readonly columns: readonly UpstreamColumn[];
  readonly lineage: UpstreamLineage;
  /** How it joins the upstreams before it; `null` for the first in `joinOrder` (the base). */
  readonly join: JoinKind | null;
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
  | {
      /**
       * N:1: one row per `on` group leaves this upstream, carrying only `on` and a data-version
       * map whose entry per `fieldStructKeys` key hashes the group's member values joined by `|`,
       * members ordered by `orderBy` (ascending, code-point order for strings), nulls skipped.
       */
      readonly type: "aggregation";
      readonly on: readonly string[];
      readonly orderBy: readonly string[];
      /** Struct keys of the upstream's fields, sorted. */
      readonly fieldStructKeys: readonly string[];
    }
  | { readonly type: "expansion"; readonly on: readonly string[] };

/** A column of the joined rows and the upstream (index into `upstreams`) it is taken from. */
export interface JoinedColumn {
  readonly name: string;
  readonly upstream: number;
}

/** Expected rows computed from the upstreams (SPEC §2.6 then §2.5). */
export interface ExpectedFromUpstreams {
  readonly kind: "upstreams";
  /** In declared order (`ParentFieldRef.upstream` indexes into it). */
  readonly upstreams: readonly UpstreamInput[];
  /** Indexes into `upstreams`: the base, then each upstream joined to what precedes it. */
  readonly joinOrder: readonly number[];
  /** Columns every join matches on; after a full join, each is the first non-null in join order. */
  readonly joinColumns: readonly string[];
  /** The other user columns of the joined rows, each from the first upstream in join order that has it. */
  readonly joinedColumns: readonly JoinedColumn[];
  /** Aggregation lineage: one expected row per `by` (the first joined row's), with only those user columns. */
  readonly reduce: { readonly by: readonly string[] } | null;
  /** User columns of the expected rows, in order (the provenance columns follow). */
  readonly columns: readonly string[];
}

/** Expected rows are user-supplied samples (root features, or `samples` passed explicitly). */
export interface ExpectedFromSamples {
  readonly kind: "samples";
  readonly rows: readonly Row[];
  readonly filters: readonly Expr[];
}

/** One parent field of a downstream field, as the provenance hash reads it. */
export interface ParentFieldRef {
  /** `video/raw.audio`, the string hashed. */
  readonly fqKey: string;
  /** Index into `ExpectedFromUpstreams.upstreams`. */
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
 * and compiled to SQL by backends. Data, not SQL text: it states every decision (columns, join
 * kinds and order, aggregation order, collapse and reduction), so engines never look at the
 * feature definitions.
 */
export interface ResolveUpdatePlan {
  readonly feature: string;
  readonly table: string;
  readonly hashAlgorithm: HashAlgorithm;
  /** `null` keeps whole hashes. */
  readonly truncation: number | null;
  /** Where expected rows come from: upstream tables, or user-supplied samples. */
  readonly expected: ExpectedFromUpstreams | ExpectedFromSamples;
  /** Columns expected and current rows are compared on. */
  readonly diffColumns: readonly string[];
  /** Every field of the feature, in spec order. */
  readonly fields: readonly PlannedField[];
  /** Struct keys of `fields` in the order the record provenance joins them (sorted). */
  readonly recordOrder: readonly string[];
  /** The stored rows of the feature (current version, latest, live, target filters). */
  readonly current: ReadQuery;
  /**
   * Expansion lineage: stored children collapse to one row per `by` before the diff, each column
   * any non-null value, the provenance null (hence stale) unless every child carries the same one.
   */
  readonly collapseCurrent: { readonly by: readonly string[] } | null;
  /** Current rows matching any of these are stale regardless of provenance. */
  readonly stalenessPredicates: readonly Expr[];
  /** Report every expected row as new; no comparison. */
  readonly skipComparison: boolean;
  /**
   * Failed records (ids on `diffColumns`, and `metaxy_provenance`): an expected row that would be
   * new or stale and matches one on ids and provenance is `failed` instead. `null`: none.
   */
  readonly failures: ReadQuery | null;
  /**
   * Incremental resolve (see resolve-scope.ts): evaluate only the keys this scope names; every
   * other key's result is known to be empty. Absent or null: every key (a full resolve).
   */
  readonly scope?: ResolveScope | null;
}

/**
 * The keys (values of `diffColumns`) an incremental resolve evaluates: those of rows written to an
 * upstream or to the target after its mark, and the keys the previous resolve left pending. The
 * store guarantees, by its checkpoint checks, that no row at or before a mark changed since.
 */
export interface ResolveScope {
  /** Per upstream (as in `expected.upstreams`). */
  readonly upstreams: readonly ScopedUpstream[];
  /** Target rows with effective time after this are fresh; null: every target row. */
  readonly targetMark: Date | null;
  /** Rows holding the pending keys (the `diffColumns`), or null when none are pending. */
  readonly pending: ReadQuery | null;
}

export interface ScopedUpstream {
  /** Rows whose effective time `coalesce(metaxy_deleted_at, metaxy_updated_at)` is after this are fresh; null: every row. */
  readonly mark: Date | null;
  /** The stored columns that carry the diff keys (`source`), and the key each one is (`name`). */
  readonly keys: readonly UpstreamColumn[];
  /**
   * Stored id columns of the upstream when some key column is not one of them (an aggregation on
   * a non-id column): a row may change group, so the scope takes every group any version of a
   * fresh id was in, and engines restrict by id before the latest-row pick and by key after it.
   * Empty when every key is an id column (restricting raw rows by key is then exact).
   */
  readonly regroupBy: readonly string[];
}

/** `failed`: would be new or stale, but failed for good at this provenance (left out of `toProcess`). */
export type IncrementKind = "new" | "stale" | "orphaned" | "failed";
export const INCREMENT_KINDS: readonly IncrementKind[] = ["new", "stale", "orphaned", "failed"];

export interface IncrementCounts {
  readonly new: number;
  readonly stale: number;
  readonly orphaned: number;
  readonly failed: number;
}
