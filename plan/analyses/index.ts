/** Analyses of a planned stack: the policy pack, evaluated as the policy server would, and recovery. */
import { achievedRecovery, mechanismsFromResources, type RecoveryMechanisms, type RecoveryRow } from "../../tiers/recovery";
import { sizeOdoo, tenantQuota, type Compute } from "../../tiers/sizing";
import type { Environment } from "../../model/stack";
import { parseStackSpec, type TenantSpec } from "../../spec/index";
import type { TierName } from "../../tiers/catalogue";
import { ALL_POLICIES } from "../../policies/all";
import { tenantOfResource } from "../../policies/common";
import { workloadsFromResources } from "../../policies/data-protection";
import { addonNodeFindings, clusterAddonModels } from "./addon-nodes";
import { isolationFindings, sharedCredentialFindings, type IsolationFinding } from "./isolation";
import { analyseNames, collisionMessage, NAMES_ANALYSIS, ruleBreakMessage, serviceCreatedMessage, type NamesAnalysis } from "./names";
import { evaluatePolicies, type EvaluatedViolation } from "../evaluation/policy-eval";
import type { PlanRun } from "../capture/run";
import { simulateZoneLoss, zoneModelFromResources, zoneShortfalls, type ZoneAnalysis } from "./zones";

export const ISOLATION_ANALYSIS = "tenant-isolation-paths";
export const ZONE_ANALYSIS = "zone-failure-tolerance";
export const ADDON_NODES_ANALYSIS = "addons-have-nodes";

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
  names: NamesAnalysis;
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
  // An add-on with no node to run on fails its first create after 20 minutes.
  const addonViolations: EvaluatedViolation[] = addonNodeFindings(clusterAddonModels(run.resources)).map((f) => ({
    policy: ADDON_NODES_ANALYSIS,
    enforcementLevel: "mandatory",
    urn: f.urn,
    message: f.message,
    tenant: null,
  }));
  // Two resources claiming one physical name, or a name its API refuses: the first `up` would fail.
  const names = analyseNames(run.resources, { defaultRegion: run.config["aws:region"] ?? "(no aws:region)" });
  const nameViolations: EvaluatedViolation[] = [
    ...names.collisions.map((c) => ({ policy: NAMES_ANALYSIS, enforcementLevel: "mandatory" as const, urn: c.urns[1] ?? null, message: collisionMessage(c), tenant: null })),
    ...names.ruleBreaks.map((b) => ({ policy: NAMES_ANALYSIS, enforcementLevel: "mandatory" as const, urn: b.urn, message: ruleBreakMessage(b), tenant: null })),
    ...names.createdByService.map((c) => ({ policy: NAMES_ANALYSIS, enforcementLevel: "mandatory" as const, urn: c.claimUrn, message: serviceCreatedMessage(c), tenant: null })),
    ...names.duplicateUrns.map((urn) => ({ policy: NAMES_ANALYSIS, enforcementLevel: "mandatory" as const, urn, message: `${urn} is registered more than once: the engine refuses a duplicate URN`, tenant: null })),
  ];
  return {
    violations: [...evaluation.violations, ...isolationViolations, ...zoneViolations, ...addonViolations, ...nameViolations],
    isolation,
    recovery: { mechanisms, rows },
    ...(zones ? { zones } : {}),
    tenants: tenantSummaries(spec.mode === "bootstrap" ? [] : spec.tenants, spec.environment),
    names,
  };
}
