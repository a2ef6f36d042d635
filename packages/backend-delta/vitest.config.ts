import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ["test/**/*.test.ts"],
      // Creates (once per machine) the delta-rs venv the interoperability tests drive.
      globalSetup: ["test/global-setup.ts"],
      testTimeout: 60_000,
      hookTimeout: 600_000,
      // 2 cores, and the multi-writer tests spawn processes: one file at a time.
      fileParallelism: false,
    },
  }),
);
