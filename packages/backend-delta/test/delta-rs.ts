import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** deltalake (delta-rs) in a venv of its own, cached per machine: the independent checker. */
export const DELTA_RS_VERSION = "1.6.6";
const cache = join(process.env.METAXY_SERVICES_CACHE ?? join(homedir(), ".cache", "metaxy"), "delta");
const venv = join(cache, "venv");
export const python = join(venv, "bin", "python");

export function ensureDeltaRs(): void {
  const ok = () => {
    try {
      return (
        execFileSync(python, ["-c", "import deltalake, pyarrow; print(deltalake.__version__)"], {
          encoding: "utf8",
        }).trim() === DELTA_RS_VERSION
      );
    } catch {
      return false;
    }
  };
  if (existsSync(python) && ok()) return;
  mkdirSync(cache, { recursive: true });
  execFileSync("python3", ["-m", "venv", venv], { stdio: "inherit" });
  execFileSync(python, ["-m", "pip", "install", "-q", `deltalake==${DELTA_RS_VERSION}`, "pyarrow"], {
    stdio: "inherit",
  });
  if (!ok()) throw new Error(`deltalake ${DELTA_RS_VERSION} is not importable from ${venv}`);
}

/** Runs a Python script with deltalake; its stdout parsed as JSON. */
export function deltaRs<T = any>(script: string, args: string[] = []): T {
  // deltalake's runtime can abort while the interpreter tears down ("terminate called without an
  // active exception"): the script leaves with os._exit once its output is flushed.
  const exit = "\nimport os as _os, sys as _sys\n_sys.stdout.flush()\n_os._exit(0)\n";
  const out = execFileSync(python, ["-c", script + exit, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  return JSON.parse(out) as T;
}
