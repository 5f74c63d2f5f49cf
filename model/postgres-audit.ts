/**
 * What every PostgreSQL server of the fleet writes to its log for audit, and the one rule that judges
 * a parameter group against it: the data component builds its parameter group from AUDIT_PARAMETERS,
 * the policy pack checks planned groups with auditGaps.
 *
 * The same on every tier. A shard serves tenants of several tiers, and what the audit is for, a
 * record of who connected and who changed roles, grants or schema, is evidence each tenant needs
 * against its neighbours whatever it pays: an essential-only shard hosts hostile neighbours too.
 *
 * pgAudit, not `log_statement = ddl`: pgAudit's ROLE class redacts passwords of CREATE/ALTER ROLE,
 * which `log_statement` writes in plain text (RDS: "Using pgAudit to log database activity",
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.pgaudit.html;
 * "Turning on query logging", USER_LogAccess.Concepts.PostgreSQL.Query_Logging), and it also logs
 * statements run inside functions (a tenant's function granting itself a role during a restore),
 * which `log_statement` only sees as the top-level call.
 */

/** One parameter of an RDS parameter group, with RDS's apply method. */
export interface AuditParameter {
  readonly name: string;
  readonly value: string;
  readonly applyMethod: "immediate" | "pending-reboot";
}

/** The library pgAudit is loaded as; `shared_preload_libraries` is static on RDS (applied at reboot). */
export const PGAUDIT_LIBRARY = "pgaudit";

/** pgAudit statement classes every server logs: schema changes, and roles, grants and passwords. */
export const PGAUDIT_CLASSES = ["ddl", "role"] as const;

/**
 * The audit settings of a parameter group, besides pgaudit in shared_preload_libraries. All dynamic
 * on RDS: log_connections and log_disconnections take effect for new sessions, pgaudit.log at once
 * ("Setting up the pgAudit extension", Appendix.PostgreSQL.CommonDBATasks.pgaudit.basic-setup).
 */
export const AUDIT_PARAMETERS: readonly AuditParameter[] = [
  // Who connected, from where, to which database, and for how long.
  { name: "log_connections", value: "1", applyMethod: "immediate" },
  { name: "log_disconnections", value: "1", applyMethod: "immediate" },
  { name: "pgaudit.log", value: PGAUDIT_CLASSES.join(","), applyMethod: "immediate" },
  // Bound parameters can be secrets (Odoo binds password hashes and tokens): never in the log.
  { name: "pgaudit.log_parameter", value: "0", applyMethod: "immediate" },
];

const ON = new Set(["1", "on", "true", "yes"]);

/** The classes a pgaudit.log value audits: a list, `all`, and `-class` exclusions as pgAudit reads them. */
export function pgauditClasses(value: string): Set<string> {
  const all = ["read", "write", "function", "role", "ddl", "misc", "misc_set"];
  const classes = new Set<string>();
  for (const raw of value.toLowerCase().split(",").map((c) => c.trim()).filter(Boolean)) {
    const remove = raw.startsWith("-");
    const name = remove ? raw.slice(1) : raw;
    for (const c of name === "all" ? all : name === "none" ? [] : [name]) {
      if (remove) classes.delete(c);
      else classes.add(c);
    }
  }
  return classes;
}

/**
 * What a PostgreSQL parameter group lacks of the fleet's audit logging, one sentence each; empty when
 * it has it all. Values as RDS takes them: booleans as 1/0 (or on/off), lists comma-separated.
 */
export function auditGaps(parameters: readonly { readonly name: string; readonly value: string }[]): string[] {
  const value = (name: string) => parameters.find((p) => p.name === name)?.value;
  const gaps: string[] = [];
  for (const name of ["log_connections", "log_disconnections"]) {
    if (!ON.has(String(value(name) ?? "").toLowerCase())) gaps.push(`does not set ${name} (connections go unrecorded)`);
  }
  const libraries = (value("shared_preload_libraries") ?? "").split(",").map((l) => l.trim());
  if (!libraries.includes(PGAUDIT_LIBRARY)) gaps.push(`does not load ${PGAUDIT_LIBRARY} in shared_preload_libraries`);
  const audited = pgauditClasses(value("pgaudit.log") ?? "");
  const missing = PGAUDIT_CLASSES.filter((c) => !audited.has(c));
  if (missing.length) gaps.push(`pgaudit.log is "${value("pgaudit.log") ?? ""}": it does not audit ${missing.join(", ")}`);
  if (ON.has(String(value("pgaudit.log_parameter") ?? "").toLowerCase())) gaps.push("sets pgaudit.log_parameter, which writes bound values (secrets among them) to the log");
  const statement = (value("log_statement") ?? "none").toLowerCase();
  if (statement !== "none") gaps.push(`sets log_statement = ${statement}, which writes role passwords to the log in plain text (pgAudit's role class redacts them)`);
  return gaps;
}
