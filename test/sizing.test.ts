import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { connectionBudget, connectionBudgetProblem, cronPodResources, DB_MAXCONN, effectiveMaxConnections, maxConnectionsCeiling, RDS_MAX_CONNECTIONS_FORMULA, poolCapacity, quotaOverCaps, smallestNode, allocatable, sizeOdoo, tenantQuota, webPodResources, workersForHost } from "../tiers/sizing";
import { TIER_NAMES } from "../tiers/catalogue";

describe("Odoo's worked example (4 CPU, 60 concurrent users)", () => {
  test("8 workers and 1 cron thread, whose connections fill max_connections = 80", () => {
    const workers = workersForHost(4, 60, 1);
    expect(workers).toBe(8);
    expect((workers + 1 + 1) * DB_MAXCONN).toBe(80);
  });
  test("memory per worker by the docs' estimate: 0.8 x 150 MiB + 0.2 x 1 GiB", () => {
    expect(sizeOdoo({ tier: "business", expectedUsers: 96 }, "production").webPodMemoryMiB).toBe(Math.ceil(8 * (0.8 * 150 + 0.2 * 1024)));
  });
});

describe("sizeOdoo", () => {
  test.each([
    // tier, users, environment -> replicas, max, workers/pod, peak connections
    ["essential", 8, "production", 1, 1, 2, 1 * 24 + 16 + 2],
    ["essential", 30, "production", 1, 1, 5, 48 + 16 + 2],
    ["business", 60, "production", 2, 2, 5, 2 * 48 + 16 + 2],
    ["business", 60, "development", 2, 2, 5, 2 * 48 + 16 + 2],
    ["business", 10, "development", 1, 1, 2, 24 + 16 + 2],
    ["business", 200, "production", 5, 5, 7, 5 * 64 + 16 + 2],
    ["critical", 250, "production", 6, 12, 7, 12 * 64 + 24 + 2],
  ] as const)("%s with %i users in %s: %i replicas (max %i), %i workers each, %i connections at peak", (tier, users, env, replicas, max, workers, peak) => {
    const sizing = sizeOdoo({ tier, expectedUsers: users }, env);
    expect([sizing.webReplicas, sizing.maxWebReplicas, sizing.workersPerPod, sizing.peakConnections]).toEqual([replicas, max, workers, peak]);
  });

  test("property: workers per pod stay within 2..8, replicas never below the tier's, capacity covers the users", () => {
    fc.assert(
      fc.property(fc.constantFrom(...TIER_NAMES), fc.integer({ min: 1, max: 5000 }), (tier, users) => {
        const s = sizeOdoo({ tier, expectedUsers: users }, "production");
        expect(s.workersPerPod).toBeGreaterThanOrEqual(2);
        expect(s.workersPerPod).toBeLessThanOrEqual(8);
        expect(s.webReplicas).toBeGreaterThanOrEqual({ essential: 1, business: 2, critical: 3 }[tier]);
        expect(s.webReplicas * s.workersPerPod * 6).toBeGreaterThanOrEqual(users);
        expect(s.peakConnections).toBe(s.maxWebReplicas * (s.workersPerPod + 1) * DB_MAXCONN + (s.cronThreads + 1) * DB_MAXCONN + 2);
      }),
      { numRuns: 500 },
    );
  });

  test("property: more users never means a smaller quota or fewer connections", () => {
    fc.assert(
      fc.property(fc.constantFrom(...TIER_NAMES), fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 0, max: 500 }), (tier, users, more) => {
        const a = tenantQuota({ tier, expectedUsers: users }, "production");
        const b = tenantQuota({ tier, expectedUsers: users + more }, "production");
        expect(b.limits.cpuMillis).toBeGreaterThanOrEqual(a.limits.cpuMillis);
        expect(b.requests.memoryMiB).toBeGreaterThanOrEqual(a.requests.memoryMiB);
        expect(sizeOdoo({ tier, expectedUsers: users + more }, "production").peakConnections).toBeGreaterThanOrEqual(sizeOdoo({ tier, expectedUsers: users }, "production").peakConnections);
      }),
      { numRuns: 300 },
    );
  });
});

describe("resources, quotas and capacity", () => {
  test.each([
    [2, { requests: { cpuMillis: 500, memoryMiB: 1200 }, limits: { cpuMillis: 1000, memoryMiB: 1200 } }],
    [5, { requests: { cpuMillis: 875, memoryMiB: 2400 }, limits: { cpuMillis: 1750, memoryMiB: 2400 } }],
    [8, { requests: { cpuMillis: 1250, memoryMiB: 3600 }, limits: { cpuMillis: 2500, memoryMiB: 3600 } }],
  ])("a web pod with %i workers", (workersPerPod, expected) => {
    expect(webPodResources({ workersPerPod })).toEqual(expected);
  });

  test("cron pod", () => {
    expect(cronPodResources({ cronThreads: 2 })).toEqual({ requests: { cpuMillis: 250, memoryMiB: 1024 }, limits: { cpuMillis: 500, memoryMiB: 1024 } });
  });

  test("the largest tenant each shared tier holds fits its caps; one more user's worth does not", () => {
    // 24 users: 4 workers, 1.5 + 0.25 cron + 0.25 jobs = 2 vCPU of limits; 25 users need a fifth worker.
    expect(quotaOverCaps(tenantQuota({ tier: "essential", expectedUsers: 24 }, "production"), "essential")).toEqual([]);
    expect(quotaOverCaps(tenantQuota({ tier: "essential", expectedUsers: 25 }, "production"), "essential")).toEqual(["CPU limits 2.5 over the cap of 2"]);
    expect(quotaOverCaps(tenantQuota({ tier: "business", expectedUsers: 60 }, "production"), "business")).toEqual([]);
    expect(quotaOverCaps(tenantQuota({ tier: "critical", expectedUsers: 2000 }, "production"), "critical")).toEqual([]);
  });

  // LEAST({DBInstanceClassMemory/9531392},5000) with DBInstanceClassMemory taken as 90% of the class memory.
  test.each<[string, number | undefined]>([
    ["db.t4g.medium", 405],
    ["db.m7g.large", 811],
    ["db.r7g.large", 1622],
    ["db.r7g.xlarge", 3244],
    ["db.r7g.2xlarge", 5000],
    ["db.unknown", undefined],
  ])("max_connections of %s by RDS's formula: %s", (instanceClass, expected) => {
    expect(maxConnectionsCeiling(instanceClass)).toBe(expected);
  });

  test("the parameter groups carry RDS's own formula, which the class's floor evaluates", () => {
    expect(RDS_MAX_CONNECTIONS_FORMULA).toBe("LEAST({DBInstanceClassMemory/9531392},5000)");
  });

  test.each<[string | undefined, string, number | undefined]>([
    ["LEAST({DBInstanceClassMemory/9531392},5000)", "db.m7g.large", 811],
    [undefined, "db.r7g.large", 1622],
    ["200", "db.r7g.large", 200],
    ["LEAST({DBInstanceClassMemory/12582880},5000)", "db.m7g.large", undefined],
    ["LEAST({DBInstanceClassMemory/9531392},5000)", "db.unknown", undefined],
  ])("max_connections %s on %s gives %s", (value, instanceClass, expected) => {
    expect(effectiveMaxConnections(value, instanceClass)).toBe(expected);
  });

  test("connection budget: peaks plus 15 reserved, plus 20% headroom", () => {
    const budget = connectionBudget([{ name: "a", tier: "business", expectedUsers: 60 }, { name: "b", tier: "essential", expectedUsers: 8 }], "production");
    expect(budget).toEqual({ required: 114 + 42 + 15, withHeadroom: 206, byTenant: { a: 114, b: 42 } });
  });

  const business60 = (name: string) => ({ name, tier: "business" as const, expectedUsers: 60 });
  test.each<[string, number, string, string | undefined]>([
    // 5 x 114 + 15 = 585, x1.2 = 702 <= 811.
    ["fits", 5, "db.m7g.large", undefined],
    // 6 x 114 + 15 = 699, x1.2 = 839 > 811.
    ["over by 28", 6, "db.m7g.large",
      "the tenants' connection budget needs max_connections 839 (699 at peak plus 20% headroom), but db.m7g.large sustains 811 (LEAST({DBInstanceClassMemory/9531392},5000)): over by 28; largest tenants: t0 114, t1 114, t2 114. Choose a larger class or move tenants"],
    ["a larger class takes them", 6, "db.r7g.large", undefined],
    ["an unknown class is reported on its own", 6, "db.unknown", undefined],
  ])("connection budget against the class: %s", (_, count, instanceClass, expected) => {
    const tenants = Array.from({ length: count }, (_, i) => business60(`t${i}`));
    expect(connectionBudgetProblem(tenants, "production", instanceClass)).toBe(expected);
  });

  test("pool capacity: smallest instance type, all zones, 85% allocatable", () => {
    expect(poolCapacity({ instanceTypes: ["m7i.2xlarge", "m6i.2xlarge"], maxPerZone: 6 }, 3)).toEqual({ cpuMillis: 122400, memoryMiB: 501350 });
    expect(poolCapacity({ instanceTypes: ["x9.huge"], maxPerZone: 1 }, 3)).toBeUndefined();
  });

  test.each([
    [["m7i.large"], 1, undefined, { cpuMillis: 1700, memoryMiB: 6963.2 }],
    [["r7i.large", "m7i.xlarge"], 3, undefined, { cpuMillis: 5100, memoryMiB: 41779.2 }],
    [["m7i.large"], 2, 0.5, { cpuMillis: 2000, memoryMiB: 8192 }],
    [["x9.huge"], 1, undefined, undefined],
  ])("what %j offers pods on %d node(s) at share %s: %j (the one capacity rule of the spec, the zone analysis and quotas-fit-capacity)", (types, nodes, share, expected) => {
    const result = allocatable(types, nodes, share);
    if (expected === undefined) return expect(result).toBeUndefined();
    expect(result!.cpuMillis).toBeCloseTo(expected.cpuMillis, 6);
    expect(result!.memoryMiB).toBeCloseTo(expected.memoryMiB, 6);
  });

  test.each([
    [["m7i.2xlarge"], { vcpu: 8, memoryGiB: 32 }],
    [["r7i.large", "m7i.xlarge"], { vcpu: 2, memoryGiB: 16 }],
    [["m7i.xlarge", "r7i.large"], { vcpu: 2, memoryGiB: 16 }],
    [["m7i.xlarge", "x9.huge"], undefined],
    [[], undefined],
  ])("the node a pool of %j can count on: %j (smallest vCPU, smallest memory)", (types, node) => {
    expect(smallestNode(types)).toEqual(node);
  });
});
