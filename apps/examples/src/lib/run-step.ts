import type { FeatureDefinition, MetadataStore, ResolveUpdateOptions, Row } from "@metaxy/core";

/** What one pipeline step did, for the report. */
export interface StepReport {
  feature: string;
  new: number;
  stale: number;
  orphaned: number;
  processed: number;
  skipped: number;
  gpuSecondsSpent: number;
  gpuSecondsSaved: number;
}

export interface StepOptions {
  /** Rows the GPU worker receives at once. */
  batchSize?: number;
  /** GPU-seconds one record costs (for the report). */
  gpuSecondsPerRecord: number;
  resolve?: ResolveUpdateOptions;
}

/**
 * One incremental step: resolve what changed, compute only those records in batches, write
 * their metadata (provenance copied from the increment), retire orphans.
 */
export async function runStep(
  store: MetadataStore,
  feature: FeatureDefinition,
  compute: (batch: Row[]) => Promise<Row[]>,
  options: StepOptions,
): Promise<StepReport> {
  await using increment = await store.resolveUpdate(feature, options.resolve);
  const counts = await increment.counts();
  let processed = 0;
  for await (const batch of increment.toProcess({ batchSize: options.batchSize ?? 64 })) {
    const results = await compute(batch);
    await store.write(
      feature,
      results.map((r, i) => ({ ...r, metaxy_provenance_by_field: batch[i].metaxy_provenance_by_field })),
    );
    processed += batch.length;
  }
  if (counts.orphaned > 0) {
    const ids = feature.spec.idColumns;
    for await (const orphans of increment.batches("orphaned", { batchSize: 500 }))
      await store.delete(
        feature,
        orphans.map((o) => `(${ids.map((c) => `${c} = ${sqlValue(o[c])}`).join(" AND ")})`).join(" OR "),
      );
  }
  const total = await store.count(feature);
  const skipped = Math.max(0, total - processed);
  return {
    feature: feature.key.toString(),
    ...counts,
    processed,
    skipped,
    gpuSecondsSpent: processed * options.gpuSecondsPerRecord,
    gpuSecondsSaved: skipped * options.gpuSecondsPerRecord,
  };
}

function sqlValue(v: unknown): string {
  return typeof v === "number" || typeof v === "bigint" ? String(v) : `'${String(v).replaceAll("'", "''")}'`;
}

export function formatReport(title: string, steps: StepReport[]): string {
  const header = [
    "feature",
    "new",
    "stale",
    "orphaned",
    "processed",
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
