/**
 * Physical names of a planned stack, checked against the cloud that will receive them: every name a
 * resource claims where AWS or Kubernetes needs it unique (within its scope: a region of an account, an
 * account, the world, a cluster), any two resources claiming the same one, and any name that breaks the
 * API's own naming rule. Pure: it reads captured resources, nothing else.
 *
 * Names Pulumi generates (no explicit name input) are unique by construction, a random suffix after the
 * logical name, so they never collide; they are still checked against the naming rule at the length
 * they will have. The offline mocks (plan/capture/mocks.ts) invent such names as outputs, but the capture holds
 * inputs only, so an absent input here is exactly an autonamed resource.
 */
import { parse as parseYaml } from "yaml";
import { providerUrnOf } from "../capture/capture";
import type { CapturedResource } from "../../model/resource";

/** Where a name must be unique. */
export type NameScope = "region" | "account" | "global" | "cluster";

/** An API's rule for a name: length, characters, and any further shape it requires. */
export interface NamingRule {
  min: number;
  max: number;
  /** The whole name must match. */
  pattern: RegExp;
  /** The pattern in words, for messages. */
  allowed: string;
  /** Further constraints: each returns a problem, or undefined. */
  also?: readonly ((name: string) => string | undefined)[];
  /** Where the rule is written (API reference). */
  source: string;
}

/**
 * How Pulumi names a resource whose name input is absent: the logical name, a separator and random
 * characters. The AWS provider (Terraform bridge) appends `-` and 7 hex characters (`AutoName`, and
 * lower-cases S3 buckets and ElastiCache replication groups); the Kubernetes provider `-` and 8
 * (`AssignNameIfAutonamable`). Sources: pulumi/pulumi-terraform-bridge pkg/tfbridge/names.go,
 * pulumi/pulumi-aws provider/resources.go, pulumi/pulumi-kubernetes provider/pkg/metadata/naming.go.
 */
export interface Autoname {
  random: number;
  lower?: boolean;
  prefix?: string;
}
const AWS_AUTONAME: Autoname = { random: 7 };
const K8S_AUTONAME: Autoname = { random: 8 };

/** A kind of AWS name: which input holds it, where it must be unique, and its rule. */
export interface AwsNameKind {
  label: string;
  scope: Exclude<NameScope, "cluster">;
  /** The input holding the physical name. */
  field: string;
  /** Unique only within the value of this input (node groups per cluster, inline policies per role). */
  within?: string;
  /** The API stores the name in lower case (or compares it so): two names differing in case collide. */
  caseInsensitive?: boolean;
  /** Absent: the input is required (never autonamed). */
  autoname?: Autoname;
  rule?: NamingRule;
}

// Shapes used by several APIs.
const noDoubleOrTrailingHyphen = [
  (n: string) => (n.includes("--") ? "has two consecutive hyphens" : undefined),
  (n: string) => (n.endsWith("-") ? "ends with a hyphen" : undefined),
];
const RDS_IDENTIFIER = /^[A-Za-z][A-Za-z0-9-]*$/;
const IAM_NAME = /^[\w+=,.@-]+$/;
const EKS_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]*$/;

/** Why an S3 bucket name is refused besides length and characters (S3 bucket naming rules). */
const s3Shape = [
  (n: string) => (n.includes("..") ? "has two adjacent periods" : undefined),
  (n: string) => (/^\d+\.\d+\.\d+\.\d+$/.test(n) ? "is formatted as an IP address" : undefined),
  (n: string) => (/^(xn--|sthree-|amzn-s3-demo-)/.test(n) ? "starts with a reserved prefix (xn--, sthree-, amzn-s3-demo-)" : undefined),
  (n: string) => (/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(n) ? "ends with a reserved suffix" : undefined),
];

/**
 * AWS resource types whose names must be unique, by Pulumi type token, with the API's naming rule.
 * Lengths and characters are those of each API reference (linked); autonaming as the provider does it.
 */
export const AWS_NAME_KINDS: Readonly<Record<string, AwsNameKind>> = {
  "aws:kms/alias:Alias": {
    label: "KMS alias",
    scope: "region",
    field: "name",
    autoname: { random: 7, prefix: "alias/" },
    rule: {
      min: 7,
      max: 256,
      pattern: /^alias\/[a-zA-Z0-9/_-]+$/,
      allowed: "alias/ then letters, digits, / _ -",
      also: [(n) => (n.startsWith("alias/aws/") ? "starts with alias/aws/, reserved for AWS managed keys" : undefined)],
      source: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
    },
  },
  "aws:cloudwatch/logGroup:LogGroup": {
    label: "CloudWatch log group",
    scope: "region",
    field: "name",
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 512, pattern: /^[.\-_/#A-Za-z0-9]+$/, allowed: "letters, digits, . - _ / #", source: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html" },
  },
  "aws:cloudwatch/logMetricFilter:LogMetricFilter": {
    label: "CloudWatch metric filter",
    scope: "region",
    field: "name",
    within: "logGroupName",
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 512, pattern: /^[^:*]+$/, allowed: "any characters but : and *", source: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html" },
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": {
    label: "CloudWatch alarm",
    scope: "region",
    field: "name",
    autoname: AWS_AUTONAME,
    // eslint-disable-next-line no-control-regex
    rule: { min: 1, max: 255, pattern: /^[^\x00-\x1f\x7f]+$/, allowed: "no control characters", source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html" },
  },
  "aws:cloudwatch/eventRule:EventRule": {
    label: "EventBridge rule",
    scope: "region",
    field: "name",
    within: "eventBusName",
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 64, pattern: /^[.\-_A-Za-z0-9]+$/, allowed: "letters, digits, . - _", source: "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html" },
  },
  "aws:backup/vault:Vault": {
    label: "AWS Backup vault",
    scope: "region",
    field: "name",
    autoname: AWS_AUTONAME,
    rule: { min: 2, max: 50, pattern: /^[a-zA-Z0-9\-_]+$/, allowed: "letters, digits, - _", source: "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupVault.html" },
  },
  "aws:backup/plan:Plan": {
    label: "AWS Backup plan",
    scope: "region",
    field: "name",
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 200, pattern: /^[a-zA-Z0-9\-_.]+$/, allowed: "letters, digits, - _ .", source: "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupPlan.html" },
  },
  "aws:backup/selection:Selection": {
    label: "AWS Backup selection",
    scope: "region",
    field: "name",
    within: "planId",
    rule: { min: 1, max: 50, pattern: /^[a-zA-Z0-9\-_.]+$/, allowed: "letters, digits, - _ .", source: "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupSelection.html" },
  },
  "aws:rds/instance:Instance": {
    label: "RDS DB instance identifier",
    scope: "region",
    field: "identifier",
    caseInsensitive: true,
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 63, pattern: RDS_IDENTIFIER, allowed: "a letter, then letters, digits, hyphens", also: noDoubleOrTrailingHyphen, source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html" },
  },
  "aws:rds/cluster:Cluster": {
    label: "RDS DB cluster identifier",
    scope: "region",
    field: "clusterIdentifier",
    caseInsensitive: true,
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 63, pattern: RDS_IDENTIFIER, allowed: "a letter, then letters, digits, hyphens", also: noDoubleOrTrailingHyphen, source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html" },
  },
  "aws:rds/parameterGroup:ParameterGroup": {
    label: "RDS DB parameter group",
    scope: "region",
    field: "name",
    caseInsensitive: true,
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 255, pattern: RDS_IDENTIFIER, allowed: "a letter, then letters, digits, hyphens", also: noDoubleOrTrailingHyphen, source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBParameterGroup.html" },
  },
  "aws:rds/subnetGroup:SubnetGroup": {
    label: "RDS DB subnet group",
    scope: "region",
    field: "name",
    caseInsensitive: true,
    autoname: AWS_AUTONAME,
    rule: {
      min: 1,
      max: 255,
      pattern: /^[a-zA-Z0-9 ._-]+$/,
      allowed: "letters, digits, spaces, . _ -",
      also: [(n) => (n.toLowerCase() === "default" ? "is default, which RDS reserves" : undefined)],
      source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html",
    },
  },
  "aws:elasticache/replicationGroup:ReplicationGroup": {
    label: "ElastiCache replication group id",
    scope: "region",
    field: "replicationGroupId",
    caseInsensitive: true,
    autoname: { random: 7, lower: true },
    rule: { min: 1, max: 40, pattern: RDS_IDENTIFIER, allowed: "a letter, then letters, digits, hyphens", also: noDoubleOrTrailingHyphen, source: "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html" },
  },
  "aws:elasticache/user:User": {
    label: "ElastiCache user id",
    scope: "region",
    field: "userId",
    caseInsensitive: true,
    rule: { min: 1, max: Number.POSITIVE_INFINITY, pattern: /^[a-zA-Z][a-zA-Z0-9-]*$/, allowed: "a letter, then letters, digits, hyphens", source: "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateUser.html" },
  },
  "aws:elasticache/userGroup:UserGroup": {
    label: "ElastiCache user group id",
    scope: "region",
    field: "userGroupId",
    caseInsensitive: true,
    rule: { min: 1, max: Number.POSITIVE_INFINITY, pattern: /^[a-zA-Z][a-zA-Z0-9-]*$/, allowed: "a letter, then letters, digits, hyphens", source: "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateUserGroup.html" },
  },
  "aws:elasticache/parameterGroup:ParameterGroup": {
    label: "ElastiCache parameter group",
    scope: "region",
    field: "name",
    caseInsensitive: true,
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 255, pattern: /^[A-Za-z0-9-]+$/, allowed: "letters, digits, hyphens", source: "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheParameterGroup.html" },
  },
  "aws:elasticache/subnetGroup:SubnetGroup": {
    label: "ElastiCache subnet group",
    scope: "region",
    field: "name",
    caseInsensitive: true,
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 255, pattern: /^[A-Za-z0-9-]+$/, allowed: "letters, digits, hyphens", source: "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheSubnetGroup.html" },
  },
  "aws:eks/cluster:Cluster": {
    label: "EKS cluster",
    scope: "region",
    field: "name",
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 100, pattern: EKS_NAME, allowed: "a letter or digit, then letters, digits, - _", source: "https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html" },
  },
  "aws:eks/nodeGroup:NodeGroup": {
    label: "EKS node group",
    scope: "region",
    field: "nodeGroupName",
    within: "clusterName",
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 63, pattern: EKS_NAME, allowed: "a letter or digit, then letters, digits, - _", source: "https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html" },
  },
  // One add-on of a name, and one access entry of a principal, per cluster.
  "aws:eks/addon:Addon": { label: "EKS add-on", scope: "region", field: "addonName", within: "clusterName" },
  "aws:eks/accessEntry:AccessEntry": { label: "EKS access entry", scope: "region", field: "principalArn", within: "clusterName" },
  "aws:eks/podIdentityAssociation:PodIdentityAssociation": { label: "EKS pod identity association", scope: "region", field: "serviceAccount", within: "clusterName" },
  "aws:sns/topic:Topic": {
    label: "SNS topic",
    scope: "region",
    field: "name",
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 256, pattern: /^[A-Za-z0-9_-]+(\.fifo)?$/, allowed: "letters, digits, - _ (and .fifo at the end of a FIFO topic)", source: "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html" },
  },
  "aws:secretsmanager/secret:Secret": {
    label: "Secrets Manager secret",
    scope: "region",
    field: "name",
    autoname: AWS_AUTONAME,
    rule: {
      min: 1,
      max: 512,
      pattern: /^[A-Za-z0-9/_+=.@-]+$/,
      allowed: "letters, digits, / _ + = . @ -",
      source: "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
    },
  },
  "aws:iam/role:Role": {
    label: "IAM role",
    scope: "account",
    field: "name",
    caseInsensitive: true,
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 64, pattern: IAM_NAME, allowed: "letters, digits, _ + = , . @ -", source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html" },
  },
  "aws:iam/rolePolicy:RolePolicy": {
    label: "IAM inline role policy",
    scope: "account",
    field: "name",
    within: "role",
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 128, pattern: IAM_NAME, allowed: "letters, digits, _ + = , . @ -", source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html" },
  },
  "aws:iam/policy:Policy": {
    label: "IAM policy",
    scope: "account",
    field: "name",
    caseInsensitive: true,
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 128, pattern: IAM_NAME, allowed: "letters, digits, _ + = , . @ -", source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html" },
  },
  "aws:iam/instanceProfile:InstanceProfile": {
    label: "IAM instance profile",
    scope: "account",
    field: "name",
    caseInsensitive: true,
    autoname: AWS_AUTONAME,
    rule: { min: 1, max: 128, pattern: IAM_NAME, allowed: "letters, digits, _ + = , . @ -", source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateInstanceProfile.html" },
  },
  // An account has one OIDC provider per issuer URL.
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": { label: "IAM OIDC provider", scope: "account", field: "url" },
  "aws:s3/bucket:Bucket": {
    label: "S3 bucket",
    scope: "global",
    field: "bucket",
    autoname: { random: 7, lower: true },
    rule: { min: 3, max: 63, pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, allowed: "lower-case letters, digits, . -, starting and ending with a letter or digit", also: s3Shape, source: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html" },
  },
};

const K8S_NAMES = "https://kubernetes.io/docs/concepts/overview/working-with-objects/names/";
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const K8S_RULES = {
  subdomain: { min: 1, max: 253, pattern: DNS1123_SUBDOMAIN, allowed: "a DNS-1123 subdomain: lower-case letters, digits, - and .", source: K8S_NAMES },
  label: { min: 1, max: 63, pattern: DNS1123_LABEL, allowed: "a DNS-1123 label: lower-case letters, digits, -", source: K8S_NAMES },
  rfc1035: { min: 1, max: 63, pattern: /^[a-z]([-a-z0-9]*[a-z0-9])?$/, allowed: "an RFC 1035 label: a lower-case letter, then lower-case letters, digits, -", source: K8S_NAMES },
  // The CronJob controller appends 11 characters to name its Jobs.
  cronJob: { min: 1, max: 52, pattern: DNS1123_SUBDOMAIN, allowed: "a DNS-1123 subdomain", source: "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#writing-a-cronjob-spec" },
  // Helm 3 refuses longer release names (they become label values and object names).
  helmRelease: { min: 1, max: 53, pattern: DNS1123_SUBDOMAIN, allowed: "lower-case letters, digits, - and .", source: "https://github.com/helm/helm/blob/v3.17.0/pkg/chartutil/validate_name.go" },
} satisfies Record<string, NamingRule>;

/** Kubernetes kinds (by `group/Kind`) with a rule stricter than a DNS-1123 subdomain. */
const K8S_KIND_RULES: Readonly<Record<string, NamingRule>> = {
  "core/Namespace": K8S_RULES.label,
  "core/Service": K8S_RULES.rfc1035,
  "batch/CronJob": K8S_RULES.cronJob,
  // The Job controller labels its pods job-name=<name>: a label value is at most 63 characters.
  "batch/Job": { ...K8S_RULES.label, source: "https://kubernetes.io/docs/concepts/workloads/controllers/job/#writing-a-job-spec" },
  "apps/StatefulSet": { ...K8S_RULES.label, source: "https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#pod-identity" },
};

/** Kinds that are not namespaced (by `group/Kind`). */
const CLUSTER_SCOPED = new Set([
  "core/Namespace",
  "core/PersistentVolume",
  "core/Node",
  "storage.k8s.io/StorageClass",
  "storage.k8s.io/CSIDriver",
  "storage.k8s.io/VolumeAttachment",
  "scheduling.k8s.io/PriorityClass",
  "rbac.authorization.k8s.io/ClusterRole",
  "rbac.authorization.k8s.io/ClusterRoleBinding",
  "apiextensions.k8s.io/CustomResourceDefinition",
  "admissionregistration.k8s.io/MutatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingAdmissionPolicy",
  "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding",
  "apiregistration.k8s.io/APIService",
  "networking.k8s.io/IngressClass",
  "node.k8s.io/RuntimeClass",
  "policy/PodSecurityPolicy",
  "cert-manager.io/ClusterIssuer",
  "snapshot.storage.k8s.io/VolumeSnapshotClass",
]);

const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

/** One name a planned resource claims. */
export interface NameClaim {
  urn: string;
  type: string;
  /** What the name is, in words ("IAM role", "Kubernetes core/Namespace"). */
  label: string;
  /** The scope in words: `aws account <a> region <r>`, `aws account <a>`, `aws (global)`, `cluster <server>`. */
  where: string;
  /** Names are equal within this key (scope, kind, and any `within` value, e.g. the namespace). */
  key: string;
  /** The physical name; for an autonamed resource, its logical name with zeros for the random part. */
  name: string;
  autonamed: boolean;
  rule?: NamingRule;
}

export interface NameCollision {
  label: string;
  where: string;
  name: string;
  /** Every resource claiming it, in plan order: at least two. */
  urns: string[];
}

export interface NamingRuleBreak {
  urn: string;
  label: string;
  name: string;
  autonamed: boolean;
  problems: string[];
  source: string;
}

export interface NamesAnalysis {
  claims: NameClaim[];
  collisions: NameCollision[];
  ruleBreaks: NamingRuleBreak[];
  duplicateUrns: string[];
  createdByService: ServiceCreatedName[];
}

/** The name Pulumi will generate, with zeros standing in for the random characters (valid everywhere). */
export function autonamed(logicalName: string, how: Autoname): string {
  const base = how.lower ? logicalName.toLowerCase() : logicalName;
  return `${how.prefix ?? ""}${base}-${"0".repeat(how.random)}`;
}

/** What is wrong with a name under a rule: nothing when it is accepted. */
export function ruleProblems(name: string, rule: NamingRule): string[] {
  const problems: string[] = [];
  if (name.length < rule.min) problems.push(`is ${name.length} characters, fewer than ${rule.min}`);
  if (name.length > rule.max) problems.push(`is ${name.length} characters, more than ${rule.max}`);
  if (!rule.pattern.test(name)) problems.push(`is not ${rule.allowed}`);
  for (const check of rule.also ?? []) {
    const problem = check(name);
    if (problem) problems.push(problem);
  }
  return problems;
}

/** Plain string values only: an unknown or secret name is decided at deployment, not here. */
function known(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" && value !== "[unknown]" && value !== "[secret]" ? value : undefined;
}

/** The account of an AWS provider: the one its assumed role lives in, else the deploying credentials'. */
function awsAccount(provider: CapturedResource | undefined): string {
  const roles = provider?.inputs.assumeRoles ?? provider?.inputs.assumeRole;
  const first = Array.isArray(roles) ? roles[0] : roles;
  const arn = known((first as { roleArn?: unknown } | undefined)?.roleArn);
  return (arn && /^arn:[^:]+:iam::(\d{12}):/.exec(arn)?.[1]) ?? "(deploying credentials)";
}

/**
 * The cluster a Kubernetes provider talks to: the API server of its kubeconfig's (current) context, so
 * two stacks that reach one cluster (a review stack through its host's kubeconfig) agree on it; the
 * provider itself when the kubeconfig is not known offline.
 */
export function clusterOf(provider: CapturedResource | undefined): string {
  if (!provider) return "(ambient kubeconfig)";
  const text = known(provider.inputs.kubeconfig);
  if (text) {
    try {
      const config = parseYaml(text) as {
        "current-context"?: string;
        contexts?: { name: string; context?: { cluster?: string } }[];
        clusters?: { name: string; cluster?: { server?: string } }[];
      };
      const contextName = known(provider.inputs.context) ?? config["current-context"];
      const clusterName = config.contexts?.find((c) => c.name === contextName)?.context?.cluster ?? known(provider.inputs.cluster);
      const cluster = config.clusters?.find((c) => c.name === clusterName) ?? (config.clusters?.length === 1 ? config.clusters[0] : undefined);
      const server = known(cluster?.cluster?.server);
      if (server) return server;
    } catch {
      // Not a kubeconfig we can read: fall back to the provider.
    }
  }
  return provider.urn;
}

/** `kubernetes:apps/v1:Deployment` → `apps/Deployment` (the core group is `core`); undefined for non-objects. */
export function kubernetesKind(type: string): string | undefined {
  const match = /^kubernetes:([^:]+)\/[^/:]+:([A-Za-z0-9]+)$/.exec(type);
  if (!match || type === HELM_RELEASE) return undefined;
  const [, group, kind] = match;
  // Patches change objects declared elsewhere; lists hold several.
  if (kind!.endsWith("Patch") || kind!.endsWith("List")) return undefined;
  return `${group}/${kind}`;
}

export interface NamesContext {
  /** `aws:region` of the stack: the region of resources on the default AWS provider. */
  defaultRegion: string;
}

/** Every name the planned resources claim where the cloud needs it unique. */
export function nameClaims(resources: readonly CapturedResource[], context: NamesContext): NameClaim[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const providerOf = (r: CapturedResource) => {
    const urn = providerUrnOf(r.provider);
    return urn ? byUrn.get(urn) : undefined;
  };
  // A fleet has thousands of Kubernetes objects on a few providers: read each kubeconfig once.
  const clusters = new Map<string, { cluster: string; namespace: string }>();
  const clusterFor = (provider: CapturedResource | undefined) => {
    const key = provider?.urn ?? "";
    let found = clusters.get(key);
    if (!found) {
      found = { cluster: clusterOf(provider), namespace: known(provider?.inputs.namespace) ?? "default" };
      clusters.set(key, found);
    }
    return found;
  };
  const claims: NameClaim[] = [];
  for (const r of resources) {
    if (!r.custom || r.read) continue;
    const claim = r.type.startsWith("aws:") ? awsClaim(r, providerOf(r), context) : r.type.startsWith("kubernetes:") ? kubernetesClaim(r, clusterFor(providerOf(r))) : undefined;
    if (claim) claims.push(claim);
  }
  return claims;
}

function awsClaim(r: CapturedResource, provider: CapturedResource | undefined, context: NamesContext): NameClaim | undefined {
  const kind = AWS_NAME_KINDS[r.type];
  if (!kind) return undefined;
  const explicit = r.inputs[kind.field];
  if (explicit !== undefined && !known(explicit)) return undefined;
  const name = known(explicit) ?? (kind.autoname ? autonamed(r.name, kind.autoname) : undefined);
  if (name === undefined) return undefined;
  // aws v7 takes a region per resource; otherwise the provider's, otherwise the stack's.
  const region = known(r.inputs.region) ?? known(provider?.inputs.region) ?? context.defaultRegion;
  const account = awsAccount(provider);
  const where = kind.scope === "global" ? "aws (global)" : kind.scope === "account" ? `aws account ${account}` : `aws account ${account} region ${region}`;
  const within = kind.within ? ` ${kind.within}=${String(r.inputs[kind.within] ?? "")}` : "";
  const keyName = kind.caseInsensitive ? name.toLowerCase() : name;
  return {
    urn: r.urn,
    type: r.type,
    label: kind.label,
    where: `${where}${within}`,
    key: `${where}${within}|${r.type}|${keyName}`,
    name,
    autonamed: known(explicit) === undefined,
    ...(kind.rule ? { rule: kind.rule } : {}),
  };
}

/** `target`: the cluster of the resource's provider, and the namespace it uses when an object names none. */
function kubernetesClaim(r: CapturedResource, target: { cluster: string; namespace: string }): NameClaim | undefined {
  const { cluster, namespace: defaultNamespace } = target;
  if (r.type === HELM_RELEASE) {
    const explicit = known(r.inputs.name);
    const name = explicit ?? autonamed(r.name, K8S_AUTONAME);
    const namespace = known(r.inputs.namespace) ?? defaultNamespace;
    const where = `cluster ${cluster} namespace ${namespace}`;
    return { urn: r.urn, type: r.type, label: "Helm release", where, key: `${where}|helm|${name}`, name, autonamed: !explicit, rule: K8S_RULES.helmRelease };
  }
  const kind = kubernetesKind(r.type);
  if (!kind) return undefined;
  const metadata = (r.inputs.metadata ?? {}) as Record<string, unknown>;
  // generateName: the API server picks a unique name.
  if (metadata.name === undefined && metadata.generateName !== undefined) return undefined;
  if (metadata.name !== undefined && !known(metadata.name)) return undefined;
  const explicit = known(metadata.name);
  const name = explicit ?? autonamed(r.name, K8S_AUTONAME);
  const namespace = CLUSTER_SCOPED.has(kind) ? undefined : (known(metadata.namespace) ?? defaultNamespace);
  const where = `cluster ${cluster}${namespace ? ` namespace ${namespace}` : ""}`;
  return { urn: r.urn, type: r.type, label: `Kubernetes ${kind}`, where, key: `${where}|${kind}|${name}`, name, autonamed: !explicit, rule: K8S_KIND_RULES[kind] ?? K8S_RULES.subdomain };
}

/** Names claimed by more than one resource. Autonamed resources never collide (random suffix). */
export function nameCollisions(claims: readonly NameClaim[]): NameCollision[] {
  const groups = new Map<string, NameClaim[]>();
  for (const c of claims) {
    if (c.autonamed) continue;
    const group = groups.get(c.key);
    if (group) group.push(c);
    else groups.set(c.key, [c]);
  }
  return [...groups.values()]
    .filter((g) => g.length > 1)
    .map((g) => ({ label: g[0]!.label, where: g[0]!.where, name: g[0]!.name, urns: g.map((c) => c.urn) }));
}

/** Names (as they will be, for autonamed ones) that their API refuses. */
export function namingRuleBreaks(claims: readonly NameClaim[]): NamingRuleBreak[] {
  const breaks: NamingRuleBreak[] = [];
  for (const c of claims) {
    if (!c.rule) continue;
    const problems = ruleProblems(c.name, c.rule);
    if (problems.length > 0) breaks.push({ urn: c.urn, label: c.label, name: c.name, autonamed: c.autonamed, problems, source: c.rule.source });
  }
  return breaks;
}

/**
 * URNs registered more than once: the engine refuses the second registration ("Duplicate resource URN"),
 * which the mock runtime does not. Two components deriving one logical name from different inputs (a
 * tenant named like a built-in user) end here.
 */
export function duplicateUrns(resources: readonly CapturedResource[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const r of resources) {
    if (seen.has(r.urn)) duplicates.add(r.urn);
    seen.add(r.urn);
  }
  return [...duplicates];
}

/** A name a service creates on its own, which a planned resource claims too. */
export interface ServiceCreatedName {
  name: string;
  /** The resource whose creation makes the service create the name. */
  serviceUrn: string;
  /** The planned resource claiming the same name: it must be created first. */
  claimUrn: string;
}

const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";

/**
 * Log groups EKS and RDS create themselves on first write: EKS `/aws/eks/<cluster>/cluster` for control
 * plane logs, RDS `/aws/rds/instance/<id>/<log>` for each exported log. A planned log group of that name
 * (to set its retention and key) must exist before the cluster or instance, else the service creates it
 * first and the plan's create fails with ResourceAlreadyExistsException. Sources:
 * https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html,
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html
 */
export function serviceCreatedNames(resources: readonly CapturedResource[], claims: readonly NameClaim[]): ServiceCreatedName[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const claimOf = new Map(claims.map((c) => [c.urn, c]));
  const logGroups = new Map(claims.filter((c) => c.type === LOG_GROUP && !c.autonamed).map((c) => [c.key, c]));
  const dependsOn = (from: string, target: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      const urn = stack.pop()!;
      for (const dep of byUrn.get(urn)?.dependsOn ?? []) {
        if (dep === target) return true;
        if (!seen.has(dep)) {
          seen.add(dep);
          stack.push(dep);
        }
      }
    }
    return false;
  };
  const found: ServiceCreatedName[] = [];
  for (const r of resources) {
    const own = claimOf.get(r.urn);
    if (!own || own.autonamed) continue;
    const names =
      r.type === "aws:eks/cluster:Cluster" && Array.isArray(r.inputs.enabledClusterLogTypes) && r.inputs.enabledClusterLogTypes.length > 0
        ? [`/aws/eks/${own.name}/cluster`]
        : r.type === "aws:rds/instance:Instance" && Array.isArray(r.inputs.enabledCloudwatchLogsExports)
          ? r.inputs.enabledCloudwatchLogsExports.map((log) => `/aws/rds/instance/${own.name.toLowerCase()}/${String(log)}`)
          : [];
    for (const name of names) {
      const claim = logGroups.get(`${own.where}|${LOG_GROUP}|${name}`);
      if (claim && !dependsOn(r.urn, claim.urn)) found.push({ name, serviceUrn: r.urn, claimUrn: claim.urn });
    }
  }
  return found;
}

export function analyseNames(resources: readonly CapturedResource[], context: NamesContext): NamesAnalysis {
  const claims = nameClaims(resources, context);
  return {
    claims,
    collisions: nameCollisions(claims),
    ruleBreaks: namingRuleBreaks(claims),
    duplicateUrns: duplicateUrns(resources),
    createdByService: serviceCreatedNames(resources, claims),
  };
}

export function serviceCreatedMessage(s: ServiceCreatedName): string {
  return `log group "${s.name}" is created by AWS itself once ${s.serviceUrn} exists, and ${s.claimUrn} claims it too without being a dependency of it: create the log group first (dependsOn), or the first up fails with ResourceAlreadyExistsException`;
}

export function collisionMessage(c: NameCollision): string {
  return `${c.label} "${c.name}" (${c.where}) is claimed by ${c.urns.length} resources, and the cloud accepts only one: ${c.urns.join(" and ")}`;
}

export function ruleBreakMessage(b: NamingRuleBreak): string {
  const what = b.autonamed ? `autonamed like "${b.name}" (the zeros stand for Pulumi's random suffix)` : `"${b.name}"`;
  return `${b.label} ${what} of ${b.urn} ${b.problems.join("; ")} (${b.source})`;
}

/** A planned stack, as `crossStackCollisions` needs it. */
export interface PlannedStack {
  stack: string;
  resources: readonly CapturedResource[];
  defaultRegion: string;
}

/**
 * Names that resources of different stacks claim in one scope: stacks deployed side by side into one
 * account or onto one cluster (review stacks on their host's cluster, a fleet's stacks in one account).
 * Stacks are assumed to share the deploying account unless a provider assumes a role elsewhere, the
 * cautious reading. Collisions within one stack are each plan's own analysis.
 */
export function crossStackCollisions(plans: readonly PlannedStack[]): NameCollision[] {
  const claims = plans.flatMap((p, index) => nameClaims(p.resources, { defaultRegion: p.defaultRegion }).map((claim) => ({ claim, index })));
  const groups = new Map<string, { claim: NameClaim; index: number }[]>();
  for (const entry of claims) {
    if (entry.claim.autonamed) continue;
    const group = groups.get(entry.claim.key);
    if (group) group.push(entry);
    else groups.set(entry.claim.key, [entry]);
  }
  return [...groups.values()]
    .filter((g) => new Set(g.map((e) => e.index)).size > 1)
    .map((g) => ({ label: g[0]!.claim.label, where: g[0]!.claim.where, name: g[0]!.claim.name, urns: g.map((e) => e.claim.urn) }));
}
