import { beforeAll, describe, expect, test } from "vitest";
import { Cluster } from "../components/cluster";
import { serviceAccountTrustPolicy } from "../components/iam";
import { planNodeGroups } from "../model/node-pools";
import { accessEntriesFor, CI_PREVIEW_GROUP, cidrKey } from "../components/cluster/access";
import type { CapturedResource } from "../model/resource";
import { childrenOf, KEY_ADMINISTRATION, named, ofType, startHarness } from "./harness";

const ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
const TAGS = { project: "odoo-fleet", stack: "test", environment: "production" };
const POOLS = [
  { name: "general", instanceTypes: ["m7i.2xlarge"], minPerZone: 1, maxPerZone: 5, diskGiB: 80 },
  { name: "acme", instanceTypes: ["m7i.4xlarge"], minPerZone: 1, maxPerZone: 3, dedicatedTo: "acme" },
];
const CI = {
  deployRoleArn: "arn:aws:iam::123456789012:role/odoo-fleet-ci-deploy-prod",
  previewRoleArn: "arn:aws:iam::123456789012:role/odoo-fleet-ci-preview-prod",
};
const ISSUER = /^https:\/\/oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/[0-9A-F]{17}$/;

let resources: CapturedResource[];
let kubeconfig: string;

beforeAll(async () => {
  const harness = await startHarness();
  const prod = new Cluster("prod", {
    clusterName: "odoo-prod",
    logRetentionDays: 365,
    kubernetesVersion: "1.33",
    subnets: ZONES.map((zone) => ({ zone, subnetId: `subnet-${zone}` })),
    nodePools: POOLS,
    ci: CI,
    runnerCidrs: ["10.250.2.0/24"],
    tags: TAGS,
    keyAdministration: KEY_ADMINISTRATION,
    poolTags: { acme: { tenant: "acme", tier: "critical" } },
  });
  new Cluster("dev", {
    clusterName: "odoo-dev",
    kubernetesVersion: "1.33",
    subnets: ZONES.slice(0, 2).map((zone) => ({ zone, subnetId: `subnet-${zone}` })),
    nodePools: POOLS.slice(0, 1),
    ci: CI,
    endpointPublicAccessCidrs: ["203.0.113.0/24"],
    logRetentionDays: 30,
    deletionProtection: false,
    protect: false,
    tags: TAGS,
    keyAdministration: KEY_ADMINISTRATION,
  });
  kubeconfig = await new Promise((resolve) => prod.kubeconfig.apply(resolve));
  resources = await harness.settle();
});

const EKS = "aws:eks/cluster:Cluster";
const of = (component: string) => childrenOf(resources, named(resources, component, "odoo-fleet:compute:Cluster"));

describe("EKS control plane", () => {
  test("all control-plane logs, KMS secrets encryption, private endpoint only", () => {
    const eks = named(resources, "prod-eks", EKS);
    expect(eks.inputs).toMatchObject({
      name: "odoo-prod",
      version: "1.33",
      enabledClusterLogTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
      encryptionConfig: { resources: ["secrets"], provider: { keyArn: expect.stringMatching(/^arn:aws:kms:eu-west-1:123456789012:key\/prod-secrets-/) } },
      vpcConfig: { endpointPrivateAccess: true, endpointPublicAccess: false, subnetIds: ZONES.map((z) => `subnet-${z}`) },
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
      bootstrapSelfManagedAddons: false,
      deletionProtection: true,
    });
    expect((eks.inputs.vpcConfig as Record<string, unknown>).publicAccessCidrs).toBeUndefined();
  });

  test("a public endpoint exists only limited to the declared CIDRs", () => {
    expect(named(resources, "dev-eks", EKS).inputs.vpcConfig).toEqual({
      endpointPrivateAccess: true,
      endpointPublicAccess: true,
      publicAccessCidrs: ["203.0.113.0/24"],
      subnetIds: ["subnet-eu-west-1a", "subnet-eu-west-1b"],
    });
  });

  test("the secrets key rotates, has a 30-day deletion window and is protected unless told otherwise", () => {
    const key = named(resources, "prod-secrets", "aws:kms/key:Key");
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(key.protect).toBe(true);
    expect(named(resources, "dev-secrets", "aws:kms/key:Key").protect).toBe(false);
  });

  test("the control-plane log group is named for the cluster, with retention, and exists before it", () => {
    const group = named(resources, "prod-control-plane", "aws:cloudwatch/logGroup:LogGroup");
    expect(group.inputs).toMatchObject({ name: "/aws/eks/odoo-prod/cluster", retentionInDays: 365 });
    expect(named(resources, "prod-eks", EKS).dependsOn).toContain(group.urn);
    expect(named(resources, "dev-control-plane", "aws:cloudwatch/logGroup:LogGroup").inputs.retentionInDays).toBe(30);
  });

  test("an OIDC provider for the cluster's issuer, audience sts.amazonaws.com", () => {
    const oidc = named(resources, "prod-oidc", "aws:iam/openIdConnectProvider:OpenIdConnectProvider");
    expect(oidc.inputs.url).toMatch(ISSUER);
    expect(oidc.inputs.clientIdLists).toEqual(["sts.amazonaws.com"]);
  });
});

describe("node groups", () => {
  test("one managed node group per zone per pool, each in its own zone's subnet", () => {
    const groups = ofType(of("prod"), "aws:eks/nodeGroup:NodeGroup");
    expect(groups.map((g) => [g.name, g.inputs.subnetIds]).sort()).toEqual(
      ["acme", "general"].flatMap((pool) => ZONES.map((zone) => [`prod-${pool}-${zone}`, [`subnet-${zone}`]])),
    );
    expect(named(resources, "prod-general-eu-west-1b", "aws:eks/nodeGroup:NodeGroup").inputs).toMatchObject({
      clusterName: "odoo-prod",
      instanceTypes: ["m7i.2xlarge"],
      capacityType: "ON_DEMAND",
      amiType: "AL2023_x86_64_STANDARD",
      scalingConfig: { minSize: 1, maxSize: 5, desiredSize: 1 },
      labels: { "odoo-fleet/pool": "general" },
      taints: [],
      launchTemplate: { id: expect.stringMatching(/^prod-general-/), version: "1" },
    });
    expect(named(resources, "prod-general-eu-west-1b", "aws:eks/nodeGroup:NodeGroup").ignoreChanges).toEqual(["scalingConfig.desiredSize"]);
  });

  test("a dedicated pool is labelled and tainted for its tenant, and tagged with tenant and tier", () => {
    const group = named(resources, "prod-acme-eu-west-1c", "aws:eks/nodeGroup:NodeGroup");
    expect(group.inputs.labels).toEqual({ "odoo-fleet/pool": "acme", "odoo-fleet/dedicated": "acme" });
    expect(group.inputs.taints).toEqual([{ key: "odoo-fleet/dedicated", value: "acme", effect: "NO_SCHEDULE" }]);
    expect(group.inputs.tags).toMatchObject({ tenant: "acme", tier: "critical" });
  });

  test("launch templates require IMDSv2 with one hop and encrypt gp3 root volumes", () => {
    for (const [name, size] of [["prod-general", 80], ["prod-acme", 50]] as const) {
      const template = named(resources, name, "aws:ec2/launchTemplate:LaunchTemplate");
      expect(template.inputs.metadataOptions).toEqual({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 });
      expect(template.inputs.blockDeviceMappings).toEqual([
        { deviceName: "/dev/xvda", ebs: { volumeSize: size, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } },
      ]);
    }
  });

  test("planNodeGroups: pools × zones, stable keys", () => {
    expect(planNodeGroups(POOLS, ["z1", "z2"]).map((g) => g.key)).toEqual(["general-z1", "general-z2", "acme-z1", "acme-z2"]);
  });
});

describe("add-ons and identities", () => {
  test("vpc-cni enforces NetworkPolicies with its own IRSA role; all five add-ons exist", () => {
    const addons = ofType(of("prod"), "aws:eks/addon:Addon");
    expect(addons.map((a) => a.inputs.addonName).sort()).toEqual(["aws-ebs-csi-driver", "aws-efs-csi-driver", "coredns", "kube-proxy", "vpc-cni"]);
    const cni = named(resources, "prod-vpc-cni", "aws:eks/addon:Addon");
    expect(JSON.parse(cni.inputs.configurationValues as string)).toEqual({ enableNetworkPolicy: "true" });
    expect(cni.inputs.serviceAccountRoleArn).toMatch(/^arn:aws:iam::123456789012:role\/prod-vpc-cni-/);
    const trust = JSON.parse(named(resources, "prod-vpc-cni", "aws:iam/role:Role").inputs.assumeRolePolicy as string);
    const condition = trust.Statement[0].Condition.StringEquals as Record<string, string>;
    expect(Object.entries(condition).map(([k, v]) => [k.replace(/^oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/[0-9A-F]+/, "<issuer>"), v])).toEqual([
      ["<issuer>:sub", "system:serviceaccount:kube-system:aws-node"],
      ["<issuer>:aud", "sts.amazonaws.com"],
    ]);
  });

  test("node groups wait for the networking add-ons; coredns waits for the node groups", () => {
    const cni = named(resources, "prod-vpc-cni", "aws:eks/addon:Addon");
    const group = named(resources, "prod-general-eu-west-1a", "aws:eks/nodeGroup:NodeGroup");
    expect(group.dependsOn).toContain(cni.urn);
    expect(named(resources, "prod-coredns", "aws:eks/addon:Addon").dependsOn).toContain(group.urn);
  });

  test("the node role has the worker, registry pull and SSM policies; the CNI policy is not on it", () => {
    const attachments = ofType(of("prod"), "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => a.inputs.policyArn).sort();
    expect(attachments).toEqual([
      "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
      "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
      "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
      "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
      "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy",
    ]);
    const cniAttachment = named(resources, "prod-vpc-cni", "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
    expect(cniAttachment.inputs.role).toMatch(/^prod-vpc-cni-/);
  });

  test("the Kubernetes provider gets a credential-free kubeconfig for the cluster", () => {
    const provider = named(resources, "prod-k8s", "pulumi:providers:kubernetes");
    expect(provider.inputs.kubeconfig).toBe(kubeconfig);
    const parsed = JSON.parse(kubeconfig);
    expect(parsed.clusters[0].cluster.server).toMatch(/^https:\/\/[0-9A-F]{17}\.gr7\.eu-west-1\.eks\.amazonaws\.com$/);
    expect(parsed.users[0].user.exec.args).toEqual(["eks", "get-token", "--cluster-name", "odoo-prod", "--region", "eu-west-1", "--output", "json"]);
    // Only an exec plugin: no token, password or client key is ever stored.
    expect(Object.keys(parsed.users[0].user)).toEqual(["exec"]);
  });

  test("serviceAccountTrustPolicy strips the scheme from the issuer", () => {
    expect(serviceAccountTrustPolicy("arn:aws:iam::1:oidc-provider/x", "https://oidc.example/id/ABC", "ns", "sa").Statement[0]).toEqual({
      Effect: "Allow",
      Principal: { Federated: "arn:aws:iam::1:oidc-provider/x" },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: { StringEquals: { "oidc.example/id/ABC:sub": "system:serviceaccount:ns:sa", "oidc.example/id/ABC:aud": "sts.amazonaws.com" } },
    });
  });
});

describe("CI access", () => {
  test.each([
    ["ci-deploy", CI.deployRoleArn, [], { name: "AmazonEKSClusterAdminPolicy", scope: "cluster" }],
    ["ci-preview", CI.previewRoleArn, [CI_PREVIEW_GROUP], undefined],
  ] as const)("accessEntriesFor: %s is %s with groups %j and policy %j", (key, principalArn, groups, policy) => {
    const entry = accessEntriesFor(CI).find((e) => e.key === key)!;
    expect(entry).toEqual({ key, principalArn, kubernetesGroups: groups, ...(policy ? { policy } : {}) });
  });

  test("accessEntriesFor refuses one role for both: previews run pull-request code", () => {
    expect(() => accessEntriesFor({ deployRoleArn: CI.deployRoleArn, previewRoleArn: CI.deployRoleArn })).toThrow(/must differ/);
  });

  test.each([["10.250.2.0/24", "10-250-2-0-24"], ["192.168.0.0/16", "192-168-0-0-16"]])("cidrKey(%s) = %s", (cidr, key) => {
    expect(cidrKey(cidr)).toBe(key);
  });

  test("every cluster: an access entry per CI role; only the deploy role is cluster admin, cluster-wide", () => {
    for (const cluster of ["prod", "dev"]) {
      const access = childrenOf(resources, named(resources, cluster, "odoo-fleet:compute:ClusterAccess"));
      const entries = ofType(access, "aws:eks/accessEntry:AccessEntry");
      expect(entries.map((e) => [e.name, e.inputs.principalArn, e.inputs.kubernetesGroups, e.inputs.type])).toEqual([
        [`${cluster}-ci-deploy`, CI.deployRoleArn, undefined, "STANDARD"],
        [`${cluster}-ci-preview`, CI.previewRoleArn, [CI_PREVIEW_GROUP], "STANDARD"],
      ]);
      for (const e of entries) expect(e.inputs.clusterName).toBe(`odoo-${cluster}`);
      const associations = ofType(access, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation");
      expect(associations.map((a) => [a.inputs.principalArn, a.inputs.policyArn, a.inputs.accessScope])).toEqual([
        [CI.deployRoleArn, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", { type: "cluster" }],
      ]);
    }
  });

  test("the runners' network reaches the control plane on 443 only where runners are declared", () => {
    const rules = ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    expect(rules.map((r) => [r.name, r.inputs.securityGroupId, r.inputs.cidrIpv4, r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort])).toEqual([
      ["prod-runners-10-250-2-0-24", expect.stringMatching(/^sg-/), "10.250.2.0/24", "tcp", 443, 443],
    ]);
  });

  test("the Kubernetes provider waits for the deploy role's access and the runners' rule", () => {
    const provider = named(resources, "prod-k8s", "pulumi:providers:kubernetes");
    for (const name of ["prod-ci-deploy"]) {
      expect(provider.dependsOn).toContain(named(resources, name, "aws:eks/accessEntry:AccessEntry").urn);
      expect(provider.dependsOn).toContain(named(resources, name, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").urn);
    }
    expect(provider.dependsOn).toContain(named(resources, "prod-runners-10-250-2-0-24", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").urn);
  });
});
