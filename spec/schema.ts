/**
 * The shape of a stack file: one zod schema per configuration key, for platform, review and
 * bootstrap stacks. Rules that span keys live in rules/; defaults that depend on the environment in
 * defaults.ts.
 */
import { z } from "zod";
import { ENVIRONMENTS, PROJECT } from "../model/stack";
import { TIER_NAMES } from "../tiers/catalogue";

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

const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,64}$/;

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
export const CONFIG_KEYS = {
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
export const REVIEW_KEYS = {
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

export const BOOTSTRAP_KEYS = {
  "aws:region": CONFIG_KEYS["aws:region"],
  [`${PROJECT}:environment`]: CONFIG_KEYS[`${PROJECT}:environment`],
  [`${PROJECT}:owner`]: CONFIG_KEYS[`${PROJECT}:owner`],
  [`${PROJECT}:costCentre`]: CONFIG_KEYS[`${PROJECT}:costCentre`],
  [`${PROJECT}:bootstrap`]: bootstrapSchema,
} as const;

/** What parsed of a platform stack's keys: each is absent when its value did not parse. */
export type Parsed = { [K in keyof typeof CONFIG_KEYS]?: z.infer<(typeof CONFIG_KEYS)[K]> };
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type DataConfig = z.infer<typeof dataSchema>;
export type BootstrapConfig = z.infer<typeof bootstrapSchema>;
