import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RayJobsClient } from "../src/index.js";

export const RAY_ADDRESS = `http://127.0.0.1:${process.env.METAXY_RAY_DASHBOARD_PORT ?? "8265"}`;
export const ray = new RayJobsClient({ address: RAY_ADDRESS });

/** The test models' directory, as a runtime_env working_dir used in place. */
export const MODELS_DIR = fileURLToPath(new URL("./python", import.meta.url));
export const modelsEnv = { working_dir: `local://${MODELS_DIR}` };

/** A fresh directory that the head (same machine) and the test both see. */
export const sharedDir = () => mkdtempSync(join(tmpdir(), "metaxy-ray-"));

/** The venv's interpreter (ray, pyarrow, pytest), installed by scripts/services/ray.sh. */
export function venvPython(): string {
  const script = fileURLToPath(new URL("../../../scripts/services/ray.sh", import.meta.url));
  return execFileSync("bash", [script, "python"], { encoding: "utf8" }).trim();
}

/** The jobs whose submission id starts with `prefix`. */
export async function jobsStartingWith(prefix: string) {
  return (await ray.list()).filter((j) => j.submission_id?.startsWith(prefix));
}
