/** Runs the offline plan CLI the way a user does (built output, one process per stack). */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { inject } from "vitest";
import type { PlanDocument } from "../plan/report/document";

export const ROOT = path.resolve(__dirname, "..");
export const CLI = path.join(ROOT, "dist", "plan", "cli.js");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  document: PlanDocument;
}

/** What a CLI run left: its exit status and output, and the JSON file it was asked to write. */
export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  json: string;
}

function documentOf(run: CliRun): PlanDocument {
  try {
    return JSON.parse(readFileSync(run.json, "utf8")) as PlanDocument;
  } catch (error) {
    throw new Error(`the plan wrote no readable ${run.json} (exit ${run.status}): ${(error as Error).message}\n${run.stderr}`, { cause: error });
  }
}

export function runPlanCli(args: string[]): CliResult {
  const out = path.join(mkdtempSync(path.join(tmpdir(), "odoo-fleet-plan-")), "plan.json");
  const result = spawnSync(process.execPath, [CLI, ...args, "--json", out], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, document: documentOf({ status: result.status, stdout: result.stdout, stderr: result.stderr, json: out }) };
}

declare module "vitest" {
  export interface ProvidedContext {
    /** Where test/global-setup.ts writes the plan of each stack of stacks/. */
    stackPlans: { dir: string; stacks: string[] };
  }
}

/** The files of one stack's plan in the global setup's folder; `run` (status and output) is written last. */
export function stackPlanFiles(dir: string, stack: string) {
  return { json: path.join(dir, `${stack}.json`), html: path.join(dir, `${stack}.html`), run: path.join(dir, `${stack}.run.json`) };
}

/** Longer than a plan takes on a loaded machine; the setup plans at most one stack per core at a time. */
const WAIT_MS = 300_000;

/**
 * The plan of `stacks/Pulumi.<stack>.yaml` through the CLI (`--stack <stack> --html <file> --json <file>`;
 * the default stack without `--stack`), made once per test run by test/global-setup.ts; waits until it
 * is there. `args` are the CLI's arguments. The document is parsed
 * afresh on each call: tests may change their copy.
 */
export function stackPlan(stack: string): CliResult & { html: string; json: string; args: string[] } {
  const { dir, stacks } = inject("stackPlans");
  if (!stacks.includes(stack)) throw new Error(`no plan of stack ${stack}: test/global-setup.ts plans the stacks of stacks/ (${stacks.join(", ")})`);
  const files = stackPlanFiles(dir, stack);
  const deadline = Date.now() + WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(files.run)) {
    if (Date.now() > deadline) throw new Error(`the plan of ${stack} was not done after ${WAIT_MS / 1000} s (${files.run})`);
    Atomics.wait(pause, 0, 0, 100);
  }
  const run = JSON.parse(readFileSync(files.run, "utf8")) as CliRun & { args: string[] };
  return { args: run.args, status: run.status, stdout: run.stdout, stderr: run.stderr, html: files.html, json: files.json, document: documentOf(run) };
}
