/**
 * The tenant provisioning script against a real PostgreSQL server (Debian's, started here on
 * loopback). CI installs the server; elsewhere the suite is skipped when no server is installed.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { projectFile } from "../components/tenant/project-files";

function serverBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, "bin", "initdb"))).sort();
  return versions.length ? path.join(root, versions[versions.length - 1]!, "bin") : undefined;
}

const bin = serverBin();
const asRoot = process.getuid?.() === 0;
// CI must exercise this suite: there a missing server is a failure, not a skip.
if (!bin && process.env.CI === "true") throw new Error("CI needs a PostgreSQL server (apt-get install postgresql): .ci/run installs it");

describe.skipIf(!bin)("provision-tenant-db.sh on a real PostgreSQL server", () => {
  const port = String(25432 + (process.pid % 1000));
  let dir: string;
  const asServer = (cmd: string, args: string[]) =>
    asRoot ? execFileSync("runuser", ["-u", "postgres", "--", cmd, ...args], { stdio: "pipe" }) : execFileSync(cmd, args, { stdio: "pipe" });

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-pg-"));
    if (asRoot) {
      chmodSync(dir, 0o755);
      chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), Number(execFileSync("id", ["-g", "postgres"]).toString()));
    }
    asServer(path.join(bin!, "initdb"), ["-D", path.join(dir, "data"), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8"]);
    asServer(path.join(bin!, "pg_ctl"), ["-D", path.join(dir, "data"), "-l", path.join(dir, "log"), "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, "-w", "start"]);
    asServer("psql", ["-h", dir, "-p", port, "-U", "postgres", "-d", "postgres", "-c", "ALTER ROLE postgres PASSWORD 'master-secret'"]);
  }, 60_000);

  afterAll(() => {
    if (dir) asServer(path.join(bin!, "pg_ctl"), ["-D", path.join(dir, "data"), "-m", "fast", "-w", "stop"]);
  });

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
