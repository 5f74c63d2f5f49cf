/**
 * The tenant provisioning script against a real PostgreSQL server (Debian's, started here on
 * loopback). CI installs the server; elsewhere the suite is skipped when no server is installed.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as path from "node:path";
import { projectFile } from "../components/tenant/project-files";
import { requireServerInCi, serverBin, startServer, type TestServer } from "./postgres";

requireServerInCi();

describe.skipIf(!serverBin())("provision-tenant-db.sh on a real PostgreSQL server", () => {
  const port = String(25432 + (process.pid % 1000));
  let pg: TestServer;
  let dir: string;

  beforeAll(() => {
    pg = startServer(Number(port));
    dir = pg.dir;
  }, 60_000);

  afterAll(() => pg?.stop());

  const server = () => ({ PGHOST: "127.0.0.1", PGPORT: port, PGSSLMODE: "disable" });
  function provision(tenant: string, password: string) {
    const file = path.join(dir, `${tenant}.password`);
    writeFileSync(file, password, { mode: 0o600 });
    return spawnSync("/bin/sh", [projectFile("scripts/provision-tenant-db.sh")], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, ...server(), PGUSER: "postgres", PGPASSWORD: "master-secret", TENANT_ROLE: `odoo_${tenant}`, TENANT_DB: `odoo_${tenant}`, TENANT_PASSWORD_FILE: file, TENANT_CONNECTION_LIMIT: "42" },
    });
  }
  function sql(user: string, password: string, database: string, query: string) {
    return spawnSync("psql", ["-X", "-tA", "-d", database, "-U", user, "-c", query], { encoding: "utf8", env: { PATH: process.env.PATH, ...server(), PGPASSWORD: password } });
  }

  test("creates the role and database, and running it again changes nothing", () => {
    const first = provision("northwind", "pw-northwind-1");
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe("tenant database odoo_northwind ready for role odoo_northwind");
    const again = provision("northwind", "pw-northwind-1");
    expect(again.status, again.stderr).toBe(0);
    expect(sql("postgres", "master-secret", "postgres", "SELECT count(*) FROM pg_database WHERE datname = 'odoo_northwind'").stdout.trim()).toBe("1");
  });

  test("the role is no superuser, cannot create databases or roles, and holds its connection limit", () => {
    const attrs = sql("postgres", "master-secret", "postgres", "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolconnlimit FROM pg_roles WHERE rolname = 'odoo_northwind'");
    expect(attrs.stdout.trim()).toBe("f|f|f|f|f|42");
    expect(sql("postgres", "master-secret", "postgres", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'odoo_northwind'").stdout.trim()).toBe("odoo_northwind");
  });

  test("the tenant connects to its own database, with the extensions Odoo uses", () => {
    const own = sql("odoo_northwind", "pw-northwind-1", "odoo_northwind", "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension");
    expect(own.status, own.stderr).toBe(0);
    expect(own.stdout.trim()).toBe("pg_trgm,plpgsql,unaccent");
  });

  test("CONNECT is revoked from PUBLIC: another tenant cannot reach this database", () => {
    expect(provision("contoso", "pw-contoso").status).toBe(0);
    const other = sql("odoo_contoso", "pw-contoso", "odoo_northwind", "SELECT 1");
    expect(other.status).not.toBe(0);
    expect(other.stderr).toContain('permission denied for database "odoo_northwind"');
    expect(sql("odoo_contoso", "pw-contoso", "odoo_contoso", "SELECT current_user").stdout.trim()).toBe("odoo_contoso");
  });

  test("running it with a new password rotates the role's password", () => {
    expect(provision("northwind", "pw-northwind-2").status).toBe(0);
    expect(sql("odoo_northwind", "pw-northwind-2", "odoo_northwind", "SELECT 1").stdout.trim()).toBe("1");
    expect(sql("odoo_northwind", "pw-northwind-1", "odoo_northwind", "SELECT 1").stderr).toContain("password authentication failed");
  });

  test("names outside [a-z0-9_] are refused before anything runs", () => {
    const bad = spawnSync("/bin/sh", [projectFile("scripts/provision-tenant-db.sh")], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, TENANT_ROLE: "x; DROP", TENANT_DB: "x", TENANT_PASSWORD_FILE: "/dev/null", TENANT_CONNECTION_LIMIT: "1" },
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("role and database names must match [a-z0-9_]+");
  });
});
