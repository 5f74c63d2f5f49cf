/**
 * Every policy, through the same evaluation path as the plan (plan/evaluation/policy-eval.ts), over real planned
 * stacks: the unmodified plan passes, and one deliberate break fails with the exact message.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import type { CapturedResource } from "../model/resource";
import { evaluatePolicies } from "../plan/evaluation/policy-eval";
import type { PlanDocument } from "../plan/report/document";
import { violationsByTenant } from "../plan/report/summary";
import { ALL_POLICIES } from "../policies/all";
import { tenantOfResource } from "../policies/common";
import { eksVersionFinding } from "../policies/platform-baseline";
import { ROOT, runPlanCli, stackPlan } from "./plan-cli";

let shared: PlanDocument;
let dedicated: PlanDocument;
beforeAll(() => {
  shared = stackPlan("shared-prod").document;
  dedicated = stackPlan("dedicated-acme-prod").document;
  // The EKS calendar policies judge a version on the day of the preview: the cases run on 2026-12-02,
  // the day 1.34 leaves standard support.
  vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-12-02T09:00:00Z") });
});
afterAll(() => void vi.useRealTimers());

type R = CapturedResource & { inputs: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
const find = (resources: R[], name: string, type: string) => {
  const found = resources.find((r) => r.name === name && r.type === type);
  if (!found) throw new Error(`no ${type} ${name}`);
  return found;
};
const webPod = (resources: R[], tenant: string) => find(resources, `${tenant}-deployment-odoo-web`, "kubernetes:apps/v1:Deployment").inputs.spec.template.spec;

async function run(policyName: string, mutate: (resources: R[]) => void = () => undefined, doc: () => PlanDocument = () => shared, config?: Record<string, unknown>) {
  const policy = ALL_POLICIES.find((p) => p.name === policyName);
  if (!policy) throw new Error(`no policy ${policyName}`);
  const resources = structuredClone(doc().resources) as R[];
  mutate(resources);
  const { violations } = await evaluatePolicies([policy], resources.map((resource) => ({ resource })), { tenantOf: tenantOfResource, ...(config ? { config: { [policyName]: config } } : {}) });
  return violations.map((v) => `${v.enforcementLevel}: ${v.message}`);
}

const K = {
  ns: "kubernetes:core/v1:Namespace",
  svc: "kubernetes:core/v1:Service",
  quota: "kubernetes:core/v1:ResourceQuota",
  netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  route: "kubernetes:traefik.io/v1alpha1:IngressRoute",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  cron: "kubernetes:apps/v1:Deployment",
};

/** Policy, the break, the exact messages, the planned stack (shared-prod), the policy's config when broken. */
const cases: [string, (r: R[]) => void, string[], (() => PlanDocument)?, Record<string, unknown>?][] = [
  ["tenant-namespace-restricted", (r) => void (find(r, "northwind-namespace", K.ns).inputs.metadata.labels["pod-security.kubernetes.io/enforce"] = "baseline"), ["mandatory: namespace odoo-northwind does not enforce the restricted profile"]],
  ["no-external-services-in-tenants", (r) => void (find(r, "northwind-service-odoo", K.svc).inputs.spec.type = "NodePort"), ["mandatory: Service odoo in tenant northwind is of type NodePort"]],
  ["no-host-access-in-tenants", (r) => void (webPod(r, "northwind").hostNetwork = true), ["mandatory: Deployment odoo-web of tenant northwind sets hostNetwork"]],
  [
    "no-workload-on-other-tenants-nodes",
    (r) => void webPod(r, "northwind").tolerations.push({ key: "odoo-fleet/dedicated", operator: "Equal", value: "acme", effect: "NoSchedule" }),
    ["mandatory: tenant northwind tolerates nodes dedicated to acme"],
  ],
  [
    "tenant-rbac-in-own-namespace",
    (r) =>
      void r.push({
        ...find(r, "northwind-service-odoo", K.svc),
        urn: "urn:pulumi:shared-prod::odoo-fleet::kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding::leak",
        name: "leak",
        type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
        dependsOn: [],
        inputs: { metadata: { name: "leak" }, roleRef: { kind: "ClusterRole", name: "view" }, subjects: [{ kind: "ServiceAccount", namespace: "odoo-northwind", name: "odoo" }] },
      }),
    ["mandatory: ClusterRoleBinding leak binds ServiceAccount odoo-northwind/odoo outside its namespace"],
  ],
  [
    "tenant-isolation-complete",
    (r) => {
      r.splice(r.indexOf(find(r, "contoso-networkpolicy-default-deny", K.netpol)), 1);
      find(r, "fabrikam-resourcequota-quota", K.quota).inputs.spec.hard["limits.cpu"] = "3";
    },
    ["mandatory: ResourceQuota of odoo-fabrikam allows 3 CPU; the essential tier caps it at 2", "mandatory: namespace odoo-contoso has no default-deny NetworkPolicy for ingress and egress"].sort(),
  ],
  ["critical-only-on-dedicated", (r) => void (find(r, "northwind-namespace", K.ns).inputs.metadata.labels.tier = "critical"), ["mandatory: tenant northwind is critical but this is a shared stack"]],
  [
    "pod-security-restricted",
    (r) => void (find(r, "tailspin-deployment-odoo-cron", K.cron).inputs.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true),
    ["mandatory: Deployment odoo-tailspin/odoo-cron: container odoo must set allowPrivilegeEscalation: false"],
  ],
  ["containers-have-resources", (r) => void delete webPod(r, "contoso").containers[0].resources.limits.memory, ["mandatory: Deployment odoo-contoso/odoo-web: container odoo has no limits.memory"]],
  [
    "images-pinned-by-digest",
    (r) => void (webPod(r, "northwind").containers[0].image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/odoo:18.0"),
    ["mandatory: Deployment odoo-northwind/odoo-web: container odoo image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/odoo:18.0 is not pinned by digest"],
  ],
  ["serving-containers-have-probes", (r) => void delete webPod(r, "fabrikam").containers[0].readinessProbe, ["mandatory: Deployment odoo-fabrikam/odoo-web: container odoo has no readinessProbe"]],
  [
    "rds-data-protection",
    (r) => void (find(r, "shared-prod-postgres", "aws:rds/instance:Instance").inputs.backupRetentionPeriod = 7),
    ["mandatory: RDS odoo-shared-prod keeps 7 days of backups; the business tier needs 14"],
  ],
  ["efs-data-protection", (r) => void (find(r, "shared-prod-filestore", "aws:efs/fileSystem:FileSystem").inputs.encrypted = false), ["mandatory: EFS shared-prod-filestore is not encrypted with a customer KMS key"]],
  [
    "cache-data-protection",
    (r) => void (find(r, "shared-prod-redis", "aws:elasticache/replicationGroup:ReplicationGroup").inputs.transitEncryptionMode = "preferred"),
    ["mandatory: ElastiCache odoo-shared-prod does not require TLS"],
  ],
  [
    "backup-storage-immutable",
    (r) => {
      find(r, "shared-prod-backup", "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").inputs.rule.defaultRetention.days = 30;
      delete find(r, "shared-prod-backup", "aws:backup/vaultLockConfiguration:VaultLockConfiguration").inputs.changeableForDays;
    },
    [
      "mandatory: backup bucket shared-prod-backup locks objects for 30 days; the business tier keeps backups 90",
      "mandatory: backup vault shared-prod-backup is locked in governance mode; production needs compliance mode (changeableForDays >= 3)",
    ],
  ],
  [
    "backup-storage-immutable",
    (r) => void (find(r, "dedicated-acme-prod-backup-dr", "aws:backup/vaultLockConfiguration:VaultLockConfiguration").inputs.minRetentionDays = 365),
    ["mandatory: backup vault dedicated-acme-prod-backup-dr locks retention to 365-365 days; the tier catalogue needs 30-365, or a tenant of another tier could never be backed up there"],
    () => dedicated,
  ],
  [
    "backup-storage-immutable",
    (r) => void (find(r, "dedicated-acme-prod-backup", "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").inputs.rule.defaultRetention.mode = "GOVERNANCE"),
    ["mandatory: backup bucket dedicated-acme-prod-backup locks in GOVERNANCE mode; the critical tier needs COMPLIANCE"],
    () => dedicated,
  ],
  [
    "tier-recovery-contract",
    (r) => void (find(r, "shared-prod-postgres", "aws:rds/instance:Instance").inputs.multiAz = false),
    [
      "mandatory: tenant contoso (business): RTO for zone-lost is 1 h, the tier promises 5 min (via RDS restore in another zone + ElastiCache failover + 2 web replicas in 2 zones)",
      "mandatory: tenant northwind (business): RTO for zone-lost is 1 h, the tier promises 5 min (via RDS restore in another zone + ElastiCache failover + 2 web replicas in 2 zones)",
      "mandatory: tenant tailspin (essential): RTO for zone-lost is 1 h, the tier promises 15 min (via RDS restore in another zone + ElastiCache failover + web pod rescheduled)",
      "mandatory: tenant fabrikam (essential): RTO for zone-lost is 1 h, the tier promises 15 min (via RDS restore in another zone + ElastiCache failover + web pod rescheduled)",
    ],
  ],
  [
    "eks-endpoint-private",
    (r) => Object.assign(find(r, "shared-prod-eks", "aws:eks/cluster:Cluster").inputs.vpcConfig, { endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] }),
    ["mandatory: EKS odoo-shared-prod has a public endpoint in production", "mandatory: EKS odoo-shared-prod public endpoint is open to the internet"],
  ],
  [
    "eks-access-through-entries",
    (r) => {
      Object.assign(find(r, "shared-prod-eks", "aws:eks/cluster:Cluster").inputs.accessConfig, { authenticationMode: "API_AND_CONFIG_MAP", bootstrapClusterCreatorAdminPermissions: true });
      find(r, "shared-prod-ci-deploy", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").inputs.principalArn = "arn:aws:iam::123456789012:role/odoo-fleet-ci-preview-prod";
    },
    [
      "mandatory: EKS odoo-shared-prod authenticates in API_AND_CONFIG_MAP mode, not through access entries only",
      "mandatory: EKS odoo-shared-prod makes whoever creates it cluster admin, outside any access entry",
      "mandatory: access policy association shared-prod-ci-deploy gives the preview role odoo-fleet-ci-preview-prod, which runs pull-request code, AmazonEKSClusterAdminPolicy",
    ],
  ],
  [
    "eks-audit-and-secrets-encryption",
    (r) => void (find(r, "shared-prod-eks", "aws:eks/cluster:Cluster").inputs.enabledClusterLogTypes = ["api", "authenticator"]),
    ["mandatory: EKS odoo-shared-prod does not log audit, controllerManager, scheduler"],
  ],
  [
    "eks-version-in-standard-support",
    (r) => {
      find(r, "dedicated-acme-prod-eks", "aws:eks/cluster:Cluster").inputs.version = "1.34";
      find(r, "dedicated-acme-prod-dr-eks", "aws:eks/cluster:Cluster").inputs.version = "1.36";
    },
    [
      "mandatory: EKS odoo-dedicated-acme-prod runs Kubernetes 1.34, out of standard support since 2026-12-02: under the STANDARD upgrade policy AWS upgrades it behind the stack's back; upgrade to 1.35",
      "mandatory: EKS odoo-dedicated-acme-prod-dr runs Kubernetes 1.36, which the EKS calendar (model/eks-versions.ts) does not list; upgrade to 1.35",
    ],
    () => dedicated,
  ],
  [
    "eks-version-support-ending",
    () => undefined,
    ["advisory: EKS odoo-shared-prod runs Kubernetes 1.35, whose standard support ends on 2027-03-27, in 115 days; add the next EKS version and its add-on builds to model/eks-versions.ts, then upgrade before then"],
    undefined,
    { warnDays: 120 },
  ],
  ["nodes-require-imdsv2", (r) => void (find(r, "shared-prod-general", "aws:ec2/launchTemplate:LaunchTemplate").inputs.metadataOptions.httpTokens = "optional"), ["mandatory: launch template shared-prod-general does not require IMDSv2"]],
  ["kms-keys-rotated", (r) => void (find(r, "shared-prod-secrets", "aws:kms/key:Key").inputs.enableKeyRotation = false), ["mandatory: KMS key shared-prod-secrets does not rotate"]],
  ["subnets-no-public-ips", (r) => void (find(r, "shared-prod-private-eu-west-1a", "aws:ec2/subnet:Subnet").inputs.mapPublicIpOnLaunch = true), ["mandatory: subnet shared-prod-private-eu-west-1a assigns public IPs"]],
  ["vpc-baseline", (r) => void r.splice(r.indexOf(find(r, "shared-prod-flow-log", "aws:ec2/flowLog:FlowLog")), 1), ["mandatory: VPC shared-prod-vpc has no flow log of all traffic"]],
  [
    "tls-everywhere",
    (r) => void (find(r, "shared-prod-postgres", "aws:rds/parameterGroup:ParameterGroup").inputs.parameters.find((p: { name: string }) => p.name === "rds.force_ssl").value = "0"),
    ["mandatory: parameter group shared-prod-postgres does not force TLS"],
  ],
  [
    "connection-budget-fits",
    (r) => void (find(r, "shared-prod-postgres", "aws:rds/parameterGroup:ParameterGroup").inputs.parameters.find((p: { name: string }) => p.name === "max_connections").value = "200"),
    ["mandatory: tenants can open 280 connections at peak (odoo-northwind 114, odoo-contoso 82, odoo-fabrikam 42, odoo-tailspin 42) but max_connections 200 leaves 185: over by 95"],
  ],
  [
    "quotas-fit-capacity",
    (r) => {
      for (const g of r.filter((x) => x.type === "aws:eks/nodeGroup:NodeGroup" && x.inputs.labels["odoo-fleet/pool"] === "general")) Object.assign(g.inputs, { instanceTypes: ["m7i.large"], scalingConfig: { ...g.inputs.scalingConfig, maxSize: 1 } });
    },
    ["mandatory: pool general of odoo-shared-prod: tenant quotas request 7.5 vCPU, the pool offers 5.1 at its maximum size"],
  ],
  [
    "unique-domains",
    (r) => {
      const route = find(r, "contoso-ingressroute-odoo.contoso.example", K.route);
      for (const rule of route.inputs.spec.routes) rule.match = rule.match.replace("odoo.contoso.example", "erp.northwind.example");
    },
    ["mandatory: domain erp.northwind.example is routed to both odoo-contoso and odoo-northwind"],
  ],
  [
    "tier-availability",
    (r) => {
      find(r, "northwind-deployment-odoo-web", K.cron).inputs.spec.replicas = 1;
      r.splice(r.indexOf(find(r, "contoso-poddisruptionbudget-odoo-web", K.pdb)), 1);
    },
    ["mandatory: odoo-contoso has no PodDisruptionBudget with minAvailable 1", "mandatory: odoo-northwind runs 1 web replicas; the business tier promises 2"],
  ],
  [
    "restore-drill-credentials-apart",
    (r) => void delete find(r, "northwind-restore-drill", "kubernetes:batch/v1:CronJob").inputs.spec.jobTemplate.spec.template.metadata.annotations,
    ["mandatory: CronJob odoo-fleet-system/drill-northwind: container registry runs 123456789012.dkr.ecr.eu-west-1.amazonaws.com/odoo:18.0-20261101@sha256:4066cac53a14067b69af0b9decc78fd983f1d992de6e4331c012fd7c84924fe3, not the platform's image, and gets the pod's IAM role token (not named in eks.amazonaws.com/skip-containers)"],
  ],
  ["required-tags", (r) => void delete find(r, "shared-prod-vpc", "aws:ec2/vpc:Vpc").inputs.tags.owner, ["advisory: Vpc shared-prod-vpc lacks tags owner"]],
  [
    "postgres-audit-logging",
    (r) => void find(r, "shared-prod-postgres", "aws:rds/parameterGroup:ParameterGroup").inputs.parameters.push({ name: "log_statement", value: "ddl", applyMethod: "immediate" }),
    ["mandatory: RDS odoo-shared-prod (business tier): parameter group shared-prod-postgres sets log_statement = ddl, which writes role passwords to the log in plain text (pgAudit's role class redacts them)"],
  ],
  [
    "efs-mounts-need-iam-tls-access-point",
    (r) => {
      const policy = find(r, "shared-prod-filestore", "aws:efs/fileSystemPolicy:FileSystemPolicy");
      const doc = JSON.parse(policy.inputs.policy);
      Object.assign(doc.Statement[3], { Principal: { AWS: "*" }, Condition: { Bool: { "elasticfilesystem:AccessedViaMountTarget": "true" } } });
      policy.inputs.policy = JSON.stringify(doc);
    },
    [
      "mandatory: EFS file system policy shared-prod-filestore statement 3 (elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite) admits any principal: mounts need no IAM identity",
      "mandatory: EFS file system policy shared-prod-filestore statement 3 (elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite) admits mounts outside an access point",
    ],
  ],
  ["efs-volumes-mount-with-iam", (r) => void (find(r, "northwind-filestore", "kubernetes:core/v1:PersistentVolume").inputs.spec.mountOptions = ["tls"]), ["mandatory: PersistentVolume odoo-northwind-filestore mounts EFS without iam: the client is anonymous to the file system policy"]],
  [
    "no-nfs-egress-from-tenants",
    (r) => void find(r, "northwind-networkpolicy-allow-data-stores", K.netpol).inputs.spec.egress[0].ports.push({ protocol: "TCP", port: 2049 }),
    ["mandatory: NetworkPolicy allow-data-stores of tenant northwind lets pods reach NFS (TCP 2049) in egress rule 0"],
  ],
  [
    "no-efs-client-grants-in-identity-policies",
    (r) => {
      const policy = find(r, "northwind-backup", "aws:iam/rolePolicy:RolePolicy");
      const doc = JSON.parse(policy.inputs.policy);
      doc.Statement.push({ Effect: "Allow", Action: ["elasticfilesystem:Client*"], Resource: "*" });
      policy.inputs.policy = JSON.stringify(doc);
    },
    ["mandatory: IAM policy northwind-backup grants elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite, elasticfilesystem:ClientRootAccess"],
  ],
  ["tenant-cache-acl", (r) => void (find(r, "shared-prod-redis-northwind", "aws:elasticache/user:User").inputs.accessString += " +scan"), ["mandatory: ElastiCache user northwind of tenant northwind allows SCAN"]],
  [
    "no-secrets-in-container-env",
    (r) => void webPod(r, "northwind").containers[0].env.push({ name: "ODOO_SESSION_REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "odoo-redis", key: "password" } } }),
    ["mandatory: Deployment odoo-northwind/odoo-web: container odoo takes Secret odoo-redis/password in env ODOO_SESSION_REDIS_PASSWORD"],
  ],
  ["odoo-admin-password-hashed", (r) => void (find(r, "northwind-secret-odoo-admin", "kubernetes:core/v1:Secret").inputs.stringData = { hash: "plain-password" }), ["mandatory: Secret odoo-admin of tenant northwind holds admin_passwd in plain text, not as a passlib pbkdf2-sha512 hash"]],
  // Issue 14, keys and trusts (more cases in test/keys.test.ts).
  ["kms-key-policy", (r) => void delete find(r, "shared-prod-redis", "aws:kms/key:Key").inputs.policy, ["mandatory: KMS key shared-prod-redis has no key policy of its own (AWS's default lets every IAM principal of the account with kms:* administer, use and delete it)"]],
  [
    "service-trust-source-account",
    (r) => void (find(r, "shared-prod-backup", "aws:iam/role:Role").inputs.assumeRolePolicy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }] })),
    ["mandatory: role shared-prod-backup trusts backup.amazonaws.com without aws:SourceAccount: another account could have the service act with it"],
  ],
  [
    "production-backups-compliance-lock",
    (r) => void (find(r, "shared-prod-backup", "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").inputs.rule.defaultRetention.mode = "GOVERNANCE"),
    ["mandatory: production backup bucket shared-prod-backup locks in GOVERNANCE mode; production needs COMPLIANCE"],
  ],
  // The edge's policies: more breaks of each in test/edge.test.ts.
  [
    "tenant-database-manager-blocked",
    (r) => void find(r, "northwind-ingressroute-erp.northwind.example", K.route).inputs.spec.routes.shift(),
    ["mandatory: tenant northwind: no route of erp.northwind.example refuses the database manager ahead of its other routes"],
  ],
  [
    "tenant-login-rate-limited",
    (r) => void (find(r, "northwind-middleware-login-rate-limit", "kubernetes:traefik.io/v1alpha1:Middleware").inputs.spec.rateLimit = { average: 100, period: "1m" }),
    [
      "mandatory: tenant northwind: the login route of erp.northwind.example has no per-client rate limit of at most 10 a minute",
      "mandatory: tenant northwind: the login route of northwind.odoo-fleet.example has no per-client rate limit of at most 10 a minute",
    ],
  ],
  [
    "system-namespace-isolated",
    (r) => void (find(r, "shared-prod-monitoring", K.ns).inputs.metadata.labels["pod-security.kubernetes.io/enforce"] = "privileged"),
    ["mandatory: system namespace monitoring enforces privileged without a stated need"],
  ],
  [
    "pushgateway-pushes-bound",
    (r) => void (find(r, "shared-prod-pushgateway", "kubernetes:helm.sh/v3:Release").inputs.values.extraArgs = []),
    ["mandatory: Pushgateway prometheus-pushgateway: the Pushgateway listens on the pod network, where pushes skip the authenticating proxy"],
  ],
];

describe.each(cases)("%s", (name, mutate, expected, doc, config) => {
  test("passes on the planned stack", async () => {
    expect(await run(name, undefined, doc)).toEqual([]);
  });
  test(`fails with the exact message when broken: ${expected[0]!.slice(0, 60)}`, async () => {
    const got = await run(name, mutate, doc, config);
    // The plan registers tenants concurrently: the order of their messages is not part of the contract.
    expect([...got].sort()).toEqual([...expected].sort());
  });
});

describe("eksVersionFinding: what the EKS calendar says of a cluster's version on a given day", () => {
  test.each([
    ["1.35", "2026-12-02T09:00:00Z", undefined],
    ["1.35", "2027-01-26T09:00:00Z", "warn: EKS c runs Kubernetes 1.35, whose standard support ends on 2027-03-27, in 60 days; add the next EKS version and its add-on builds to model/eks-versions.ts, then upgrade before then"],
    ["1.34", "2026-10-03T09:00:00Z", "warn: EKS c runs Kubernetes 1.34, whose standard support ends on 2026-12-02, in 60 days; upgrade to 1.35 before then"],
    ["1.34", "2026-10-02T09:00:00Z", undefined],
    ["1.34", "2026-12-02T00:00:00Z", "fail: EKS c runs Kubernetes 1.34, out of standard support since 2026-12-02: under the STANDARD upgrade policy AWS upgrades it behind the stack's back; upgrade to 1.35"],
    ["1.33", "2026-08-01T09:00:00Z", "fail: EKS c runs Kubernetes 1.33, out of standard support since 2026-07-29: under the STANDARD upgrade policy AWS upgrades it behind the stack's back; upgrade to 1.35"],
    ["1.35", "2027-03-27T09:00:00Z", "fail: EKS c runs Kubernetes 1.35, out of standard support since 2027-03-27: under the STANDARD upgrade policy AWS upgrades it behind the stack's back; add the next EKS version and its add-on builds to model/eks-versions.ts, then upgrade"],
    ["1.28", "2026-12-02T09:00:00Z", "fail: EKS c runs Kubernetes 1.28, which the EKS calendar (model/eks-versions.ts) does not list; upgrade to 1.35"],
  ] as const)("%s on %s", (version, today, expected) => {
    const finding = eksVersionFinding("c", version, new Date(today), 60);
    expect(finding && `${finding.level}: ${finding.message}`).toBe(expected);
  });
});

describe("the pack", () => {
  test("every policy has a test case above", () => {
    expect(new Set(cases.map(([name]) => name))).toEqual(new Set(ALL_POLICIES.map((p) => p.name)));
  });

  test("every policy: unique kebab-case name, a description, an enforcement level, remediation where it can be acted on", () => {
    const names = ALL_POLICIES.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const p of ALL_POLICIES) {
      expect(p.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(p.description.length).toBeGreaterThan(20);
      expect(["mandatory", "advisory"]).toContain(p.enforcementLevel);
    }
    expect(ALL_POLICIES.filter((p) => p.enforcementLevel === "advisory").map((p) => p.name)).toEqual(["eks-version-support-ending", "required-tags"]);
  });

  test("only policies/index.ts constructs the PolicyPack", () => {
    const files = readdirSync(path.join(ROOT, "policies")).filter((f) => f.endsWith(".ts"));
    const constructing = files.filter((f) => /new PolicyPack\(/.test(readFileSync(path.join(ROOT, "policies", f), "utf8")));
    expect(constructing).toEqual(["index.ts"]);
  });

  test("every stack in stacks/ has no violation at all", async () => {
    for (const doc of [shared, dedicated, stackPlan("shared-dev").document]) expect(doc.violations, doc.stack).toEqual([]);
  });

  test("plan exits 1 on a mandatory violation, printing it under its tenant (a stricter registry allow-list)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-policy-config-"));
    const file = path.join(dir, "policy-config.json");
    writeFileSync(file, JSON.stringify({ "images-pinned-by-digest": { allowedRegistries: ["^ghcr\\.io/"] }, "required-tags": { enforcementLevel: "disabled" } }));
    const result = runPlanCli(["--stack", "shared-dev", "--policy-config", file]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("policies: 9 mandatory, 0 advisory violations\n  demo:\n    [mandatory] images-pinned-by-digest: Job odoo-fleet-system/demo-provision-db: container provision image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/fleet-tools:2026.11@sha256:");
    expect(result.stdout).toContain("[mandatory] images-pinned-by-digest: CronJob odoo-fleet-system/drill-demo: container prepare image ");
    expect(result.stdout).toContain("[mandatory] images-pinned-by-digest: CronJob odoo-demo/odoo-backup: container backup image ");
    expect(result.stdout).toMatch(/\[mandatory\] images-pinned-by-digest: Deployment odoo-demo\/odoo-web: container odoo image 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/odoo:18\.0-20261101@sha256:[0-9a-f]{64} is not from an allowed registry\n/);
    expect(result.document.violations.map((v) => [v.policy, v.enforcementLevel])).toEqual(Array(9).fill(["images-pinned-by-digest", "mandatory"]));
  });

  test("violations print grouped by tenant, platform first", () => {
    expect(
      violationsByTenant([
        { policy: "b", enforcementLevel: "advisory", urn: null, message: "m2", tenant: "zeta" },
        { policy: "a", enforcementLevel: "mandatory", urn: null, message: "m1", tenant: null },
        { policy: "c", enforcementLevel: "mandatory", urn: null, message: "m3", tenant: "zeta" },
      ]),
    ).toBe(["policies: 2 mandatory, 1 advisory violations", "  (platform):", "    [mandatory] a: m1", "  zeta:", "    [mandatory] c: m3", "    [advisory] b: m2"].join("\n"));
  });
});
