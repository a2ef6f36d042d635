/**
 * How upstream records relate to downstream records (SPEC §1.5).
 * - identity: one upstream record per downstream record.
 * - aggregation (N:1): many upstream records fold into one downstream record, grouped by `on`.
 * - expansion (1:N): one upstream record yields many downstream records, keyed by parent `on`.
 */
import { ValidationError } from "../errors.js";

export type Lineage = IdentityLineage | AggregationLineage | ExpansionLineage;

export interface IdentityLineage {
  readonly type: "identity";
}
/** `On` types the `on` columns (increment rows carry them); `never` when `on` is null (the downstream ids). */
export interface AggregationLineage<On extends string = string> {
  readonly type: "aggregation";
  readonly on: readonly On[] | null;
}
export interface ExpansionLineage<On extends string = string> {
  readonly type: "expansion";
  readonly on: readonly On[];
  readonly idGenerationPattern: string | null;
}

// Overloads, so that `aggregation()` types no `on` column even where a `Lineage` is expected.
function aggregation(options?: { on?: null }): AggregationLineage<never>;
function aggregation<const On extends string>(options: { on: On[] }): AggregationLineage<On>;
function aggregation(options?: { on?: string[] | null }): AggregationLineage;
function aggregation(options: { on?: string[] | null } = {}): AggregationLineage {
  return { type: "aggregation", on: options.on ?? null };
}

export const Lineage = {
  identity(): IdentityLineage {
    return { type: "identity" };
  },
  aggregation,
  expansion<const On extends string>(options: {
    on: On[];
    idGenerationPattern?: string | null;
  }): ExpansionLineage<On> {
    return { type: "expansion", on: options.on, idGenerationPattern: options.idGenerationPattern ?? null };
  },
};

export function lineageToJson(lineage: Lineage): Record<string, unknown> {
  switch (lineage.type) {
    case "identity":
      return { relationship: { type: "1:1" } };
    case "aggregation":
      return { relationship: { type: "N:1", on: lineage.on ? [...lineage.on] : null } };
    case "expansion":
      return {
        relationship: {
          type: "1:N",
          on: [...lineage.on],
          id_generation_pattern: lineage.idGenerationPattern,
        },
      };
  }
}

export function lineageFromJson(json: any): Lineage {
  const r = json?.relationship ?? json;
  switch (r?.type) {
    case undefined:
    case "1:1":
      return Lineage.identity();
    case "N:1":
      return Lineage.aggregation({ on: r.on ?? null });
    case "1:N":
      return Lineage.expansion({ on: r.on, idGenerationPattern: r.id_generation_pattern ?? null });
    default:
      throw new ValidationError(`Unknown lineage type ${JSON.stringify(r.type)}`, { lineage: r.type });
  }
}
