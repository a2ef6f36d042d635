import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// The real Temporal dev server, started by the same script CI uses (built once per machine).
export default function setup(): void {
  const script = fileURLToPath(new URL("../../../scripts/services/temporal.sh", import.meta.url));
  execFileSync("bash", [script, "start"], { stdio: "inherit" });
}
