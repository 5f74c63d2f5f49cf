import { beforeAll, describe, expect, test } from "vitest";
import { achievedRecovery, mechanismsFromResources, recoveryShortfalls, scheduleHours, type RecoveryMechanisms, type TenantWorkload } from "../tiers/recovery";
import { analyse } from "../plan/analyses/index";
import { evaluate } from "../plan/evaluation/index";
import { policyResources } from "../plan/capture/policy-view";
import { parseStackSpec } from "../spec/index";
import { exitCode, planDocument, type PlanDocument } from "../plan/report/document";
import { recoveryTable } from "../plan/report/summary";
import type { ValidPlanRun } from "../plan/capture/run";
import { readStackConfig } from "../plan/capture/project";
import * as path from "node:path";
import { ROOT, stackPlan } from "./plan-cli";

const FULL: RecoveryMechanisms = {
  postgres: { multiAz: true, backupRetentionDays: 14, automatedBackupReplication: true, crossRegionReplica: false, backupTier: "business" },
  cache: { automaticFailover: true },
  filestore: { replication: true, backupTier: "business" },
  backupPlans: { business: { everyHours: 6, drCopy: true } },
  standbyCluster: false,
};
const business: TenantWorkload = { name: "northwind", tier: "business", webReplicas: 2, webZones: 2 };
const achieved = (m: RecoveryMechanisms, tenant: TenantWorkload = business) =>
  Object.fromEntries(achievedRecovery(m, [tenant], "production").map((r) => [`${r.objective} ${r.fault}`, [r.achieved, r.meets]]));

describe("achievedRecovery", () => {
  test("a business tenant on a production shared stack meets every objective", () => {
    expect(achieved(FULL)).toEqual({
      "RPO single-fault": [0, true],
      "RPO logical-corruption": [5, true],
      "RPO region-lost": [15, true],
      "RTO zone-lost": [2, true],
      "RTO region-lost": [240, true],
      "PITR window logical-corruption": [14, true],
    });
  });

  test.each<[string, Partial<RecoveryMechanisms>, string, number | null]>([
    ["without backup replication, the region RPO falls back to the 6-hourly AWS Backup copy", { postgres: { ...FULL.postgres!, automatedBackupReplication: false } }, "RPO region-lost", 360],
    ["without EFS replication, files fall back to the 6-hourly copy", { filestore: { replication: false, backupTier: "business" } }, "RPO region-lost", 360],
    ["without Multi-AZ, a zone loss means restoring the database", { postgres: { ...FULL.postgres!, multiAz: false } }, "RTO zone-lost", 60],
    ["without cache failover, a zone loss waits for a new cache node", { cache: { automaticFailover: false } }, "RTO zone-lost", 15],
    ["with a 7-day PITR window, business falls short of 14", { postgres: { ...FULL.postgres!, backupRetentionDays: 7 } }, "PITR window logical-corruption", 7],
    ["with nothing in the DR region, the region cannot be recovered", { postgres: { ...FULL.postgres!, automatedBackupReplication: false }, backupPlans: {} }, "RTO region-lost", null],
  ])("%s", (_, change, objective, value) => {
    const result = achieved({ ...FULL, ...change });
    expect(result[objective]).toEqual([value, false]);
  });

  test("one web replica in one zone costs a reschedule on zone loss", () => {
    expect(achieved(FULL, { name: "small", tier: "essential", webReplicas: 1, webZones: 1 })["RTO zone-lost"]).toEqual([5, true]);
    expect(achieved(FULL, { ...business, webReplicas: 1, webZones: 1 })["RTO zone-lost"]).toEqual([5, true]);
  });

  test("critical needs the synchronous standby, the replica and the standby cluster", () => {
    const critical = { name: "acme", tier: "critical" as const, webReplicas: 6, webZones: 3 };
    const warm: RecoveryMechanisms = { ...FULL, postgres: { ...FULL.postgres!, backupRetentionDays: 35, crossRegionReplica: true }, standbyCluster: true };
    expect(achieved(warm, critical)).toMatchObject({ "RPO single-fault": [0, true], "RPO region-lost": [15, true], "RTO region-lost": [30, true], "RTO zone-lost": [2, true] });
    expect(achieved({ ...warm, standbyCluster: false }, critical)["RTO region-lost"]).toEqual([130, false]);
  });

  test("non-production shortfalls are reported, not enforced", () => {
    const rows = achievedRecovery({ ...FULL, postgres: { ...FULL.postgres!, multiAz: false } }, [business], "development");
    expect(rows.filter((r) => !r.meets).map((r) => [r.objective, r.fault, r.enforced])).toEqual([["RTO", "zone-lost", false]]);
    expect(recoveryShortfalls(rows)).toEqual([]);
  });

  test.each([
    ["cron(0 * * * ? *)", 1],
    ["cron(0 0/6 * * ? *)", 6],
    ["cron(0 2 * * ? *)", 24],
  ])("scheduleHours(%s) = %i", (schedule, hours) => {
    expect(scheduleHours(schedule)).toBe(hours);
  });
});

describe("recovery from a real plan", () => {
  let document: PlanDocument;
  beforeAll(() => {
    document = stackPlan("shared-prod").document;
  });

  test("shared-prod: every tenant meets its tier, and the JSON carries the table", () => {
    expect(document.recovery!.rows).toHaveLength(4 * 6);
    expect(document.recovery!.rows.filter((r) => !r.meets)).toEqual([]);
    expect(document.recovery!.mechanisms).toEqual({
      postgres: { multiAz: true, backupRetentionDays: 14, automatedBackupReplication: true, crossRegionReplica: false, backupTier: "business" },
      cache: { automaticFailover: true },
      filestore: { replication: true, backupTier: "business" },
      backupPlans: { essential: { everyHours: 24, drCopy: true }, business: { everyHours: 6, drCopy: true } },
      standbyCluster: false,
    });
  });

  test("removing the RDS backup replication from the plan makes the business tenants fall short, and the plan exit 1", async () => {
    const resources = document.resources.filter((r) => r.type !== "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication");
    const config = readStackConfig(path.join(ROOT, "stacks", "Pulumi.shared-prod.yaml"), "odoo-fleet").config;
    const run: ValidPlanRun = {
      project: "odoo-fleet",
      stack: "shared-prod",
      stackFile: "stacks/Pulumi.shared-prod.yaml",
      config,
      spec: parseStackSpec(config, "shared-prod", "stacks/Pulumi.shared-prod.yaml"),
      resources,
      policyResources: policyResources(resources.map((resource) => ({ resource }))),
      placeholders: [],
      invokes: [],
      durationMs: 0,
    };
    const analysis = analyse(run);
    const { recovery } = analysis;
    const violations = await evaluate(run, analysis);
    // Tenants register concurrently: compare in tenant order.
    expect([...violations].sort((a, b) => String(a.tenant).localeCompare(String(b.tenant)))).toEqual(
      ["contoso", "northwind"].map((tenant) => ({
        policy: "tier-recovery-contract",
        enforcementLevel: "mandatory",
        urn: null,
        message: `tenant ${tenant} (business): RPO for region-lost is 6 h, the tier promises 1 h (via AWS Backup copy every 6 h + EFS replication)`,
        tenant,
      })),
    );
    expect(exitCode(planDocument(run, violations, recovery))).toBe(1);
    expect(recoveryTable(recovery.rows).split("\n").find((line) => line.startsWith("northwind"))).toContain("6 h / 1 h SHORT");
  });

  test("mechanismsFromResources reads the dedicated stack's warm standby", () => {
    const dedicated = stackPlan("dedicated-acme-prod").document;
    expect(mechanismsFromResources(dedicated.resources)).toMatchObject({ postgres: { crossRegionReplica: true, backupRetentionDays: 35 }, standbyCluster: true });
    expect(dedicated.recovery!.rows.every((r) => r.meets)).toBe(true);
  });
});
