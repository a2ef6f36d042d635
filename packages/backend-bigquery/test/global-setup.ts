import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// The real BigQuery emulator, started by the same script CI uses (built once per machine).
export default function setup(): void {
  const script = fileURLToPath(new URL("../../../scripts/services/bigquery.sh", import.meta.url));
  execFileSync("bash", [script, "start"], { stdio: "inherit" });
}
