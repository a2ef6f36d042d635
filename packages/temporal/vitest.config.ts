import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ["test/**/*.test.ts"],
      globalSetup: ["test/global-setup.ts"],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      // One Temporal server and 2 cores: test files run one after another.
      fileParallelism: false,
    },
  }),
);
