import type {
  FeatureDefinition,
  FeatureRow,
  IncrementRow,
  MetadataStore,
  ResolveUpdateOptions,
  Row,
  SampleRow,
} from "@metaxy/core";

/** What one pipeline step did, for the report. */
export interface StepReport {
  feature: string;
  new: number;
  stale: number;
  orphaned: number;
  /** Increment rows handled (new + stale): records, groups (N:1) or parents (1:N). */
  processed: number;
  /** Rows written. Equals `processed` except for an expansion (1:N), where it counts children. */
  written: number;
  /** Stored rows left as they were (not rewritten in this step). */
  skipped: number;
  gpuSecondsSpent: number;
  gpuSecondsSaved: number;
}

export interface StepOptions<F, S> {
  /** Rows the GPU worker receives at once. */
  batchSize?: number;
  /** GPU-seconds one written record costs (for the report). */
  gpuSecondsPerRecord: number;
  resolve?: ResolveUpdateOptions<F, S>;
}

/** A row `compute` produces: the feature's columns; the step adds the provenance. */
export type ComputedRow<F> = Omit<FeatureRow<F>, "metaxy_provenance_by_field">;

/**
 * What `compute` returns for a batch: one result per increment row, in order. For an expansion
 * (1:N) step, the result for a parent is the array of its children.
 */
export type StepResult<F> = ComputedRow<F> | ComputedRow<F>[];

/**
 * One incremental step: resolve what changed, compute only those records in batches, write
 * their metadata (provenance copied from the increment), retire orphans.
 *
 * For an expansion (1:N) feature the increment is at parent level: every child written for a
 * parent copies the parent-level provenance, a recomputed parent's children that were not
 * produced again are soft-deleted, and orphans are retired per parent.
 */
export async function runStep<F extends FeatureDefinition, S extends SampleRow<F> = never>(
  store: MetadataStore,
  feature: F,
  compute: (batch: IncrementRow<F, [S] extends [never] ? unknown : S>[]) => Promise<StepResult<F>[]>,
  options: StepOptions<F, S>,
): Promise<StepReport> {
  const ids = feature.spec.idColumns;
  // The columns the increment is keyed on: the parent's `on` columns for an expansion.
  const expansion = feature.spec.deps.some((d) => d.lineage.type === "expansion");
  const keys = expansion ? store.graph.plan(feature).inputIdColumns : ids;
  await using increment = await store.resolveUpdate(feature, options.resolve);
  const counts = await increment.counts();
  let processed = 0;
  let written = 0;
  for (const kind of ["new", "stale"] as const)
    for await (const batch of increment.batches(kind, { batchSize: options.batchSize ?? 64 })) {
      const results = await compute(batch);
      const rows = results.flatMap((r, i) =>
        (Array.isArray(r) ? r : [r]).map((row) => ({
          ...row,
          metaxy_provenance_by_field: batch[i].metaxy_provenance_by_field,
        })),
      );
      await store.write(feature, rows);
      if (expansion && kind === "stale") await retireDroppedChildren(store, feature, keys, batch, rows);
      processed += batch.length;
      written += rows.length;
    }
  if (counts.orphaned > 0)
    for await (const orphans of increment.batches("orphaned", { batchSize: 500 }))
      await store.delete(feature, anyOf(orphans, keys));
  const total = await store.count(feature);
  const skipped = Math.max(0, total - written);
  return {
    feature: feature.key.toString(),
    ...counts,
    processed,
    written,
    skipped,
    gpuSecondsSpent: written * options.gpuSecondsPerRecord,
    gpuSecondsSaved: skipped * options.gpuSecondsPerRecord,
  };
}

/** Soft-deletes the stored children of recomputed parents that the new computation did not produce. */
async function retireDroppedChildren(
  store: MetadataStore,
  feature: FeatureDefinition,
  parentKeys: readonly string[],
  parents: Row[],
  children: Row[],
): Promise<void> {
  const ids = feature.spec.idColumns;
  const key = (r: Row) => JSON.stringify(ids.map((c) => String(r[c])));
  const kept = new Set(children.map(key));
  const stored = await store.read(feature, { filters: anyOf(parents, parentKeys), columns: [...ids] });
  const dropped = stored.filter((r) => !kept.has(key(r)));
  if (dropped.length > 0) await store.delete(feature, anyOf(dropped, ids));
}

/** A filter string matching any of `rows` on `columns`. */
function anyOf(rows: readonly Row[], columns: readonly string[]): string {
  return rows.map((o) => `(${columns.map((c) => `${c} = ${sqlValue(o[c])}`).join(" AND ")})`).join(" OR ");
}

function sqlValue(v: unknown): string {
  return typeof v === "number" || typeof v === "bigint" ? String(v) : `'${String(v).replaceAll("'", "''")}'`;
}

/**
 * A table of the steps of one pass. The "written" column is shown when `options.written` says so,
 * by default only when some step wrote a different number of rows than it processed (1:N).
 */
export function formatReport(
  title: string,
  steps: StepReport[],
  options: { written?: boolean } = {},
): string {
  const showWritten = options.written ?? steps.some((s) => s.written !== s.processed);
  const header = [
    "feature",
    "new",
    "stale",
    "orphaned",
    "processed",
    ...(showWritten ? ["written"] : []),
    "skipped",
    "GPU-s spent",
    "GPU-s saved",
  ];
  const rows = steps.map((s) => [
    s.feature,
    String(s.new),
    String(s.stale),
    String(s.orphaned),
    String(s.processed),
    ...(showWritten ? [String(s.written)] : []),
    String(s.skipped),
    s.gpuSecondsSpent.toFixed(1),
    s.gpuSecondsSaved.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const saved = steps.reduce((a, s) => a + s.gpuSecondsSaved, 0);
  const spent = steps.reduce((a, s) => a + s.gpuSecondsSpent, 0);
  return [
    `== ${title}`,
    line(header),
    ...rows.map(line),
    `   GPU-seconds spent: ${spent.toFixed(1)}, saved by skipping up-to-date records: ${saved.toFixed(1)}`,
  ].join("\n");
}
