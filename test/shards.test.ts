/** A shared stack with two data shards, planned through the CLI as a user would. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { parse, stringify } from "yaml";
import { evaluatePolicies } from "../plan/evaluation/policy-eval";
import type { PlanDocument } from "../plan/report/document";
import { ALL_POLICIES } from "../policies/all";
import { tenantOfResource } from "../policies/common";
import { ROOT, runPlanCli, stackPlan, type CliResult } from "./plan-cli";

type StackDoc = { config: Record<string, unknown> };
const prodDoc = () => parse(readFileSync(path.join(ROOT, "stacks", "Pulumi.shared-prod.yaml"), "utf8")) as StackDoc;

/** shared-prod with contoso and tailspin moved to a second shard, s01. */
function shardedProd(change: (doc: StackDoc) => void = () => undefined): string {
  const doc = prodDoc();
  doc.config["odoo-fleet:data"] = { shards: [{ name: "s01", postgres: { instanceClass: "db.m7g.large" } }] };
  for (const t of doc.config["odoo-fleet:tenants"] as Record<string, unknown>[]) if (t.name === "contoso" || t.name === "tailspin") t.shard = "s01";
  change(doc);
  const file = path.join(mkdtempSync(path.join(tmpdir(), "odoo-fleet-shards-")), "Pulumi.shared-prod.yaml");
  writeFileSync(file, stringify(doc));
  return file;
}

describe("data shards in a plan", () => {
  let base: PlanDocument;
  let sharded: CliResult;
  beforeAll(() => {
    const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-shards-base-"));
    base = stackPlan("shared-prod").document;
    writeFileSync(path.join(dir, "base.json"), JSON.stringify(base));
    sharded = runPlanCli(["--stack-file", shardedProd(), "--against", path.join(dir, "base.json")]);
  });
  const ofType = (doc: PlanDocument, type: string) => doc.resources.filter((r) => r.type === type);

  test("a second PostgreSQL server and Valkey group, each with its own tenants' users and budget; the plan is clean", () => {
    expect(sharded.status, sharded.stdout).toBe(0);
    const doc = sharded.document;
    expect(ofType(doc, "aws:rds/instance:Instance").map((r) => [r.name, r.inputs.identifier, r.inputs.multiAz, r.protect])).toEqual([
      ["shared-prod-postgres", "odoo-shared-prod", true, true],
      ["shared-prod-s01-postgres", "odoo-shared-prod-s01", true, true],
    ]);
    const maxConnections = (name: string) => (ofType(doc, "aws:rds/parameterGroup:ParameterGroup").find((g) => g.name === name)!.inputs.parameters as { name: string; value: string }[]).find((p) => p.name === "max_connections")!.value;
    // By the instance class, whatever the tenants: RDS's formula in both groups.
    expect([maxConnections("shared-prod-postgres"), maxConnections("shared-prod-s01-postgres")]).toEqual(["LEAST({DBInstanceClassMemory/9531392},5000)", "LEAST({DBInstanceClassMemory/9531392},5000)"]);
    expect(ofType(doc, "aws:elasticache/userGroup:UserGroup").map((g) => (g.inputs.userIds as string[]).map((u) => u.replace(/-[0-9a-f]{8}$/, "")))).toEqual([
      ["default", "northwind", "fabrikam"],
      ["default", "contoso", "tailspin"],
    ]);
    expect(ofType(doc, "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.startsWith("shared-prod-s01-")).map((a) => a.name).sort()).toEqual([
      "shared-prod-s01-cache-evictions", "shared-prod-s01-cache-memory", "shared-prod-s01-cache-replication-lag",
      "shared-prod-s01-idle-transactions-ended", "shared-prod-s01-lock-waits", "shared-prod-s01-rds-connections", "shared-prod-s01-rds-cpu", "shared-prod-s01-rds-free-storage",
    ]);
    expect(doc.violations).toEqual([]);
    expect(doc.zones!.results.every((r) => r.meets)).toBe(true);
  });

  test("each tenant's odoo.conf points at its shard's server; the provisioner may read both master secrets", () => {
    const conf = (tenant: string) => String((sharded.document.resources.find((r) => r.name === `${tenant}-configmap-odoo-conf`)!.inputs.data as Record<string, string>)["web.conf"]);
    expect(conf("northwind")).toMatch(/^db_host = odoo-shared-prod\.[a-z0-9]+\.eu-west-1\.rds\.amazonaws\.com$/m);
    expect(conf("contoso")).toMatch(/^db_host = odoo-shared-prod-s01\.[a-z0-9]+\.eu-west-1\.rds\.amazonaws\.com$/m);
    const policy = JSON.parse(String(sharded.document.resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === "shared-prod-provisioner")!.inputs.policy));
    expect(policy.Statement[0].Resource).toHaveLength(2);
    expect(policy.Statement[1].Resource).toHaveLength(2);
  });

  test("adding the shard changes only what moves: no stateful resource is removed or replaced", () => {
    const changes = sharded.document.changes!;
    expect(changes.filter((c) => c.change === "replace" || (c.stateful && c.change !== "add"))).toEqual([]);
    // The moved tenants leave the first cache's users (their sessions start afresh on the new one).
    expect(changes.filter((c) => c.change === "remove").map((c) => c.urn.split("::").pop()).sort()).toEqual([
      "shared-prod-redis-contoso", "shared-prod-redis-contoso", "shared-prod-redis-tailspin", "shared-prod-redis-tailspin",
    ]);
    const updated = changes.filter((c) => c.change === "update").map((c) => c.urn.split("::").pop()).sort();
    // The moved tenants get new hosts, users and jobs; the provisioner and drills read both secrets. The first
    // server's max_connections (and its alarm) follow its class, not its tenants: nothing there changes.
    expect(updated).not.toContain("shared-prod-rds-connections");
    expect(updated).not.toContain("shared-prod-postgres");
    expect(updated).toContain("contoso-configmap-odoo-conf");
    expect(updated.filter((n) => n!.startsWith("northwind-") || n!.startsWith("fabrikam-"))).toEqual([]);
    expect(changes.filter((c) => c.change === "add").every((c) => c.urn.includes("shared-prod-s01") || c.urn.includes("contoso") || c.urn.includes("tailspin"))).toBe(true);
  });

  test("connection-budget-fits checks each server against its own tenants", async () => {
    const resources = structuredClone(sharded.document.resources);
    const group = resources.find((r) => r.name === "shared-prod-s01-postgres" && r.type === "aws:rds/parameterGroup:ParameterGroup")!;
    (group.inputs.parameters as { name: string; value: string }[]).find((p) => p.name === "max_connections")!.value = "100";
    const policy = ALL_POLICIES.find((p) => p.name === "connection-budget-fits")!;
    const { violations } = await evaluatePolicies([policy], resources.map((resource) => ({ resource })), { tenantOf: tenantOfResource });
    expect(violations.map((v) => [v.message, v.urn])).toEqual([
      ["tenants on odoo-shared-prod-s01 can open 124 connections at peak (odoo-contoso 82, odoo-tailspin 42) but max_connections 100 leaves 85: over by 39", group.urn],
    ]);
  });
});
