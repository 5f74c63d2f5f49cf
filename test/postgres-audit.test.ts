/**
 * postgres-audit-logging over the planned stacks: each primary and DR replica passes as planned, and
 * each way a parameter group can lose the audit (no pgAudit, no connection log, too few classes,
 * passwords in the log, RDS's default group) fails with its exact message. And the rule itself
 * (model/postgres-audit.ts), as pgAudit reads a class list.
 */
import { describe, expect, test } from "vitest";
import { odooPostgresParameters } from "../components/data/postgres";
import type { CapturedResource } from "../model/resource";
import { AUDIT_PARAMETERS, auditGaps, pgauditClasses } from "../model/postgres-audit";
import { evaluatePolicies } from "../plan/evaluation/policy-eval";
import type { PlanDocument } from "../plan/report/document";
import { tenantOfResource } from "../policies/common";
import { postgresAuditLogging } from "../policies/postgres";
import { stackPlan } from "./plan-cli";

type R = CapturedResource & { inputs: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
type Parameter = { name: string; value: string; applyMethod: string };

const RDS_INSTANCE = "aws:rds/instance:Instance";
const RDS_PARAMETERS = "aws:rds/parameterGroup:ParameterGroup";

async function violations(stack: string, mutate: (resources: R[]) => void = () => undefined): Promise<string[]> {
  const doc: PlanDocument = stackPlan(stack).document;
  const resources = structuredClone(doc.resources) as R[];
  mutate(resources);
  const result = await evaluatePolicies([postgresAuditLogging], resources.map((resource) => ({ resource })), { tenantOf: tenantOfResource });
  return result.violations.map((v) => `${v.enforcementLevel}: ${v.message}`);
}

const find = (resources: R[], name: string, type: string) => {
  const found = resources.find((r) => r.name === name && r.type === type);
  if (!found) throw new Error(`no ${type} ${name}`);
  return found;
};
/** The parameters of a planned group, to change in place. */
const parametersOf = (resources: R[], name: string) => find(resources, name, RDS_PARAMETERS).inputs.parameters as Parameter[];
const set = (parameters: Parameter[], name: string, value: string | undefined) => {
  const at = parameters.findIndex((p) => p.name === name);
  if (at >= 0) parameters.splice(at, 1);
  if (value !== undefined) parameters.push({ name, value, applyMethod: "immediate" });
};

describe("postgres-audit-logging", () => {
  test.each(["shared-prod", "dedicated-acme-prod", "shared-dev"])("passes on the planned %s (primaries and DR replicas)", async (stack) => {
    const resources = stackPlan(stack).document.resources;
    expect(resources.filter((r) => r.type === RDS_INSTANCE).length).toBeGreaterThan(0);
    expect(await violations(stack)).toEqual([]);
  });

  test.each<[string, (p: Parameter[]) => void, string]>([
    ["pgaudit not preloaded", (p) => set(p, "shared_preload_libraries", "pg_stat_statements"), "does not load pgaudit in shared_preload_libraries"],
    ["no connection log", (p) => set(p, "log_connections", undefined), "does not set log_connections (connections go unrecorded)"],
    ["no disconnection log", (p) => set(p, "log_disconnections", "0"), "does not set log_disconnections (connections go unrecorded)"],
    ["role changes not audited", (p) => set(p, "pgaudit.log", "ddl"), 'pgaudit.log is "ddl": it does not audit role'],
    ["everything but role changes", (p) => set(p, "pgaudit.log", "all,-role"), 'pgaudit.log is "all,-role": it does not audit role'],
    ["bound values logged", (p) => set(p, "pgaudit.log_parameter", "1"), "sets pgaudit.log_parameter, which writes bound values (secrets among them) to the log"],
    ["the DDL audit by log_statement instead", (p) => set(p, "log_statement", "ddl"), "sets log_statement = ddl, which writes role passwords to the log in plain text (pgAudit's role class redacts them)"],
  ])("fails on shared-prod when the group has %s", async (_, change, gap) => {
    expect(await violations("shared-prod", (r) => change(parametersOf(r, "shared-prod-postgres")))).toEqual([`mandatory: RDS odoo-shared-prod (business tier): parameter group shared-prod-postgres ${gap}`]);
  });

  test("fails on the DR replica's own group too (parameter groups are regional)", async () => {
    const got = await violations("dedicated-acme-prod", (r) => set(parametersOf(r, "dedicated-acme-prod-postgres-dr"), "log_connections", "0"));
    expect(got).toEqual(["mandatory: RDS odoo-dedicated-acme-prod-dr (critical tier): parameter group dedicated-acme-prod-postgres-dr does not set log_connections (connections go unrecorded)"]);
  });

  test("fails on an instance left on RDS's default parameter group", async () => {
    const got = await violations("shared-prod", (r) => {
      const instance = find(r, "shared-prod-postgres", RDS_INSTANCE);
      const group = find(r, "shared-prod-postgres", RDS_PARAMETERS);
      instance.dependsOn = instance.dependsOn.filter((urn) => urn !== group.urn);
      delete instance.inputs.parameterGroupName;
    });
    expect(got).toEqual(["mandatory: RDS odoo-shared-prod (business tier) uses RDS's default parameter group: no connection logging and no pgAudit"]);
  });
});

describe("the audit rule (model/postgres-audit.ts)", () => {
  test("the component's parameter group has no gap, and carries every audit parameter as written", () => {
    const planned = odooPostgresParameters();
    expect(auditGaps(planned)).toEqual([]);
    for (const p of AUDIT_PARAMETERS) expect(planned).toContainEqual(p);
    expect(planned.find((p) => p.name === "shared_preload_libraries")).toEqual({ name: "shared_preload_libraries", value: "pg_stat_statements,pgaudit", applyMethod: "pending-reboot" });
  });

  test("RDS's default group (no parameters of ours) lacks every part", () => {
    expect(auditGaps([])).toEqual([
      "does not set log_connections (connections go unrecorded)",
      "does not set log_disconnections (connections go unrecorded)",
      "does not load pgaudit in shared_preload_libraries",
      'pgaudit.log is "": it does not audit ddl, role',
    ]);
  });

  test.each<[string, string[]]>([
    ["ddl,role", ["ddl", "role"]],
    ["ALL", ["ddl", "function", "misc", "misc_set", "read", "role", "write"]],
    ["all, -read, -write", ["ddl", "function", "misc", "misc_set", "role"]],
    ["none", []],
    ["role,-role", []],
  ])("pgaudit.log %j audits %j", (value, classes) => {
    expect([...pgauditClasses(value)].sort()).toEqual(classes);
  });

  test("booleans as PostgreSQL spells them", () => {
    const base = odooPostgresParameters().filter((p) => p.name !== "log_connections");
    expect(auditGaps([...base, { name: "log_connections", value: "on" }])).toEqual([]);
    expect(auditGaps([...base, { name: "log_connections", value: "off" }])).toEqual(["does not set log_connections (connections go unrecorded)"]);
  });
});
