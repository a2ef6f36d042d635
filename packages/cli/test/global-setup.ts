import { execFileSync } from "node:child_process";
import { chmodSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The tests run the real binary: build dist/ from the current sources first. */
export default function setup(): () => void {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], {
    cwd: root,
    stdio: "inherit",
  });
  chmodSync(join(root, "dist", "bin.js"), 0o755);
  return () => rmSync(join(root, "test", ".tmp"), { recursive: true, force: true });
}
