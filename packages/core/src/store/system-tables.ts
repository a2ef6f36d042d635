import { FeatureKey } from "../keys.js";
import type { ColumnType } from "../spec/system-columns.js";

export const FEATURE_VERSIONS_KEY = new FeatureKey("metaxy-system/feature_versions");
export const EVENTS_KEY = new FeatureKey("metaxy-system/events");

/**
 * `metaxy_system__feature_versions`: one row per feature per pushed graph snapshot (SPEC §4.9),
 * typed as Python Metaxy 0.1.11 creates it (`recorded_at` / `deleted_at` without a time zone, in
 * UTC). Tables created with TIMESTAMPTZ columns by earlier versions are read and appended to as
 * they are.
 */
export const FEATURE_VERSIONS_SCHEMA: Record<string, ColumnType> = {
  project: "string",
  feature_key: "string",
  metaxy_feature_version: "string",
  metaxy_definition_version: "string",
  recorded_at: "timestamp_ntz",
  feature_spec: "string",
  feature_schema: "string",
  feature_class_path: "string",
  metaxy_project_version: "string",
  tags: "string",
  deleted_at: "timestamp_ntz",
};

export interface PushResult {
  readonly projectVersion: string;
  /** This project version was already recorded. */
  readonly alreadyPushed: boolean;
  /** Features whose rows were (re)written although the project version was already recorded. */
  readonly updatedFeatures: readonly string[];
}

export interface GraphSnapshotSummary {
  readonly projectVersion: string;
  readonly recordedAt: Date;
  readonly featureCount: number;
}

/** The library version recorded in snapshot tags. */
export const METAXY_TS_VERSION = "0.1.0";
