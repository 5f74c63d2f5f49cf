/**
 * Tenant A against tenant B on one PostgreSQL server, as production sets it up: the RDS-like master
 * of test/postgres.ts, the planned parameter group loaded as it is (odooPostgresParameters, less what
 * only RDS has), RDS's log line prefix, and tenants made by scripts/provision-tenant-db.sh.
 *
 * First the weakness: tenants made as PostgreSQL makes them (no REVOKE) let A into the `postgres`
 * database and into B's. Then the same tenants provisioned by the script: every path is refused with
 * PostgreSQL's own error, while A's own database works. Then the audit: connections in the log, and
 * (where pgAudit is installed, as `.ci/install-tools` installs it) role changes audited with their
 * passwords redacted, the tenant unable to switch its audit off.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { odooPostgresParameters } from "../components/data/postgres";
import { projectFile } from "../components/tenant/project-files";
import { clientPath, MASTER, serverHasLibrary, startServer, type TestServer } from "./postgres";
import { missingTools, unavailable } from "./tools";

const SCRIPT = projectFile("scripts/provision-tenant-db.sh");
const SUITE = "tenant against tenant on a real PostgreSQL server";
const A = { user: "odoo_a", password: "pw-a-7Hq2xV" } as const;
const B = { user: "odoo_b", password: "pw-b-3Kd9wZ" } as const;
/** A password the provisioning sets later, to look for in the log. */
const A_ROTATED = "pw-a-rotated-Zx81Qe";

/** RDS's fixed log_line_prefix ("RDS for PostgreSQL database log files", USER_LogAccess.Concepts.PostgreSQL). */
const RDS_LOG_LINE_PREFIX = "%t:%r:%u@%d:[%p]:";

const pgaudit = serverHasLibrary("pgaudit");
const psqlMissing = missingTools(SUITE, "psql").length > 0;

/**
 * The planned parameter group as server settings: RDS's own parameters (rds.*) and its
 * max_connections formula are not PostgreSQL's; a library the server here lacks is left out, and
 * the suites that need it say so.
 */
function plannedSettings(): Record<string, string> {
  const settings: Record<string, string> = { log_line_prefix: RDS_LOG_LINE_PREFIX };
  const has = (library: string) => serverHasLibrary(library);
  for (const { name, value } of odooPostgresParameters()) {
    if (name.startsWith("rds.") || name === "max_connections") continue;
    if (name.startsWith("pgaudit.") && !has("pgaudit")) continue;
    if (name.startsWith("pg_stat_statements.") && !has("pg_stat_statements")) continue;
    settings[name] = name === "shared_preload_libraries" ? value.split(",").filter(has).join(",") : value;
  }
  return settings;
}

describe.skipIf(psqlMissing)(SUITE, () => {
  let pg: TestServer;

  beforeAll(async () => {
    pg = await startServer(27432 + (process.pid % 1000), plannedSettings());
  }, 120_000);
  afterAll(() => pg?.stop());

  const as = (who: { user: string; password: string }, database: string, query: string) => pg.sql(database, query, who);
  function provision(who: { user: string }, password: string) {
    const file = path.join(pg.dir, `${who.user}.password`);
    writeFileSync(file, password, { mode: 0o600 });
    return spawnSync("/bin/sh", [SCRIPT], {
      encoding: "utf8",
      env: { PATH: clientPath(), ...pg.env, PGUSER: MASTER.user, PGPASSWORD: MASTER.password, TENANT_ROLE: who.user, TENANT_DB: who.user, TENANT_PASSWORD_FILE: file, TENANT_CONNECTION_LIMIT: "20" },
    });
  }

  describe("the weakness: tenants as PostgreSQL makes them, before the script's REVOKEs", () => {
    beforeAll(() => {
      // The master must belong to a role to make it a database's owner (PostgreSQL 15 makes no member of a role's creator).
      for (const t of [A, B]) {
        for (const statement of [`CREATE ROLE ${t.user} LOGIN PASSWORD '${t.password}'`, `GRANT ${t.user} TO ${MASTER.user}`, `CREATE DATABASE ${t.user} OWNER ${t.user}`]) {
          const done = pg.sql("postgres", statement);
          expect(done.status, done.stderr).toBe(0);
        }
      }
      const table = as(B, B.user, "CREATE TABLE invoices (id int, amount numeric); INSERT INTO invoices VALUES (1, 4200)");
      expect(table.status, table.stderr).toBe(0);
    });

    test("A connects to the postgres maintenance database", () => {
      expect(as(A, "postgres", "SELECT current_database()").stdout.trim()).toBe("postgres");
    });

    test("A connects to B's database and lists B's tables", () => {
      const listed = as(A, B.user, "SELECT relname FROM pg_class WHERE relname = 'invoices'");
      expect(listed.status, listed.stderr).toBe(0);
      expect(listed.stdout.trim()).toBe("invoices");
    });
  });

  describe("after provision-tenant-db.sh: A is refused every way into B, and into the maintenance databases", () => {
    beforeAll(() => {
      for (const t of [A, B]) {
        const run = provision(t, t.password);
        expect(run.status, run.stderr).toBe(0);
      }
    });

    test.each<[string, string, string, RegExp]>([
      ["connect to the postgres database", "postgres", "SELECT 1", /FATAL: {2}permission denied for database "postgres"\nDETAIL: {2}User does not have CONNECT privilege\./],
      ["connect to template1", "template1", "SELECT 1", /FATAL: {2}permission denied for database "template1"\nDETAIL: {2}User does not have CONNECT privilege\./],
      ["connect to B's database", B.user, "SELECT 1", /FATAL: {2}permission denied for database "odoo_b"\nDETAIL: {2}User does not have CONNECT privilege\./],
      ["read B's table from its own database", A.user, "SELECT * FROM odoo_b.public.invoices", /ERROR: {2}cross-database references are not implemented: "odoo_b\.public\.invoices"/],
      // PostgreSQL 15 says the first, 16 and later the second.
      ["grant itself B's role", A.user, "GRANT odoo_b TO odoo_a", /ERROR: {2}(must have admin option on role "odoo_b"|permission denied to grant role "odoo_b")/],
      ["grant itself a predefined role that reads everything", A.user, "GRANT pg_read_all_data TO odoo_a", /ERROR: {2}(must have admin option on role "pg_read_all_data"|permission denied to grant role "pg_read_all_data")/],
      ["create a database", A.user, "CREATE DATABASE odoo_a2", /ERROR: {2}permission denied to create database/],
      // dblink would open a connection to B as any role whose password A learns; only a superuser may install it.
      ["install dblink", A.user, "CREATE EXTENSION dblink", /ERROR: {2}(permission denied to create extension "dblink"|extension "dblink" is not available)/],
    ])("A cannot %s", (_, database, query, refusal) => {
      const attempt = as(A, database, query);
      expect(attempt.status).not.toBe(0);
      expect(attempt.stderr).toMatch(refusal);
    });

    test("nobody but the owner holds a privilege on a tenant database, and PUBLIC none on postgres or template1", () => {
      const acl = pg.sql("postgres", "SELECT datname || '=' || coalesce(datacl::text, 'default') FROM pg_database WHERE datname IN ('postgres', 'template1', 'odoo_a', 'odoo_b') ORDER BY datname");
      expect(acl.stdout.trim().split("\n")).toEqual([
        "odoo_a={odoo_a=CTc/odoo_a}",
        "odoo_b={odoo_b=CTc/odoo_b}",
        `postgres={${MASTER.user}=CTc/${MASTER.user}}`,
        `template1={${MASTER.user}=CTc/${MASTER.user}}`,
      ]);
    });

    test("a grant made to a neighbour since is taken back on the next run", () => {
      expect(as(B, B.user, "GRANT CONNECT ON DATABASE odoo_b TO odoo_a").status).toBe(0);
      expect(as(A, B.user, "SELECT current_database()").stdout.trim()).toBe("odoo_b");
      expect(provision(B, B.password).status).toBe(0);
      expect(as(A, B.user, "SELECT 1").stderr).toContain('permission denied for database "odoo_b"');
    });

    test("A's own database works: it creates, writes and reads its tables", () => {
      const own = as(A, A.user, "CREATE TABLE orders (id int); INSERT INTO orders VALUES (7); SELECT id FROM orders");
      expect(own.status, own.stderr).toBe(0);
      expect(own.stdout.trim().split("\n").at(-1)).toBe("7");
    });

    test("what A still sees, and cannot be hidden on RDS: the names of roles and databases, never B's contents", () => {
      // pg_database and pg_roles are shared catalogues every role reads; RDS's master owns neither, so
      // it cannot revoke SELECT on them. Names only: no table, column or row of B's.
      expect(as(A, A.user, "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname LIKE 'odoo_%'").stdout.trim()).toBe("odoo_a,odoo_b");
      expect(as(A, A.user, "SELECT count(*) FROM pg_roles WHERE rolname = 'odoo_b'").stdout.trim()).toBe("1");
      expect(as(A, A.user, "SELECT count(*) FROM pg_class WHERE relname = 'invoices'").stdout.trim()).toBe("0");
    });
  });

  describe("connection logging, as the planned parameter group sets it", () => {
    test("a tenant's connection, a refused one, and its end are in the server log with user and database", () => {
      expect(as(A, A.user, "SELECT 1").status).toBe(0);
      expect(as(A, "postgres", "SELECT 1").status).not.toBe(0);
      const log = pg.log();
      expect(log).toMatch(/:odoo_a@odoo_a:\[\d+\]:LOG: {2}connection authorized: user=odoo_a database=odoo_a/);
      expect(log).toMatch(/:odoo_a@postgres:\[\d+\]:FATAL: {2}permission denied for database "postgres"/);
      expect(log).toMatch(/:odoo_a@odoo_a:\[\d+\]:LOG: {2}disconnection: session time: \d+:\d\d:\d\d\.\d+ user=odoo_a database=odoo_a host=127\.0\.0\.1/);
    });
  });

  describe("pgAudit, as the planned parameter group loads it", () => {
    const skip = !pgaudit;
    if (skip) unavailable("pgAudit on a real PostgreSQL server", { ci: "CI=true requires pgaudit (postgresql-<major>-pgaudit): .ci/install-tools installs it", skip: "pgaudit is not installed for the server here (apt-get install postgresql-<major>-pgaudit)" });

    test.skipIf(skip)("a password the script sets is audited as a role change, and redacted", () => {
      expect(provision(A, A_ROTATED).status).toBe(0);
      const log = pg.log();
      expect(log).toMatch(/AUDIT: SESSION,\d+,\d+,ROLE,ALTER ROLE,,,ALTER ROLE odoo_a PASSWORD <REDACTED>,<not logged>/);
      expect(log).not.toContain(A_ROTATED);
      expect(log).not.toContain(A.password);
    });

    test.skipIf(skip)("the tenant cannot switch its audit off", () => {
      const off = as({ ...A, password: A_ROTATED }, A.user, "SET pgaudit.log = 'none'");
      expect(off.status).not.toBe(0);
      expect(off.stderr).toMatch(/ERROR: {2}permission denied to set parameter "pgaudit\.log"/);
    });

    test.skipIf(skip)("a grant run inside a tenant's function, as the master (the restore drill's attack), is audited", () => {
      expect(as({ ...A, password: A_ROTATED }, A.user, "CREATE FUNCTION public.escalate() RETURNS int LANGUAGE plpgsql AS $$BEGIN EXECUTE 'GRANT odoo_b TO odoo_a'; RETURN 1; END$$").status).toBe(0);
      const ran = pg.sql(A.user, "SELECT public.escalate()");
      try {
        expect(ran.status, ran.stderr).toBe(0);
        // log_statement = ddl would show only the SELECT: pgAudit logs the statement the function ran.
        expect(pg.log()).toMatch(new RegExp(`:${MASTER.user}@odoo_a:\\[\\d+\\]:LOG: {2}AUDIT: SESSION,\\d+,\\d+,ROLE,GRANT ROLE,,,GRANT odoo_b TO odoo_a,<not logged>`));
      } finally {
        expect(pg.sql("postgres", "REVOKE odoo_b FROM odoo_a").status).toBe(0);
      }
    });
  });
});
