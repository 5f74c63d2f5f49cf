/** Analyses of a planned stack: the policy pack, evaluated as the policy server would, and recovery. */
import { achievedRecovery, mechanismsFromResources, type RecoveryMechanisms, type RecoveryRow } from "../infra/recovery";
import { parseStackSpec } from "../infra/spec";
import { ALL_POLICIES } from "../policies/all";
import { tenantOfResource } from "../policies/common";
import { workloadsFromResources } from "../policies/data-protection";
import { evaluatePolicies, type EvaluatedViolation } from "./policy-eval";
import type { PlanRun } from "./run";

export interface Analysis {
  violations: EvaluatedViolation[];
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
  return { violations: evaluation.violations, recovery: { mechanisms, rows } };
}
