export type Tags = Record<string, string>;

/**
 * The tier tag, one format for everything that belongs to a tenant: AWS tags (cost allocation by tenant
 * and tier, the tagging policy), Kubernetes labels (policies, monitoring selectors) and alert labels.
 */
export const TENANT_TAG = "tenant";
export const TIER_TAG = "tier";
/** A subnet's role in the VPC layout (`public`, `private` for nodes and pods, `isolated` for data stores). */
export const SUBNET_ROLE_TAG = "odoo-fleet/subnet-role";
/** Whether the stack is shared or dedicated: what the tier catalogue says each tier may live on. */
export const STACK_KIND_TAG = "stack-kind";

/** The tenant and tier keys of a tenant's resources and objects, as tags or as labels. */
export function tenantLabels(tenant: string, tier: string): { readonly [TENANT_TAG]: string; readonly [TIER_TAG]: string } {
  return { [TENANT_TAG]: tenant, [TIER_TAG]: tier };
}

/** Tags every resource of the stack carries (cost allocation, policy checks, ownership). */
export function platformTags(spec: { readonly project: string; readonly stack: string; readonly environment: string; readonly kind: string; readonly owner: string; readonly costCentre: string }): Tags {
  return {
    project: spec.project,
    stack: spec.stack,
    environment: spec.environment,
    [STACK_KIND_TAG]: spec.kind,
    owner: spec.owner,
    "cost-centre": spec.costCentre,
    "managed-by": "pulumi",
  };
}

/** Tags of a resource that belongs to one tenant: the platform's plus its tenant and tier. */
export function tenantTags(base: Tags, tenant: { readonly name: string; readonly tier: string }): Tags {
  return { ...base, ...tenantLabels(tenant.name, tenant.tier) };
}

/** What a bucket holds (`backups` or `access-logs`): policies check each kind for what it needs. */
export const BUCKET_PURPOSE_TAG = "odoo-fleet/purpose";

/** The object tag a backup job puts on what it writes: its tenant's tier, which sets the expiry. */
export const BACKUP_OBJECT_TIER_TAG = "odoo-fleet-tier";

/** The tier whose AWS Backup plan selects a shared data store (a shard serves tenants of several tiers). */
export const BACKUP_TIER_TAG = "odoo-fleet/backup-tier";
