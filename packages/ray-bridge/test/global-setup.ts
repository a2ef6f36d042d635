import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// The real Ray head and Temporal dev server, started by the scripts CI uses (idempotent).
export default function setup(): void {
  for (const service of ["ray", "temporal"]) {
    const script = fileURLToPath(new URL(`../../../scripts/services/${service}.sh`, import.meta.url));
    execFileSync("bash", [script, "start"], { stdio: "inherit" });
  }
}
