import type { Expr } from "./expression.js";

/** One read of a feature table: what `read` and every resolve-update input compile from. */
export interface ReadQuery {
  readonly table: string;
  readonly idColumns: readonly string[];
  /** System filter applied before dedup: only rows written under this feature version. */
  readonly featureVersion: string | null;
  /** Keep only the latest row per id, by `coalesce(metaxy_deleted_at, metaxy_updated_at)`. */
  readonly latestOnly: boolean;
  /** Keep soft-deleted rows (otherwise dropped after dedup). */
  readonly includeSoftDeleted: boolean;
  /** User filters, applied after dedup and soft-delete filtering. */
  readonly filters: readonly Expr[];
  /** Exact output columns; `null` = every column. */
  readonly columns: readonly string[] | null;
}
