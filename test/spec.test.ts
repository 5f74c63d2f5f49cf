import fc from "fast-check";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { CERT_MANAGER_NAMESPACE, TRAEFIK_NAMESPACE } from "../components/ingress";
import { MONITORING_NAMESPACE } from "../components/observability";
import { tenantNamespace } from "../model/kubernetes";
import { SYSTEM_NAMESPACE } from "../model/kubernetes";
import { parsePlatformSpec, parseStackSpec, RESERVED_TENANT_NAMES, SpecError, tenantNameProblem, type PlatformSpec } from "../spec/index";
import { readStackConfig } from "../plan/capture/project";

const stackConfig = (stack: string) => readStackConfig(path.join(__dirname, "..", "stacks", `Pulumi.${stack}.yaml`), "odoo-fleet").config;

/** A stack's config with some keys replaced: values are encoded the way Pulumi hands them over. */
function configWith(stack: string, changes: Record<string, unknown>): Record<string, string> {
  const config = { ...stackConfig(stack) };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete config[key];
    else config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return config;
}

function problemsOf(config: Record<string, string>, stack = "shared-prod"): { path: string; message: string }[] {
  try {
    parsePlatformSpec(config, stack);
  } catch (error) {
    if (SpecError.isInstance(error)) return [...error.problems];
    throw error;
  }
  throw new Error("expected the configuration to be rejected");
}

const prodTenants = () => JSON.parse(stackConfig("shared-prod")["odoo-fleet:tenants"]!) as Record<string, unknown>[];

describe("valid stacks", () => {
  test("shared-prod parses into the exact spec, with environment defaults applied", () => {
    const spec: PlatformSpec = parsePlatformSpec(stackConfig("shared-prod"), "shared-prod");
    expect(spec).toMatchObject({
      project: "odoo-fleet",
      stack: "shared-prod",
      stackFile: "stacks/Pulumi.shared-prod.yaml",
      kind: "shared",
      environment: "production",
      region: "eu-west-1",
      drRegion: "eu-central-1",
      zones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
      network: { cidr: "10.20.0.0/16", natGateways: "OnePerAz", flowLogRetentionDays: 365 },
      cluster: { name: "odoo-shared-prod", kubernetesVersion: "1.35", endpointPublicAccessCidrs: [], logRetentionDays: 365 },
    });
    expect(spec.cluster.nodePools.map((p) => [p.name, p.minPerZone, p.maxPerZone, p.diskGiB, p.capacityType])).toEqual([
      ["system", 1, 2, 50, "ON_DEMAND"],
      ["general", 1, 6, 80, "ON_DEMAND"],
    ]);
    expect(spec.tenants.map((t) => [t.name, t.tier, t.expectedUsers])).toEqual([
      ["northwind", "business", 60],
      ["contoso", "business", 35],
      ["fabrikam", "essential", 12],
      ["tailspin", "essential", 8],
    ]);
  });

  test("development stacks get a single NAT gateway and 30-day log retention", () => {
    const spec = parsePlatformSpec(stackConfig("shared-dev"), "shared-dev");
    expect(spec.network).toEqual({ cidr: "10.10.0.0/16", natGateways: "Single", flowLogRetentionDays: 30 });
    expect(spec.cluster.logRetentionDays).toBe(30);
  });

  test("the dedicated stack carries its one critical tenant and a pool dedicated to it", () => {
    const spec = parsePlatformSpec(stackConfig("dedicated-acme-prod"), "dedicated-acme-prod");
    expect(spec.kind).toBe("dedicated");
    expect(spec.tenants.map((t) => [t.name, t.tier])).toEqual([["acme", "critical"]]);
    expect(spec.cluster.nodePools.find((p) => p.name === "acme")?.dedicatedTo).toBe("acme");
  });
});

describe("each class of invalid config names the stack file and key path", () => {
  test.each<[string, Record<string, unknown>, { path: string; message: string }[]]>([
    [
      "bad tier",
      { "odoo-fleet:tenants": prodTenants().map((t, i) => (i === 2 ? { ...t, tier: "gold" } : t)) },
      [{ path: "odoo-fleet:tenants[2].tier", message: '"gold" is not one of essential, business, critical' }],
    ],
    [
      "duplicate tenant",
      { "odoo-fleet:tenants": [...prodTenants(), { ...prodTenants()[0], domains: ["other.example.com"] }] },
      [{ path: "odoo-fleet:tenants[4].name", message: "tenant northwind is already declared at odoo-fleet:tenants[0]" }],
    ],
    [
      "DR region equal to the primary",
      { "odoo-fleet:drRegion": "eu-west-1" },
      [{ path: "odoo-fleet:drRegion", message: "must differ from the primary region (aws:region is eu-west-1); a region loss would take both" }],
    ],
    [
      "fewer than 3 zones in production",
      { "odoo-fleet:zones": ["eu-west-1a", "eu-west-1b"] },
      [{ path: "odoo-fleet:zones", message: "production stacks need 3 zones or more, got 2" }],
    ],
    [
      "image not pinned by digest",
      { "odoo-fleet:tenants": prodTenants().map((t, i) => (i === 1 ? { ...t, odoo: { version: "17.0", image: "odoo:17.0" } } : t)) },
      [{ path: "odoo-fleet:tenants[1].odoo.image", message: "must be an image reference pinned by digest (registry/name@sha256:<64 hex>)" }],
    ],
    [
      "a domain served twice",
      { "odoo-fleet:tenants": prodTenants().map((t, i) => (i === 3 ? { ...t, domains: ["odoo.contoso.example"] } : t)) },
      [{ path: "odoo-fleet:tenants[3].domains[0]", message: "odoo.contoso.example is already served by odoo-fleet:tenants[1]" }],
    ],
    [
      "critical tenant on a shared stack",
      { "odoo-fleet:tenants": prodTenants().map((t, i) => (i === 0 ? { ...t, tier: "critical" } : t)) },
      [{ path: "odoo-fleet:tenants[0].tier", message: "critical tenants run only on dedicated stacks; this stack is shared" }],
    ],
    [
      "a misspelt key",
      { "odoo-fleet:tenant": [] },
      [{ path: "odoo-fleet:tenant", message: "unknown key; known keys are aws:region, odoo-fleet:kind, odoo-fleet:environment, odoo-fleet:drRegion, odoo-fleet:zones, odoo-fleet:network, odoo-fleet:cluster, odoo-fleet:tenants, odoo-fleet:data, odoo-fleet:drNetwork, odoo-fleet:owner, odoo-fleet:costCentre, odoo-fleet:ingress, odoo-fleet:platformImages, odoo-fleet:observability, odoo-fleet:ci" }],
    ],
    [
      "a missing required key",
      { "odoo-fleet:network": undefined },
      [{ path: "odoo-fleet:network", message: "is required" }],
    ],
    [
      "public API endpoint in production",
      { "odoo-fleet:cluster": { ...JSON.parse(stackConfig("shared-prod")["odoo-fleet:cluster"]!), endpointPublicAccessCidrs: ["203.0.113.0/24"] } },
      [{ path: "odoo-fleet:cluster.endpointPublicAccessCidrs", message: "production clusters keep the API endpoint private; deploy from inside the VPC" }],
    ],
    [
      "a zone of another region",
      { "odoo-fleet:zones": ["eu-west-1a", "eu-west-1b", "eu-central-1c"] },
      [{ path: "odoo-fleet:zones[2]", message: "eu-central-1c is not in the primary region eu-west-1" }],
    ],
    [
      "a tenant name that is no DNS label",
      { "odoo-fleet:tenants": prodTenants().map((t, i) => (i === 0 ? { ...t, name: "North_Wind" } : t)) },
      [{ path: "odoo-fleet:tenants[0].name", message: "must be a DNS label: lower-case letters, digits and '-', starting with a letter" }],
    ],
    [
      "a VPC block too small for its zones",
      { "odoo-fleet:network": { cidr: "10.20.0.0/26" } },
      [{ path: "odoo-fleet:network.cidr", message: "/26 is too small for 3 zones (subnets would be smaller than /28)" }],
    ],
    [
      "a Kubernetes version the EKS calendar pins no add-on builds for",
      { "odoo-fleet:cluster": { kubernetesVersion: "1.33", nodePools: [{ name: "general", instanceTypes: ["m7i.xlarge"], minPerZone: 1, maxPerZone: 6 }] } },
      [{ path: "odoo-fleet:cluster.kubernetesVersion", message: "1.33 has no add-on builds in the EKS calendar (model/eks-versions.ts); use 1.35 or 1.34" }],
    ],
    [
      "a node pool key misspelt",
      { "odoo-fleet:cluster": { kubernetesVersion: "1.35", nodePools: [{ name: "general", instanceTypes: ["m7i.xlarge"], minPerZone: 1, maxPerZone: 2, maxPerzone: 3 }] } },
      [{ path: "odoo-fleet:cluster.nodePools[0].maxPerzone", message: "unknown key; check its spelling" }],
    ],
  ])("%s", (_, changes, expected) => {
    expect(problemsOf(configWith("shared-prod", changes))).toEqual(expected);
  });

  test("the error message names the stack file and every key path", () => {
    const config = configWith("shared-prod", { "odoo-fleet:drRegion": "eu-west-1", "odoo-fleet:zones": ["eu-west-1a"] });
    expect(() => parsePlatformSpec(config, "shared-prod")).toThrow(
      [
        "stacks/Pulumi.shared-prod.yaml: invalid stack configuration (2 problems):",
        "  - odoo-fleet:zones: EKS needs subnets in at least 2 zones",
        "  - odoo-fleet:drRegion: must differ from the primary region (aws:region is eu-west-1); a region loss would take both",
      ].join("\n"),
    );
  });

  test("all problems are listed at once, across keys and inside lists", () => {
    const tenants = prodTenants();
    const config = configWith("shared-prod", {
      "odoo-fleet:environment": "prod",
      "odoo-fleet:drRegion": "eu-west-1",
      "odoo-fleet:tenants": [
        { ...tenants[0], tier: "gold" },
        { ...tenants[1], expectedUsers: 0 },
        { ...tenants[2], name: "northwind" },
      ],
    });
    expect(problemsOf(config)).toEqual([
      { path: "odoo-fleet:environment", message: '"prod" is not one of production, staging, development, review' },
      { path: "odoo-fleet:tenants[0].tier", message: '"gold" is not one of essential, business, critical' },
      { path: "odoo-fleet:tenants[1].expectedUsers", message: "Too small: expected number to be >=1" },
      { path: "odoo-fleet:drRegion", message: "must differ from the primary region (aws:region is eu-west-1); a region loss would take both" },
      { path: "odoo-fleet:tenants[2].name", message: "tenant northwind is already declared at odoo-fleet:tenants[0]" },
    ]);
  });

  test("a dedicated stack needs exactly one tenant and its dedicated pools name a tenant it has", () => {
    const base = JSON.parse(stackConfig("dedicated-acme-prod")["odoo-fleet:tenants"]!) as Record<string, unknown>[];
    const config = configWith("dedicated-acme-prod", {
      "odoo-fleet:tenants": [...base, { ...base[0], name: "acme-two", domains: ["two.acme.example"], expectedUsers: 10 }],
      "odoo-fleet:cluster": {
        kubernetesVersion: "1.35",
        nodePools: [
          { name: "system", instanceTypes: ["m7i.large"], minPerZone: 1, maxPerZone: 2 },
          { name: "other", instanceTypes: ["m7i.large"], minPerZone: 1, maxPerZone: 2, dedicatedTo: "globex" },
        ],
      },
    });
    expect(problemsOf(config, "dedicated-acme-prod")).toEqual([
      { path: "odoo-fleet:tenants", message: "a dedicated stack serves exactly one tenant, got 2" },
      { path: "odoo-fleet:cluster.nodePools[1].dedicatedTo", message: "globex is not a tenant of this stack" },
      // With no pool of its own, acme lands on the system pool with acme-two, which cannot hold them.
      { path: "odoo-fleet:cluster.nodePools[0].maxPerZone", message: "its 2 tenants' quotas request 19 vCPU at peak; 6 nodes at most (2 per zone) offer 10.2: over by 8.8 vCPU" },
      { path: "odoo-fleet:cluster.nodePools[0].maxPerZone", message: "its 2 tenants' quotas request 52.5 GiB at peak; 6 nodes at most (2 per zone) offer 40.8 GiB: over by 11.7 GiB" },
    ]);
  });
});

describe("data tier settings", () => {
  test("shared-prod: Multi-AZ, PITR of its strictest tier, max_connections by its class, protected", () => {
    const spec = parsePlatformSpec(stackConfig("shared-prod"), "shared-prod");
    const postgres = {
      version: "16",
      instanceClass: "db.m7g.large",
      storageGiB: 50,
      maxStorageGiB: 500,
      multiAz: true,
      backupRetentionDays: 14,
      // db.m7g.large: 8 GiB by RDS's formula; the budget, northwind 114 + contoso 82 + fabrikam 42 + tailspin 42 + 15 reserved = 295, fits.
      maxConnections: 811,
      requiredConnections: 295,
    };
    const redis = { nodeType: "cache.m7g.large", multiAz: true };
    expect(spec.data).toEqual({
      postgres,
      redis,
      // One shard, the stack's own: every tenant on it.
      shards: [{ postgres, redis, tenants: ["northwind", "contoso", "fabrikam", "tailspin"] }],
      backupWindow: "01:00-02:00",
      maintenanceWindow: "sun:03:00-sun:04:00",
      protect: true,
      strictestTier: "business",
    });
    expect(spec.dr).toEqual({ enabled: true, warmStandby: false });
  });

  test("shared-dev relaxes Multi-AZ, DR and protection", () => {
    const spec = parsePlatformSpec(stackConfig("shared-dev"), "shared-dev");
    expect([spec.data.postgres.multiAz, spec.data.redis.multiAz, spec.data.protect, spec.dr.enabled]).toEqual([false, false, false, false]);
    expect(spec.data.postgres.backupRetentionDays).toBe(7);
  });

  test("the dedicated critical stack gets a warm standby in its DR network", () => {
    const spec = parsePlatformSpec(stackConfig("dedicated-acme-prod"), "dedicated-acme-prod");
    expect(spec.dr).toEqual({ enabled: true, warmStandby: true, network: { cidr: "10.41.0.0/16", zones: ["eu-central-1a", "eu-central-1b", "eu-central-1c"] } });
    expect(spec.data.postgres).toMatchObject({ instanceClass: "db.r7g.large", backupRetentionDays: 35, maxConnections: 1622 });
  });

  test.each<[string, string, Record<string, unknown>, { path: string; message: string }[]]>([
    [
      "tenants over the connection budget, saying by how much",
      "shared-prod",
      {
        "odoo-fleet:tenants": Array.from({ length: 8 }, (_, i) => ({ ...prodTenants()[0], name: `shop${i}`, domains: [`shop${i}.example.com`] })),
      },
      [
        {
          path: "odoo-fleet:data.postgres.instanceClass",
          // 60 users: 10 workers over 2 pods of 5, (5 + 1) x 8 = 48 each: 2 x 48 + 16 cron + 2 jobs = 114 per tenant.
          message:
            "the tenants' connection budget needs max_connections 1113 (927 at peak plus 20% headroom), but db.m7g.large sustains 811 (LEAST({DBInstanceClassMemory/9531392},5000)): over by 302; " +
            "largest tenants: shop0 114, shop1 114, shop2 114. Choose a larger class or move tenants",
        },
      ],
    ],
    [
      "a tenant over its tier's quota caps",
      "shared-prod",
      { "odoo-fleet:tenants": prodTenants().map((t, i) => (i === 2 ? { ...t, expectedUsers: 40 } : t)) },
      [
        {
          path: "odoo-fleet:tenants[2].expectedUsers",
          message: "40 users need CPU limits 3 over the cap of 2, memory limits 4.5 GiB over the cap of 4 GiB of the essential tier; lower expectedUsers or move the tenant to a larger tier",
        },
      ],
    ],
    [
      "tenants over the capacity of their pool",
      "shared-prod",
      {
        "odoo-fleet:cluster": {
          ...JSON.parse(stackConfig("shared-prod")["odoo-fleet:cluster"]!),
          nodePools: [
            { name: "system", instanceTypes: ["m7i.large"], minPerZone: 1, maxPerZone: 2 },
            { name: "general", instanceTypes: ["m7i.large"], minPerZone: 1, maxPerZone: 1 },
          ],
        },
      },
      [
        // Requests at peak: northwind 3 + contoso 2.5 + fabrikam 1 + tailspin 1 vCPU; 3 x 2 vCPU x 85% allocatable.
        { path: "odoo-fleet:cluster.nodePools[1].maxPerZone", message: "its 4 tenants' quotas request 7.5 vCPU at peak; 3 nodes at most (1 per zone) offer 5.1: over by 2.4 vCPU" },
      ],
    ],
    [
      "an unknown instance class",
      "shared-prod",
      { "odoo-fleet:data": { postgres: { instanceClass: "db.x9.huge" } } },
      [{ path: "odoo-fleet:data.postgres.instanceClass", message: expect.stringMatching(/^db\.x9\.huge is not a known RDS instance class; known: db\.t4g\.medium, /) as unknown as string }],
    ],
    [
      "a maintenance window over the backup window",
      "shared-prod",
      { "odoo-fleet:data": { backupWindow: "03:00-04:00", maintenanceWindow: "sun:03:30-sun:04:30" } },
      [{ path: "odoo-fleet:data.maintenanceWindow", message: "sun:03:30-sun:04:30 overlaps the backup window 03:00-04:00" }],
    ],
    [
      "a critical production tenant without a DR network",
      "dedicated-acme-prod",
      { "odoo-fleet:drNetwork": undefined },
      [{ path: "odoo-fleet:drNetwork", message: "is required: critical tenants in production get a warm standby in the DR region, which needs its own network" }],
    ],
    [
      "a DR network overlapping the primary one, in the wrong region",
      "dedicated-acme-prod",
      { "odoo-fleet:drNetwork": { cidr: "10.40.128.0/17", zones: ["eu-central-1a", "eu-west-1b"] } },
      [
        { path: "odoo-fleet:drNetwork.zones[1]", message: "eu-west-1b is not in the DR region eu-central-1" },
        { path: "odoo-fleet:drNetwork.cidr", message: "10.40.128.0/17 overlaps the primary network 10.40.0.0/16" },
      ],
    ],
  ])("%s", (_, stack, changes, expected) => {
    expect(problemsOf(configWith(stack, changes), stack)).toEqual(expected);
  });
});

describe("properties", () => {
  test("property: a tenant name is accepted exactly when it is a DNS label of at most 30 characters, neither reserved nor a review stack's", () => {
    fc.assert(
      // Reserved names and the pr- prefix mixed in, or random strings would almost never meet them.
      fc.property(fc.oneof(fc.stringMatching(/^[a-zA-Z0-9_-]{1,40}$/), fc.constantFrom(...Object.keys(RESERVED_TENANT_NAMES)), fc.stringMatching(/^pr-[a-z0-9-]{0,30}$/)), (name) => {
        const config = configWith("shared-prod", { "odoo-fleet:tenants": [{ ...prodTenants()[0], name }] });
        const valid = /^[a-z]([a-z0-9-]*[a-z0-9])?$/.test(name) && name.length <= 30 && !(name in RESERVED_TENANT_NAMES) && !name.startsWith("pr-");
        let accepted = true;
        try {
          parsePlatformSpec(config, "shared-prod");
        } catch (error) {
          if (!SpecError.isInstance(error)) throw error;
          accepted = false;
          expect(error.problems.every((p) => p.path === "odoo-fleet:tenants[0].name")).toBe(true);
        }
        expect(accepted).toBe(valid);
      }),
      { numRuns: 200 },
    );
  });

  test("property: whichever tenants a shard serves, its max_connections is its class's (no static parameter follows them)", () => {
    fc.assert(
      fc.property(fc.subarray(prodTenants(), { minLength: 0 }), (tenants) => {
        const spec = parsePlatformSpec(configWith("shared-prod", { "odoo-fleet:tenants": tenants }), "shared-prod");
        expect(spec.data.postgres.maxConnections).toBe(811);
      }),
      { numRuns: 16 },
    );
  });

  test("property: the order of tenants never changes whether a stack is valid", () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(prodTenants(), { minLength: 0 }), (tenants) => {
        const spec = parsePlatformSpec(configWith("shared-prod", { "odoo-fleet:tenants": tenants }), "shared-prod");
        expect(spec.tenants.map((t) => t.name)).toEqual(tenants.map((t) => t.name));
      }),
      { numRuns: 50 },
    );
  });
});

describe("reserved tenant names: names the platform or the review stacks already claim", () => {
  const renamed = (names: Record<number, string>) => prodTenants().map((t, i) => (names[i] !== undefined ? { ...t, name: names[i] } : t));
  const reserved = (name: string) => `${name} is reserved: ${RESERVED_TENANT_NAMES[name]}`;

  test.each<[string, Record<number, string>, { path: string; message: string }[]]>([
    ["fleet-system: the platform's namespace odoo-fleet-system", { 1: "fleet-system" }, [{ path: "odoo-fleet:tenants[1].name", message: reserved("fleet-system") }]],
    ["default: the cache's built-in user", { 3: "default" }, [{ path: "odoo-fleet:tenants[3].name", message: reserved("default") }]],
    [
      "pr-<n>: a review stack's tenant on the same cluster",
      { 0: "pr-42" },
      [{ path: "odoo-fleet:tenants[0].name", message: "pr-42 starts with pr-, kept for review stacks' tenants, which share the host's cluster" }],
    ],
  ])("%s", (_, names, expected) => {
    expect(problemsOf(configWith("shared-prod", { "odoo-fleet:tenants": renamed(names) }))).toEqual(expected);
  });

  test("the messages say why, and come with every other problem at once", () => {
    expect(RESERVED_TENANT_NAMES["fleet-system"]).toContain("odoo-fleet-system");
    expect(RESERVED_TENANT_NAMES.default).toContain("`default` user");
    expect(problemsOf(configWith("shared-prod", { "odoo-fleet:drRegion": "eu-west-1", "odoo-fleet:tenants": renamed({ 0: "default", 2: "fleet-system", 3: "pr-7" }) }))).toEqual([
      { path: "odoo-fleet:drRegion", message: "must differ from the primary region (aws:region is eu-west-1); a region loss would take both" },
      { path: "odoo-fleet:tenants[0].name", message: reserved("default") },
      { path: "odoo-fleet:tenants[2].name", message: reserved("fleet-system") },
      { path: "odoo-fleet:tenants[3].name", message: "pr-7 starts with pr-, kept for review stacks' tenants, which share the host's cluster" },
    ]);
  });

  test("names that only look alike are accepted", () => {
    const spec = parsePlatformSpec(configWith("shared-prod", { "odoo-fleet:tenants": renamed({ 0: "fleet", 1: "defaults", 2: "print-shop", 3: "system" }) }), "shared-prod");
    expect(spec.tenants.map((t) => t.name)).toEqual(["fleet", "defaults", "print-shop", "system"]);
  });

  test("no tenant accepted on a platform stack gets a platform namespace", () => {
    const platformNamespaces = [SYSTEM_NAMESPACE, MONITORING_NAMESPACE, TRAEFIK_NAMESPACE, CERT_MANAGER_NAMESPACE, "default", "kube-system", "kube-public", "kube-node-lease"];
    // The tenant whose namespace would be each of them, where one can (the tenant prefix odoo-).
    const claimants = platformNamespaces.map((ns) => ns.replace(/^odoo-/, "")).filter((name) => platformNamespaces.includes(tenantNamespace(name)));
    expect(claimants).toEqual(["fleet-system"]);
    for (const name of claimants) expect(tenantNameProblem(name)).toBe(reserved(name));
  });

  test("a review stack's tenants carry its name and the pr- prefix; reserved names are refused there too", () => {
    const tenants = JSON.parse(stackConfig("pr")["odoo-fleet:tenants"]!) as Record<string, unknown>[];
    const review = (stack: string, names: string[]) => {
      try {
        const spec = parseStackSpec(configWith("pr", { "odoo-fleet:tenants": names.map((name, i) => ({ ...tenants[0], name, domains: [`${name}-${i}.review.example`] })) }), stack);
        if (spec.mode === "bootstrap") throw new Error("the pr stack file is not a bootstrap stack");
        return spec.tenants.map((t) => t.name);
      } catch (error) {
        if (SpecError.isInstance(error)) return error.problems;
        throw error;
      }
    };
    const named = "a review stack's tenants are named after it (pr-101 or pr-101-<suffix>) and start with pr-, so they never meet a host tenant or another review stack's on the shared cluster";
    expect(review("pr-101", ["pr-101", "pr-101-shop"])).toEqual(["pr-101", "pr-101-shop"]);
    expect(review("pr-101", ["demo", "pr-102", "pr-1010", "default"])).toEqual([
      { path: "odoo-fleet:tenants[0].name", message: named },
      { path: "odoo-fleet:tenants[1].name", message: named },
      { path: "odoo-fleet:tenants[2].name", message: named },
      { path: "odoo-fleet:tenants[3].name", message: reserved("default") },
    ]);
    // A review stack not named pr-<n> (run by hand) cannot use the pr- names' protection.
    expect(review("feature", ["feature"])).toEqual([{ path: "odoo-fleet:tenants[0].name", message: named.replace(/pr-101/g, "feature") }]);
  });
});

describe("review stacks", () => {
  const review = () => stackConfig("pr");
  test("the template parses into a review spec on its host", () => {
    const spec = parseStackSpec(review(), "pr");
    expect(spec).toMatchObject({ mode: "review", kind: "shared", environment: "review", host: { stack: "shared-dev" } });
    expect(spec.mode === "review" && spec.tenants.map((t) => t.name)).toEqual(["pr-template"]);
  });

  test("platform keys are refused, the environment must be review, at least one tenant", () => {
    const config = { ...review(), "odoo-fleet:network": JSON.stringify({ cidr: "10.0.0.0/16" }), "odoo-fleet:environment": "development", "odoo-fleet:tenants": "[]" };
    let problems: unknown;
    try {
      parseStackSpec(config, "pr");
    } catch (error) {
      problems = (error as SpecError).problems;
    }
    expect(problems).toEqual([
      { path: "odoo-fleet:network", message: "not used by a review stack: its network, cluster and data stores are its host's" },
      { path: "odoo-fleet:tenants", message: "a review stack deploys at least one tenant" },
      { path: "odoo-fleet:environment", message: "a stack with a host is a review stack: environment must be review, got development" },
    ]);
  });

  test("a review environment without a host is refused", () => {
    expect(problemsOf(configWith("shared-dev", { "odoo-fleet:environment": "review" }), "shared-dev")).toEqual([
      { path: "odoo-fleet:host", message: "is required: review stacks deploy their tenants onto a host stack's cluster" },
    ]);
  });
});

describe("data shards", () => {
  const tenantsOn = (shards: Record<string, string>) => prodTenants().map((t) => (shards[t.name as string] ? { ...t, shard: shards[t.name as string] } : t));

  test("tenants naming a shard get its server and cache; each shard's budget counts its own tenants", () => {
    const spec = parsePlatformSpec(
      configWith("shared-prod", {
        "odoo-fleet:data": { shards: [{ name: "s01", postgres: { instanceClass: "db.r7g.large" }, redis: { nodeType: "cache.r7g.large" } }] },
        "odoo-fleet:tenants": tenantsOn({ contoso: "s01", tailspin: "s01" }),
      }),
      "shared-prod",
    );
    expect(spec.data.shards.map((s) => [s.name, s.tenants, s.postgres.instanceClass, s.postgres.requiredConnections, s.postgres.maxConnections, s.redis.nodeType])).toEqual([
      // northwind 114 + fabrikam 42 + 15 = 171; contoso 82 + tailspin 42 + 15 = 139; max_connections by each class.
      [undefined, ["northwind", "fabrikam"], "db.m7g.large", 171, 811, "cache.m7g.large"],
      ["s01", ["contoso", "tailspin"], "db.r7g.large", 139, 1622, "cache.r7g.large"],
    ]);
    expect(spec.data.postgres).toBe(spec.data.shards[0]!.postgres);
  });

  test("every shard problem at once: unknown shard, duplicate, over its budget, over the cache's users, name too long", () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ ...prodTenants()[3], name: `e${i}`, domains: [`e${i}.example.com`], expectedUsers: 2, shard: "big" }));
    expect(
      problemsOf(
        configWith("shared-prod", {
          "odoo-fleet:data": {
            shards: [
              { name: "big", postgres: { instanceClass: "db.r7g.4xlarge" } },
              { name: "big" },
              { name: "other" },
            ],
          },
          "odoo-fleet:tenants": [...tenantsOn({ contoso: "nowhere" }), ...many],
        }),
      ).filter((p) => p.path.includes("shard") || p.path.startsWith("odoo-fleet:data")),
    ).toEqual([
      { path: "odoo-fleet:data.shards[1].name", message: "shard big is already declared at odoo-fleet:data.shards[0]" },
      { path: "odoo-fleet:tenants[1].shard", message: "nowhere is not a declared shard; declared: big, other" },
      {
        path: "odoo-fleet:data.shards[0].name",
        message: "100 tenants on shard big: its Valkey group holds at most 99 (ElastiCache allows 100 users per user group, one is the disabled default user); add a shard to odoo-fleet:data.shards and move tenants with `shard`",
      },
      {
        path: "odoo-fleet:data.shards[0].postgres.instanceClass",
        message: "shard big's tenants' connection budget needs max_connections 5058 (4215 at peak plus 20% headroom), but db.r7g.4xlarge sustains 5000 (LEAST({DBInstanceClassMemory/9531392},5000)): over by 58; largest tenants: e0 42, e1 42, e2 42. Choose a larger class or move tenants",
      },
    ]);
  });

  test("a shard name that makes the cache's id longer than 40 characters", () => {
    const stack = "shared-westeurope-production";
    expect(problemsOf(configWith("shared-prod", { "odoo-fleet:data": { shards: [{ name: "abcdefghijkl" }] } }), stack).filter((p) => p.path.startsWith("odoo-fleet:data"))).toEqual([
      { path: "odoo-fleet:data.shards[0].name", message: "makes the replication group id odoo-shared-westeurope-production-abcdefghijkl longer than ElastiCache's 40 characters" },
    ]);
  });

  test("a dedicated stack has no shards, and a review stack's tenants have none either", () => {
    const data = JSON.parse(stackConfig("dedicated-acme-prod")["odoo-fleet:data"]!) as Record<string, unknown>;
    expect(problemsOf(configWith("dedicated-acme-prod", { "odoo-fleet:data": { ...data, shards: [{ name: "s01" }] } }), "dedicated-acme-prod")).toEqual([
      { path: "odoo-fleet:data.shards", message: "a dedicated stack serves one tenant: shards are for shared stacks" },
    ]);
    const review = JSON.parse(stackConfig("pr")["odoo-fleet:tenants"]!) as Record<string, unknown>[];
    expect(() => parseStackSpec(configWith("pr", { "odoo-fleet:tenants": review.map((t) => ({ ...t, shard: "s01" })) }), "pr")).toThrow(SpecError);
    let problems: readonly { path: string; message: string }[] = [];
    try {
      parseStackSpec(configWith("pr", { "odoo-fleet:tenants": review.map((t) => ({ ...t, shard: "s01" })) }), "pr");
    } catch (error) {
      if (SpecError.isInstance(error)) problems = error.problems;
    }
    expect(problems).toEqual([
      { path: "odoo-fleet:tenants[0].shard", message: "a review stack's tenants use its host's first data shard" },
    ]);
  });
});
