/**
 * The plan's violations: the policy pack's, evaluated over the policy server's view of the resources,
 * then the analyses' findings that would break the stack, each as a mandatory violation of its own.
 */
import { ALL_POLICIES } from "../../policies/all";
import { tenantOfResource } from "../../policies/common";
import type { ValidPlanRun } from "../capture/run";
import type { Analysis } from "../analyses/index";
import { collisionMessage, ruleBreakMessage, serviceCreatedMessage, type NamesAnalysis } from "../analyses/names";
import { zoneShortfalls, type ZoneAnalysis } from "../analyses/zones";
import { evaluatePolicyPack, type EvaluatedViolation } from "./policy-eval";

export const ISOLATION_ANALYSIS = "tenant-isolation-paths";
export const ZONE_ANALYSIS = "zone-failure-tolerance";
export const ADDON_NODES_ANALYSIS = "addons-have-nodes";
export const NAMES_ANALYSIS = "physical-names";

/** `policyConfig`: the `--policy-config` file, per policy its enforcement level and limits. */
export async function evaluate(run: Pick<ValidPlanRun, "policyResources">, analysis: Analysis, policyConfig?: Record<string, Record<string, unknown>>): Promise<EvaluatedViolation[]> {
  const policies = await evaluatePolicyPack(ALL_POLICIES, run.policyResources, { tenantOf: tenantOfResource, ...(policyConfig ? { config: policyConfig } : {}) });
  return [...policies, ...findingViolations(analysis)];
}

/** The analyses' findings as violations, all mandatory: each would break the stack or a tenant's contract. */
function findingViolations(analysis: Analysis): EvaluatedViolation[] {
  // A path between tenants, or a way in other than Traefik, is as serious as a mandatory policy.
  const isolation: EvaluatedViolation[] = analysis.isolation.map((f) => ({ policy: ISOLATION_ANALYSIS, enforcementLevel: "mandatory", urn: null, message: f.message, tenant: f.tenant }));
  // An add-on with no node to run on fails its first create after 20 minutes.
  const addonNodes: EvaluatedViolation[] = analysis.addonNodes.map((f) => ({ policy: ADDON_NODES_ANALYSIS, enforcementLevel: "mandatory", urn: f.urn, message: f.message, tenant: null }));
  return [...isolation, ...(analysis.zones ? zoneViolations(analysis.zones) : []), ...addonNodes, ...nameViolations(analysis.names)];
}

/** A tenant its tier says survives a zone loss, and does not, is a mandatory violation in production. */
function zoneViolations(zones: ZoneAnalysis): EvaluatedViolation[] {
  return zoneShortfalls(zones).map((r) => ({
    policy: ZONE_ANALYSIS,
    enforcementLevel: "mandatory",
    urn: null,
    message: `${r.tenant} (${r.tier}) must stay ${r.required === "serving" ? "serving" : "recoverable"} when ${r.zone} is lost, but is ${r.outcome}: ${r.reasons.join("; ")}`,
    tenant: r.tenant,
  }));
}

/** Two resources claiming one physical name, or a name its API refuses: the first `up` would fail. */
function nameViolations(names: NamesAnalysis): EvaluatedViolation[] {
  const violation = (urn: string | null, message: string): EvaluatedViolation => ({ policy: NAMES_ANALYSIS, enforcementLevel: "mandatory", urn, message, tenant: null });
  return [
    ...names.collisions.map((c) => violation(c.urns[1] ?? null, collisionMessage(c))),
    ...names.ruleBreaks.map((b) => violation(b.urn, ruleBreakMessage(b))),
    ...names.createdByService.map((c) => violation(c.claimUrn, serviceCreatedMessage(c))),
    ...names.duplicateUrns.map((urn) => violation(urn, `${urn} is registered more than once: the engine refuses a duplicate URN`)),
  ];
}
