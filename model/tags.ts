import type { PlatformSpec, TenantSpec } from "../spec/index";

export type Tags = Record<string, string>;

/** Tags every resource of the stack carries (cost allocation, policy checks, ownership). */
export function platformTags(spec: Pick<PlatformSpec, "project" | "stack" | "environment" | "kind" | "owner" | "costCentre">): Tags {
  return {
    project: spec.project,
    stack: spec.stack,
    environment: spec.environment,
    "stack-kind": spec.kind,
    owner: spec.owner,
    "cost-centre": spec.costCentre,
    "managed-by": "pulumi",
  };
}

/** Tags of a resource that belongs to one tenant: the platform's plus its tenant and tier. */
export function tenantTags(base: Tags, tenant: Pick<TenantSpec, "name" | "tier">): Tags {
  return { ...base, tenant: tenant.name, tier: tenant.tier };
}
