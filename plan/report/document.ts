/** The plan's JSON document (shared/product/plan-format.md): what the steps before it found, in one place. */
import type { RecoveryMechanisms, RecoveryRow } from "../../tiers/recovery";
import type { CapturedResource } from "../../model/resource";
import type { PlanRun } from "../capture/run";
import type { TenantSummary } from "../analyses/index";
import type { NameCollision, NamingRuleBreak, ServiceCreatedName } from "../analyses/names";
import type { ZoneAnalysis } from "../analyses/zones";
import type { PlanViolation } from "../evaluation/policy-eval";

export interface PlanDocument {
  project: string;
  stack: string;
  stackFile: string;
  resources: CapturedResource[];
  violations: PlanViolation[];
  summary: { resourceCount: number; byType: Record<string, number> };
  outputs?: Record<string, unknown>;
  errors?: { path: string; message: string }[];
  /** Achieved RPO/RTO per tenant and fault, next to the tier's contract. */
  recovery?: { mechanisms: RecoveryMechanisms; rows: RecoveryRow[] };
  /** Paths between tenants' pods and ways into a tenant other than Traefik (expected: none). */
  isolation?: { kind: string; channel: string; tenant: string; message: string }[];
  /** Each isolation channel (network, database, cache, filesystem, iam, jobs, hostnames, rbac): what it checked and how many findings. */
  isolationChannels?: { channel: string; checked: number; unit: string; findings: number }[];
  /** Each tenant's tier, shard, sizing and quota, as planned. */
  tenants?: TenantSummary[];
  /** Zone-failure simulation: per zone lost, what each tenant keeps and the capacity left. */
  zones?: ZoneAnalysis;
  /** Physical names checked (where the cloud needs them unique), and those it would refuse (expected: none). */
  names?: { checked: number; autonamed: number; collisions: NameCollision[]; ruleBreaks: NamingRuleBreak[]; duplicateUrns: string[]; createdByService: ServiceCreatedName[] };
  /** With `--against`: what changes relative to the previous plan. */
  changes?: ResourceChange[];
  offlinePlaceholders: string[];
}

/** One resource of the document against the previous plan (`--against`). */
export interface ResourceChange {
  urn: string;
  type: string;
  /** `replace`: an update that changes a force-new input of a stateful type. */
  change: "add" | "remove" | "update" | "replace";
  /** Input paths that differ (updates and replacements), e.g. `spec.replicas`, `tags.owner`. */
  paths: string[];
  stateful: boolean;
  /** For replacements: the changed paths that force it. */
  replaceBecause?: string[];
}

export function countByType(resources: readonly CapturedResource[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

export function planDocument(
  run: PlanRun,
  violations: PlanViolation[] = [],
  recovery?: { mechanisms: RecoveryMechanisms; rows: RecoveryRow[] },
): PlanDocument {
  // An invalid configuration plans nothing: `resources` is empty by contract.
  const resources = run.specError ? [] : run.resources;
  return {
    project: run.project,
    stack: run.stack,
    stackFile: run.stackFile,
    resources,
    violations,
    summary: { resourceCount: resources.length, byType: countByType(resources) },
    ...(run.outputs ? { outputs: run.outputs } : {}),
    ...(run.specError ? { errors: run.specError.problems.map((p) => ({ path: p.path, message: p.message })) } : {}),
    ...(recovery && !run.specError ? { recovery } : {}),
    offlinePlaceholders: run.placeholders,
  };
}

/** 0: valid, no mandatory violation; 1: a mandatory violation; 2: invalid configuration. */
export function exitCode(document: PlanDocument): 0 | 1 | 2 {
  if (document.errors) return 2;
  return document.violations.some((v) => v.enforcementLevel === "mandatory") ? 1 : 0;
}
