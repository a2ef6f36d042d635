/**
 * Row types of the data path, derived from a feature's definition: the zod schema types user
 * columns, the id columns and dependencies type the key columns of increment rows. A feature
 * known only by key string, or typed as plain `FeatureDefinition`, has untyped user columns
 * (`Row`) and untyped writes.
 */
import type { z } from "zod";
import type { Row } from "../plan/resolve-update-plan.js";
import type { AnyZodObject, FeatureDefinition } from "../spec/define-feature.js";

/** Field key (struct form, e.g. `audio`) → version hash. */
export type FieldVersions = Record<string, string>;

/** The four provenance columns every increment and stored row carries (SPEC §2.4). */
export interface ProvenanceColumns {
  metaxy_provenance_by_field: FieldVersions;
  metaxy_provenance: string;
  metaxy_data_version_by_field: FieldVersions;
  metaxy_data_version: string;
}

/** The ten system columns of a stored row, as reads return them. */
export interface SystemColumnValues extends ProvenanceColumns {
  metaxy_feature_version: string;
  metaxy_project_version: string;
  metaxy_created_at: Date;
  metaxy_updated_at: Date;
  metaxy_deleted_at: Date | null;
  metaxy_materialization_id: string | null;
}

type Timestamp = Date | string | number;

/**
 * System columns of a row to write: `metaxy_provenance_by_field` is required (copy it from the
 * increment row; a root feature supplies it); every other one is filled when absent.
 */
export interface WriteSystemColumns {
  metaxy_provenance_by_field: FieldVersions;
  metaxy_provenance?: string;
  /** Overrides per field; fields left out (or null) keep their provenance. */
  metaxy_data_version_by_field?: Record<string, string | null>;
  metaxy_data_version?: string;
  /** Kept only with `preserveFeatureVersion`. */
  metaxy_feature_version?: string;
  metaxy_project_version?: string;
  metaxy_created_at?: Timestamp;
  metaxy_updated_at?: Timestamp;
  metaxy_deleted_at?: Timestamp | null;
  /** Always overwritten by the write's materialisation id. */
  metaxy_materialization_id?: string | null;
}

type SchemaOf<F> = F extends FeatureDefinition<infer S, any, any> ? S : undefined;
/** A key string, or a definition whose schema type was erased (`FeatureDefinition`). */
type Untyped<F> =
  F extends FeatureDefinition<infer S, any, any>
    ? AnyZodObject extends S
      ? undefined extends S
        ? true
        : false
      : false
    : true;
type UserInput<F> = SchemaOf<F> extends infer S extends AnyZodObject ? z.input<S> : Row;
type UserOutput<F> = SchemaOf<F> extends infer S extends AnyZodObject ? z.output<S> : Row;

/**
 * A row `write` accepts: the schema's input columns and `metaxy_provenance_by_field` (any
 * columns for a schemaless feature). Untyped (`Row`) for a feature named by key string.
 */
export type FeatureRow<F> = Untyped<F> extends true ? Row : UserInput<F> & WriteSystemColumns;

/** A sample row `resolveUpdate` accepts for a root feature: its columns with `metaxy_provenance_by_field`. */
export type SampleRow<F> =
  Untyped<F> extends true ? Row : Row & { metaxy_provenance_by_field: FieldVersions };

/** A row `read` returns: the schema's output columns and every system column. */
export type FeatureReadRow<F> = UserOutput<F> & SystemColumnValues;

/** A column `read` can select. */
export type FeatureColumn<F> = keyof FeatureReadRow<F> & string;

/** A row `read` returns with `columns`: exactly those columns (`never` = no `columns` given). */
export type ReadRow<F, C extends string = never> = [C] extends [never]
  ? FeatureReadRow<F>
  : Pick<FeatureReadRow<F>, C & keyof FeatureReadRow<F>>;

type KeyColumns<F> =
  F extends FeatureDefinition<any, any, infer K>
    ? string extends K
      ? unknown
      : { [C in K]: C extends keyof UserOutput<F> ? UserOutput<F>[C] : unknown }
    : unknown;

/**
 * A new or stale row of an increment: the key columns (the feature's ids, or a dependency's
 * `on` columns), the expected provenance, and the upstream columns (untyped). `Extra` types
 * further columns: those of the samples a root feature was resolved with.
 */
export type IncrementRow<F, Extra = unknown> = KeyColumns<F> & Extra & ProvenanceColumns & Row;

/** Rows `Increment.batches(kind)` yields: orphans are stored rows; new and stale are increment rows. */
export type IncrementRowOf<F, K extends string, Extra = unknown> = K extends "orphaned"
  ? FeatureReadRow<F>
  : IncrementRow<F, Extra>;
