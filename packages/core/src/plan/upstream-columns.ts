import { ColumnCollisionError, FieldNotFoundError } from "../errors.js";
import {
  DATA_VERSION,
  DATA_VERSION_BY_FIELD,
  PROVENANCE,
  PROVENANCE_BY_FIELD,
  isSystemColumn,
} from "../spec/system-columns.js";
import type { UpstreamColumn } from "./resolve-update-plan.js";

/** The upstream system columns that travel into the join, renamed with the upstream's suffix. */
const SUFFIXED_COLUMNS = [PROVENANCE_BY_FIELD, PROVENANCE, DATA_VERSION_BY_FIELD, DATA_VERSION] as const;

/**
 * An upstream's stored columns after rename (SPEC §2.6 step 2): user columns under the
 * dependency's `rename`, the provenance / data-version columns under `<name><suffix>`. The
 * other system columns are dropped.
 */
export function renamedColumns(
  storedColumns: readonly string[],
  rename: Readonly<Record<string, string>>,
  suffix: string,
): { user: UpstreamColumn[]; system: UpstreamColumn[] } {
  return {
    user: storedColumns
      .filter((c) => !isSystemColumn(c))
      .map((source) => ({ source, name: rename[source] ?? source })),
    system: SUFFIXED_COLUMNS.map((source) => ({ source, name: source + suffix })),
  };
}

/**
 * The renamed user columns `select` keeps (all when null), in select order. An unknown selected
 * column is an error naming it.
 */
export function selectedColumns(
  feature: string,
  dependency: string,
  renamed: readonly UpstreamColumn[],
  select: readonly string[] | null,
): UpstreamColumn[] {
  if (select === null) return [...renamed];
  const byName = new Map(renamed.map((c) => [c.name, c] as const));
  return select.map((name) => {
    const column = byName.get(name);
    if (column === undefined)
      throw new FieldNotFoundError(
        `Feature "${feature}" selects column "${name}" from "${dependency}", which has no such column (after rename). Available: ${[...byName.keys()].join(", ")}`,
        { feature, dependency, column: name },
      );
    return column;
  });
}

/**
 * With several upstreams, a non-id column produced by two of them is ambiguous (SPEC §2.6 step 7).
 */
export function checkColumnCollisions(
  feature: string,
  upstreams: ReadonlyArray<{ readonly feature: string; readonly columns: readonly UpstreamColumn[] }>,
  joinColumns: readonly string[],
): void {
  const owner = new Map<string, string>();
  const ids = new Set(joinColumns);
  for (const u of upstreams)
    for (const { name } of u.columns) {
      if (ids.has(name)) continue;
      const prev = owner.get(name);
      if (prev !== undefined && prev !== u.feature)
        throw new ColumnCollisionError(
          `Found column collisions for feature "${feature}": column "${name}" comes from both "${prev}" and "${u.feature}". Rename it in one dependency or drop it with select.`,
          { feature, column: name, dependencies: [prev, u.feature] },
        );
      owner.set(name, u.feature);
    }
}
