import { ColumnCollisionError, FieldNotFoundError } from "../errors.js";
import { isSystemColumn } from "../spec/system-columns.js";
import type { UpstreamInput } from "./resolve-update-plan.js";

/** User columns one upstream contributes to the join: `[stored name, name after rename]`. */
export type UpstreamColumns = ReadonlyArray<readonly [source: string, name: string]>;

/**
 * Applies an upstream's rename and select to its stored user columns (system columns are
 * handled by the engines). Unknown selected columns are an error naming the column.
 */
export function upstreamUserColumns(
  feature: string,
  upstream: UpstreamInput,
  storedColumns: readonly string[],
): UpstreamColumns {
  const renamed = storedColumns
    .filter((c) => !isSystemColumn(c))
    .map((c) => [c, upstream.rename[c] ?? c] as const);
  if (upstream.select === null) return renamed;
  const byName = new Map(renamed.map(([s, n]) => [n, s] as const));
  return upstream.select.map((name) => {
    const source = byName.get(name);
    if (source === undefined)
      throw new FieldNotFoundError(
        `Feature "${feature}" selects column "${name}" from "${upstream.feature}", which has no such column (after rename). Available: ${[...byName.keys()].join(", ")}`,
        { feature, dependency: upstream.feature, column: name },
      );
    return [source, name] as const;
  });
}

/**
 * With several upstreams, a non-id column produced by two of them is ambiguous (SPEC §2.6 step 7).
 */
export function checkColumnCollisions(
  feature: string,
  upstreams: readonly UpstreamInput[],
  columns: readonly UpstreamColumns[],
  joinColumns: readonly string[],
): void {
  const owner = new Map<string, string>();
  const ids = new Set(joinColumns);
  columns.forEach((cols, i) => {
    for (const [, name] of cols) {
      if (ids.has(name)) continue;
      const prev = owner.get(name);
      if (prev !== undefined && prev !== upstreams[i].feature)
        throw new ColumnCollisionError(
          `Found column collisions for feature "${feature}": column "${name}" comes from both "${prev}" and "${upstreams[i].feature}". Rename it in one dependency or drop it with select.`,
          { feature, column: name, dependencies: [prev, upstreams[i].feature] },
        );
      owner.set(name, upstreams[i].feature);
    }
  });
}
