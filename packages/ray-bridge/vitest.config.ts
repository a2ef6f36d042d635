import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ["test/**/*.test.ts"],
      globalSetup: ["test/global-setup.ts"],
      testTimeout: 180_000,
      hookTimeout: 120_000,
      // One Ray head with 2 CPUs and one Temporal server: test files run one after another.
      fileParallelism: false,
    },
  }),
);
