import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { delta } from "@metaxy/backend-delta";
import { FeatureGraph, MetadataStore, defineFeature } from "@metaxy/core";
import { z } from "zod";
import { iqr, median, round3 } from "./stats.js";

/**
 * How opening a Delta table grows with its history: one table written one single-row commit at a
 * time, and at each commit count a fresh backend opened `rounds` times (open, the table's
 * snapshot, then a first read of every row). Once with a checkpoint every `checkpointInterval`
 * commits (the package's default is 10), once with checkpoints off (0).
 */
export interface DeltaOpenOptions {
  commits: number[];
  checkpointInterval: number;
  rounds: number;
  tmp: string;
}

export interface DeltaOpenPoint {
  commits: number;
  checkpointInterval: number;
  /** Files in `_delta_log` at the time: commits (json) and checkpoints (parquet). */
  logFiles: { json: number; checkpoints: number };
  /** Medians (ms): `MetadataStore.open` (the backend's in-memory DuckDB), the snapshot (log replay), the first read. */
  openMs: number;
  snapshotMs: number;
  readMs: number;
  totalMs: number;
  totalIqrMs: number;
  roundsTotalMs: number[];
}

export interface DeltaOpenResult {
  options: Omit<DeltaOpenOptions, "tmp">;
  points: DeltaOpenPoint[];
  /** Median time of one single-row commit (ms), per checkpoint interval, over the whole history. */
  commitMs: Record<string, number>;
}

const feature = defineFeature({
  key: "bench/delta_open",
  idColumns: ["sample_uid"],
  fields: [{ key: "audio", codeVersion: "1" }],
  schema: z.object({ sample_uid: z.number().int() }),
});
const graph = new FeatureGraph([feature], { project: "metaxy_delta_open_bench" });
const log = (msg: string) => process.stderr.write(`${msg}\n`);

export async function runDeltaOpenBench(options: DeltaOpenOptions): Promise<DeltaOpenResult> {
  const targets = [...new Set(options.commits)].sort((a, b) => a - b);
  const points: DeltaOpenPoint[] = [];
  const commitMs: Record<string, number> = {};
  for (const interval of [options.checkpointInterval, 0]) {
    const root = mkdtempSync(join(options.tmp, "metaxy-delta-open-"));
    const logDir = join(root, "bench", "delta_open.delta", "_delta_log");
    const perCommit: number[] = [];
    try {
      const writer = await MetadataStore.open(delta({ root, checkpointInterval: interval }), { graph });
      let written = 0;
      try {
        for (const target of targets) {
          for (; written < target; written++) {
            const t = performance.now();
            await writer.write(feature, [
              { sample_uid: written, metaxy_provenance_by_field: { audio: `a${written}` } },
            ]);
            perCommit.push(performance.now() - t);
          }
          const rounds = [];
          for (let r = 0; r < options.rounds; r++) {
            (globalThis as { gc?: () => void }).gc?.();
            const t0 = performance.now();
            const reader = await MetadataStore.open(delta({ root, checkpointInterval: interval }), {
              graph,
              mode: "r",
            });
            const t1 = performance.now();
            await reader.backend.tableColumns(feature.key.tableName);
            const t2 = performance.now();
            const rows = await reader.read(feature);
            const t3 = performance.now();
            await reader.close();
            if (rows.length !== target)
              throw new Error(`delta-open: read ${rows.length} rows after ${target} commits`);
            rounds.push({ open: t1 - t0, snapshot: t2 - t1, read: t3 - t2, total: t3 - t0 });
          }
          const names = readdirSync(logDir);
          const point: DeltaOpenPoint = {
            commits: target,
            checkpointInterval: interval,
            logFiles: {
              json: names.filter((x) => /^\d{20}\.json$/.test(x)).length,
              checkpoints: names.filter((x) => x.endsWith(".checkpoint.parquet")).length,
            },
            openMs: round3(median(rounds.map((x) => x.open))),
            snapshotMs: round3(median(rounds.map((x) => x.snapshot))),
            readMs: round3(median(rounds.map((x) => x.read))),
            totalMs: round3(median(rounds.map((x) => x.total))),
            totalIqrMs: round3(iqr(rounds.map((x) => x.total))),
            roundsTotalMs: rounds.map((x) => round3(x.total)),
          };
          points.push(point);
          log(`delta-open: ${JSON.stringify(point)}`);
        }
      } finally {
        await writer.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    commitMs[String(interval)] = round3(median(perCommit));
  }
  return {
    options: { commits: targets, checkpointInterval: options.checkpointInterval, rounds: options.rounds },
    points,
    commitMs,
  };
}

export function formatDeltaOpen(r: DeltaOpenResult): string {
  const n = r.options.checkpointInterval;
  const lines = [
    `Delta open + first read against commit count (one single-row commit each; median of ${r.options.rounds} fresh opens, ms)`,
    "commits  checkpoints    open  snapshot    read   total (IQR)    log json/checkpoints",
  ];
  for (const p of r.points)
    lines.push(
      `${String(p.commits).padStart(7)}  ${(p.checkpointInterval ? `every ${p.checkpointInterval}` : "none").padEnd(11)}  ${p.openMs.toFixed(1).padStart(6)}  ${p.snapshotMs.toFixed(1).padStart(8)}  ${p.readMs.toFixed(1).padStart(6)}  ${`${p.totalMs.toFixed(1)} (${p.totalIqrMs.toFixed(1)})`.padStart(12)}    ${p.logFiles.json}/${p.logFiles.checkpoints}`,
    );
  lines.push(
    `one single-row commit: ${r.commitMs[String(n)]} ms with a checkpoint every ${n}, ${r.commitMs["0"]} ms without (median)`,
  );
  return lines.join("\n");
}
