import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { expect, test } from "vitest";
import { runPlan } from "../plan/capture/run";
import { ROOT } from "./plan-cli";

test("with an invalid configuration the program registers nothing but the root stack", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-invalid-"));
  const file = path.join(dir, "Pulumi.broken.yaml");
  writeFileSync(file, "config:\n  aws:region: eu-west-1\n  odoo-fleet:kind: shared\n  odoo-fleet:environment: development\n  odoo-fleet:zones: [eu-west-1a]\n");
  const run = await runPlan({ projectDir: ROOT, stack: "broken", stackFile: file });
  expect(run.resources.map((r) => [r.type, r.name])).toEqual([["pulumi:pulumi:Stack", "odoo-fleet-broken"]]);
  expect(run.outputs).toBeUndefined();
  expect(run.specError?.stackFile).toBe(file);
  expect(run.specError?.problems).toEqual([
    { path: "odoo-fleet:drRegion", message: "is required" },
    { path: "odoo-fleet:zones", message: "EKS needs subnets in at least 2 zones" },
    { path: "odoo-fleet:network", message: "is required" },
    { path: "odoo-fleet:cluster", message: "is required" },
    { path: "odoo-fleet:owner", message: "is required" },
    { path: "odoo-fleet:costCentre", message: "is required" },
    { path: "odoo-fleet:ingress", message: "is required" },
    { path: "odoo-fleet:platformImages", message: "is required" },
    { path: "odoo-fleet:ci", message: "is required" },
  ]);
});

/** A plan document as `--json` writes it, reduced to what a host plan is read for. */
function hostPlanFile(document: { stack: string; outputs?: Record<string, unknown> }): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "odoo-fleet-host-plan-")), "host.json");
  writeFileSync(file, JSON.stringify(document));
  return file;
}

// Refused before the mock runtime is set up or the host planned: these runs leave no state behind.
test("a review stack's host plan (--host-plan) must be a clean plan of the stack odoo-fleet:host names", async () => {
  const prod = hostPlanFile({ stack: "shared-prod", outputs: { clusterName: "shared-prod" } });
  await expect(runPlan({ projectDir: ROOT, stack: "pr", hostPlan: prod })).rejects.toThrow(`--host-plan ${prod} is a plan of stack shared-prod, but odoo-fleet:host names shared-dev`);
  const failed = hostPlanFile({ stack: "shared-dev" });
  await expect(runPlan({ projectDir: ROOT, stack: "pr", hostPlan: failed })).rejects.toThrow(`--host-plan ${failed} has no outputs: plan the host stack shared-dev cleanly first`);
  await expect(runPlan({ projectDir: ROOT, stack: "shared-prod", hostPlan: prod })).rejects.toThrow(`--host-plan ${prod}: this stack has no odoo-fleet:host, so no host to read`);
});
