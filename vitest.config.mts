import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * Files that run components or the program under Pulumi's mock runtime (the harness, `setMocks`,
 * an in-process `runPlan`): Pulumi keeps that state on globalThis, so each needs a process of its own.
 * Every other file is plain code, the CLI in a child process, or a plan read from the global setup:
 * those share their worker's process, so @pulumi/*, which a plain import of a component module
 * pulls in, is loaded once per worker instead of once per file.
 */
const RUNTIME = /from "\.\/harness"|\bsetMocks\(|\brunPlan\(/;
const root = path.dirname(fileURLToPath(import.meta.url));
const files = readdirSync(path.join(root, "test")).filter((f) => f.endsWith(".test.ts")).map((f) => `test/${f}`);
const runtimeFiles = files.filter((f) => RUNTIME.test(readFileSync(path.join(root, f), "utf8")));

export default defineConfig({
  test: {
    pool: "forks",
    // One file per core at a time (vitest's default leaves a core free): the work is CPU-bound, and
    // files that wait for a plan or a spawned CLI leave their core to it.
    maxWorkers: availableParallelism(),
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report lets CI print a one-line count of passed and failed tests.
    reporters: ["default", "json"],
    outputFile: { json: "out/test-results.json" },
    projects: [
      { extends: true, test: { name: "runtime", include: runtimeFiles, isolate: true } },
      {
        extends: true,
        test: {
          name: "shared",
          include: ["test/**/*.test.ts"],
          exclude: runtimeFiles,
          isolate: false,
          // Plans each stack of stacks/ once per run for every file that reads it (test/plan-cli.ts stackPlan).
          globalSetup: ["test/global-setup.ts"],
        },
      },
    ],
  },
});
