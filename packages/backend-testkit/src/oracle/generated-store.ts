import type { HashAlgorithm, Row } from "@metaxy/core";
import { type GeneratedFeature, idColumnOf } from "../fixtures/random-graph.js";
import { compareCodePoints, fieldProvenance, hashOf, recordProvenance, structKey } from "./provenance.js";

/** A live stored row, as the oracle keeps it: ids and the four provenance columns. */
export interface OracleRow {
  id: string;
  /** `group_id` of a sample-level row (the aggregation key downstream); null at group level. */
  group: string | null;
  provenanceByField: Record<string, string>;
  provenance: string;
  dataVersionByField: Record<string, string>;
  dataVersion: string;
}

export interface OracleIncrement {
  new: OracleRow[];
  stale: OracleRow[];
  orphaned: OracleRow[];
  /** SPEC §3.4 over the expected rows; null when there are none. */
  progress: number | null;
}

/**
 * An independent model of a store holding the generated features (fixtures/random-graph.ts),
 * and the increments SPEC §2.5–§3.4 say `resolveUpdate` returns on it. It reads nothing from the
 * code under test: not the plan, not the engine, not core's hashing. Writes never share a
 * timestamp, so the latest row of an id is simply the last one written.
 */
export class GeneratedStoreOracle {
  readonly #algorithm: HashAlgorithm;
  readonly #features = new Map<string, GeneratedFeature>();
  readonly #live = new Map<string, Map<string, OracleRow>>();

  constructor(algorithm: HashAlgorithm, features: readonly GeneratedFeature[]) {
    this.#algorithm = algorithm;
    for (const f of features) {
      this.#features.set(f.key, f);
      this.#live.set(f.key, new Map());
    }
  }

  /** `store.write`: provenance from the by-field map, data versions overridden per field. */
  write(feature: string, rows: readonly Row[]): void {
    const def = this.#feature(feature);
    const live = this.#live.get(feature)!;
    for (const r of rows) {
      const provenanceByField = { ...(r.metaxy_provenance_by_field as Record<string, string>) };
      const dataVersionByField = {
        ...provenanceByField,
        ...((r.metaxy_data_version_by_field as Record<string, string> | undefined) ?? {}),
      };
      const id = String(r[idColumnOf(def)]);
      live.set(id, {
        id,
        group: def.level === "sample" ? String(r.group_id) : null,
        provenanceByField,
        provenance: recordProvenance(this.#algorithm, provenanceByField),
        dataVersionByField,
        dataVersion: recordProvenance(this.#algorithm, dataVersionByField),
      });
    }
  }

  /** `store.delete(feature, isIn(idColumn, ids))`: the samples are gone from every read. */
  delete(feature: string, ids: readonly string[]): void {
    const live = this.#live.get(feature)!;
    for (const id of ids) live.delete(id);
  }

  rows(feature: string): OracleRow[] {
    return [...this.#live.get(feature)!.values()];
  }

  resolveUpdate(feature: string): OracleIncrement {
    const expected = this.#expected(this.#feature(feature));
    const current = this.#live.get(feature)!;
    const increment: OracleIncrement = { new: [], stale: [], orphaned: [], progress: null };
    for (const row of expected.values()) {
      const stored = current.get(row.id);
      if (!stored) increment.new.push(row);
      else if (stored.provenance !== row.provenance) increment.stale.push(row);
    }
    for (const stored of current.values()) if (!expected.has(stored.id)) increment.orphaned.push(stored);
    if (expected.size > 0)
      increment.progress = ((expected.size - increment.new.length) / expected.size) * 100;
    return increment;
  }

  /**
   * The rows `feature` should have: its upstreams joined on its id (required deps inner, optional
   * ones left), one row per id, each field hashed from its parents' data versions.
   */
  #expected(feature: GeneratedFeature): Map<string, OracleRow> {
    const inputs = feature.deps.map((d) => this.#upstreamInput(d.feature, d.aggregated));
    const [first, ...others] = feature.deps.map((d, i) => ({ dep: d, input: inputs[i] }));
    const out = new Map<string, OracleRow>();
    for (const [id, base] of first.input) {
      const joined = new Map([[first.dep.feature, base.dataVersionByField]]);
      let dropped = false;
      for (const { dep, input } of others) {
        const match = input.get(id);
        if (match) joined.set(dep.feature, match.dataVersionByField);
        else if (!dep.optional) dropped = true;
      }
      if (dropped) continue;
      const provenanceByField: Record<string, string> = {};
      for (const field of feature.fields) {
        const parents = this.#parentFields(feature, field).map(([up, upField]): [string, string] => [
          `${up}.${upField}`,
          // a missing optional upstream contributes "" (SPEC §2.5)
          joined.get(up)?.[structKey(upField)] ?? "",
        ]);
        provenanceByField[structKey(field.key)] = fieldProvenance(
          this.#algorithm,
          field.key,
          field.codeVersion,
          parents,
        );
      }
      const provenance = recordProvenance(this.#algorithm, provenanceByField);
      out.set(id, {
        id,
        group: feature.level === "sample" ? base.group : null,
        provenanceByField,
        provenance,
        dataVersionByField: { ...provenanceByField },
        dataVersion: provenance,
      });
    }
    return out;
  }

  /**
   * One upstream keyed by the downstream id: as stored (identity), or per `group_id` with each
   * field's member data versions, in `sample_uid` order, joined by `|` and hashed (N:1).
   */
  #upstreamInput(upstream: string, aggregated: boolean): Map<string, OracleRow> {
    const rows = this.rows(upstream);
    if (!aggregated) return new Map(rows.map((r) => [r.id, r]));
    const groups = new Map<string, OracleRow[]>();
    for (const r of rows) groups.set(r.group!, [...(groups.get(r.group!) ?? []), r]);
    const out = new Map<string, OracleRow>();
    for (const [group, members] of groups) {
      members.sort((a, b) => compareCodePoints(a.id, b.id));
      const byField: Record<string, string> = {};
      for (const f of this.#feature(upstream).fields) {
        const k = structKey(f.key);
        byField[k] = hashOf(this.#algorithm, members.map((m) => m.dataVersionByField[k]).join("|"));
      }
      const version = recordProvenance(this.#algorithm, byField);
      out.set(group, {
        id: group,
        group: null,
        provenanceByField: byField,
        provenance: version,
        dataVersionByField: byField,
        dataVersion: version,
      });
    }
    return out;
  }

  /** SPEC §1.4 / §1.9: a field's parents as `[upstream feature, upstream field]`. */
  #parentFields(feature: GeneratedFeature, field: GeneratedFeature["fields"][number]): [string, string][] {
    if (Array.isArray(field.deps))
      return field.deps.flatMap((d) => d.fields.map((f): [string, string] => [d.feature, f]));
    return feature.deps.flatMap((d) => {
      const upstream = this.#feature(d.feature).fields.map((f) => f.key);
      // the default mapping takes the upstream field of the same key, else every upstream field
      const same = upstream.filter((k) => k === field.key);
      const picked = field.deps === "ALL" || same.length === 0 ? upstream : same;
      return picked.map((f): [string, string] => [d.feature, f]);
    });
  }

  #feature(key: string): GeneratedFeature {
    const f = this.#features.get(key);
    if (!f) throw new Error(`the oracle has no feature ${key}`);
    return f;
  }
}

/** An oracle row in the shape `canonical` compares: ids and the four provenance columns. */
export function oracleRowColumns(feature: GeneratedFeature, row: OracleRow): Row {
  return {
    [idColumnOf(feature)]: row.id,
    metaxy_provenance_by_field: row.provenanceByField,
    metaxy_provenance: row.provenance,
    metaxy_data_version_by_field: row.dataVersionByField,
    metaxy_data_version: row.dataVersion,
  };
}
