import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { expect, test } from "vitest";
import { runPlan } from "../plan/run";
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
