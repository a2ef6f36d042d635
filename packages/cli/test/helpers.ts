import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { duckdb } from "@metaxy/backend-duckdb";
import { type FeatureDefinition, MetadataStore, type Row } from "@metaxy/core";
import { type VideoFeatures, videoFeatures } from "@metaxy/core/testing";

const here = dirname(fileURLToPath(import.meta.url));
export const CLI = resolve(here, "../bin/metaxy.js");
const TMP = join(here, ".tmp");

export interface Project {
  dir: string;
  dbPath: string;
  backupPath: string;
  cleanup(): void;
}

/**
 * A temp project under test/.tmp (so that it resolves @metaxy/core and @metaxy/backend-duckdb
 * through packages/cli/node_modules) with a metaxy.config.ts on two DuckDB stores.
 * `AUDIO_CODE_VERSION` in the environment bumps the audio field's code version.
 */
export function makeProject(name: string): Project {
  const dir = join(TMP, `${name}-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(join(dir, "sub", "dir"), { recursive: true });
  const dbPath = join(dir, "dev.duckdb");
  const backupPath = join(dir, "backup.duckdb");
  writeFileSync(
    join(dir, "metaxy.config.ts"),
    `import { duckdb } from "@metaxy/backend-duckdb";
import { defineConfig } from "@metaxy/core";
import { videoFeatures } from "@metaxy/core/testing";

const { graph } = videoFeatures({ audioCodeVersion: process.env.AUDIO_CODE_VERSION ?? "1" });

export default defineConfig({
  project: "video",
  features: graph,
  stores: {
    dev: { backend: () => duckdb({ path: ${JSON.stringify(dbPath)} }) },
    backup: { backend: () => duckdb({ path: ${JSON.stringify(backupPath)} }), description: "a second file" },
  },
});
`,
  );
  return { dir, dbPath, backupPath, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  json: () => any;
}

/** Runs the CLI through its bin shim (`node bin/metaxy.js ...args`) as a child process, stdout/stderr piped. */
export function run(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      METAXY_PROGRESS: undefined,
      ...options.env,
    };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: env as NodeJS.ProcessEnv,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) =>
      resolvePromise({
        code: code ?? -1,
        stdout,
        stderr,
        json: () => {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      }),
    );
  });
}

export async function openDev(path: string, audioCodeVersion = "1") {
  const features = videoFeatures({ audioCodeVersion });
  const store = await MetadataStore.open(duckdb({ path }), { graph: features.graph, name: "dev" });
  return { store, features };
}

/** Ingests the videos (root samples), then computes every downstream feature for what changed. */
export async function runPipeline(
  store: MetadataStore,
  f: VideoFeatures,
  videos: { uid: string; audio: string; frames: string }[],
  only?: FeatureDefinition[],
): Promise<void> {
  const samples = videos.map((v) => ({
    sample_uid: v.uid,
    path: `s3://videos/${v.uid}.mp4`,
    metaxy_provenance_by_field: { audio: v.audio, frames: v.frames },
  }));
  const steps: [FeatureDefinition, (r: Row) => Row][] = [
    [f.raw, (r) => ({ sample_uid: r.sample_uid, path: r.path })],
    [f.transcript, (r) => ({ sample_uid: r.sample_uid, text: `text of ${r.sample_uid}` })],
    [f.faces, (r) => ({ sample_uid: r.sample_uid, face_count: 1 })],
    [f.caption, (r) => ({ sample_uid: r.sample_uid, caption: `caption of ${r.sample_uid}` })],
  ];
  for (const [feature, compute] of steps) {
    if (only && !only.includes(feature)) continue;
    const inc = await store.resolveUpdate(feature, feature === f.raw ? { samples } : {});
    const { new: added, stale } = await inc.toArray();
    const rows = [...added, ...stale].map((r) => ({
      ...compute(r),
      metaxy_provenance_by_field: r.metaxy_provenance_by_field,
    }));
    if (rows.length > 0) await store.write(feature, rows);
    await inc.dispose();
  }
}

export function videos(
  n: number,
  changedAudio: string[] = [],
): { uid: string; audio: string; frames: string }[] {
  return Array.from({ length: n }, (_, i) => {
    const uid = `v${i + 1}`;
    return {
      uid,
      audio: changedAudio.includes(uid) ? `audio-${uid}-v2` : `audio-${uid}`,
      frames: `frames-${uid}`,
    };
  });
}
