import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

// The emulator is one process for the whole run: test files run one after another.
export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      fileParallelism: false,
      globalSetup: ["test/global-setup.ts"],
    },
  }),
);
