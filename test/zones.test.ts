import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { parse, stringify } from "yaml";
import type { PlanDocument } from "../plan/report/document";
import { replicasLeft, simulateZoneLoss, zoneModelFromResources, zoneShortfalls, type ZoneModel } from "../plan/analyses/zones";
import { parsePlatformSpec } from "../spec/index";
import { readStackConfig } from "../plan/capture/project";
import { ROOT, runPlanCli, stackPlan } from "./plan-cli";

describe("replicasLeft: worst case when one zone goes", () => {
  test.each([
    // replicas, spread, zones, left
    [1, "soft", 3, 0],
    [1, "hard", 3, 0],
    [2, "hard", 3, 1],
    [2, "soft", 3, 0],
    [3, "hard", 3, 2],
    [4, "hard", 3, 2],
    [6, "hard", 3, 4],
    [3, "hard", 2, 1],
    [5, "soft", 2, 0],
  ] as const)("%i replicas, %s spread over %i zones keep %i", (replicas, spread, zones, left) => {
    expect(replicasLeft({ replicas, spread, pool: "general" }, zones)).toBe(left);
  });
});

const ZONES = ["z-a", "z-b", "z-c"];
const model = (change: (m: ZoneModel) => void = () => undefined): ZoneModel => {
  const m: ZoneModel = {
    zones: ZONES,
    nodeGroups: ZONES.map((zone) => ({ pool: "general", zone, maxSize: 2, perNode: { cpuMillis: 6800, memoryMiB: 27_852 } })),
    natZoneFor: { "z-a": "z-a", "z-b": "z-b", "z-c": "z-c" },
    databases: [{ id: "pg", multiAz: true }],
    caches: [{ id: "cache", failover: true }],
    filestoreZones: ZONES,
    traefik: { replicas: 3, spread: "hard", pool: "general" },
    tenants: [
      { name: "biz", tier: "business", web: { replicas: 2, spread: "hard", pool: "general" }, egress: true, requests: { cpuMillis: 3000, memoryMiB: 6000 } },
      { name: "ess", tier: "essential", web: { replicas: 1, spread: "soft", pool: "general" }, egress: false, requests: { cpuMillis: 1000, memoryMiB: 2000 } },
    ],
  };
  change(m);
  return m;
};
const outcomes = (m: ZoneModel, environment: "production" | "development" = "production") =>
  simulateZoneLoss(m, environment).results.map((r) => `${r.zone} ${r.tenant} ${r.outcome}${r.meets ? "" : " SHORT"}`);

describe("simulateZoneLoss", () => {
  test("a healthy layout: business keeps serving, essential reschedules", () => {
    expect(outcomes(model())).toEqual(ZONES.flatMap((z) => [`${z} biz serving`, `${z} ess recovers`]));
  });

  test("a business tenant whose replicas may stack in one zone is broken by that zone's loss", () => {
    const result = simulateZoneLoss(model((m) => void (m.tenants[0]!.web!.spread = "soft")), "production");
    expect(zoneShortfalls(result).map((r) => `${r.zone} ${r.tenant}: ${r.reasons.join("; ")}`)).toEqual(
      ZONES.map((z) => `${z} biz: no web replica left (2, soft spread): rescheduled`),
    );
  });

  test("pools that cannot hold the quotas in the zones left turn a reschedule into an outage", () => {
    const result = simulateZoneLoss(model((m) => m.nodeGroups.forEach((g) => (g.maxSize = 0.25))), "production");
    expect(result.capacity.map((c) => `${c.zone} ${c.pool} ${c.needed.cpuMillis}/${c.capacity.cpuMillis} ${c.fits}`)).toEqual(ZONES.map((z) => `${z} general 4000/3400 false`));
    expect(outcomes(model((m) => m.nodeGroups.forEach((g) => (g.maxSize = 0.25))))).toEqual(ZONES.flatMap((z) => [`${z} biz serving`, `${z} ess down SHORT`]));
  });

  test("single-AZ stores take every tenant down; a single NAT cuts the egress of the zones that used it", () => {
    expect(outcomes(model((m) => void (m.databases[0]!.multiAz = false)))).toEqual(ZONES.flatMap((z) => [`${z} biz down SHORT`, `${z} ess down SHORT`]));
    const singleNat = simulateZoneLoss(model((m) => void (m.natZoneFor = { "z-a": "z-a", "z-b": "z-a", "z-c": "z-a" })), "production");
    expect(singleNat.results.filter((r) => r.zone === "z-a").map((r) => `${r.tenant} ${r.outcome}: ${r.reasons.join("; ")}`)).toEqual([
      "biz down: egress from z-b, z-c went through the NAT gateway in z-a",
      "ess down: no web replica left (1, soft spread); no NAT route left to pull images",
    ]);
    expect(singleNat.results.filter((r) => r.zone !== "z-a").every((r) => r.meets)).toBe(true);
  });

  test("outside production a shortfall is reported but not enforced", () => {
    const result = simulateZoneLoss(model((m) => void (m.caches[0]!.failover = false)), "development");
    expect(result.results.filter((r) => !r.meets)).toHaveLength(6);
    expect(zoneShortfalls(result)).toEqual([]);
  });
});

describe("zone analysis of the planned stacks", () => {
  let prod: PlanDocument;
  beforeAll(() => {
    prod = stackPlan("shared-prod").document;
  });
  const specOf = (stack: string) => parsePlatformSpec(readStackConfig(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`), "odoo-fleet").config, stack);

  test("shared-prod: the model read from the plan, and every tenant owed its tier's survival gets it", () => {
    const m = zoneModelFromResources(prod.resources, specOf("shared-prod"));
    expect(m.nodeGroups.map((g) => `${g.pool}@${g.zone}≤${g.maxSize}`)).toEqual([
      "system@eu-west-1a≤2", "system@eu-west-1b≤2", "system@eu-west-1c≤2",
      "general@eu-west-1a≤6", "general@eu-west-1b≤6", "general@eu-west-1c≤6",
    ]);
    expect(m.natZoneFor).toEqual({ "eu-west-1a": "eu-west-1a", "eu-west-1b": "eu-west-1b", "eu-west-1c": "eu-west-1c" });
    expect(m.databases).toEqual([{ id: "odoo-shared-prod", multiAz: true }]);
    expect(m.caches).toEqual([{ id: "odoo-shared-prod", failover: true }]);
    expect(m.filestoreZones).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    expect(m.traefik).toEqual({ replicas: 3, spread: "hard", pool: "system" });
    expect(m.tenants.map((t) => `${t.name} ${t.web?.replicas} ${t.web?.spread} ${t.web?.pool}`)).toEqual([
      "northwind 2 hard general", "contoso 2 hard general", "fabrikam 1 soft general", "tailspin 1 soft general",
    ]);
    expect(new Set(m.tenants.map((t) => `${t.database} ${t.cache}`))).toEqual(new Set(["odoo-shared-prod odoo-shared-prod"]));
    expect(prod.zones!.results.map((r) => `${r.zone} ${r.tenant} ${r.outcome}`)).toEqual(
      ["eu-west-1a", "eu-west-1b", "eu-west-1c"].flatMap((z) => [`${z} northwind serving`, `${z} contoso serving`, `${z} fabrikam recovers`, `${z} tailspin recovers`]),
    );
    expect(prod.violations.filter((v) => v.policy === "zone-failure-tolerance")).toEqual([]);
  });

  test("dedicated-acme-prod: the critical tenant keeps serving without any one zone", () => {
    const { document } = stackPlan("dedicated-acme-prod");
    expect(document.zones!.results.map((r) => `${r.zone} ${r.tenant} ${r.webReplicasLeft}/${r.webReplicas} ${r.outcome}`)).toEqual([
      "eu-west-1a acme 4/6 serving", "eu-west-1b acme 4/6 serving", "eu-west-1c acme 4/6 serving",
    ]);
  });

  test("a stack whose pool fits its quotas in three zones but not in two: exit 1, the essential tenants named", () => {
    const doc = parse(readFileSync(path.join(ROOT, "stacks", "Pulumi.shared-prod.yaml"), "utf8")) as { config: Record<string, { nodePools: Record<string, unknown>[] }> };
    const general = doc.config["odoo-fleet:cluster"]!.nodePools[1]!;
    general.instanceTypes = ["m7i.large"];
    general.maxPerZone = 2;
    const file = path.join(mkdtempSync(path.join(tmpdir(), "odoo-fleet-zones-")), "Pulumi.shared-prod.yaml");
    writeFileSync(file, stringify(doc));
    const { status, stdout, document } = runPlanCli(["--stack-file", file]);
    expect(status).toBe(1);
    expect(stdout).toContain("eu-west-1a  2        0         2     2             general 7.5/6 vCPU, 19.5/27.2 GiB SHORT");
    const messages = document.violations.filter((v) => v.policy === "zone-failure-tolerance").map((v) => v.message);
    expect(messages).toHaveLength(6);
    expect(messages[0]).toBe(
      "fabrikam (essential) must stay recoverable when eu-west-1a is lost, but is down: no web replica left (1, soft spread); pool general cannot hold its tenants' quotas in the zones left",
    );
    expect(new Set(document.violations.filter((v) => v.policy === "zone-failure-tolerance").map((v) => (v as { tenant?: string }).tenant))).toEqual(new Set(["fabrikam", "tailspin"]));
  });
});

