/** Analyses of a planned stack: the policy pack, evaluated as the policy server would, and recovery. */
import { achievedRecovery, mechanismsFromResources, type RecoveryMechanisms, type RecoveryRow } from "../infra/recovery";
import { sizeOdoo, tenantQuota, type Compute, type Environment } from "../infra/sizing";
import { parseStackSpec, type TenantSpec } from "../infra/spec";
import type { TierName } from "../infra/tiers";
import { ALL_POLICIES } from "../policies/all";
import { tenantOfResource } from "../policies/common";
import { workloadsFromResources } from "../policies/data-protection";
import { isolationFindings, sharedCredentialFindings, type IsolationFinding } from "./isolation";
import { evaluatePolicies, type EvaluatedViolation } from "./policy-eval";
import type { PlanRun } from "./run";
import { simulateZoneLoss, zoneModelFromResources, zoneShortfalls, type ZoneAnalysis } from "./zones";

export const ISOLATION_ANALYSIS = "tenant-isolation-paths";
export const ZONE_ANALYSIS = "zone-failure-tolerance";

/** One line per tenant of what the plan sized for it: the reports' tenant table. */
export interface TenantSummary {
  name: string;
  tier: TierName;
  /** The data shard holding its database and sessions ("" for the stack's first). */
  shard: string;
  expectedUsers: number;
  webReplicas: number;
  maxWebReplicas: number;
  workersPerPod: number;
  peakConnections: number;
  quota: { requests: Compute; limits: Compute; pods: number };
}

export function tenantSummaries(tenants: readonly TenantSpec[], environment: Environment): TenantSummary[] {
  return tenants.map((t) => {
    const sizing = sizeOdoo(t, environment);
    const quota = tenantQuota(t, environment);
    return {
      name: t.name,
      tier: t.tier,
      shard: t.shard ?? "",
      expectedUsers: t.expectedUsers,
      webReplicas: sizing.webReplicas,
      maxWebReplicas: sizing.maxWebReplicas,
      workersPerPod: sizing.workersPerPod,
      peakConnections: sizing.peakConnections,
      quota: { requests: quota.requests, limits: quota.limits, pods: quota.pods },
    };
  });
}

export interface Analysis {
  violations: EvaluatedViolation[];
  isolation: IsolationFinding[];
  recovery: { mechanisms: RecoveryMechanisms; rows: RecoveryRow[] };
  /** Absent for review stacks: their zones are their host's. */
  zones?: ZoneAnalysis;
  tenants: TenantSummary[];
}

export async function analyse(run: Pick<PlanRun, "config" | "stack" | "stackFile" | "resources" | "rawInputs">, policyConfig?: Record<string, Record<string, unknown>>): Promise<Analysis> {
  const spec = parseStackSpec(run.config, run.stack, run.stackFile);
  const evaluation = await evaluatePolicies(
    ALL_POLICIES,
    run.resources.map((resource) => ({ resource, raw: run.rawInputs.get(resource) })),
    { tenantOf: tenantOfResource, ...(policyConfig ? { config: policyConfig } : {}) },
  );
  const mechanisms = mechanismsFromResources(run.resources);
  const rows = achievedRecovery(mechanisms, workloadsFromResources(evaluation.resources), spec.environment);
  // A path between tenants, or a way in other than Traefik, is as serious as a mandatory policy.
  const isolation = [...isolationFindings(evaluation.resources), ...sharedCredentialFindings(evaluation.resources)];
  const isolationViolations: EvaluatedViolation[] = isolation.map((f) => ({ policy: ISOLATION_ANALYSIS, enforcementLevel: "mandatory", urn: null, message: f.message, tenant: f.tenant }));
  // A tenant its tier says survives a zone loss, and does not, is a mandatory violation in production.
  const zones = spec.mode === "platform" ? simulateZoneLoss(zoneModelFromResources(run.resources, spec), spec.environment) : undefined;
  const zoneViolations: EvaluatedViolation[] = (zones ? zoneShortfalls(zones) : []).map((r) => ({
    policy: ZONE_ANALYSIS,
    enforcementLevel: "mandatory",
    urn: null,
    message: `${r.tenant} (${r.tier}) must stay ${r.required === "serving" ? "serving" : "recoverable"} when ${r.zone} is lost, but is ${r.outcome}: ${r.reasons.join("; ")}`,
    tenant: r.tenant,
  }));
  return { violations: [...evaluation.violations, ...isolationViolations, ...zoneViolations], isolation, recovery: { mechanisms, rows }, ...(zones ? { zones } : {}), tenants: tenantSummaries(spec.mode === "bootstrap" ? [] : spec.tenants, spec.environment) };
}
