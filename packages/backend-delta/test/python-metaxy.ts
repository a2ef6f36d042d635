import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DELTA_RS_VERSION } from "./delta-rs.js";

/**
 * Python Metaxy 0.1.11 with its Delta store (`metaxy[delta,map]`), in a venv of its own beside the
 * delta-rs one: the peer that reads our tables and writes tables we read. Pinned: metaxy leaves
 * its dependencies unbounded, and newer polars / sqlglot / ibis releases change its behaviour.
 */
export const PYTHON_METAXY_PACKAGES = [
  "metaxy[delta,map]==0.1.11",
  `deltalake==${DELTA_RS_VERSION}`,
  "polars==1.44.2",
  "polars-map==0.3.0",
  "narwhals==2.29.0",
  "narwhals-map==0.1.1",
  "polars-hash==0.9.3",
  "pyarrow==26.0.1",
  "ibis-framework==12.0.0",
  "sqlglot==28.10.1",
];
const cache = join(process.env.METAXY_SERVICES_CACHE ?? join(homedir(), ".cache", "metaxy"), "delta");
const venv = join(cache, "python-metaxy-venv");
const python = join(venv, "bin", "python");
const peerScript = fileURLToPath(new URL("./python/metaxy_peer.py", import.meta.url));

const CHECK = `
import importlib.metadata as md
from metaxy.ext.polars.handlers.delta import DeltaMetadataStore
print(md.version("metaxy"), md.version("deltalake"), md.version("polars"))
`;

/** Creates the venv once per machine; throws (the test run fails) if Python Metaxy cannot be installed or imported. */
export function ensurePythonMetaxy(): void {
  const want = `0.1.11 ${DELTA_RS_VERSION} 1.44.2`;
  const ok = () => {
    try {
      return (
        execFileSync(python, ["-c", CHECK], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
        }).trim() === want
      );
    } catch {
      return false;
    }
  };
  if (existsSync(python) && ok()) return;
  mkdirSync(cache, { recursive: true });
  if (!existsSync(python)) execFileSync("python3", ["-m", "venv", venv], { stdio: "inherit" });
  execFileSync(python, ["-m", "pip", "install", "-q", ...PYTHON_METAXY_PACKAGES], { stdio: "inherit" });
  if (!ok())
    throw new Error(`Python Metaxy (${PYTHON_METAXY_PACKAGES.join(" ")}) is not importable from ${venv}`);
}

/** Runs test/python/metaxy_peer.py (Python Metaxy's DeltaMetadataStore); its stdout parsed as JSON. */
export function pythonMetaxy<T = any>(...args: string[]): T {
  const out = execFileSync(python, [peerScript, ...args], { encoding: "utf8", maxBuffer: 16 << 20 });
  return JSON.parse(out) as T;
}
