import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { EKS_VERSIONS, eksSupportStatus, eksVersion, strictestTier, TIER_NAMES, TIERS } from "../tiers/catalogue";

/** Rows of the product's tier table (shared/product/service-tiers.md, vendored in test/fixtures/product). */
function productTable(): Map<string, string[]> {
  const text = readFileSync(path.join(__dirname, "fixtures", "product", "service-tiers.md"), "utf8");
  const rows = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    if (cells.length === 4) rows.set(cells[0]!, cells.slice(1));
  }
  return rows;
}

describe("tier catalogue", () => {
  test.each([
    ["essential", 7, 24, 30, 1, "GOVERNANCE", 30],
    ["business", 14, 6, 90, 2, "GOVERNANCE", 7],
    ["critical", 35, 1, 365, 3, "COMPLIANCE", 1],
  ] as const)("%s: PITR %i d, backups every %i h kept %i d, %i web replicas, %s lock, drill every %i d", (tier, pitr, every, keep, replicas, lock, drill) => {
    const spec = TIERS[tier];
    expect(spec.pitrDays).toBe(pitr);
    expect(spec.logicalBackup).toEqual({ everyHours: every, keepDays: keep });
    expect(spec.odooWeb.minReplicas).toBe(replicas);
    expect(spec.objectLockMode).toBe(lock);
    expect(spec.restoreDrillEveryDays).toBe(drill);
  });

  test("RPO and RTO in minutes", () => {
    expect(TIER_NAMES.map((t) => [TIERS[t].rpoMinutes.regionLost, TIERS[t].rtoMinutes.zoneLost, TIERS[t].rtoMinutes.regionLost])).toEqual([
      [1440, 15, 1440],
      [60, 5, 480],
      [15, 2, 60],
    ]);
  });

  test("quota caps for shared tiers; critical is sized from its own nodes", () => {
    expect(TIERS.essential.quotaCaps).toEqual({ cpu: 2, memoryGiB: 4, storageGiB: 20, pods: 20 });
    expect(TIERS.business.quotaCaps).toEqual({ cpu: 8, memoryGiB: 16, storageGiB: 100, pods: 60 });
    expect(TIERS.critical.quotaCaps).toBeUndefined();
  });

  test("stack kinds: critical only dedicated, essential only shared", () => {
    expect(TIER_NAMES.map((t) => TIERS[t].stackKinds)).toEqual([["shared"], ["shared", "dedicated"], ["dedicated"]]);
  });

  test("the catalogue agrees with the product table it comes from", () => {
    const table = productTable();
    expect(table.get("PITR window (RDS backup retention)")).toEqual(TIER_NAMES.map((t) => `${TIERS[t].pitrDays} days`));
    expect(table.get("Object Lock mode on its backups")).toEqual(TIER_NAMES.map((t) => TIERS[t].objectLockMode));
    expect(table.get("restore drill")).toEqual(["monthly", "weekly", "daily"]);
    expect(table.get("scheduling priority")).toEqual(TIER_NAMES.map((t) => TIERS[t].schedulingPriority));
  });

  test("the PriorityClasses follow the scheduling priority: higher tiers schedule first, only the lowest never preempts", () => {
    const byPriority = (["lowest", "normal", "highest"] as const).map((p) => TIER_NAMES.find((t) => TIERS[t].schedulingPriority === p)!);
    expect(byPriority.map((t) => TIERS[t].priorityClass)).toEqual([
      { value: 1000, preemption: "Never" },
      { value: 10000, preemption: "PreemptLowerPriority" },
      { value: 100000, preemption: "PreemptLowerPriority" },
    ]);
    expect(TIER_NAMES.map((t) => TIERS[t].ingressRateLimitPerSecond)).toEqual([20, 50, 100]);
  });

  test.each([
    [[], undefined],
    [["essential"], "essential"],
    [["business", "essential"], "business"],
    [["essential", "critical", "business"], "critical"],
  ] as const)("strictestTier(%j) = %s", (tiers, expected) => {
    expect(strictestTier(tiers)).toBe(expected);
  });
});

describe("EKS release calendar", () => {
  test("newest first, each version's dates in order, 14 months of standard support then 12 of extended", () => {
    expect(EKS_VERSIONS.map((v) => v.version)).toEqual(["1.35", "1.34", "1.33", "1.32", "1.31", "1.30", "1.29"]);
    for (const v of EKS_VERSIONS) {
      expect(v.eksRelease < v.endOfStandardSupport && v.endOfStandardSupport < v.endOfExtendedSupport, v.version).toBe(true);
      const months = (a: string, b: string) => (Number(b.slice(0, 4)) - Number(a.slice(0, 4))) * 12 + Number(b.slice(5, 7)) - Number(a.slice(5, 7));
      expect(months(v.eksRelease, v.endOfStandardSupport), v.version).toBe(14);
      expect(months(v.endOfStandardSupport, v.endOfExtendedSupport), v.version).toBe(12);
    }
  });

  test("the pinned add-on builds match their version's minor", () => {
    for (const v of EKS_VERSIONS.filter((x) => x.addons)) expect(v.addons!["kube-proxy"]).toMatch(new RegExp(`^v${v.version.replace(".", "\\.")}\\.\\d+-eksbuild\\.\\d+$`));
    expect(eksVersion("1.35")?.addons).toEqual({ coredns: "v1.14.2-eksbuild.4", "kube-proxy": "v1.35.3-eksbuild.2" });
  });

  test.each([
    // version, today (UTC), status, days left to the end of standard support
    ["1.33", "2026-07-28T23:59:59Z", "ending", 1],
    ["1.33", "2026-07-29T00:00:00Z", "ended", 0],
    ["1.34", "2026-10-02T12:00:00Z", "standard", 61],
    ["1.34", "2026-10-03T12:00:00Z", "ending", 60],
    ["1.34", "2026-12-01T12:00:00Z", "ending", 1],
    ["1.34", "2026-12-02T00:00:00Z", "ended", 0],
    ["1.34", "2026-12-02T15:00:00Z", "ended", 0],
    ["1.35", "2026-12-02T15:00:00Z", "standard", 115],
    ["1.35", "2027-01-26T00:00:00Z", "ending", 60],
    ["1.35", "2027-04-01T00:00:00Z", "ended", -5],
  ] as const)("%s on %s: %s, %i days left", (version, today, kind, daysLeft) => {
    expect(eksSupportStatus(version, new Date(today), 60)).toEqual({ kind, endOfStandardSupport: eksVersion(version)!.endOfStandardSupport, daysLeft });
  });

  test("a version the calendar does not list is unknown, whatever the day", () => {
    expect(eksSupportStatus("1.36", new Date("2026-12-02T00:00:00Z"), 60)).toEqual({ kind: "unknown" });
    expect(eksSupportStatus("1.28", new Date("2020-01-01T00:00:00Z"), 60)).toEqual({ kind: "unknown" });
  });
});
