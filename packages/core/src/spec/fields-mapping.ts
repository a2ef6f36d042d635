import { ValidationError } from "../errors.js";
import { FieldKey, type KeyInput, compareParts } from "../keys.js";

/**
 * Automatic field-level lineage between a downstream field and an upstream feature (SPEC §1.4).
 * `default` matches fields by name and falls back to ALL upstream fields when nothing matches.
 */
export type FieldsMapping =
  | { readonly type: "default"; readonly matchSuffix: boolean; readonly excludeFields: readonly FieldKey[] }
  | { readonly type: "all" }
  | { readonly type: "none" }
  | { readonly type: "specific"; readonly mapping: ReadonlyMap<string, readonly FieldKey[]> };

export const FieldsMapping = {
  default(options: { matchSuffix?: boolean; excludeFields?: KeyInput[] } = {}): FieldsMapping {
    return {
      type: "default",
      matchSuffix: options.matchSuffix ?? false,
      excludeFields: (options.excludeFields ?? []).map((f) => FieldKey.from(f)),
    };
  },
  all(): FieldsMapping {
    return { type: "all" };
  },
  none(): FieldsMapping {
    return { type: "none" };
  },
  /** `{ downstreamField: [upstreamFields] }` */
  specific(mapping: Record<string, KeyInput[]>): FieldsMapping {
    return {
      type: "specific",
      mapping: new Map(
        Object.entries(mapping).map(([down, ups]) => [
          FieldKey.from(down).toString(),
          ups.map((u) => FieldKey.from(u)),
        ]),
      ),
    };
  },
};

/** Upstream field keys a downstream field maps to under `mapping`. */
export function resolveFieldsMapping(
  mapping: FieldsMapping,
  downstreamField: FieldKey,
  upstreamFields: readonly FieldKey[],
): FieldKey[] {
  switch (mapping.type) {
    case "all":
      return [...upstreamFields];
    case "none":
      return [];
    case "specific": {
      const wanted = new Set((mapping.mapping.get(downstreamField.toString()) ?? []).map(String));
      return upstreamFields.filter((f) => wanted.has(f.toString()));
    }
    case "default": {
      const excluded = new Set(mapping.excludeFields.map(String));
      const candidates = upstreamFields.filter((f) => !excluded.has(f.toString()));
      const matched = candidates.filter(
        (up) => up.equals(downstreamField) || (mapping.matchSuffix && isSuffixMatch(downstreamField, up)),
      );
      return matched.length > 0 ? matched : candidates;
    }
  }
}

function isSuffixMatch(down: FieldKey, up: FieldKey): boolean {
  if (down.parts.length === 1 && up.parts.length > 1 && up.parts[up.parts.length - 1] === down.parts[0])
    return true;
  if (down.parts.length > up.parts.length) return false;
  const tail = up.parts.slice(up.parts.length - down.parts.length);
  return compareParts(tail, down.parts) === 0;
}

/** Python Metaxy's JSON form: `{"mapping": {"type": ...}}`. */
export function fieldsMappingToJson(mapping: FieldsMapping): Record<string, unknown> {
  switch (mapping.type) {
    case "default":
      return {
        mapping: {
          type: "default",
          match_suffix: mapping.matchSuffix,
          exclude_fields: mapping.excludeFields.map(String),
        },
      };
    case "all":
    case "none":
      return { mapping: { type: mapping.type } };
    case "specific": {
      const out: Record<string, string[][]> = {};
      for (const [down, ups] of mapping.mapping) {
        out[down] = [...ups].sort((a, b) => compareParts(a.parts, b.parts)).map((u) => [...u.parts]);
      }
      return { mapping: { type: "specific", mapping: out } };
    }
  }
}

export function fieldsMappingFromJson(json: any): FieldsMapping {
  const m = json?.mapping ?? json;
  switch (m?.type) {
    case undefined:
    case "default":
      return FieldsMapping.default({ matchSuffix: m?.match_suffix, excludeFields: m?.exclude_fields ?? [] });
    case "all":
      return FieldsMapping.all();
    case "none":
      return FieldsMapping.none();
    case "specific":
      return FieldsMapping.specific(m.mapping ?? {});
    default:
      throw new ValidationError(`Unknown fields mapping type ${JSON.stringify(m.type)}`, {
        fieldsMapping: m.type,
      });
  }
}
