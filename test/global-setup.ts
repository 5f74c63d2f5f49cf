/**
 * Plans every stack of stacks/ once per test run, through the CLI as a user runs it
 * (`plan --stack <name> --html <file> --json <file>`), for every test file that reads one
 * (`stackPlan` in plan-cli.ts). A plan is a process that loads the whole program, and a dozen files
 * read the same four plans: they are made once, in the background while the first files run, and a
 * file waits only for the plan it reads. Variants of a stack (a candidate file, --against,
 * --policy-config) are still planned by their own tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { parse } from "yaml";
import { availableParallelism } from "node:os";
import * as path from "node:path";
import type { TestProject } from "vitest/node" with { "resolution-mode": "import" };
import { listStacks, readProject } from "../plan/capture/project";
import { CLI, ROOT, stackPlanFiles, type CliRun } from "./plan-cli";

export default function setup(project: TestProject): () => void {
  const dir = path.join(ROOT, "out", "stack-plans");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const stacks = listStacks(readProject(ROOT));
  project.provide("stackPlans", { dir, stacks });

  const running = new Set<ChildProcess>();
  // The stacks most files read first; review stacks last, after their hosts (one worker never waits on a plan it has not started).
  const queue = [...stacks].sort((a, b) => rank(a) - rank(b));
  // Each stack's plan, settled when its files are written: a review stack waits for its host's.
  const finished = new Map(stacks.map((stack) => {
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    return [stack, { done, settle }] as const;
  }));
  const plan = async (stack: string) => {
    // A review stack's StackReference is answered by this run's plan of its host (--host-plan), where
    // `npm run plan -- --stack pr` plans the host again; .ci/run plans it that way.
    const host = reviewHostOf(stack);
    if (host !== undefined) await finished.get(host)?.done;
    await planOnce(stack, host);
    finished.get(stack)!.settle();
  };
  const planOnce = (stack: string, host: string | undefined) =>
    new Promise<void>((resolve) => {
      const files = stackPlanFiles(dir, stack);
      // Its own process group, so that the teardown also ends the host plan a review stack starts.
      // The default stack as the quick start plans it, with no --stack. HTML only where a test reads it.
      const args = [
        ...(stack === DEFAULT_STACK ? [] : ["--stack", stack]),
        ...(HTML_STACKS.includes(stack) ? ["--html", files.html] : []),
        ...(host !== undefined ? ["--host-plan", stackPlanFiles(dir, host).json] : []),
        "--json",
        files.json,
      ];
      const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, detached: true });
      running.add(child);
      let stdout = "";
      let stderr = "";
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const finish = (run: Omit<CliRun, "json">) => {
        running.delete(child);
        // Written whole, then renamed: a reader sees no file or the complete one.
        writeFileSync(`${files.run}.tmp`, JSON.stringify({ ...run, json: files.json, args }));
        renameSync(`${files.run}.tmp`, files.run);
        resolve();
      };
      child.on("error", (error) => finish({ status: null, stdout, stderr: `${stderr}${error.message}\n` }));
      child.on("close", (status) => finish({ status, stdout, stderr }));
    });
  // As many plans at once as there are cores: each is CPU-bound.
  const worker = async () => {
    for (let stack = queue.shift(); stack !== undefined; stack = queue.shift()) await plan(stack);
  };
  void Promise.all(Array.from({ length: Math.max(1, availableParallelism()) }, worker));

  // A run of files that read no plan may end first: end the plans still running, which this setup started.
  return () => {
    queue.length = 0;
    for (const child of running) {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
      // Nothing is read from them any more: let vitest exit without waiting for them to close.
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.unref();
    }
  };
}

/** plan/cli.ts DEFAULT_STACK (importing the CLI would run it). */
const DEFAULT_STACK = "shared-dev";
/** The stacks whose HTML report a test reads (html.test.ts); the others are planned without --html. */
const HTML_STACKS = ["shared-prod"];
/** The host stack a review stack's file names (`odoo-fleet:host: { stack }`), or undefined. */
function reviewHostOf(stack: string): string | undefined {
  const config = (parse(readFileSync(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, { stack?: string }> }).config;
  return config?.["odoo-fleet:host"]?.stack;
}
const rank = (stack: string) => (reviewHostOf(stack) !== undefined ? Number.MAX_SAFE_INTEGER : ["shared-prod", "dedicated-acme-prod", "shared-dev"].indexOf(stack) >>> 0);
