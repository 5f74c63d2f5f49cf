import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Pulumi keeps its runtime state on globalThis: every test file needs its own process.
    pool: "forks",
    isolate: true,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report lets CI print a one-line count of passed and failed tests.
    reporters: ["default", "json"],
    outputFile: { json: "out/test-results.json" },
  },
});
