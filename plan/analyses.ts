/** Analyses of a planned stack: for now the recovery contract of every tenant. */
import { achievedRecovery, formatMinutes, mechanismsFromResources, recoveryShortfalls, type RecoveryMechanisms, type RecoveryRow, type TenantWorkload } from "../infra/recovery";
import { sizeOdoo } from "../infra/sizing";
import { parsePlatformSpec, type PlatformSpec } from "../infra/spec";
import type { PlanViolation } from "./report";
import type { PlanRun } from "./run";

export const RECOVERY_POLICY = "tier-recovery-contract";

/**
 * Web replicas per tenant and the zones they spread over, as the sizing rules decide them.
 * (The Odoo workloads arrive with the tenants component; then this reads their Deployments.)
 */
export function tenantWorkloads(spec: PlatformSpec): TenantWorkload[] {
  return spec.tenants.map((t) => {
    const webReplicas = sizeOdoo(t, spec.environment).webReplicas;
    return { name: t.name, tier: t.tier, webReplicas, webZones: Math.min(webReplicas, spec.zones.length) };
  });
}

export function recoveryOf(run: PlanRun): { recovery: { mechanisms: RecoveryMechanisms; rows: RecoveryRow[] }; violations: PlanViolation[] } {
  const spec = parsePlatformSpec(run.config, run.stack, run.stackFile);
  const mechanisms = mechanismsFromResources(run.resources);
  const rows = achievedRecovery(mechanisms, tenantWorkloads(spec), spec.environment);
  const violations = recoveryShortfalls(rows).map((row) => ({
    policy: RECOVERY_POLICY,
    enforcementLevel: "mandatory" as const,
    urn: null,
    message:
      `tenant ${row.tenant} (${row.tier}): ${row.objective} for ${row.fault} is ` +
      (row.objective === "PITR window" ? `${row.achieved ?? 0} days, the tier promises ${row.contract}` : `${formatMinutes(row.achieved)}, the tier promises ${formatMinutes(row.contract)}`) +
      ` (via ${row.via})`,
  }));
  return { recovery: { mechanisms, rows }, violations };
}
