import { spawnSync } from "node:child_process";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HashAlgorithm } from "@metaxy/core";
import type { VideoInput } from "./graph.js";

/** The venv scripts/python-metaxy-setup.sh creates (the vitest global setup runs it). */
export const PYTHON = join(
  process.env.METAXY_SERVICES_CACHE ?? join(homedir(), ".cache", "metaxy"),
  "python-metaxy-interop",
  "bin",
  "python",
);
const PEER = fileURLToPath(new URL("../python/peer.py", import.meta.url));

export type PeerOp =
  | { op: "write_root"; rows: VideoInput[] }
  | { op: "resolve"; feature: string }
  | { op: "materialize"; feature: string }
  | { op: "soft_delete"; feature: string; ids: string[] }
  | { op: "push" }
  | { op: "definitions" };

export interface IdSets {
  new: string[];
  stale: string[];
  orphaned: string[];
}

export interface PeerProgram {
  db: string;
  /** null: Python's default for its DuckDB store (xxhash32). */
  hash: HashAlgorithm | null;
  transcriptVersion?: string;
  /** `*_by_field` columns: "map" (`enable_map_datatype=True`, default here) or Python's default "struct". */
  layout?: "map" | "struct";
  ops: PeerOp[];
}

/** Runs one program of ops in Python Metaxy (one process, one open store); a result per op. */
export function runPython(program: PeerProgram): any[] {
  const input = JSON.stringify({
    db: program.db,
    hash: program.hash,
    transcript_version: program.transcriptVersion ?? "1",
    layout: program.layout ?? "map",
    ops: program.ops,
  });
  const res = spawnSync(PYTHON, [PEER], { input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw new Error(`Python Metaxy peer could not start (${PYTHON}): ${res.error.message}`);
  if (res.status !== 0)
    throw new Error(`Python Metaxy peer failed (exit ${res.status}):\n${res.stderr}\n${res.stdout}`);
  return JSON.parse(res.stdout);
}
