/** Rules on a stack's tenants as a list: names, domains, tiers the stack kind holds, dedicated stacks and pools. */
import { PROJECT } from "../../model/stack";
import { tenantPosixId } from "../../model/naming";
import { TIERS, type StackKind, type TierName } from "../../tiers/catalogue";
import type { SpecProblem } from "../errors";
import type { Parsed } from "../schema";

/**
 * Tenant names the platform keeps for itself: a tenant so named would claim a name the platform already
 * claims, which `pulumi up` finds only halfway through (the plan's physical-names analysis, plan/analyses/names.ts,
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
const REVIEW_TENANT_PREFIX = "pr-";

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

/** The tenants list as written, before its entries parse. */
function rawTenantsOf(raw: Record<string, unknown>): unknown[] {
  return Array.isArray(raw[`${PROJECT}:tenants`]) ? (raw[`${PROJECT}:tenants`] as unknown[]) : [];
}

/** Duplicate and reserved names, duplicate domains, and tiers the stack kind cannot hold, read from the
 * raw list so a duplicate is found even when another entry is malformed. `review`: a review stack's list. */
export function tenantListChecks(kind: StackKind | undefined, raw: Record<string, unknown>, review?: { stack: string }): { problems: SpecProblem[]; names: Map<string, number> } {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const rawTenants = rawTenantsOf(raw);
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

/** A dedicated stack serves exactly one tenant; a dedicated pool serves a tenant of the stack. `names`: the declared tenants'. */
export function dedicatedTenantChecks(parsed: Parsed, raw: Record<string, unknown>, names: ReadonlyMap<string, number>): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const kind = parsed[`${PROJECT}:kind`];
  const rawTenants = rawTenantsOf(raw);
  if (kind === "dedicated" && raw[`${PROJECT}:tenants`] !== undefined && rawTenants.length !== 1) {
    add(`${PROJECT}:tenants`, `a dedicated stack serves exactly one tenant, got ${rawTenants.length}`);
  }
  if (kind === "dedicated" && raw[`${PROJECT}:tenants`] === undefined) {
    add(`${PROJECT}:tenants`, "a dedicated stack serves exactly one tenant, got none");
  }
  parsed[`${PROJECT}:cluster`]?.nodePools.forEach((pool, i) => {
    if (pool.dedicatedTo !== undefined && !names.has(pool.dedicatedTo)) {
      add(`${PROJECT}:cluster.nodePools[${i}].dedicatedTo`, `${pool.dedicatedTo} is not a tenant of this stack`);
    }
  });
  return problems;
}

/** Tenants of one stack share a file system: each needs a POSIX id of its own. */
export function posixIdChecks(parsed: Parsed): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const posixOwners = new Map<number, string>();
  (parsed[`${PROJECT}:tenants`] ?? []).forEach((tenant, i) => {
    const id = tenantPosixId(tenant.name);
    const other = posixOwners.get(id);
    // A repeated name is reported as a duplicate tenant already.
    if (other !== undefined && other !== tenant.name) problems.push({ path: `${PROJECT}:tenants[${i}].name`, message: `${tenant.name} and ${other} map to the same filestore POSIX id ${id}; rename one` });
    posixOwners.set(id, tenant.name);
  });
  return problems;
}
