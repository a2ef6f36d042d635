import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// Python Metaxy 0.1.11 in its own venv, created once per machine by the committed script. A venv
// that cannot be created fails the whole run (never a skip).
export default function setup(): void {
  const script = fileURLToPath(new URL("../../../scripts/python-metaxy-setup.sh", import.meta.url));
  execFileSync("bash", [script], { stdio: "inherit" });
}
