/** PostgreSQL servers audit who connects and who changes roles, grants and schema (model/postgres-audit.ts). */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { auditGaps } from "../model/postgres-audit";
import { BACKUP_TIER_TAG } from "../model/tags";
import { awsTags } from "./common";

const PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup";

/** The parameter group an RDS instance is planned with: the one its inputs depend on. */
function parameterGroupOf(instance: PolicyResource): PolicyResource | undefined {
  return instance.dependencies.find((d) => d.type === PARAMETER_GROUP);
}

export const postgresAuditLogging: StackValidationPolicy = {
  name: "postgres-audit-logging",
  description:
    "Every PostgreSQL RDS instance (primary and replica) uses a parameter group of ours that logs connections and disconnections, loads pgAudit and audits DDL and role changes, with log_statement off (it writes passwords in plain text) and no bound parameters in the log; every tier needs it.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  remediationSteps: "Use the PostgresServer component, whose parameter group carries model/postgres-audit.ts's AUDIT_PARAMETERS and loads pgaudit; reboot a server that existed before to load the library.",
  validateStack: (args, reportViolation) => {
    for (const instance of args.resources.filter((r) => r.type === "aws:rds/instance:Instance")) {
      const replica = instance.props.replicateSourceDb !== undefined;
      if (!replica && instance.props.engine !== "postgres") continue;
      const id = String(instance.props.identifier ?? instance.name);
      const tier = awsTags(instance.props)[BACKUP_TIER_TAG];
      const what = tier ? `RDS ${id} (${tier} tier)` : `RDS ${id}`;
      const group = parameterGroupOf(instance);
      if (!group) {
        reportViolation(`${what} uses RDS's default parameter group: no connection logging and no pgAudit`, instance.urn);
        continue;
      }
      const gaps = auditGaps((group.props.parameters ?? []) as { name: string; value: string }[]);
      for (const gap of gaps) reportViolation(`${what}: parameter group ${group.name} ${gap}`, instance.urn);
    }
  },
};

export const postgresPolicies = [postgresAuditLogging];
