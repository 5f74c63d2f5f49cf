/**
 * Every IAM role for a service account (IRSA) in every stack's plan, against the AWS calls its
 * workload makes, read from the plan itself: the workload's service account and its role, the ARNs
 * it is configured with (topic ARNs in Alertmanager's config, MASTER_SECRET_ARN, BACKUP_BUCKET and
 * BACKUP_PREFIX in the jobs), and the keys those resources are encrypted with. Each role must allow
 * exactly those calls, on those resources, and nothing broader.
 *
 * The add-ons' roles carry AWS managed policies (AmazonEKS_CNI_Policy, AmazonEBSCSIDriverPolicy,
 * AmazonEFSCSIDriverPolicy, as the EKS user guide prescribes for each add-on); the gp3 StorageClass
 * encrypts with the AWS managed EBS key and the filestores mount over TLS without IAM, so neither
 * driver needs a customer key. cert-manager solves HTTP-01 (no Route 53) and nothing runs
 * external-dns: neither has a role.
 */
import { describe, expect, test } from "vitest";
import type { CapturedResource } from "../model/resource";
import { stackPlan } from "./plan-cli";

import { allows, list, type PolicyDoc, type Request } from "./iam-evaluator";

describe("the evaluator", () => {
  const doc: PolicyDoc = {
    Statement: [
      { Effect: "Allow", Action: ["kms:GenerateDataKey*", "kms:Decrypt"], Resource: "arn:k", Condition: { StringLike: { "kms:ViaService": "sns.*.amazonaws.com" } } },
      { Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::b/tenants/a/*" },
      { Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", Condition: { StringLike: { "s3:prefix": ["tenants/a/*"] } } },
      { Effect: "Deny", Action: "*", Resource: "arn:aws:s3:::b/tenants/a/secret" },
    ],
  };
  test.each<[string, Request, boolean]>([
    ["a wildcard action", { action: "kms:GenerateDataKeyWithoutPlaintext", resource: "arn:k", context: { "kms:ViaService": "sns.eu-west-1.amazonaws.com" } }, true],
    ["actions ignore case", { action: "KMS:decrypt", resource: "arn:k", context: { "kms:ViaService": "sns.eu-west-1.amazonaws.com" } }, true],
    ["a condition not met", { action: "kms:Decrypt", resource: "arn:k", context: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } }, false],
    ["a condition key absent", { action: "kms:Decrypt", resource: "arn:k" }, false],
    ["an object under the prefix", { action: "s3:PutObject", resource: "arn:aws:s3:::b/tenants/a/x/y" }, true],
    ["an object of another prefix", { action: "s3:PutObject", resource: "arn:aws:s3:::b/tenants/ab/x" }, false],
    ["listing its prefix", { action: "s3:ListBucket", resource: "arn:aws:s3:::b", context: { "s3:prefix": "tenants/a/" } }, true],
    ["an explicit deny wins", { action: "s3:PutObject", resource: "arn:aws:s3:::b/tenants/a/secret" }, false],
    ["an action never granted", { action: "s3:DeleteObject", resource: "arn:aws:s3:::b/tenants/a/x" }, false],
  ])("%s", (_, request, expected) => {
    expect(allows(doc, request)).toBe(expected);
  });
});

// ---- the plan's roles and workloads

interface ServiceAccountRole {
  role: CapturedResource;
  subject: string;
  inline: PolicyDoc[];
  managed: string[];
}

type Env = Record<string, string>;
interface Workload {
  kind: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  env: Env;
}

interface Plan {
  resources: CapturedResource[];
  region: string;
  roles: ServiceAccountRole[];
  workloads: Workload[];
  /** The role a namespace's service account is annotated with. */
  roleOf(namespace: string, serviceAccount: string): ServiceAccountRole;
  /** The IRSA role of an ARN, which must trust `subject` (namespace:name). */
  roleByArn(arn: string, subject: string): ServiceAccountRole;
}

const ofType = (resources: readonly CapturedResource[], type: string) => resources.filter((r) => r.type === type);
/** Resources of a component share its logical name; mocks name a role `<logical>-<hash>`. */
const namedFor = (role: CapturedResource, physical: unknown) => physical === role.id || new RegExp(`^${role.name}-[0-9a-f]{7}$`).test(String(physical));
const roleArnNames = (role: CapturedResource, arn: string) => new RegExp(`:role/${role.name}-[0-9a-f]{7}$`).test(arn);

function readPlan(resources: CapturedResource[]): Plan {
  const roles = ofType(resources, "aws:iam/role:Role")
    // Web identities of an EKS cluster's OIDC issuer; GitHub's (the CI roles of the bootstrap stack) are not IRSA.
    .filter((r) => String(r.inputs.assumeRolePolicy).includes("sts:AssumeRoleWithWebIdentity") && /:oidc-provider\/oidc\.eks\./.test(String(r.inputs.assumeRolePolicy)))
    .map((role) => {
      const trust = JSON.parse(String(role.inputs.assumeRolePolicy)) as { Statement: { Condition: { StringEquals: Record<string, string> } }[] };
      const subject = Object.entries(trust.Statement[0]!.Condition.StringEquals).find(([k]) => k.endsWith(":sub"))![1].replace(/^system:serviceaccount:/, "");
      return {
        role,
        subject,
        inline: ofType(resources, "aws:iam/rolePolicy:RolePolicy").filter((p) => namedFor(role, p.inputs.role)).map((p) => JSON.parse(String(p.inputs.policy)) as PolicyDoc),
        managed: ofType(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => namedFor(role, a.inputs.role)).map((a) => String(a.inputs.policyArn)),
      };
    });
  const podSpecs: Workload[] = [
    ...ofType(resources, "kubernetes:batch/v1:Job").map((j) => ({ kind: "Job", r: j, spec: (j.inputs.spec as { template: { spec: PodSpec } }).template.spec })),
    ...ofType(resources, "kubernetes:batch/v1:CronJob").map((j) => ({ kind: "CronJob", r: j, spec: (j.inputs.spec as { jobTemplate: { spec: { template: { spec: PodSpec } } } }).jobTemplate.spec.template.spec })),
  ]
    .filter(({ spec }) => spec.serviceAccountName !== undefined)
    .map(({ kind, r, spec }) => ({
      kind,
      name: r.name,
      namespace: (r.inputs.metadata as { namespace: string }).namespace,
      serviceAccount: spec.serviceAccountName!,
      env: Object.fromEntries([...(spec.initContainers ?? []), ...spec.containers].flatMap((c) => c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!])),
    }));
  const accounts = ofType(resources, "kubernetes:core/v1:ServiceAccount").map((sa) => sa.inputs.metadata as { name: string; namespace: string; annotations?: Record<string, string> });
  return {
    resources,
    // The primary region, as Alertmanager signs its SNS calls for it (every stack here has one).
    region: regionOf(resources),
    roles,
    workloads: podSpecs,
    roleOf(namespace, serviceAccount) {
      const account = accounts.find((a) => a.namespace === namespace && a.name === serviceAccount);
      const arn = account?.annotations?.["eks.amazonaws.com/role-arn"];
      if (!arn) throw new Error(`service account ${namespace}/${serviceAccount} has no IAM role`);
      return this.roleByArn(arn, `${namespace}:${serviceAccount}`);
    },
    roleByArn(arn, subject) {
      const found = roles.filter((r) => roleArnNames(r.role, arn));
      if (found.length !== 1) throw new Error(`${arn} names ${found.length} IRSA roles`);
      // A role that trusts another service account would leave the workload without credentials.
      if (found[0]!.subject !== subject) throw new Error(`${arn} trusts ${found[0]!.subject}, not ${subject}`);
      return found[0]!;
    },
  };
}
function regionOf(resources: readonly CapturedResource[]): string {
  const release = ofType(resources, "kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === "kube-prometheus-stack");
  const receivers = (release?.inputs.values as { alertmanager: { config: { receivers: { sns_configs: { sigv4: { region: string } }[] }[] } } } | undefined)?.alertmanager.config.receivers;
  return receivers?.[0]?.sns_configs[0]?.sigv4.region ?? "none";
}
interface PodSpec {
  serviceAccountName?: string;
  containers: { env?: { name: string; value?: string }[] }[];
  initContainers?: { env?: { name: string; value?: string }[] }[];
}

/** The KMS key the backup bucket named `bucket` encrypts with (bucket ids and names differ in the mocks). */
function bucketKey(plan: Plan, bucket: string): string {
  const resource = ofType(plan.resources, "aws:s3/bucket:Bucket")
    .filter((b) => bucket.startsWith(`${b.name}-`))
    .sort((a, b) => b.name.length - a.name.length)[0]!;
  const sse = ofType(plan.resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").find((c) => c.inputs.bucket === resource.id)!;
  return String((sse.inputs.rules as { applyServerSideEncryptionByDefault: { kmsMasterKeyId: string } }[])[0]!.applyServerSideEncryptionByDefault.kmsMasterKeyId);
}

const allActions = (role: ServiceAccountRole) => [...new Set(role.inline.flatMap((p) => p.Statement.flatMap((s) => list(s.Action))))].sort();
const can = (role: ServiceAccountRole, action: string, resource: string, context?: Record<string, string>) => role.inline.some((p) => allows(p, { action, resource, ...(context ? { context } : {}) }));
const otherKeys = (plan: Plan, except: readonly string[]) =>
  ofType(plan.resources, "aws:kms/key:Key").map((k) => `arn:aws:kms:${plan.region}:123456789012:key/${k.id}`).filter((arn) => !except.includes(arn));

const STACKS = ["shared-dev", "shared-prod", "dedicated-acme-prod", "pr", "bootstrap"] as const;
const ADD_ONS: Record<string, { serviceAccount: string; policy: string }> = {
  "vpc-cni": { serviceAccount: "kube-system:aws-node", policy: "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy" },
  "aws-ebs-csi-driver": { serviceAccount: "kube-system:ebs-csi-controller-sa", policy: "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy" },
  "aws-efs-csi-driver": { serviceAccount: "kube-system:efs-csi-controller-sa", policy: "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy" },
};

// The run's one plan of each stack (test/global-setup.ts), read once per file.
const plans = new Map<string, Plan>();
function plan(stack: string): Plan {
  if (!plans.has(stack)) {
    const result = stackPlan(stack);
    if (result.status !== 0) throw new Error(`plan of ${stack} failed: ${result.stderr}`);
    plans.set(stack, readPlan(result.document.resources));
  }
  return plans.get(stack)!;
}

describe("the IRSA roles of every stack", () => {
  test.each<[string, string[]]>([
    // Three add-ons per cluster, Alertmanager, the provisioner, one backup role and one drill role per tenant.
    ["shared-dev", ["kube-system:aws-node", "kube-system:ebs-csi-controller-sa", "kube-system:efs-csi-controller-sa", "monitoring:kube-prometheus-stack-alertmanager", "odoo-demo:odoo-backup", "odoo-fleet-system:restore-drill-demo", "odoo-fleet-system:tenant-provisioner"]],
    [
      "shared-prod",
      ["kube-system:aws-node", "kube-system:ebs-csi-controller-sa", "kube-system:efs-csi-controller-sa", "monitoring:kube-prometheus-stack-alertmanager", "odoo-contoso:odoo-backup", "odoo-fabrikam:odoo-backup", "odoo-fleet-system:restore-drill-contoso", "odoo-fleet-system:restore-drill-fabrikam", "odoo-fleet-system:restore-drill-northwind", "odoo-fleet-system:restore-drill-tailspin", "odoo-fleet-system:tenant-provisioner", "odoo-northwind:odoo-backup", "odoo-tailspin:odoo-backup"],
    ],
    [
      "dedicated-acme-prod",
      // The DR cluster has its own add-on roles.
      ["kube-system:aws-node", "kube-system:aws-node", "kube-system:ebs-csi-controller-sa", "kube-system:ebs-csi-controller-sa", "kube-system:efs-csi-controller-sa", "kube-system:efs-csi-controller-sa", "monitoring:kube-prometheus-stack-alertmanager", "odoo-acme:odoo-backup", "odoo-fleet-system:restore-drill-acme", "odoo-fleet-system:tenant-provisioner"],
    ],
    ["pr", []],
    // Runners and CI identities only (EC2 instance roles, GitHub OIDC): no cluster, no IRSA.
    ["bootstrap", []],
  ])("%s: one role per service account that calls AWS", (stack, subjects) => {
    expect(plan(stack).roles.map((r) => r.subject).sort()).toEqual(subjects);
  });

  test.each(STACKS)("%s: each role trusts its one service account of its cluster's OIDC issuer, with the STS audience", (stack) => {
    for (const { role, subject } of plan(stack).roles) {
      const trust = JSON.parse(String(role.inputs.assumeRolePolicy)) as { Statement: { Effect: string; Action: string; Principal: { Federated: string }; Condition: Record<string, Record<string, string>> }[] };
      expect(trust.Statement, role.name).toHaveLength(1);
      const [statement] = trust.Statement;
      expect(statement!.Action).toBe("sts:AssumeRoleWithWebIdentity");
      expect(Object.keys(statement!.Condition)).toEqual(["StringEquals"]);
      const issuer = statement!.Principal.Federated.replace(/^arn:aws:iam::123456789012:oidc-provider\//, "");
      expect(statement!.Condition.StringEquals).toEqual({ [`${issuer}:sub`]: `system:serviceaccount:${subject}`, [`${issuer}:aud`]: "sts.amazonaws.com" });
    }
  });

  test.each(STACKS)("%s: no inline statement allows every action or every resource", (stack) => {
    for (const { role, inline } of plan(stack).roles) {
      for (const statement of inline.flatMap((p) => p.Statement)) {
        expect(list(statement.Resource), role.name).not.toContain("*");
        for (const action of list(statement.Action)) expect(action, role.name).not.toMatch(/(^\*$|:\*$)/);
      }
    }
  });
});

describe.each(["shared-dev", "shared-prod", "dedicated-acme-prod"])("%s: each workload's role allows what it calls, and no more", (stack) => {
  test("the add-ons: their AWS managed policy each, nothing inline, and the add-on runs under that role", () => {
    const p = plan(stack);
    const addOns = ofType(p.resources, "aws:eks/addon:Addon").filter((a) => ADD_ONS[String(a.inputs.addonName)]);
    expect(addOns.length).toBe(stack === "dedicated-acme-prod" ? 6 : 3);
    for (const addOn of addOns) {
      const expected = ADD_ONS[String(addOn.inputs.addonName)]!;
      const role = p.roles.find((r) => roleArnNames(r.role, String(addOn.inputs.serviceAccountRoleArn)))!;
      expect([role.subject, role.managed, role.inline]).toEqual([expected.serviceAccount, [expected.policy], []]);
    }
  });

  test("Alertmanager publishes to its topics, encrypting through SNS with their key; no other topic or key", () => {
    const p = plan(stack);
    const release = ofType(p.resources, "kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === "kube-prometheus-stack")!;
    const values = release.inputs.values as { alertmanager: { serviceAccount: { name: string; annotations: Record<string, string> }; config: { receivers: { sns_configs: { topic_arn: string }[] }[] } } };
    // The chart creates this service account, annotated from the values.
    const account = values.alertmanager.serviceAccount;
    const role = p.roleByArn(account.annotations["eks.amazonaws.com/role-arn"]!, `${release.inputs.namespace}:${account.name}`);
    const topicArns = values.alertmanager.config.receivers.flatMap((r) => r.sns_configs.map((c) => c.topic_arn));
    expect(topicArns).toHaveLength(3);
    const topics = topicArns.map((arn) => ofType(p.resources, "aws:sns/topic:Topic").find((t) => new RegExp(`:${t.name}-[0-9a-f]{7}$`).test(arn))!);
    const keys = [...new Set(topics.map((t) => String(t.inputs.kmsMasterKeyId)))];
    expect(keys).toHaveLength(1);
    const viaSns = { "kms:ViaService": `sns.${p.region}.amazonaws.com` };
    for (const arn of topicArns) expect(can(role, "sns:Publish", arn), arn).toBe(true);
    for (const action of ["kms:GenerateDataKey", "kms:Decrypt"]) {
      expect(can(role, action, keys[0]!, viaSns), action).toBe(true);
      // Not the key directly (outside SNS), and no other key of the stack.
      expect(can(role, action, keys[0]!), action).toBe(false);
      for (const other of otherKeys(p, keys)) expect(can(role, action, other, viaSns), other).toBe(false);
    }
    expect(can(role, "sns:Publish", `arn:aws:sns:${p.region}:123456789012:someone-elses-topic`)).toBe(false);
    expect(allActions(role)).toEqual(["kms:Decrypt", "kms:GenerateDataKey*", "sns:Publish"]);
  });

  test("the provisioning Jobs read their shard's master secret, decrypting through Secrets Manager; no more", () => {
    const p = plan(stack);
    const jobs = p.workloads.filter((w) => w.kind === "Job" && w.env.MASTER_SECRET_ARN !== undefined);
    expect(jobs.length).toBeGreaterThan(0);
    const secretKeys = ofType(p.resources, "aws:rds/instance:Instance").filter((i) => i.inputs.masterUserSecretKmsKeyId !== undefined).map((i) => String(i.inputs.masterUserSecretKmsKeyId));
    for (const job of jobs) {
      const role = p.roleOf(job.namespace, job.serviceAccount);
      expect(can(role, "secretsmanager:GetSecretValue", job.env.MASTER_SECRET_ARN!), job.name).toBe(true);
      expect(can(role, "secretsmanager:GetSecretValue", `arn:aws:secretsmanager:${p.region}:123456789012:secret:another`), job.name).toBe(false);
      for (const key of secretKeys) {
        expect(can(role, "kms:Decrypt", key, { "kms:ViaService": `secretsmanager.${p.region}.amazonaws.com` })).toBe(true);
        expect(can(role, "kms:Decrypt", key)).toBe(false);
      }
      for (const other of otherKeys(p, secretKeys)) expect(can(role, "kms:Decrypt", other, { "kms:ViaService": `secretsmanager.${p.region}.amazonaws.com` }), other).toBe(false);
      expect(allActions(role)).toEqual(["kms:Decrypt", "secretsmanager:GetSecretValue"]);
    }
  });

  test("each tenant's backup CronJob writes and tags under its own prefix, encrypting through S3; reads, deletes and neighbours refused", () => {
    const p = plan(stack);
    const backups = p.workloads.filter((w) => w.kind === "CronJob" && w.serviceAccount === "odoo-backup");
    expect(backups.length).toBe(p.roles.filter((r) => r.subject.endsWith(":odoo-backup")).length);
    for (const job of backups) {
      const role = p.roleOf(job.namespace, job.serviceAccount);
      const bucket = `arn:aws:s3:::${job.env.BACKUP_BUCKET}`;
      const object = `${bucket}/${job.env.BACKUP_PREFIX}20261202T010000Z/database.dump`;
      for (const action of ["s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"]) expect(can(role, action, object), `${job.name} ${action}`).toBe(true);
      for (const action of ["s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:BypassGovernanceRetention"]) expect(can(role, action, object), `${job.name} ${action}`).toBe(false);
      expect(can(role, "s3:ListBucket", bucket, { "s3:prefix": job.env.BACKUP_PREFIX! })).toBe(false);
      expect(can(role, "s3:PutObject", `${bucket}/tenants/someone-else/20261202T010000Z/database.dump`)).toBe(false);
      const key = bucketKey(p, job.env.BACKUP_BUCKET!);
      const viaS3 = { "kms:ViaService": `s3.${p.region}.amazonaws.com` };
      for (const action of ["kms:GenerateDataKey", "kms:Decrypt"]) {
        expect(can(role, action, key, viaS3), action).toBe(true);
        expect(can(role, action, key), action).toBe(false);
      }
      for (const other of otherKeys(p, [key])) expect(can(role, "kms:GenerateDataKey", other, viaS3), other).toBe(false);
      expect(allActions(role)).toEqual(["kms:Decrypt", "kms:GenerateDataKey", "s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectTagging"]);
    }
  });

  test("each restore drill lists and reads its own tenant's backups and its shard's master secret, no other tenant's; it writes and deletes nothing", () => {
    const p = plan(stack);
    const drills = p.workloads.filter((w) => w.kind === "CronJob" && w.serviceAccount.startsWith("restore-drill-"));
    expect(drills.length).toBe(backupsIn(p));
    for (const drill of drills) {
      const role = p.roleOf(drill.namespace, drill.serviceAccount);
      const bucket = `arn:aws:s3:::${drill.env.BACKUP_BUCKET}`;
      const object = `${bucket}/${drill.env.BACKUP_PREFIX}20261202T010000Z/database.dump`;
      expect(can(role, "s3:ListBucket", bucket, { "s3:prefix": drill.env.BACKUP_PREFIX! }), drill.name).toBe(true);
      expect(can(role, "s3:ListBucket", bucket, { "s3:prefix": "" }), drill.name).toBe(false);
      expect(can(role, "s3:GetObject", object), drill.name).toBe(true);
      // Another tenant's backups: neither listed nor read.
      expect(can(role, "s3:ListBucket", bucket, { "s3:prefix": "tenants/zz-other/" }), drill.name).toBe(false);
      expect(can(role, "s3:GetObject", `${bucket}/tenants/zz-other/20261202T010000Z/database.dump`), drill.name).toBe(false);
      for (const action of ["s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"]) expect(can(role, action, object), `${drill.name} ${action}`).toBe(false);
      expect(can(role, "secretsmanager:GetSecretValue", drill.env.MASTER_SECRET_ARN!)).toBe(true);
      const key = bucketKey(p, drill.env.BACKUP_BUCKET!);
      expect(can(role, "kms:Decrypt", key, { "kms:ViaService": `s3.${p.region}.amazonaws.com` })).toBe(true);
      expect(can(role, "kms:Decrypt", key)).toBe(false);
      expect(can(role, "kms:GenerateDataKey", key, { "kms:ViaService": `s3.${p.region}.amazonaws.com` })).toBe(false);
      expect(allActions(role)).toEqual(["kms:Decrypt", "s3:GetObject", "s3:ListBucket", "secretsmanager:GetSecretValue"]);
    }
  });
});

const backupsIn = (p: Plan) => p.workloads.filter((w) => w.kind === "CronJob" && w.serviceAccount === "odoo-backup").length;
