/** Analyses of a planned stack: the policy pack, evaluated as the policy server would, and recovery. */
import { achievedRecovery, mechanismsFromResources, type RecoveryMechanisms, type RecoveryRow } from "../infra/recovery";
import { parseStackSpec } from "../infra/spec";
import { ALL_POLICIES } from "../policies/all";
import { tenantOfResource } from "../policies/common";
import { workloadsFromResources } from "../policies/data-protection";
import { isolationFindings, sharedCredentialFindings, type IsolationFinding } from "./isolation";
import { evaluatePolicies, type EvaluatedViolation } from "./policy-eval";
import type { PlanRun } from "./run";

export const ISOLATION_ANALYSIS = "tenant-isolation-paths";

export interface Analysis {
  violations: EvaluatedViolation[];
  isolation: IsolationFinding[];
  recovery: { mechanisms: RecoveryMechanisms; rows: RecoveryRow[] };
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
  return { violations: [...evaluation.violations, ...isolationViolations], isolation, recovery: { mechanisms, rows } };
}
