/**
 * The typed stack spec: one module turns a stack's configuration into a validated PlatformSpec.
 * Every problem is reported at once, naming the stack file and the key path, before the program
 * registers anything.
 */
import { z } from "zod";
import { ENVIRONMENTS, PROJECT, type Environment, type NatGatewayMode } from "../model/stack";
import { dataShardId, tenantPosixId } from "../model/naming";
import { contains, formatCidr, MAX_SUBNET_PREFIX, overlaps, parseCidr, runnerPublicSubnet, smallestSubnetPrefix, type Cidr } from "../model/cidr";
import { connectionBudget, connectionBudgetProblem, EC2_INSTANCE_SIZES, maxConnectionsCeiling, poolCapacity, quotaOverCaps, RDS_INSTANCE_MEMORY_GIB, tenantQuota } from "../tiers/sizing";
import { EKS_VERSIONS, eksVersion, strictestTier, TIER_NAMES, TIERS, type StackKind, type TierName } from "../tiers/catalogue";
import { ciEnvironmentOf, ciRoleName, runnerLabel, type CiPurpose } from "../model/ci";


const DNS_LABEL = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
// Tenant names end up inside namespace, database, IAM role and S3 prefix names: keep headroom.
const TENANT_NAME_MAX = 30;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const AWS_ZONE = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;
// registry/path[:tag]@sha256:<64 hex>: the digest is what gets pulled, so an image can never move.
const IMAGE_BY_DIGEST = /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+(:[\w][\w.-]{0,127})?@sha256:[a-f0-9]{64}$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
// Shard names end up in RDS identifiers and ElastiCache replication group ids (at most 40 characters).
const MAX_SHARD_NAME = 12;
/** ElastiCache allows 100 users per user group; one is the group's disabled `default` user. */
export const MAX_TENANTS_PER_CACHE = 99;

const dnsLabel = (max: number) =>
  z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    .regex(DNS_LABEL, { error: "must be a DNS label: lower-case letters, digits and '-', starting with a letter" });

const nodePoolSchema = z.strictObject({
  name: dnsLabel(20),
  instanceTypes: z.array(z.string().regex(INSTANCE_TYPE, { error: "must be an EC2 instance type such as m7i.xlarge" })).min(1),
  minPerZone: z.number().int().min(0),
  maxPerZone: z.number().int().min(1),
  /** @default 50 */
  diskGiB: z.number().int().min(20).max(16384).default(50),
  /** @default "ON_DEMAND" */
  capacityType: z.enum(["ON_DEMAND", "SPOT"]).default("ON_DEMAND"),
  /** Name of the tenant whose pods alone may run here (nodes are labelled and tainted for it). */
  dedicatedTo: z.string().optional(),
  /** @default {} */
  labels: z.record(z.string(), z.string()).default({}),
});
export type NodePoolSpec = z.infer<typeof nodePoolSchema>;

const networkSchema = z.strictObject({
  cidr: z.string(),
  /** @default 365 in production, 30 elsewhere */
  flowLogRetentionDays: z.number().int().positive().optional(),
});

const clusterSchema = z.strictObject({
  kubernetesVersion: z.string().regex(/^1\.\d+$/, { error: 'must be a Kubernetes minor version such as "1.35"' }),
  /**
   * CIDRs allowed to reach the public API endpoint. Empty: the endpoint is private only.
   * @default []
   */
  endpointPublicAccessCidrs: z.array(z.string()).default([]),
  /** @default 365 in production, 30 elsewhere */
  logRetentionDays: z.number().int().positive().optional(),
  nodePools: z.array(nodePoolSchema).min(1),
  /** Pool the shared tenants run on. @default the first pool not named "system" and not dedicated */
  tenantPool: z.string().optional(),
});

/**
 * Tenant names the platform keeps for itself: a tenant so named would claim a name the platform already
 * claims, which `pulumi up` finds only halfway through (the plan's physical-names analysis, plan/names.ts,
 * finds it offline). One entry per name, with why; test/spec.test.ts ties each reason to the code that
 * makes it true.
 */
export const RESERVED_TENANT_NAMES: Readonly<Record<string, string>> = {
  "fleet-system": "its namespace would be odoo-fleet-system, the platform's own (provisioning jobs, restore drills, their default-deny NetworkPolicy)",
  default: "its cache user would take the URN and ElastiCache user id of the built-in `default` user every Valkey user group holds",
};

/**
 * Review stacks (`pr-<number>`, .github/workflows/review-stack.yml) name their tenants after themselves
 * and deploy them onto their host's cluster: a host tenant with this prefix would meet a pull request's
 * namespace, system-namespace Secret and restore drill there.
 */
export const REVIEW_TENANT_PREFIX = "pr-";

/**
 * Why a tenant name cannot be used, if it cannot: reserved by the platform, or the review stacks'
 * (`review`: the review stack it is declared in, whose tenants must carry its name).
 */
export function tenantNameProblem(name: string, review?: { stack: string }): string | undefined {
  const reserved = RESERVED_TENANT_NAMES[name];
  if (reserved !== undefined) return `${name} is reserved: ${reserved}`;
  if (review === undefined) {
    return name.startsWith(REVIEW_TENANT_PREFIX) ? `${name} starts with ${REVIEW_TENANT_PREFIX}, kept for review stacks' tenants, which share the host's cluster` : undefined;
  }
  const ownName = name === review.stack || name.startsWith(`${review.stack}-`);
  if (!name.startsWith(REVIEW_TENANT_PREFIX) || !ownName) {
    return `a review stack's tenants are named after it (${review.stack} or ${review.stack}-<suffix>) and start with ${REVIEW_TENANT_PREFIX}, so they never meet a host tenant or another review stack's on the shared cluster`;
  }
  return undefined;
}

const tenantSchema = z.strictObject({
  name: dnsLabel(TENANT_NAME_MAX),
  tier: z.enum(TIER_NAMES),
  domains: z.array(z.string().regex(HOSTNAME, { error: "must be a fully qualified lower-case host name" })).min(1),
  odoo: z.strictObject({
    version: z.string().regex(/^(1[6-9]|[2-9]\d)\.0$/, { error: 'must be an Odoo major version from 16.0 on, such as "18.0"' }),
    image: z.string().regex(IMAGE_BY_DIGEST, { error: "must be an image reference pinned by digest (registry/name@sha256:<64 hex>)" }),
  }),
  expectedUsers: z.number().int().min(1).max(5000),
  /** The data shard (data.shards[].name) holding its database and sessions. @default the stack's first shard */
  shard: z.string().optional(),
  /** The tenant runs OCA queue_job: its backlog is watched. @default false */
  queueJob: z.boolean().default(false),
  /** Outbound traffic beyond the tenant's own data stores. @default no HTTPS, no SMTP */
  egress: z
    .strictObject({
      /** HTTPS to the internet (payment providers, IAP, OAuth mail). @default false */
      https: z.boolean().default(false),
      /** SMTP submission (587, 465) to the internet. @default false */
      smtp: z.boolean().default(false),
    })
    .prefault({}),
});
export type TenantSpec = z.infer<typeof tenantSchema>;

const WINDOW = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;
const WEEKLY_WINDOW = /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$/;

const postgresSchema = z
  .strictObject({
    /** @default "16" */
    version: z.enum(["15", "16", "17"]).default("16"),
    /** @default "db.m7g.large" in production, "db.t4g.medium" elsewhere */
    instanceClass: z.string().optional(),
    /** @default 50 */
    storageGiB: z.number().int().min(20).max(65536).default(50),
    /** Storage autoscaling limit. @default 500 */
    maxStorageGiB: z.number().int().min(20).max(65536).default(500),
  })
  .prefault({});

const redisSchema = z
  .strictObject({
    /** @default "cache.m7g.large" in production, "cache.t4g.small" elsewhere */
    nodeType: z.string().regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, { error: "must be an ElastiCache node type such as cache.m7g.large" }).optional(),
  })
  .prefault({});

/** A further data shard: its own PostgreSQL server and Valkey group, for the tenants that name it. */
const shardSchema = z.strictObject({
  name: dnsLabel(MAX_SHARD_NAME),
  postgres: postgresSchema,
  redis: redisSchema,
});

const dataSchema = z.strictObject({
  postgres: postgresSchema,
  redis: redisSchema,
  /**
   * Further data shards, for stacks whose tenants outgrow one database server or one cache's ACL
   * users. The first shard is `postgres`/`redis` above; tenants name another with `shard`.
   * @default []
   */
  shards: z.array(shardSchema).default([]),
  /** Daily UTC window for RDS backups and ElastiCache snapshots. @default "01:00-02:00" */
  backupWindow: z.string().regex(WINDOW, { error: 'must be a UTC window such as "01:00-02:00"' }).default("01:00-02:00"),
  /** Weekly UTC maintenance window; must not overlap the backup window. @default "sun:03:00-sun:04:00" */
  maintenanceWindow: z.string().regex(WEEKLY_WINDOW, { error: 'must be a weekly UTC window such as "sun:03:00-sun:04:00"' }).default("sun:03:00-sun:04:00"),
  /** `protect` stateful resources (databases, buckets, vaults, file systems, keys). @default true in production */
  protect: z.boolean().optional(),
});

const drNetworkSchema = z.strictObject({
  cidr: z.string(),
  zones: z.array(z.string().regex(AWS_ZONE, { error: "must be an availability zone name such as eu-central-1a" })).min(2, { error: "EKS needs subnets in at least 2 zones" }),
});

const ingressSchema = z.strictObject({
  /** Contact address for the ACME (Let's Encrypt) account that issues tenants' certificates. */
  acmeEmail: z.email({ error: "must be an e-mail address" }),
  /** @default "https://acme-v02.api.letsencrypt.org/directory" */
  acmeServer: z.url().default("https://acme-v02.api.letsencrypt.org/directory"),
});

const observabilitySchema = z.strictObject({
  /** Base URL of the runbook pages alerts link to. @default this repository's docs/runbooks on GitHub */
  runbookBaseUrl: z.url().default("https://github.com/odoo-fleet/odoo-fleet/blob/main/docs/runbooks"),
  /** IANA time zone of business hours (alert routing of the essential tier). @default "Europe/Brussels" */
  businessHoursTimeZone: z.string().regex(/^[A-Za-z_]+(\/[A-Za-z_]+)*$/, { error: "must be an IANA time zone such as Europe/Brussels" }).default("Europe/Brussels"),
});

const platformImagesSchema = z.strictObject({
  /** Image with psql, the AWS CLI and jq, for the database provisioning jobs. */
  tools: z.string().regex(IMAGE_BY_DIGEST, { error: "must be an image reference pinned by digest (registry/name@sha256:<64 hex>)" }),
});

const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]{1,64}$/;

/** The CI identities that deploy and preview the stack, and the runners that reach its cluster. */
const ciSchema = z.strictObject({
  /** Role `pulumi up` runs as (bootstrap output deployRoleArns.<dev|prod>): cluster admin. */
  deployRoleArn: z.string().regex(IAM_ROLE_ARN, { error: "must be an IAM role ARN such as arn:aws:iam::123456789012:role/odoo-fleet-ci-deploy-prod" }),
  /** Role of previews and drift checks (bootstrap output previewRoleArns.<dev|prod>): reads, and writes only in dry-run. */
  previewRoleArn: z.string().regex(IAM_ROLE_ARN, { error: "must be an IAM role ARN such as arn:aws:iam::123456789012:role/odoo-fleet-ci-preview-prod" }),
  /** The bootstrap stack's runner subnet for this stack (its `runners[].cidr`): admitted to the API endpoint on 443. */
  runnerCidr: z.string(),
});

/** Stack configuration keys this program reads, with their schemas. Later areas add keys here. */
const CONFIG_KEYS = {
  "aws:region": z.string().regex(AWS_REGION, { error: "must be an AWS region such as eu-west-1" }),
  [`${PROJECT}:kind`]: z.enum(["shared", "dedicated"]),
  [`${PROJECT}:environment`]: z.enum(ENVIRONMENTS),
  [`${PROJECT}:drRegion`]: z.string().regex(AWS_REGION, { error: "must be an AWS region such as eu-central-1" }),
  [`${PROJECT}:zones`]: z.array(z.string().regex(AWS_ZONE, { error: "must be an availability zone name such as eu-west-1a" })).min(2, {
    error: "EKS needs subnets in at least 2 zones",
  }),
  [`${PROJECT}:network`]: networkSchema,
  [`${PROJECT}:cluster`]: clusterSchema,
  /** @default [] */
  [`${PROJECT}:tenants`]: z.array(tenantSchema).default([]),
  /** Data tier settings; every field has a default. */
  [`${PROJECT}:data`]: dataSchema.prefault({}),
  /** Network in the DR region, for warm standbys (critical tenants in production). */
  [`${PROJECT}:drNetwork`]: drNetworkSchema.optional(),
  /** Team accountable for the stack (tag `owner`). */
  [`${PROJECT}:owner`]: z.string().regex(/^[a-z0-9][a-z0-9._@-]{1,62}$/, { error: "must be a team or e-mail name (lower case, no spaces)" }),
  /** Cost centre the stack is billed to (tag `cost-centre`). */
  [`${PROJECT}:costCentre`]: z.string().regex(/^[A-Za-z0-9-]{2,32}$/, { error: "must be a cost-centre code such as CC-1042" }),
  [`${PROJECT}:ingress`]: ingressSchema,
  [`${PROJECT}:platformImages`]: platformImagesSchema,
  /** Alert links and routing; every field has a default. */
  [`${PROJECT}:observability`]: observabilitySchema.prefault({}),
  [`${PROJECT}:ci`]: ciSchema,
} as const;

/**
 * A review stack (a pull request's environment) deploys only tenants, onto the cluster and data
 * stores of its host stack, whose outputs it reads through a StackReference.
 */
const REVIEW_KEYS = {
  "aws:region": CONFIG_KEYS["aws:region"],
  [`${PROJECT}:kind`]: CONFIG_KEYS[`${PROJECT}:kind`],
  [`${PROJECT}:environment`]: CONFIG_KEYS[`${PROJECT}:environment`],
  [`${PROJECT}:host`]: z.strictObject({
    /** The host stack, as StackReference names it: `<org>/odoo-fleet/<stack>` (or `<stack>` for the current org). */
    stack: z.string().regex(/^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/, { error: "must be a stack name such as acme/odoo-fleet/shared-dev" }),
  }),
  [`${PROJECT}:tenants`]: z.array(tenantSchema).min(1, { error: "a review stack deploys at least one tenant" }),
  [`${PROJECT}:owner`]: CONFIG_KEYS[`${PROJECT}:owner`],
  [`${PROJECT}:costCentre`]: CONFIG_KEYS[`${PROJECT}:costCentre`],
  [`${PROJECT}:platformImages`]: CONFIG_KEYS[`${PROJECT}:platformImages`],
} as const;

/**
 * The bootstrap stack: what must exist before any platform stack can be deployed by CI (state
 * backends, secrets keys, the GitHub OIDC provider and CI roles, the runners and their network).
 */
const bootstrapSchema = z.strictObject({
  /** `owner/name` of the GitHub repository whose workflows assume the CI roles and own the runners. */
  repository: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}$/, { error: "must be a GitHub repository such as odoo-fleet/odoo-fleet" }),
  runnerNetwork: z.strictObject({
    cidr: z.string(),
    zone: z.string().regex(AWS_ZONE, { error: "must be an availability zone name such as eu-west-1a" }),
  }),
  /** Secrets Manager secret (name) with a GitHub token that may create runner registration tokens. */
  runnerTokenSecret: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,256}$/, { error: "must be a Secrets Manager secret name" }),
  /** One runner pool per platform stack: its own subnet, its own label, a path to that stack's VPC only. */
  runners: z
    .array(
      z.strictObject({
        stack: dnsLabel(40),
        /** That platform stack's odoo-fleet:environment: the tag of its subnet and route table, which its CI role must be allowed to change. */
        environment: z.enum(ENVIRONMENTS),
        cidr: z.string(),
        /** Idle runners kept ready. @default 1 */
        count: z.number().int().min(1).max(20).default(1),
        /** @default "m7i.large" */
        instanceType: z.string().regex(INSTANCE_TYPE, { error: "must be an EC2 instance type such as m7i.large" }).default("m7i.large"),
      }),
    )
    .min(1, { error: "at least one platform stack needs runners" }),
});

const BOOTSTRAP_KEYS = {
  "aws:region": CONFIG_KEYS["aws:region"],
  [`${PROJECT}:environment`]: CONFIG_KEYS[`${PROJECT}:environment`],
  [`${PROJECT}:owner`]: CONFIG_KEYS[`${PROJECT}:owner`],
  [`${PROJECT}:costCentre`]: CONFIG_KEYS[`${PROJECT}:costCentre`],
  [`${PROJECT}:bootstrap`]: bootstrapSchema,
} as const;

export interface RunnerPoolSpec {
  readonly stack: string;
  readonly environment: Environment;
  readonly label: string;
  readonly cidr: string;
  readonly count: number;
  readonly instanceType: string;
}

export interface BootstrapSpec {
  readonly mode: "bootstrap";
  readonly project: typeof PROJECT;
  readonly stack: string;
  readonly stackFile: string;
  readonly environment: "production";
  readonly region: string;
  readonly owner: string;
  readonly costCentre: string;
  readonly repository: string;
  readonly runnerNetwork: { readonly cidr: string; readonly zone: string };
  readonly runnerTokenSecret: string;
  readonly runners: readonly RunnerPoolSpec[];
}

/** Keys of other namespaces that stack files may carry and this program ignores. */
const FOREIGN_NAMESPACES = ["aws", "kubernetes", "pulumi"];

export interface ReviewSpec {
  readonly mode: "review";
  readonly project: typeof PROJECT;
  readonly stack: string;
  readonly stackFile: string;
  readonly kind: "shared";
  readonly environment: "review";
  readonly region: string;
  readonly host: { readonly stack: string };
  readonly tenants: readonly TenantSpec[];
  readonly owner: string;
  readonly costCentre: string;
  readonly platformImages: { readonly tools: string };
}

/** What a stack file describes: a whole platform, a review environment on a host platform, or the bootstrap. */
export type StackSpec = PlatformSpec | ReviewSpec | BootstrapSpec;

export interface PlatformSpec {
  readonly mode: "platform";
  readonly project: typeof PROJECT;
  readonly stack: string;
  /** The stack file this spec came from, for messages. */
  readonly stackFile: string;
  readonly kind: StackKind;
  readonly environment: Environment;
  readonly region: string;
  readonly drRegion: string;
  readonly zones: readonly string[];
  readonly network: {
    readonly cidr: string;
    readonly natGateways: NatGatewayMode;
    readonly flowLogRetentionDays: number;
  };
  readonly cluster: {
    /** The EKS cluster's name, derived from the stack so two stacks never collide. */
    readonly name: string;
    readonly kubernetesVersion: string;
    readonly endpointPublicAccessCidrs: readonly string[];
    readonly logRetentionDays: number;
    readonly nodePools: readonly NodePoolSpec[];
    /** The pool shared tenants run on. */
    readonly tenantPool: string;
  };
  readonly tenants: readonly TenantSpec[];
  readonly data: DataSpec;
  readonly dr: DrSpec;
  readonly ingress: { readonly acmeEmail: string; readonly acmeServer: string };
  readonly platformImages: { readonly tools: string };
  readonly owner: string;
  readonly costCentre: string;
  readonly observability: { readonly runbookBaseUrl: string; readonly businessHoursTimeZone: string };
  readonly ci: CiSpec;
}

export interface CiSpec {
  readonly deployRoleArn: string;
  readonly previewRoleArn: string;
  /** The self-hosted runner label whose runners reach this stack's private API endpoint. */
  readonly runnerLabel: string;
  /** The network of those runners. */
  readonly runnerCidr: string;
}

export interface PostgresSpec {
  readonly version: string;
  readonly instanceClass: string;
  readonly storageGiB: number;
  readonly maxStorageGiB: number;
  /** Production always runs its PostgreSQL Multi-AZ, whatever its tenants' tiers. */
  readonly multiAz: boolean;
  /** The longest PITR window among the stack's tenants' tiers. */
  readonly backupRetentionDays: number;
  /**
   * What RDS's max_connections formula yields on this class, at least (tiers/sizing.ts): fixed by the
   * class, never by the tenants, so adding one changes no static parameter.
   */
  readonly maxConnections: number;
  /** Connections its tenants can open at their peak, reserved ones included. */
  readonly requiredConnections: number;
}

export interface RedisSpec {
  readonly nodeType: string;
  readonly multiAz: boolean;
}

/** One PostgreSQL server and one Valkey group, and the tenants they serve. */
export interface DataShardSpec {
  /** `undefined` for the stack's first shard, whose resources carry the stack's own names. */
  readonly name?: string;
  readonly postgres: PostgresSpec;
  readonly redis: RedisSpec;
  readonly tenants: readonly string[];
}

export interface DataSpec {
  /** The first shard's server and cache (`shards[0]`). */
  readonly postgres: PostgresSpec;
  readonly redis: RedisSpec;
  /** Every shard, the first one first. */
  readonly shards: readonly DataShardSpec[];
  readonly backupWindow: string;
  readonly maintenanceWindow: string;
  readonly protect: boolean;
  /** The strictest tier among the tenants: shared data stores must meet its contract. */
  readonly strictestTier: TierName;
}

export interface DrSpec {
  /** Cross-region mechanisms run in production; other environments relax them. */
  readonly enabled: boolean;
  /** A warm standby (cross-region read replica, DR network) for critical tenants. */
  readonly warmStandby: boolean;
  readonly network?: { readonly cidr: string; readonly zones: readonly string[] };
}

/** Production survives a zone loss only with a NAT gateway per zone; elsewhere one is enough. */
export function natGatewayModeFor(environment: Environment): NatGatewayMode {
  return environment === "production" ? "OnePerAz" : "Single";
}

/** The EKS cluster's name (and the first data shard's ids), derived from the stack so two stacks never collide. */
export function clusterNameFor(stack: string): string {
  return `odoo-${stack}`;
}

export function defaultLogRetentionDays(environment: Environment): number {
  return environment === "production" ? 365 : 30;
}

export function defaultDbInstanceClass(environment: Environment): string {
  return environment === "production" ? "db.m7g.large" : "db.t4g.medium";
}

export function defaultCacheNodeType(environment: Environment): string {
  return environment === "production" ? "cache.m7g.large" : "cache.t4g.small";
}

/** The tier whose contract the stack's shared data stores must meet (essential when it has no tenant). */
export function stackTier(tenants: readonly { tier: TierName }[]): TierName {
  return strictestTier(tenants.map((t) => t.tier)) ?? "essential";
}

export interface SpecProblem {
  /** Key path, e.g. `odoo-fleet:tenants[1].tier`. */
  readonly path: string;
  readonly message: string;
}

/** Invalid stack configuration. A RunError, so `pulumi up` prints the message without a stack trace. */
export class SpecError extends Error {
  readonly problems: readonly SpecProblem[];
  readonly stackFile: string;
  /** Marks the error for Pulumi's runner (RunError.isInstance) and for the offline plan. */
  readonly __pulumiRunError = true;
  readonly isSpecError = true;

  constructor(stackFile: string, problems: readonly SpecProblem[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(`${stackFile}: invalid stack configuration (${count}):\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n")}`);
    this.name = "SpecError";
    this.stackFile = stackFile;
    this.problems = problems;
  }

  static isInstance(error: unknown): error is SpecError {
    return typeof error === "object" && error !== null && (error as { isSpecError?: unknown }).isSpecError === true;
  }
}

export function stackFileFor(stack: string): string {
  return `stacks/Pulumi.${stack}.yaml`;
}

function formatPath(key: string, path: readonly PropertyKey[]): string {
  let out = key;
  for (const part of path) out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  if (input === undefined && (issue.code === "invalid_type" || issue.code === "invalid_value")) return "is required";
  switch (issue.code) {
    case "invalid_type":
      return `must be ${issue.expected === "array" ? "a list" : `a ${issue.expected}`}, got ${JSON.stringify(input)}`;
    case "invalid_value":
      return `${JSON.stringify(input)} is not one of ${issue.values.map(String).join(", ")}`;
    default:
      return issue.message;
  }
}

/**
 * Pulumi hands every config value over as a string; structured values arrive as JSON text.
 * A value that is not JSON is a plain string (`kind: shared`).
 */
function decodeConfigValue(raw: string): unknown {
  const trimmed = raw.trim();
  if (/^[[{]/.test(trimmed) || /^-?\d+(\.\d+)?$/.test(trimmed) || trimmed === "true" || trimmed === "false") {
    try {
      return JSON.parse(trimmed);
    } catch {
      return raw;
    }
  }
  return raw;
}

type Parsed = { [K in keyof typeof CONFIG_KEYS]?: z.infer<(typeof CONFIG_KEYS)[K]> };

/**
 * Validates a stack's configuration (`key -> raw string`, as `pulumi.runtime.allConfig()` returns it)
 * into a PlatformSpec, or throws a SpecError listing every problem.
 */
type KeySchemas = Readonly<Record<string, z.ZodType>>;

/** Parses every key of `keys` from the config and flags keys it does not know; collects all problems. */
function parseKeys(config: Readonly<Record<string, string>>, keys: KeySchemas, unknownHint: (key: string) => string): { parsed: Record<string, unknown>; raw: Record<string, unknown>; problems: SpecProblem[] } {
  const problems: SpecProblem[] = [];
  const parsed: Record<string, unknown> = {};
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(config).sort()) {
    const namespace = key.split(":")[0] ?? "";
    if (!(key in keys) && !(namespace !== PROJECT && FOREIGN_NAMESPACES.includes(namespace))) problems.push({ path: key, message: unknownHint(key) });
  }
  for (const [key, schema] of Object.entries(keys)) {
    const value = config[key] === undefined ? undefined : decodeConfigValue(config[key]);
    raw[key] = value;
    const result = schema.safeParse(value, { reportInput: true });
    if (result.success) {
      parsed[key] = result.data;
    } else {
      for (const issue of result.error.issues) {
        if (issue.code === "unrecognized_keys") {
          for (const extra of issue.keys) problems.push({ path: formatPath(key, [...issue.path, extra]), message: "unknown key; check its spelling" });
        } else {
          problems.push({ path: formatPath(key, issue.path), message: describeIssue(issue) });
        }
      }
    }
  }
  return { parsed, raw, problems };
}

/** Validates a stack file's configuration into the spec of a platform or of a review stack. */
export function parseStackSpec(config: Readonly<Record<string, string>>, stack: string, stackFile = stackFileFor(stack)): StackSpec {
  if (config[`${PROJECT}:bootstrap`] !== undefined) return parseBootstrapSpec(config, stack, stackFile);
  return config[`${PROJECT}:host`] !== undefined ? parseReviewSpec(config, stack, stackFile) : parsePlatformSpec(config, stack, stackFile);
}

/** Every problem of a stack's configuration at once, as `parseStackSpec` reports them; none when it parses. */
export function stackSpecProblems(config: Readonly<Record<string, string>>, stack: string, stackFile = stackFileFor(stack)): readonly SpecProblem[] {
  try {
    parseStackSpec(config, stack, stackFile);
    return [];
  } catch (error) {
    if (SpecError.isInstance(error)) return error.problems;
    throw error;
  }
}

function parseReviewSpec(config: Readonly<Record<string, string>>, stack: string, stackFile: string): ReviewSpec {
  const { parsed, raw, problems } = parseKeys(config, REVIEW_KEYS, (key) =>
    key in CONFIG_KEYS ? "not used by a review stack: its network, cluster and data stores are its host's" : `unknown key; known keys are ${Object.keys(REVIEW_KEYS).join(", ")}`,
  );
  const kind = parsed[`${PROJECT}:kind`] as StackKind | undefined;
  const environment = parsed[`${PROJECT}:environment`] as Environment | undefined;
  if (kind && kind !== "shared") problems.push({ path: `${PROJECT}:kind`, message: "a review stack runs on a shared host: kind must be shared" });
  if (environment && environment !== "review") problems.push({ path: `${PROJECT}:environment`, message: `a stack with a host is a review stack: environment must be review, got ${environment}` });
  problems.push(...tenantListChecks(kind, raw, { stack }).problems);
  const tenants = parsed[`${PROJECT}:tenants`] as TenantSpec[] | undefined;
  tenants?.forEach((tenant, i) => {
    const over = quotaOverCaps(tenantQuota(tenant, "review"), tenant.tier);
    if (over.length > 0) problems.push({ path: `${PROJECT}:tenants[${i}].expectedUsers`, message: `${tenant.expectedUsers} users need ${over.join(", ")} of the ${tenant.tier} tier` });
    if (tenant.shard !== undefined) problems.push({ path: `${PROJECT}:tenants[${i}].shard`, message: "a review stack's tenants use its host's first data shard" });
  });
  if (problems.length > 0) throw new SpecError(stackFile, problems);
  return {
    mode: "review",
    project: PROJECT,
    stack,
    stackFile,
    kind: "shared",
    environment: "review",
    region: parsed["aws:region"] as string,
    host: parsed[`${PROJECT}:host`] as { stack: string },
    tenants: tenants!,
    owner: parsed[`${PROJECT}:owner`] as string,
    costCentre: parsed[`${PROJECT}:costCentre`] as string,
    platformImages: parsed[`${PROJECT}:platformImages`] as { tools: string },
  };
}

function parseBootstrapSpec(config: Readonly<Record<string, string>>, stack: string, stackFile: string): BootstrapSpec {
  const { parsed, problems } = parseKeys(config, BOOTSTRAP_KEYS, (key) =>
    key in CONFIG_KEYS ? "not used by the bootstrap stack: it owns no platform" : `unknown key; known keys are ${Object.keys(BOOTSTRAP_KEYS).join(", ")}`,
  );
  const environment = parsed[`${PROJECT}:environment`] as Environment | undefined;
  if (environment && environment !== "production") {
    problems.push({ path: `${PROJECT}:environment`, message: `the bootstrap stack holds production's state, keys and roles: environment must be production, got ${environment}` });
  }
  const bootstrap = parsed[`${PROJECT}:bootstrap`] as z.infer<typeof bootstrapSchema> | undefined;
  const region = parsed["aws:region"] as string | undefined;
  if (bootstrap) problems.push(...runnerNetworkChecks(bootstrap, region));
  if (problems.length > 0) throw new SpecError(stackFile, problems);
  const spec = bootstrap!;
  return {
    mode: "bootstrap",
    project: PROJECT,
    stack,
    stackFile,
    environment: "production",
    region: region!,
    owner: parsed[`${PROJECT}:owner`] as string,
    costCentre: parsed[`${PROJECT}:costCentre`] as string,
    repository: spec.repository,
    runnerNetwork: spec.runnerNetwork,
    runnerTokenSecret: spec.runnerTokenSecret,
    runners: spec.runners.map((r) => ({ ...r, label: runnerLabel(r.stack) })),
  };
}

/** Runner subnets inside the runner VPC, clear of its public subnet and of each other; one pool per stack. */
function runnerNetworkChecks(bootstrap: z.infer<typeof bootstrapSchema>, region: string | undefined): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const key = `${PROJECT}:bootstrap`;
  if (region && !bootstrap.runnerNetwork.zone.startsWith(region)) problems.push({ path: `${key}.runnerNetwork.zone`, message: `${bootstrap.runnerNetwork.zone} is not in ${region}` });
  let vpc: Cidr | undefined;
  try {
    vpc = parseCidr(bootstrap.runnerNetwork.cidr);
    if (vpc.prefix < 16 || vpc.prefix > 24) {
      problems.push({ path: `${key}.runnerNetwork.cidr`, message: `must have a prefix between /16 and /24, got /${vpc.prefix}` });
      vpc = undefined;
    }
  } catch (error) {
    problems.push({ path: `${key}.runnerNetwork.cidr`, message: (error as Error).message });
  }
  const publicSubnet = vpc ? parseCidr(runnerPublicSubnet(bootstrap.runnerNetwork.cidr)) : undefined;
  const seen = new Map<string, number>();
  const subnets: { index: number; cidr: Cidr }[] = [];
  bootstrap.runners.forEach((pool, i) => {
    const path = `${key}.runners[${i}]`;
    const first = seen.get(pool.stack);
    if (first !== undefined) problems.push({ path: `${path}.stack`, message: `${pool.stack} already has runners at ${key}.runners[${first}]` });
    else seen.set(pool.stack, i);
    try {
      const cidr = parseCidr(pool.cidr);
      if (cidr.prefix > MAX_SUBNET_PREFIX) problems.push({ path: `${path}.cidr`, message: `/${cidr.prefix} is smaller than AWS's smallest subnet /${MAX_SUBNET_PREFIX}` });
      if (vpc && !contains(vpc, cidr)) problems.push({ path: `${path}.cidr`, message: `${pool.cidr} is not inside the runner network ${bootstrap.runnerNetwork.cidr}` });
      if (publicSubnet && overlaps(publicSubnet, cidr)) problems.push({ path: `${path}.cidr`, message: `${pool.cidr} overlaps the runner network's public subnet ${formatCidr(publicSubnet)}` });
      const clash = subnets.find((s) => overlaps(s.cidr, cidr));
      if (clash) problems.push({ path: `${path}.cidr`, message: `${pool.cidr} overlaps ${key}.runners[${clash.index}].cidr` });
      subnets.push({ index: i, cidr });
    } catch (error) {
      problems.push({ path: `${path}.cidr`, message: (error as Error).message });
    }
  });
  return problems;
}

/** Validates a platform stack's configuration into a PlatformSpec, or throws a SpecError listing every problem. */
export function parsePlatformSpec(config: Readonly<Record<string, string>>, stack: string, stackFile = stackFileFor(stack)): PlatformSpec {
  const keys = parseKeys(config, CONFIG_KEYS, () => `unknown key; known keys are ${Object.keys(CONFIG_KEYS).join(", ")}`);
  const parsed = keys.parsed as Parsed;
  const raw = keys.raw;
  const problems = keys.problems;
  if (parsed[`${PROJECT}:environment`] === "review") {
    problems.push({ path: `${PROJECT}:host`, message: "is required: review stacks deploy their tenants onto a host stack's cluster" });
  }
  problems.push(...crossChecks(parsed, raw, stack));
  if (problems.length > 0) throw new SpecError(stackFile, problems);

  // Every key parsed, so every field below is present.
  const kind = parsed[`${PROJECT}:kind`]!;
  const environment = parsed[`${PROJECT}:environment`]!;
  const network = parsed[`${PROJECT}:network`]!;
  const cluster = parsed[`${PROJECT}:cluster`]!;
  const tenants = parsed[`${PROJECT}:tenants`]!;
  const data = parsed[`${PROJECT}:data`]!;
  const drNetwork = parsed[`${PROJECT}:drNetwork`];
  const production = environment === "production";
  const tier = stackTier(tenants);
  const backupRetentionDays = Math.max(...tenants.map((t) => TIERS[t.tier].pitrDays), TIERS.essential.pitrDays);
  const shards: DataShardSpec[] = [{ postgres: data.postgres, redis: data.redis }, ...data.shards].map((shard) => {
    const served = tenants.filter((t) => t.shard === ("name" in shard ? shard.name : undefined));
    const budget = connectionBudget(served, environment);
    const instanceClass = shard.postgres.instanceClass ?? defaultDbInstanceClass(environment);
    return {
      ...("name" in shard ? { name: shard.name } : {}),
      postgres: {
        version: shard.postgres.version,
        instanceClass,
        storageGiB: shard.postgres.storageGiB,
        maxStorageGiB: shard.postgres.maxStorageGiB,
        multiAz: production,
        backupRetentionDays,
        // Validated above: a known class whose formula covers the budget.
        maxConnections: maxConnectionsCeiling(instanceClass)!,
        requiredConnections: budget.required,
      },
      redis: { nodeType: shard.redis.nodeType ?? defaultCacheNodeType(environment), multiAz: production },
      tenants: served.map((t) => t.name),
    };
  });
  return {
    mode: "platform",
    project: PROJECT,
    stack,
    stackFile,
    kind,
    environment,
    region: parsed["aws:region"]!,
    drRegion: parsed[`${PROJECT}:drRegion`]!,
    zones: parsed[`${PROJECT}:zones`]!,
    network: {
      cidr: network.cidr,
      natGateways: natGatewayModeFor(environment),
      flowLogRetentionDays: network.flowLogRetentionDays ?? defaultLogRetentionDays(environment),
    },
    cluster: {
      name: clusterNameFor(stack),
      kubernetesVersion: cluster.kubernetesVersion,
      endpointPublicAccessCidrs: cluster.endpointPublicAccessCidrs,
      logRetentionDays: cluster.logRetentionDays ?? defaultLogRetentionDays(environment),
      nodePools: cluster.nodePools,
      tenantPool: tenantPoolOf(cluster)!,
    },
    tenants,
    data: {
      postgres: shards[0]!.postgres,
      redis: shards[0]!.redis,
      shards,
      backupWindow: data.backupWindow,
      maintenanceWindow: data.maintenanceWindow,
      protect: data.protect ?? production,
      strictestTier: tier,
    },
    dr: {
      enabled: production,
      warmStandby: production && tenants.some((t) => TIERS[t.tier].crossRegion.warmStandby),
      ...(drNetwork ? { network: drNetwork } : {}),
    },
    ingress: parsed[`${PROJECT}:ingress`]!,
    platformImages: parsed[`${PROJECT}:platformImages`]!,
    owner: parsed[`${PROJECT}:owner`]!,
    costCentre: parsed[`${PROJECT}:costCentre`]!,
    observability: parsed[`${PROJECT}:observability`]!,
    ci: { ...parsed[`${PROJECT}:ci`]!, runnerLabel: runnerLabel(stack) },
  };
}

/** The pool shared tenants run on: the one named, or the first that is neither dedicated nor "system". */
export function tenantPoolOf(cluster: { tenantPool?: string | undefined; nodePools: readonly { name: string; dedicatedTo?: string | undefined }[] }): string | undefined {
  if (cluster.tenantPool !== undefined) return cluster.tenantPool;
  const shared = cluster.nodePools.filter((p) => p.dedicatedTo === undefined);
  return (shared.find((p) => p.name !== "system") ?? shared[0])?.name;
}

/**
 * The pool the platform's own workloads run on (cluster add-ons, Traefik, monitoring, jobs): the
 * undedicated pool named "system", else the shared tenants' pool.
 */
export function systemPoolOf(cluster: { tenantPool: string; nodePools: readonly { name: string; dedicatedTo?: string | undefined }[] }): string {
  return cluster.nodePools.find((p) => p.name === "system" && p.dedicatedTo === undefined)?.name ?? cluster.tenantPool;
}

/** Rules that span keys. They read whatever parsed, so one bad key does not hide the others' problems. */
function crossChecks(parsed: Parsed, raw: Record<string, unknown>, stack: string): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const region = parsed["aws:region"];
  const environment = parsed[`${PROJECT}:environment`];
  const kind = parsed[`${PROJECT}:kind`];
  const zones = parsed[`${PROJECT}:zones`];
  const network = parsed[`${PROJECT}:network`];
  const cluster = parsed[`${PROJECT}:cluster`];

  const drRegion = parsed[`${PROJECT}:drRegion`];
  if (region && drRegion && region === drRegion) {
    add(`${PROJECT}:drRegion`, `must differ from the primary region (aws:region is ${region}); a region loss would take both`);
  }

  if (zones) {
    if (environment === "production" && zones.length < 3) {
      add(`${PROJECT}:zones`, `production stacks need 3 zones or more, got ${zones.length}`);
    }
    const seen = new Set<string>();
    zones.forEach((zone, i) => {
      if (seen.has(zone)) add(`${PROJECT}:zones[${i}]`, `${zone} is listed twice`);
      seen.add(zone);
      if (region && !zone.startsWith(region)) add(`${PROJECT}:zones[${i}]`, `${zone} is not in the primary region ${region}`);
    });
  }

  if (network) {
    try {
      const vpc = parseCidr(network.cidr);
      if (vpc.prefix < 16 || vpc.prefix > MAX_SUBNET_PREFIX) {
        add(`${PROJECT}:network.cidr`, `must have a prefix between /16 and /${MAX_SUBNET_PREFIX}, got /${vpc.prefix}`);
      } else if (zones && smallestSubnetPrefix(vpc.prefix, zones.length) > MAX_SUBNET_PREFIX) {
        add(`${PROJECT}:network.cidr`, `/${vpc.prefix} is too small for ${zones.length} zones (subnets would be smaller than /${MAX_SUBNET_PREFIX})`);
      }
    } catch (error) {
      add(`${PROJECT}:network.cidr`, (error as Error).message);
    }
  }

  if (cluster) {
    // Whether the version is still in standard support depends on the day: policies check that.
    if (eksVersion(cluster.kubernetesVersion)?.addons === undefined) {
      const pinned = EKS_VERSIONS.filter((v) => v.addons !== undefined).map((v) => v.version);
      add(`${PROJECT}:cluster.kubernetesVersion`, `${cluster.kubernetesVersion} has no add-on builds in the EKS calendar (model/eks-versions.ts); use ${pinned.join(" or ")}`);
    }
    cluster.endpointPublicAccessCidrs.forEach((cidr, i) => {
      const path = `${PROJECT}:cluster.endpointPublicAccessCidrs[${i}]`;
      try {
        if (parseCidr(cidr).prefix === 0) add(path, "0.0.0.0/0 would leave the API endpoint open to the internet");
      } catch (error) {
        add(path, (error as Error).message);
      }
    });
    if (environment === "production" && cluster.endpointPublicAccessCidrs.length > 0) {
      add(`${PROJECT}:cluster.endpointPublicAccessCidrs`, "production clusters keep the API endpoint private; deploy from inside the VPC");
    }
    const poolNames = new Set<string>();
    cluster.nodePools.forEach((pool, i) => {
      const path = `${PROJECT}:cluster.nodePools[${i}]`;
      if (poolNames.has(pool.name)) add(`${path}.name`, `node pool ${pool.name} is declared twice`);
      poolNames.add(pool.name);
      if (pool.maxPerZone < pool.minPerZone) add(`${path}.maxPerZone`, `${pool.maxPerZone} is below minPerZone ${pool.minPerZone}`);
    });
    if (cluster.nodePools.every((pool) => pool.dedicatedTo !== undefined)) {
      add(`${PROJECT}:cluster.nodePools`, "at least one pool must not be dedicated to a tenant: cluster add-ons need somewhere to run");
    }
  }

  const { problems: tenantProblems, names } = tenantListChecks(kind, raw);
  problems.push(...tenantProblems);
  const rawTenants = Array.isArray(raw[`${PROJECT}:tenants`]) ? (raw[`${PROJECT}:tenants`] as unknown[]) : [];
  if (kind === "dedicated" && raw[`${PROJECT}:tenants`] !== undefined && rawTenants.length !== 1) {
    add(`${PROJECT}:tenants`, `a dedicated stack serves exactly one tenant, got ${rawTenants.length}`);
  }
  if (kind === "dedicated" && raw[`${PROJECT}:tenants`] === undefined) {
    add(`${PROJECT}:tenants`, "a dedicated stack serves exactly one tenant, got none");
  }
  cluster?.nodePools.forEach((pool, i) => {
    if (pool.dedicatedTo !== undefined && !names.has(pool.dedicatedTo)) {
      add(`${PROJECT}:cluster.nodePools[${i}].dedicatedTo`, `${pool.dedicatedTo} is not a tenant of this stack`);
    }
  });
  problems.push(...dataChecks(parsed, stack));
  problems.push(...capacityChecks(parsed));
  problems.push(...ciChecks(parsed));
  return problems;
}

/** CI roles of the stack's own CI environment, and a runner network that can be peered with the stack's. */
function ciChecks(parsed: Parsed): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const ci = parsed[`${PROJECT}:ci`];
  const environment = parsed[`${PROJECT}:environment`];
  if (!ci) return problems;
  if (environment) {
    const env = ciEnvironmentOf(environment);
    for (const [key, purpose] of [["deployRoleArn", "deploy"], ["previewRoleArn", "preview"]] as [keyof typeof ci, CiPurpose][]) {
      const name = ci[key].split(":role/")[1]?.split("/").pop();
      if (name !== ciRoleName(purpose, env)) {
        problems.push({ path: `${PROJECT}:ci.${key}`, message: `${environment} stacks ${purpose} as ${ciRoleName(purpose, env)} (made by the bootstrap stack), got role ${name}` });
      }
    }
  }
  const path = `${PROJECT}:ci.runnerCidr`;
  try {
    const runners = parseCidr(ci.runnerCidr);
    if (runners.prefix === 0) problems.push({ path, message: "0.0.0.0/0 would admit everyone to the API endpoint" });
    // Peered networks must not overlap: the routes between them could not tell them apart.
    for (const [key, cidr] of [["network", parsed[`${PROJECT}:network`]?.cidr], ["drNetwork", parsed[`${PROJECT}:drNetwork`]?.cidr]] as const) {
      if (cidr === undefined) continue;
      try {
        if (overlaps(runners, parseCidr(cidr))) problems.push({ path, message: `${ci.runnerCidr} overlaps ${PROJECT}:${key}.cidr ${cidr}; the runner network is peered with it` });
      } catch {
        // A malformed network CIDR is reported under its own key.
      }
    }
  } catch (error) {
    problems.push({ path, message: (error as Error).message });
  }
  return problems;
}


/** Duplicate and reserved names, duplicate domains, and tiers the stack kind cannot hold, read from the
 * raw list so a duplicate is found even when another entry is malformed. `review`: a review stack's list. */
function tenantListChecks(kind: StackKind | undefined, raw: Record<string, unknown>, review?: { stack: string }): { problems: SpecProblem[]; names: Map<string, number> } {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const rawTenants = Array.isArray(raw[`${PROJECT}:tenants`]) ? (raw[`${PROJECT}:tenants`] as unknown[]) : [];
  const names = new Map<string, number>();
  const domains = new Map<string, string>();
  rawTenants.forEach((entry, i) => {
    if (typeof entry !== "object" || entry === null) return;
    const tenant = entry as { name?: unknown; tier?: unknown; domains?: unknown };
    const path = `${PROJECT}:tenants[${i}]`;
    if (typeof tenant.name === "string") {
      const first = names.get(tenant.name);
      if (first !== undefined) add(`${path}.name`, `tenant ${tenant.name} is already declared at ${PROJECT}:tenants[${first}]`);
      else names.set(tenant.name, i);
      const unusable = tenantNameProblem(tenant.name, review);
      if (unusable !== undefined) add(`${path}.name`, unusable);
    }
    if (Array.isArray(tenant.domains)) {
      tenant.domains.forEach((domain, j) => {
        if (typeof domain !== "string") return;
        const owner = domains.get(domain);
        if (owner !== undefined) add(`${path}.domains[${j}]`, `${domain} is already served by ${owner}`);
        else domains.set(domain, `${PROJECT}:tenants[${i}]`);
      });
    }
    if (kind && typeof tenant.tier === "string" && tenant.tier in TIERS) {
      const allowed = TIERS[tenant.tier as TierName].stackKinds;
      if (!allowed.includes(kind)) {
        add(`${path}.tier`, `${tenant.tier} tenants run only on ${allowed.join(" or ")} stacks; this stack is ${kind}`);
      }
    }
  });
  return { problems, names };
}

/** Each tenant's quota within its tier's caps, and every pool able to hold its tenants' quotas. */
function capacityChecks(parsed: Parsed): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const environment = parsed[`${PROJECT}:environment`];
  const tenants = parsed[`${PROJECT}:tenants`];
  const cluster = parsed[`${PROJECT}:cluster`];
  const zones = parsed[`${PROJECT}:zones`];
  if (!environment || !tenants) return problems;

  tenants.forEach((tenant, i) => {
    const over = quotaOverCaps(tenantQuota(tenant, environment), tenant.tier);
    if (over.length > 0) {
      problems.push({
        path: `${PROJECT}:tenants[${i}].expectedUsers`,
        message: `${tenant.expectedUsers} users need ${over.join(", ")} of the ${tenant.tier} tier; lower expectedUsers or move the tenant to a larger tier`,
      });
    }
  });
  if (!cluster || !zones) return problems;

  const tenantPool = tenantPoolOf(cluster);
  if (cluster.tenantPool !== undefined && !cluster.nodePools.some((p) => p.name === cluster.tenantPool && p.dedicatedTo === undefined)) {
    problems.push({ path: `${PROJECT}:cluster.tenantPool`, message: `${cluster.tenantPool} is not a shared node pool of this cluster` });
  }
  cluster.nodePools.forEach((pool, i) => {
    const unknown = pool.instanceTypes.filter((t) => EC2_INSTANCE_SIZES[t] === undefined);
    if (unknown.length > 0) {
      problems.push({ path: `${PROJECT}:cluster.nodePools[${i}].instanceTypes`, message: `${unknown.join(", ")} not in the sizing table (tiers/sizing.ts EC2_INSTANCE_SIZES); add it there with its vCPUs and memory` });
      return;
    }
    const onPool = tenants.filter((t) => (cluster.nodePools.find((p) => p.dedicatedTo === t.name)?.name ?? tenantPool) === pool.name);
    if (onPool.length === 0) return;
    const capacity = poolCapacity(pool, zones.length)!;
    const need = onPool.map((t) => tenantQuota(t, environment).requests).reduce((a, b) => ({ cpuMillis: a.cpuMillis + b.cpuMillis, memoryMiB: a.memoryMiB + b.memoryMiB }));
    const path = `${PROJECT}:cluster.nodePools[${i}].maxPerZone`;
    const nodes = pool.maxPerZone * zones.length;
    const offer = `${nodes} node${nodes === 1 ? "" : "s"} at most (${pool.maxPerZone} per zone) offer`;
    const who = `its ${onPool.length} tenant${onPool.length === 1 ? "'s quota requests" : "s' quotas request"}`;
    if (need.cpuMillis > capacity.cpuMillis) {
      problems.push({ path, message: `${who} ${need.cpuMillis / 1000} vCPU at peak; ${offer} ${capacity.cpuMillis / 1000}: over by ${(need.cpuMillis - capacity.cpuMillis) / 1000} vCPU` });
    }
    if (need.memoryMiB > capacity.memoryMiB) {
      problems.push({ path, message: `${who} ${(need.memoryMiB / 1024).toFixed(1)} GiB at peak; ${offer} ${(capacity.memoryMiB / 1024).toFixed(1)} GiB: over by ${((need.memoryMiB - capacity.memoryMiB) / 1024).toFixed(1)} GiB` });
    }
  });
  return problems;
}

function dataChecks(parsed: Parsed, stack: string): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const environment = parsed[`${PROJECT}:environment`];
  const tenants = parsed[`${PROJECT}:tenants`];
  const data = parsed[`${PROJECT}:data`];
  const drRegion = parsed[`${PROJECT}:drRegion`];
  const drNetwork = parsed[`${PROJECT}:drNetwork`];
  const network = parsed[`${PROJECT}:network`];

  if (data && environment) {
    const shardNames = new Map<string, number>();
    data.shards.forEach((shard, i) => {
      const other = shardNames.get(shard.name);
      if (other !== undefined) add(`${PROJECT}:data.shards[${i}].name`, `shard ${shard.name} is already declared at ${PROJECT}:data.shards[${other}]`);
      else shardNames.set(shard.name, i);
    });
    if (data.shards.length > 0 && parsed[`${PROJECT}:kind`] === "dedicated") {
      add(`${PROJECT}:data.shards`, "a dedicated stack serves one tenant: shards are for shared stacks");
    }
    const clusterName = clusterNameFor(stack);
    (tenants ?? []).forEach((tenant, i) => {
      if (tenant.shard !== undefined && !shardNames.has(tenant.shard)) {
        add(`${PROJECT}:tenants[${i}].shard`, `${tenant.shard} is not a declared shard${shardNames.size > 0 ? `; declared: ${[...shardNames.keys()].join(", ")}` : ` (${PROJECT}:data.shards is empty)`}`);
      }
    });
    const shards: { path: string; name?: string; postgres: { instanceClass?: string | undefined; storageGiB: number; maxStorageGiB: number } }[] = [
      { path: `${PROJECT}:data`, postgres: data.postgres },
      ...data.shards.map((shard, i) => ({ path: `${PROJECT}:data.shards[${i}]`, name: shard.name, postgres: shard.postgres })),
    ];
    for (const shard of shards) {
      // A repeated shard name is reported as a duplicate already.
      if (shard.name !== undefined && shards.find((s) => s.name === shard.name) !== shard) continue;
      const served = (tenants ?? []).filter((t) => t.shard === shard.name);
      const where = shard.name === undefined ? "the tenants'" : `shard ${shard.name}'s tenants'`;
      if (shard.name !== undefined && dataShardId(clusterName, shard.name).length > 40) {
        add(`${shard.path}.name`, `makes the replication group id ${dataShardId(clusterName, shard.name)} longer than ElastiCache's 40 characters`);
      }
      if (served.length > MAX_TENANTS_PER_CACHE) {
        add(shard.name === undefined ? `${PROJECT}:tenants` : `${shard.path}.name`, `${served.length} tenants on ${shard.name === undefined ? "the first shard" : `shard ${shard.name}`}: its Valkey group holds at most ${MAX_TENANTS_PER_CACHE} (ElastiCache allows 100 users per user group, one is the disabled default user); add a shard to ${PROJECT}:data.shards and move tenants with \`shard\``);
      }
      const instanceClass = shard.postgres.instanceClass ?? defaultDbInstanceClass(environment);
      if (maxConnectionsCeiling(instanceClass) === undefined) {
        add(`${shard.path}.postgres.instanceClass`, `${instanceClass} is not a known RDS instance class; known: ${Object.keys(RDS_INSTANCE_MEMORY_GIB).join(", ")}`);
      }
      const overBudget = connectionBudgetProblem(served, environment, instanceClass, where);
      if (overBudget) add(`${shard.path}.postgres.instanceClass`, overBudget);
      if (shard.postgres.maxStorageGiB < shard.postgres.storageGiB) {
        add(`${shard.path}.postgres.maxStorageGiB`, `${shard.postgres.maxStorageGiB} is below storageGiB ${shard.postgres.storageGiB}`);
      }
    }
    if (windowsOverlap(data.backupWindow, data.maintenanceWindow)) {
      add(`${PROJECT}:data.maintenanceWindow`, `${data.maintenanceWindow} overlaps the backup window ${data.backupWindow}`);
    }
  }

  const posixOwners = new Map<number, string>();
  (tenants ?? []).forEach((tenant, i) => {
    const id = tenantPosixId(tenant.name);
    const other = posixOwners.get(id);
    // A repeated name is reported as a duplicate tenant already.
    if (other !== undefined && other !== tenant.name) add(`${PROJECT}:tenants[${i}].name`, `${tenant.name} and ${other} map to the same filestore POSIX id ${id}; rename one`);
    posixOwners.set(id, tenant.name);
  });

  const kind = parsed[`${PROJECT}:kind`];
  const needsWarmStandby = environment === "production" && kind === "dedicated" && (tenants ?? []).some((t) => TIERS[t.tier].crossRegion.warmStandby);
  if (needsWarmStandby && parsed[`${PROJECT}:drNetwork`] === undefined) {
    add(`${PROJECT}:drNetwork`, "is required: critical tenants in production get a warm standby in the DR region, which needs its own network");
  }
  if (drNetwork) {
    drNetwork.zones.forEach((zone, i) => {
      if (drRegion && !zone.startsWith(drRegion)) add(`${PROJECT}:drNetwork.zones[${i}]`, `${zone} is not in the DR region ${drRegion}`);
    });
    try {
      const dr = parseCidr(drNetwork.cidr);
      if (dr.prefix < 16 || smallestSubnetPrefix(dr.prefix, drNetwork.zones.length) > MAX_SUBNET_PREFIX) {
        add(`${PROJECT}:drNetwork.cidr`, `/${dr.prefix} cannot hold subnets for ${drNetwork.zones.length} zones`);
      }
      if (network) {
        const primary = parseCidr(network.cidr);
        // Distinct blocks keep peering or a transit gateway between the regions possible.
        if (overlaps(primary, dr)) add(`${PROJECT}:drNetwork.cidr`, `${drNetwork.cidr} overlaps the primary network ${network.cidr}`);
      }
    } catch (error) {
      add(`${PROJECT}:drNetwork.cidr`, (error as Error).message);
    }
  }
  return problems;
}

/** Minutes of the week covered by a daily (`hh:mm-hh:mm`) or weekly (`ddd:hh:mm-ddd:hh:mm`) window. */
function windowMinutes(window: string): Set<number> {
  const days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const minutes = new Set<number>();
  const [from, to] = window.split("-") as [string, string];
  const point = (text: string, day: number) => {
    const parts = text.split(":");
    const [d, h, m] = parts.length === 3 ? [days.indexOf(parts[0]!), Number(parts[1]), Number(parts[2])] : [day, Number(parts[0]), Number(parts[1])];
    return d * 1440 + h * 60 + m;
  };
  const spans = from.split(":").length === 3 ? [[point(from, 0), point(to, 0)]] : days.map((_, d) => [point(from, d), point(to, d)]);
  for (const [start, rawEnd] of spans as [number, number][]) {
    const end = rawEnd <= start ? rawEnd + (from.split(":").length === 3 ? 7 * 1440 : 1440) : rawEnd;
    for (let t = start; t < end; t++) minutes.add(t % (7 * 1440));
  }
  return minutes;
}

export function windowsOverlap(daily: string, weekly: string): boolean {
  const a = windowMinutes(daily);
  for (const t of windowMinutes(weekly)) if (a.has(t)) return true;
  return false;
}
