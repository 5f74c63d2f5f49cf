import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { strictestTier, TIER_NAMES, TIERS } from "../infra/tiers";

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

  test.each([
    [[], undefined],
    [["essential"], "essential"],
    [["business", "essential"], "business"],
    [["essential", "critical", "business"], "critical"],
  ] as const)("strictestTier(%j) = %s", (tiers, expected) => {
    expect(strictestTier(tiers)).toBe(expected);
  });
});
