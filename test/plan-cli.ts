/** Runs the offline plan CLI the way a user does (built output, one process per stack). */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { PlanDocument } from "../plan/report";

export const ROOT = path.resolve(__dirname, "..");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  document: PlanDocument;
}

export function runPlanCli(args: string[]): CliResult {
  const out = path.join(mkdtempSync(path.join(tmpdir(), "odoo-fleet-plan-")), "plan.json");
  const result = spawnSync(process.execPath, [path.join(ROOT, "dist", "plan", "cli.js"), ...args, "--json", out], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, document: JSON.parse(readFileSync(out, "utf8")) as PlanDocument };
}
