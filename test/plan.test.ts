import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { parse, stringify } from "yaml";
import { listStacks, readProject } from "../plan/capture/project";
import type { CapturedResource } from "../model/resource";
import { addonNodeFindings, clusterAddonModels } from "../plan/analyses/addon-nodes";
import { STATEFUL_TYPES } from "../plan/report/changes";
import { ROOT, runPlanCli, stackPlan } from "./plan-cli";

const stacks = listStacks(readProject(ROOT));
const plans = new Map<string, ReturnType<typeof stackPlan>>();
const planOf = (stack: string) => {
  if (!plans.has(stack)) plans.set(stack, stackPlan(stack));
  return plans.get(stack)!;
};
const ofType = (resources: CapturedResource[], type: string) => resources.filter((r) => r.type === type);

test("the stack folder holds the bootstrap stack, the three reference stacks and the review template", () => {
  expect(stacks).toEqual(["bootstrap", "dedicated-acme-prod", "pr", "shared-dev", "shared-prod"]);
});

const platformStacks = stacks.filter((s) => s !== "pr" && s !== "bootstrap");

describe.each(stacks)("plan of %s", (stack) => {
  test("exits 0 and writes a document that matches plan-format.md", () => {
    const { status, stderr, document } = planOf(stack);
    expect(status, stderr).toBe(0);
    expect(document.project).toBe("odoo-fleet");
    expect(document.stack).toBe(stack);
    expect(document.violations).toEqual([]);
    expect(document.summary.resourceCount).toBe(document.resources.length);
    expect(Object.values(document.summary.byType).reduce((a, b) => a + b, 0)).toBe(document.resources.length);
    const urns = new Set(document.resources.map((r) => r.urn));
    expect(urns.size).toBe(document.resources.length);
    for (const r of document.resources) {
      // The engine's URN: the parent's type chain (without the root stack's), the type, the name.
      const parentType = r.parent?.split("::")[2];
      const chain = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$` : "";
      expect(r.urn).toBe(`urn:pulumi:${stack}::odoo-fleet::${chain}${r.type}::${r.name}`);
      if (r.parent) expect(urns.has(r.parent)).toBe(true);
      for (const dep of r.dependsOn) expect(urns.has(dep)).toBe(true);
    }
  });

});

describe.each(platformStacks)("plan of platform stack %s", (stack) => {
  test("every EKS cluster: an access entry per CI role of the stack, the deploy role alone cluster admin", () => {
    const { document } = planOf(stack);
    const env = stack.endsWith("-prod") ? "prod" : "dev";
    const clusters = ofType(document.resources, "aws:eks/cluster:Cluster");
    expect(clusters.length).toBeGreaterThan(0);
    for (const cluster of clusters) {
      const name = cluster.inputs.name as string;
      const entries = ofType(document.resources, "aws:eks/accessEntry:AccessEntry").filter((e) => e.inputs.clusterName === name);
      expect(entries.map((e) => String(e.inputs.principalArn).split("/").pop()), name).toEqual([`odoo-fleet-ci-deploy-${env}`, `odoo-fleet-ci-preview-${env}`]);
      const admins = ofType(document.resources, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").filter((a) => a.inputs.clusterName === name);
      expect(admins.map((a) => String(a.inputs.principalArn).split("/").pop()), name).toEqual([`odoo-fleet-ci-deploy-${env}`]);
    }
  });

  test("every AWS resource goes through an explicit provider: the DR one exactly for resources named -dr", () => {
    const { document } = planOf(stack);
    const aws = document.resources.filter((r) => r.custom && r.type.startsWith("aws:"));
    expect(aws.length).toBeGreaterThan(100);
    const providers = ofType(document.resources, "pulumi:providers:aws");
    const production = stack !== "shared-dev";
    // Critical tenants' multi-region health checks and their alarms live in us-east-1 (Route 53's metrics do).
    const critical = stack === "dedicated-acme-prod";
    expect(providers.map((p) => [p.name, p.inputs.region])).toEqual(
      production ? [["primary", "eu-west-1"], ["dr", "eu-central-1"], ...(critical ? [["us-east-1", "us-east-1"]] : [])] : [["primary", "eu-west-1"]],
    );
    for (const r of aws) {
      const expected = /-dr(-|$)/.test(r.name) ? "dr" : /-us-east-1$|\.example$/.test(r.name) ? "us-east-1" : "primary";
      expect(r.provider, r.urn).toMatch(new RegExp(`^urn:pulumi:${stack}::odoo-fleet::pulumi:providers:aws::${expected}::`));
    }
  });

  test("every tagged resource carries project, stack and environment", () => {
    const { document } = planOf(stack);
    const tagged = document.resources.filter((r) => r.custom && r.inputs.tags !== undefined);
    expect(tagged.length).toBeGreaterThan(30);
    const environment = stack === "shared-dev" ? "development" : "production";
    for (const r of tagged) expect(r.inputs.tags, r.urn).toMatchObject({ project: "odoo-fleet", stack, environment });
  });

  test("prints the component tree with counts and the total", () => {
    const { stdout, document } = planOf(stack);
    expect(stdout).toContain(`pulumi:pulumi:Stack odoo-fleet-${stack}  (${document.resources.length - 1})`);
    const components = document.resources.filter((r) => !r.custom);
    // A provider-side component (the CRDs' ConfigGroups) has no children offline: no count.
    const hasChildren = (c: CapturedResource) => document.resources.some((r) => r.parent === c.urn);
    for (const c of components.slice(1)) expect(stdout).toMatch(new RegExp(`^[│ ]*[├└]─ ${c.type.replace(/\$/g, "\\$")} ${c.name}${hasChildren(c) ? "  \\(\\d+\\)" : ""}$`, "m"));
    expect(stdout).toMatch(new RegExp(`^${document.resources.length} resources \\(\\d+ custom, ${components.length} components\\) for stack ${stack} in \\d+\\.\\d s$`, "m"));
  });
});

describe("shared-prod, as the foundation issue's done-when states it", () => {
  test("subnets of each kind in 3 distinct zones, 3 NAT gateways, flow logs", () => {
    const { document } = planOf("shared-prod");
    const subnets = ofType(document.resources, "aws:ec2/subnet:Subnet");
    for (const role of ["public", "private", "isolated"]) {
      const zones = subnets.filter((s) => (s.inputs.tags as Record<string, string>)["odoo-fleet/subnet-role"] === role).map((s) => s.inputs.availabilityZone);
      expect(zones.sort()).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    }
    expect(ofType(document.resources, "aws:ec2/natGateway:NatGateway")).toHaveLength(3);
    expect(ofType(document.resources, "aws:ec2/flowLog:FlowLog").map((f) => f.inputs.trafficType)).toEqual(["ALL"]);
  });

  test("an EKS cluster with audit logging, KMS secrets encryption and no public endpoint", () => {
    const [eks, ...others] = ofType(planOf("shared-prod").document.resources, "aws:eks/cluster:Cluster");
    expect(others).toEqual([]);
    expect(eks!.inputs.enabledClusterLogTypes).toContain("audit");
    expect(eks!.inputs.encryptionConfig).toMatchObject({ resources: ["secrets"], provider: { keyArn: expect.stringMatching(/^arn:aws:kms:/) } });
    expect(eks!.inputs.vpcConfig).toMatchObject({ endpointPublicAccess: false, endpointPrivateAccess: true });
  });

  test("node groups in every zone, all launched from templates that require IMDSv2", () => {
    const { document } = planOf("shared-prod");
    const templates = new Map(ofType(document.resources, "aws:ec2/launchTemplate:LaunchTemplate").map((t) => [t.name, t]));
    const groups = ofType(document.resources, "aws:eks/nodeGroup:NodeGroup");
    expect(groups).toHaveLength(6);
    for (const pool of ["system", "general"]) {
      const zonesOfPool = groups.filter((g) => (g.inputs.labels as Record<string, string>)["odoo-fleet/pool"] === pool).map((g) => g.name);
      expect(zonesOfPool.sort()).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"].map((z) => `shared-prod-${pool}-${z}`));
    }
    for (const group of groups) {
      const templateId = (group.inputs.launchTemplate as { id: string }).id;
      const template = [...templates.values()].find((t) => templateId.startsWith(`${t.name}-`));
      expect(template, group.name).toBeDefined();
      expect((template!.inputs.metadataOptions as Record<string, unknown>).httpTokens).toBe("required");
    }
  });
});

const STATEFUL: readonly string[] = STATEFUL_TYPES.filter((t) => t.startsWith("aws:"));

test.each(["shared-prod", "dedicated-acme-prod"])("%s: nothing stateful can be destroyed by a plain pulumi destroy", (stack) => {
  const { document } = planOf(stack);
  const stateful = document.resources.filter((r) => STATEFUL.includes(r.type));
  expect(stateful.length).toBeGreaterThan(10);
  for (const r of stateful) expect(r.protect, r.urn).toBe(true);
  for (const r of ofType(document.resources, "aws:s3/bucket:Bucket")) expect(r.retainOnDelete, r.urn).toBe(true);
  expect(ofType(document.resources, "aws:rds/instance:Instance").every((r) => r.inputs.deletionProtection === true)).toBe(true);
});

test("shared-prod has the data tier its done-when names", () => {
  const { document } = planOf("shared-prod");
  const drProvider = ofType(document.resources, "pulumi:providers:aws").find((p) => p.name === "dr")!;
  const inDr = (r: CapturedResource) => r.provider?.startsWith(`${drProvider.urn}::`) === true;
  const [db] = ofType(document.resources, "aws:rds/instance:Instance");
  expect(db!.inputs).toMatchObject({ multiAz: true, storageEncrypted: true, deletionProtection: true, backupRetentionPeriod: 14 });
  const [replication] = ofType(document.resources, "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication");
  expect(inDr(replication!)).toBe(true);
  expect(drProvider.inputs.region).toBe("eu-central-1");
  expect(ofType(document.resources, "aws:elasticache/replicationGroup:ReplicationGroup")[0]!.inputs).toMatchObject({ automaticFailoverEnabled: true, transitEncryptionEnabled: true });
  expect(ofType(document.resources, "aws:efs/accessPoint:AccessPoint").map((a) => (a.inputs.tags as Record<string, string>).tenant)).toEqual(["northwind", "contoso", "fabrikam", "tailspin"]);
  const buckets = ofType(document.resources, "aws:s3/bucket:Bucket").filter((b) => b.inputs.objectLockEnabled === true);
  expect(buckets.map((b) => [b.name, inDr(b)])).toEqual([["shared-prod-backup", false], ["shared-prod-backup-dr", true]]);
  const rule = (ofType(document.resources, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")[0]!.inputs.rules as Record<string, Record<string, unknown>>[])[0]!;
  expect(rule.destination!.replicationTime).toEqual({ status: "Enabled", time: { minutes: 15 } });
  const locks = ofType(document.resources, "aws:backup/vaultLockConfiguration:VaultLockConfiguration");
  expect(locks.map((l) => [inDr(l), l.inputs.changeableForDays])).toEqual([[false, 3], [true, 3]]);
  // Bounds of the whole catalogue (essential's 30 days to critical's 365), not of today's tenants.
  expect(locks.map((l) => [l.inputs.minRetentionDays, l.inputs.maxRetentionDays])).toEqual([[30, 365], [30, 365]]);
});

test("dedicated-acme-prod adds a cross-region read replica and COMPLIANCE Object Lock", () => {
  const { document } = planOf("dedicated-acme-prod");
  const replicas = ofType(document.resources, "aws:rds/instance:Instance").filter((r) => r.inputs.replicateSourceDb !== undefined);
  expect(replicas.map((r) => r.inputs.identifier)).toEqual(["odoo-dedicated-acme-prod-dr"]);
  // The replica's lag is the critical tier's region-loss RPO: alarmed in its own region.
  const lag = document.resources.find((r) => r.name === "dedicated-acme-prod-replica-lag-dr")!;
  expect(lag.inputs).toMatchObject({ metricName: "ReplicaLag", dimensions: { DBInstanceIdentifier: "odoo-dedicated-acme-prod-dr" }, threshold: 300 });
  expect(lag.provider).toMatch(/::pulumi:providers:aws::dr::/);
  // Synthetic checks "from two regions": Route 53 checkers in three.
  const check = document.resources.find((r) => r.type === "aws:route53/healthCheck:HealthCheck")!;
  expect(check.inputs).toMatchObject({ type: "HTTPS", fqdn: "erp.acme.example", resourcePath: "/web/health", regions: ["eu-west-1", "us-east-1", "ap-southeast-1"] });
  const locks = ofType(document.resources, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration");
  expect(locks.map((l) => l.inputs.rule)).toEqual([
    { defaultRetention: { mode: "COMPLIANCE", days: 365 } },
    { defaultRetention: { mode: "COMPLIANCE", days: 365 } },
  ]);
});

test("shared-dev runs one NAT gateway over two zones", () => {
  const { document } = planOf("shared-dev");
  expect(ofType(document.resources, "aws:ec2/natGateway:NatGateway")).toHaveLength(1);
  expect(ofType(document.resources, "aws:ec2/subnet:Subnet")).toHaveLength(6);
});

test("dedicated-acme-prod taints its tenant's pool in every zone, in both regions, the standby idling at zero", () => {
  const groups = ofType(planOf("dedicated-acme-prod").document.resources, "aws:eks/nodeGroup:NodeGroup").filter((g) => (g.inputs.labels as Record<string, string>)["odoo-fleet/pool"] === "acme");
  expect(groups.map((g) => [g.name, (g.inputs.scalingConfig as { minSize: number }).minSize])).toEqual([
    ["dedicated-acme-prod-acme-eu-west-1a", 1],
    ["dedicated-acme-prod-acme-eu-west-1b", 1],
    ["dedicated-acme-prod-acme-eu-west-1c", 1],
    ["dedicated-acme-prod-dr-acme-eu-central-1a", 0],
    ["dedicated-acme-prod-dr-acme-eu-central-1b", 0],
    ["dedicated-acme-prod-dr-acme-eu-central-1c", 0],
  ]);
  for (const g of groups) {
    expect(g.inputs.taints).toEqual([{ key: "odoo-fleet/dedicated", value: "acme", effect: "NO_SCHEDULE" }]);
    expect(g.inputs.tags).toMatchObject({ tenant: "acme", tier: "critical" });
  }
});

test("dedicated-acme-prod's DR cluster keeps one system node, so its CoreDNS and CSI add-ons can become healthy", () => {
  const resources = planOf("dedicated-acme-prod").document.resources;
  const models = clusterAddonModels(resources);
  expect(models.map((m) => `${m.cluster}: ${m.addons.map((a) => a.name).join(",")}`)).toEqual([
    "odoo-dedicated-acme-prod: kube-proxy,vpc-cni,coredns,aws-ebs-csi-driver,aws-efs-csi-driver",
    "odoo-dedicated-acme-prod-dr: kube-proxy,vpc-cni,coredns,aws-ebs-csi-driver,aws-efs-csi-driver",
  ]);
  expect(models[1]!.nodeGroups.filter((g) => g.minSize > 0).map((g) => `${g.name} ${g.minSize}/${g.desiredSize} ${g.taints.length}`)).toEqual([
    "dedicated-acme-prod-dr-system-eu-central-1a 1/1 0",
  ]);
  expect(addonNodeFindings(models)).toEqual([]);
});

describe.each(platformStacks)("chart CRDs of %s", (stack) => {
  test("Traefik and kube-prometheus-stack skip crds/ and wait for the CRDs applied from their pinned versions", () => {
    const { resources } = planOf(stack).document;
    const groups = ofType(resources, "kubernetes:yaml/v2:ConfigGroup");
    expect(groups.map((g) => g.name)).toEqual([`${stack}-kube-prometheus-stack-crds`, `${stack}-traefik-crds`]);
    for (const [release, group] of [["traefik", "traefik-crds"], ["kube-prometheus-stack", "kube-prometheus-stack-crds"]]) {
      const r = ofType(resources, "kubernetes:helm.sh/v3:Release").find((x) => x.name === `${stack}-${release}`)!;
      expect(r.inputs.skipCrds, release).toBe(true);
      expect(r.dependsOn).toContain(groups.find((g) => g.name === `${stack}-${group}`)!.urn);
    }
    // Every custom resource the program creates of these charts' groups has its CRD in the lists.
    const files = groups.flatMap((g) => (g.inputs.files as string[]).map((f) => f.split("/").pop()!));
    const kinds = new Set(resources.filter((r) => /^kubernetes:(traefik\.io|monitoring\.coreos\.com)\//.test(r.type)).map((r) => r.type.split(":").pop()!));
    expect(kinds.size).toBeGreaterThan(2);
    for (const kind of kinds) expect(files.some((f) => f.endsWith(`_${kind.toLowerCase()}s.yaml`) || f === `crd-${kind.toLowerCase()}s.yaml`), kind).toBe(true);
  });
});

describe.each(platformStacks)("add-ons of %s", (stack) => {
  test("every cluster with add-ons has a node group its add-ons can run on", () => {
    const models = clusterAddonModels(planOf(stack).document.resources);
    expect(models.length).toBeGreaterThan(0);
    for (const m of models) expect(m.addons.length, m.cluster).toBe(5);
    expect(addonNodeFindings(models)).toEqual([]);
  });

  test("every cluster runs Kubernetes 1.35 with the add-on builds the EKS calendar pins for it", () => {
    const { resources } = planOf(stack).document;
    const clusters = ofType(resources, "aws:eks/cluster:Cluster");
    expect(clusters.map((c) => [c.inputs.version, c.inputs.upgradePolicy])).toEqual(clusters.map(() => ["1.35", { supportType: "STANDARD" }]));
    const versions = ofType(resources, "aws:eks/addon:Addon").map((a) => `${a.inputs.addonName}=${a.inputs.addonVersion ?? "default"}`);
    expect(new Set(versions)).toEqual(new Set(["coredns=v1.14.2-eksbuild.4", "kube-proxy=v1.35.3-eksbuild.2", "vpc-cni=default", "aws-ebs-csi-driver=default", "aws-efs-csi-driver=default"]));
  });
});

test("plan without --stack plans shared-dev", () => {
  // The global setup plans the default stack as the quick start does: `npm run plan`, no --stack.
  const result = planOf("shared-dev");
  expect(result.args).not.toContain("--stack");
  expect(result.status).toBe(0);
  expect(result.document.stack).toBe("shared-dev");
});

describe("an invalid stack file: exit 2 naming the file and each key path of each class of problem, nothing registered", () => {
  const prod = () => parse(readFileSync(path.join(ROOT, "stacks", "Pulumi.shared-prod.yaml"), "utf8")) as { config: Record<string, unknown> };
  const tenants = (doc: { config: Record<string, unknown> }) => doc.config["odoo-fleet:tenants"] as Record<string, unknown>[];
  const classes: [string, (doc: { config: Record<string, unknown> }) => void, string][] = [
    ["bad tier", (doc) => void (tenants(doc)[1]!.tier = "platinum"), '  - odoo-fleet:tenants[1].tier: "platinum" is not one of essential, business, critical'],
    ["duplicate tenant", (doc) => void tenants(doc).push({ ...tenants(doc)[0]!, domains: ["x.example.com"] }), "  - odoo-fleet:tenants[4].name: tenant northwind is already declared at odoo-fleet:tenants[0]"],
    ["DR region equal to the primary", (doc) => void (doc.config["odoo-fleet:drRegion"] = "eu-west-1"), "  - odoo-fleet:drRegion: must differ from the primary region (aws:region is eu-west-1); a region loss would take both"],
    ["fewer than 3 zones in production", (doc) => void (doc.config["odoo-fleet:zones"] = ["eu-west-1a", "eu-west-1b"]), "  - odoo-fleet:zones: production stacks need 3 zones or more, got 2"],
    ["malformed image reference", (doc) => void ((tenants(doc)[2]!.odoo as Record<string, string>).image = "odoo:18.0@sha256:abc"), "  - odoo-fleet:tenants[2].odoo.image: must be an image reference pinned by digest (registry/name@sha256:<64 hex>)"],
  ];
  // One stack file with every class at once (a plan is a process of its own): the spec reports all
  // problems together, so each class must still produce its own line. test/spec.test.ts checks each
  // class alone, at the spec. The stack takes its name from the file.
  let file: string;
  let result: ReturnType<typeof runPlanCli>;
  beforeAll(() => {
    const doc = prod();
    for (const [, mutate] of classes) mutate(doc);
    file = path.join(mkdtempSync(path.join(tmpdir(), "odoo-fleet-bad-")), "Pulumi.bad-prod.yaml");
    writeFileSync(file, stringify(doc));
    result = runPlanCli(["--stack-file", file]);
  });

  test("exit 2, nothing on stdout, nothing registered, every problem counted", () => {
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`${file}: invalid stack configuration (${classes.length} problems):\n`);
    expect(result.stderr).toContain("plan: invalid configuration: 0 resources registered besides the root stack");
    expect(result.document.stack).toBe("bad-prod");
    expect(result.document.resources).toEqual([]);
    expect(result.document.summary).toEqual({ resourceCount: 0, byType: {} });
    expect(result.document.errors).toHaveLength(classes.length);
  });

  test.each(classes)("%s", (_, __, line) => {
    expect(result.stderr).toContain(`${line}\n`);
  });
});

describe("the review template pr: tenants only, on the shared-dev cluster", () => {
  test("creates its tenant and access point, reads the host through a StackReference, and nothing of the host", () => {
    const { status, document } = planOf("pr");
    expect(status).toBe(0);
    const reference = document.resources.find((r) => r.type === "pulumi:pulumi:StackReference")!;
    expect(reference).toMatchObject({ read: true, name: "host", inputs: { name: "shared-dev" } });
    const aws = document.resources.filter((r) => r.custom && r.type.startsWith("aws:"));
    expect(aws.map((r) => [r.type, r.name])).toEqual([["aws:efs/accessPoint:AccessPoint", "pr-template-filestore"]]);
    expect(aws[0]!.inputs.rootDirectory).toMatchObject({ path: "/review/pr/pr-template" });
    expect(document.resources.filter((r) => !r.custom).map((r) => r.type)).toEqual(["pulumi:pulumi:Stack", "odoo-fleet:tenants:OdooTenant"]);
    expect(document.violations).toEqual([]);
  });

  test("its Kubernetes provider and manifests use the host's planned outputs", () => {
    const host = planOf("shared-dev").document;
    const { document } = planOf("pr");
    const provider = document.resources.find((r) => r.type === "pulumi:providers:kubernetes")!;
    expect(provider.inputs.kubeconfig).toBe(host.outputs!.kubeconfig);
    const web = document.resources.find((r) => r.name === "pr-template-deployment-odoo-web")!;
    const pod = (web.inputs.spec as { template: { spec: { nodeSelector: unknown; containers: { env: unknown }[] } } }).template.spec;
    expect(pod.nodeSelector).toEqual(host.outputs!.tenantNodeSelector);
    // No cache user on the host's Valkey for a review stack: sessions stay in the filestore.
    expect(pod.containers[0]!.env).toEqual([{ name: "ODOO_SESSION_REDIS", value: "0" }]);
    const dataPolicy = document.resources.find((r) => r.name === "pr-template-networkpolicy-allow-data-stores")!;
    expect((dataPolicy.inputs.spec as { egress: { to: { ipBlock: { cidr: string } }[] }[] }).egress[0]!.to.map((t) => t.ipBlock.cidr)).toEqual(host.outputs!.dataCidrs);
  });
});
