import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Plans each stack of stacks/ once per run for every file that reads it (test/plan-cli.ts stackPlan).
    globalSetup: ["test/global-setup.ts"],
    // Pulumi keeps its runtime state on globalThis: every test file needs its own process.
    pool: "forks",
    isolate: true,
    // One file per core (vitest's default leaves a core free): the work is CPU-bound, and files that
    // wait for a plan or a spawned CLI leave their core to it.
    maxWorkers: availableParallelism(),
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report lets CI print a one-line count of passed and failed tests.
    reporters: ["default", "json"],
    outputFile: { json: "out/test-results.json" },
  },
});
