/**
 * ATTACK: a hostile tenant's dump against the restore drill, on a real PostgreSQL server with the
 * RDS-like master (test/postgres.ts: CREATEROLE, CREATEDB, no superuser), set up as in production:
 * tenants alpha and bravo provisioned by provision-tenant-db.sh, alpha's backup written by
 * backup-tenant.sh as alpha's own role, the drill run by restore-drill.sh with the master's password
 * as a file. Alpha plants functions that run during a restore (in a CHECK constraint, an index
 * expression, a materialized view) and try to grant roles, alter roles, create roles or databases,
 * read bravo's database or the server's files, run programs, take bravo's database. Each time the
 * drill fails on PostgreSQL's refusal, or, where the function hides the refusal, passes with no
 * effect; either way every role, membership, database and bravo's data stay exactly as they were.
 * The first case re-creates the weakness: the same dump restored as the master, as the old drill did.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DRILL_TENANT_CONTAINER, restoreDrillCronJob } from "../components/tenant/platform-jobs";
import { projectFile } from "../components/tenant/project-files";
import { IRSA_SKIP_CONTAINERS } from "../model/kubernetes";
import { drillCredentialViolations } from "../policies/restore-drill";
import { FAKE_AWS } from "./fake-aws";
import { clientOlderThanServer, clientPath, MASTER, serverMajor, startServer, type TestServer } from "./postgres";
import { missingTools } from "./tools";

const ALPHA = { user: "odoo_alpha", password: "alpha-secret" };
const BRAVO = { user: "odoo_bravo", password: "bravo-secret" };

/** What alpha's function tries once it runs as someone other than alpha: each a statement for EXECUTE. */
const PAYLOADS = {
  grant: "GRANT odoo_bravo TO odoo_alpha",
  alterRole: "ALTER ROLE odoo_bravo PASSWORD 'taken'",
  createRole: "CREATE ROLE escaped LOGIN PASSWORD 'x'",
  setRole: "SET ROLE odoo_bravo",
  crossDatabase: "SELECT count(*) FROM odoo_bravo.public.secrets",
  readFile: "SELECT pg_read_file('global/pg_control')",
  program: "COPY (SELECT 1) TO PROGRAM 'touch /tmp/odoo-fleet-drill-pwned'",
  takeDatabase: "ALTER DATABASE odoo_bravo OWNER TO CURRENT_USER",
  createDatabase: "CREATE DATABASE escaped",
} as const;
type Payload = keyof typeof PAYLOADS;

/** The function alpha plants: harmless while alpha itself writes, the payload when the restorer runs it. */
function attackFunction(payloads: readonly Payload[], hidden: boolean): string {
  const body = payloads
    .map((p) => (hidden ? `BEGIN EXECUTE $p$${PAYLOADS[p]}$p$; EXCEPTION WHEN others THEN NULL; END;` : `EXECUTE $p$${PAYLOADS[p]}$p$;`))
    .join("\n  ");
  return [
    `CREATE FUNCTION attack.hit(id int) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
  IF current_user = 'odoo_alpha' THEN RETURN true; END IF;
  ${body}
  RETURN true;
END $f$`,
    // Index expressions take immutable functions only; this one calls the volatile one.
    "CREATE FUNCTION attack.ihit(id int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $f$ BEGIN RETURN attack.hit(id); END $f$",
  ].join(";\n");
}

/** Where the function runs during a restore. */
const VECTORS = {
  check: "CREATE TABLE attack.t (id int CHECK (attack.hit(id))); INSERT INTO attack.t VALUES (1)",
  index: "CREATE TABLE attack.t (id int); INSERT INTO attack.t VALUES (1); CREATE INDEX ON attack.t ((attack.ihit(id)))",
  matview: "CREATE MATERIALIZED VIEW attack.mv AS SELECT attack.hit(1) AS x",
} as const;
type Vector = keyof typeof VECTORS;

/** Everything outside the scratch database the drill must leave as it found it, as the master sees it. */
const WORLD = `SELECT json_build_object(
  'memberships', (SELECT json_agg(x ORDER BY x) FROM (SELECT m.rolname || ' in ' || r.rolname || CASE WHEN a.admin_option THEN ' with admin' ELSE '' END
      FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member) s(x)),
  'roles', (SELECT json_agg(row_to_json(r) ORDER BY rolname) FROM (SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
      rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil, rolconfig FROM pg_roles) r),
  'databases', (SELECT json_agg(row_to_json(d) ORDER BY datname) FROM (SELECT datname, pg_get_userbyid(datdba) AS owner, datacl::text AS acl,
      datconnlimit, datallowconn FROM pg_database) d),
  'settings', (SELECT json_agg(x ORDER BY x) FROM (SELECT setdatabase || '/' || setrole || '/' || setconfig::text FROM pg_db_role_setting) s(x)),
  'comments', (SELECT json_agg(x ORDER BY x) FROM (SELECT classoid || '/' || objoid || ':' || description FROM pg_shdescription) s(x)))`;
const BRAVO_DATA = "SELECT string_agg(id || '=' || secret, ',' ORDER BY id) || ' / ' || (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace) FROM public.secrets";
const MARKER = "/tmp/odoo-fleet-drill-pwned";

/** The drill's CronJob as the tenant component plans it, and what restore-drill-credentials-apart says of it. */
function plannedDrill() {
  const cron = restoreDrillCronJob(
    {
      tenant: "alpha",
      tier: "business",
      database: { host: "db.internal", port: 5432 },
      provisioner: { nodeSelector: { "odoo-fleet/pool": "system" }, namespace: "odoo-fleet-system", serviceAccount: "tenant-provisioner", scriptsConfigMap: "tenant-scripts", image: "tools@sha256:1", masterSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:master", region: "eu-west-1" },
    },
    "odoo@sha256:2",
    { bucketName: "backups", pushgatewayUrl: "http://pushgateway:9091", drill: { serviceAccount: "restore-drill" } },
  );
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const template = cron.spec.jobTemplate.spec.template as any;
  return { template, check: () => drillCredentialViolations("CronJob odoo-fleet-system/drill-alpha", template.spec, template.metadata.annotations ?? {}) };
}
const WHERE = "CronJob odoo-fleet-system/drill-alpha: container registry runs odoo@sha256:2, not the platform's image, and";

describe("restore-drill-credentials-apart: the drill's container running the tenant's image holds no credential", () => {
  test("the planned drill: the tools image prepares and finishes with the master secret, the tenant's image loads the registry with none", () => {
    const { template, check } = plannedDrill();
    expect(template.spec.initContainers.map((c: { name: string }) => c.name)).toEqual(["prepare"]);
    expect(template.spec.containers.map((c: { name: string; image: string }) => `${c.name} ${c.image}`)).toEqual(["registry odoo@sha256:2", "finish tools@sha256:1"]);
    expect(template.metadata.annotations).toEqual({ [IRSA_SKIP_CONTAINERS]: DRILL_TENANT_CONTAINER });
    expect(check()).toEqual([]);
  });

  test("the old drill's weakness: without the IRSA skip annotation the tenant's image gets the role's token", () => {
    const { template, check } = plannedDrill();
    delete template.metadata.annotations;
    expect(check()).toEqual([`${WHERE} gets the pod's IAM role token (not named in eks.amazonaws.com/skip-containers)`]);
  });

  test("the master secret, a password or a Secret volume handed to the tenant's image", () => {
    const { template, check } = plannedDrill();
    const registry = template.spec.containers[0];
    registry.env.push({ name: "PGPASSWORD_FILE", value: "/secrets/master/password" }, { name: "TOKEN", valueFrom: { secretKeyRef: { name: "master", key: "password" } } });
    template.spec.volumes.push({ name: "master", secret: { secretName: "master" } });
    registry.volumeMounts.push({ name: "master", mountPath: "/secrets/master" });
    expect(check()).toEqual([`${WHERE} has credential variable PGPASSWORD_FILE`, `${WHERE} reads Secret master into TOKEN`, `${WHERE} mounts Secret volume master`]);
  });

  test("the tenant's image reading the master secret itself", () => {
    const { template, check } = plannedDrill();
    template.spec.containers[0].env.push({ name: "MASTER_SECRET_ARN", value: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:master" });
    expect(check()).toEqual(["CronJob odoo-fleet-system/drill-alpha: containers running 2 different images read the master secret; only the platform's image may"]);
  });
});

const SUITE = "restore-drill.sh against a hostile tenant's dump";
const unable = missingTools(SUITE, "psql", "pg_dump", "pg_restore").length > 0 || clientOlderThanServer(SUITE, "pg_dump");

describe.skipIf(unable)(SUITE, () => {
  let pg: TestServer;
  let root: string;
  let world: string;
  let bravoData: string;

  const env = (extra: Record<string, string>) => ({
    PATH: `${path.join(root, "bin")}:${clientPath()}`,
    ...pg.env,
    FAKE_S3_ROOT: path.join(root, "s3"),
    BACKUP_BUCKET: "shared-prod-backup",
    BACKUP_TIER_TAG: "odoo-fleet-tier=business",
    TENANT: "alpha",
    ...extra,
  });
  const script = (name: string, extra: Record<string, string>) => spawnSync("/bin/sh", [projectFile(`scripts/${name}`)], { encoding: "utf8", env: env(extra) });
  const provision = (tenant: string, credentials: { user: string; password: string }) => {
    const file = path.join(root, `${tenant}.password`);
    writeFileSync(file, credentials.password, { mode: 0o600 });
    const result = script("provision-tenant-db.sh", {
      PGUSER: MASTER.user,
      PGPASSWORD: MASTER.password,
      TENANT_ROLE: credentials.user,
      TENANT_DB: credentials.user,
      TENANT_PASSWORD_FILE: file,
      TENANT_CONNECTION_LIMIT: "20",
    });
    expect(result.status, result.stderr).toBe(0);
  };
  const snapshot = () => pg.sql("postgres", WORLD).stdout;
  const bravo = () => pg.sql("odoo_bravo", BRAVO_DATA, BRAVO);

  /** Alpha plants the attack in its own database and its backup job writes it to a prefix of its own. */
  function plantAndBackUp(name: string, sql: string): string {
    const planted = pg.sql("odoo_alpha", `SET client_min_messages = warning; DROP SCHEMA IF EXISTS attack CASCADE; CREATE SCHEMA attack; ${sql}`, ALPHA);
    expect(planted.status, planted.stderr).toBe(0);
    expect(planted.stderr).toBe("");
    const prefix = `tenants/alpha-${name}/`;
    const backup = script("backup-tenant.sh", { PGUSER: ALPHA.user, PGPASSWORD_FILE: path.join(root, "alpha.password"), PGDATABASE: "odoo_alpha", FILESTORE_DIR: path.join(root, "data"), BACKUP_PREFIX: prefix });
    expect(backup.status, backup.stderr).toBe(0);
    return prefix;
  }
  /** The drill as the platform's containers run it, the master's password as a file. */
  const drill = (prefix: string) =>
    script("restore-drill.sh", { PGUSER: MASTER.user, PGPASSWORD_FILE: path.join(root, "master.password"), BACKUP_PREFIX: prefix, RTO_SECONDS: "600", REGISTRY_CHECK: "none" });

  /** Nothing outside the scratch database changed, and the scratch database and drill role are gone. */
  function expectUntouched() {
    expect(snapshot()).toBe(world);
    expect(bravo().stdout).toBe(bravoData);
    expect(pg.sql("postgres", "SELECT count(*) FROM pg_database WHERE datname ~ '^drill_'").stdout).toBe("0\n");
    expect(pg.sql("postgres", "SELECT count(*) FROM pg_roles WHERE rolname ~ '^drill_'").stdout).toBe("0\n");
    expect(existsSync(MARKER)).toBe(false);
  }

  beforeAll(async () => {
    pg = await startServer(27432 + (process.pid % 1000));
    root = mkdtempSync(path.join(tmpdir(), "odoo-fleet-drill-attack-"));
    mkdirSync(path.join(root, "bin"));
    mkdirSync(path.join(root, "data"));
    writeFileSync(path.join(root, "bin", "aws"), FAKE_AWS);
    chmodSync(path.join(root, "bin", "aws"), 0o755);
    writeFileSync(path.join(root, "master.password"), MASTER.password, { mode: 0o600 });
    provision("alpha", ALPHA);
    provision("bravo", BRAVO);
    const odooTables = [
      "CREATE TABLE res_partner (id serial PRIMARY KEY, name text)",
      "CREATE TABLE res_users (id serial PRIMARY KEY, login text, partner_id int REFERENCES res_partner)",
      "CREATE TABLE ir_module_module (id serial PRIMARY KEY, name text, state text)",
      "INSERT INTO res_partner (name) VALUES ('alpha')",
      "INSERT INTO res_users (login, partner_id) VALUES ('admin', 1)",
      "INSERT INTO ir_module_module (name, state) VALUES ('base', 'installed')",
    ].join("; ");
    expect(pg.sql("odoo_alpha", odooTables, ALPHA).status).toBe(0);
    expect(pg.sql("odoo_bravo", "CREATE TABLE secrets (id int PRIMARY KEY, secret text); INSERT INTO secrets VALUES (1, 'bravo-payroll'), (2, 'bravo-bank')", BRAVO).status).toBe(0);
    world = snapshot();
    bravoData = bravo().stdout;
    expect(bravoData).toBe("1=bravo-payroll,2=bravo-bank / 2\n");
    expect(world).toContain('"fleet_admin in odoo_bravo"');
  }, 120_000);

  afterAll(() => pg?.stop());

  test("the weakness: restored as the master, as the old drill did, alpha's CHECK constraint grants it bravo's role", () => {
    const prefix = plantAndBackUp("as-master", `${attackFunction(["grant"], true)}; ${VECTORS.check}`);
    const dump = path.join(root, "s3", "shared-prod-backup", prefix);
    const [stamp] = readdirSync(dump);
    expect(pg.sql("postgres", "CREATE DATABASE old_drill").status).toBe(0);
    const restored = spawnSync("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", "--dbname=old_drill", path.join(dump, stamp!, "database.dump")], {
      encoding: "utf8",
      env: { PATH: clientPath(), ...pg.env, PGUSER: MASTER.user, PGPASSWORD: MASTER.password },
    });
    expect(restored.status, restored.stderr).toBe(0);
    expect(pg.sql("postgres", "SELECT pg_has_role('odoo_alpha', 'odoo_bravo', 'MEMBER')").stdout).toBe("t\n");
    // Alpha now reads bravo's data with its own password.
    expect(pg.sql("odoo_bravo", "SELECT secret FROM secrets WHERE id = 1", ALPHA).stdout).toBe("bravo-payroll\n");
    // Undone, so the cases below start from the planned state.
    expect(pg.sql("postgres", "REVOKE odoo_bravo FROM odoo_alpha").status).toBe(0);
    expect(pg.sql("postgres", "DROP DATABASE old_drill").status).toBe(0);
    expect(snapshot()).toBe(world);
  });

  const pg15 = serverMajor() < 16;
  // PostgreSQL's refusal of each attempt, as the drill role meets it (15's wording, then 16's).
  const refused: [Vector, Payload, RegExp][] = [
    ["check", "grant", pg15 ? /must have admin option on role "odoo_bravo"/ : /permission denied to grant role "odoo_bravo"/],
    ["check", "alterRole", /permission denied/],
    ["check", "createRole", /permission denied to create role/],
    ["check", "setRole", /permission denied to set role "odoo_bravo"/],
    ["check", "crossDatabase", /cross-database references are not implemented: "odoo_bravo\.public\.secrets"/],
    ["check", "readFile", /permission denied for function pg_read_file/],
    ["check", "program", /must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program/],
    ["check", "takeDatabase", /must be owner of database odoo_bravo/],
    ["check", "createDatabase", /CREATE DATABASE cannot be executed from a function/],
    ["index", "grant", pg15 ? /must have admin option on role "odoo_bravo"/ : /permission denied to grant role "odoo_bravo"/],
    ["index", "setRole", /cannot set parameter "role" within security-restricted operation/],
    ["matview", "grant", pg15 ? /must have admin option on role "odoo_bravo"/ : /permission denied to grant role "odoo_bravo"/],
    ["matview", "alterRole", /permission denied/],
    ["matview", "program", /must be superuser or have privileges of the pg_execute_server_program role/],
  ];
  test.each(refused)("ATTACK: %s runs %s during the restore: refused, the drill fails, nothing outside the scratch database changes", (vector, payload, error) => {
    const prefix = plantAndBackUp(`${vector}-${payload}`, `${attackFunction([payload], false)}; ${VECTORS[vector]}`);
    const result = drill(prefix);
    expect(result.status, result.stderr).toBe(7);
    expect(result.stderr).toMatch(error);
    expect(result.stderr).toMatch(/the backup \d{8}T\d{6}Z\/ does not restore as the drill role\n$/);
    expectUntouched();
  });

  test("ATTACK: every attempt at once, in a CHECK constraint, an index expression and a materialized view, each hiding its refusal: the drill passes and nothing changed", () => {
    const all = Object.keys(PAYLOADS) as Payload[];
    const prefix = plantAndBackUp("hidden", [attackFunction(all, true), VECTORS.check, "CREATE INDEX ON attack.t ((attack.ihit(id)))", VECTORS.matview].join("; "));
    const result = drill(prefix);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^res_users: 1 rows\nres_partner: 1 rows\nir_module_module: 1 rows\nrestore drill of alpha from \d{8}T\d{6}Z\/: \d+ s \(RTO 600 s\)\n$/);
    expectUntouched();
  });

  test("ATTACK: the drill role grants itself to alpha, to keep a way into the scratch database: refused", () => {
    const selfGrant = `CREATE FUNCTION attack.hit(id int) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
  IF current_user = 'odoo_alpha' THEN RETURN true; END IF;
  EXECUTE format('GRANT %I TO odoo_alpha', current_user);
  RETURN true;
END $f$`;
    const result = drill(plantAndBackUp("self-grant", `${selfGrant}; ${VECTORS.check}`));
    expect(result.status, result.stderr).toBe(7);
    expect(result.stderr).toMatch(pg15 ? /must have admin option on role "drill_alpha_\d+"/ : /permission denied to grant role "drill_alpha_\d+"/);
    expectUntouched();
  });

  test("a drill role that reached outside (granted to a tenant role while the drill ran) fails the drill, and the grant goes with the role", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-drill-"));
    const state = mkdtempSync(path.join(tmpdir(), "odoo-fleet-drill-state-"));
    const phase = (name: string) =>
      script("restore-drill.sh", { PGUSER: MASTER.user, PGPASSWORD_FILE: path.join(root, "master.password"), BACKUP_PREFIX: "tenants/alpha-hidden/", RTO_SECONDS: "600", REGISTRY_CHECK: "none", DRILL_PHASE: name, DRILL_DIR: dir, STATE_DIR: state });
    expect(phase("prepare").status).toBe(0);
    const role = readFileSync(path.join(dir, "drill.role"), "utf8").trim();
    expect(pg.sql("postgres", `GRANT ${role} TO odoo_alpha`).status).toBe(0);
    const finished = phase("finish");
    expect(finished.status).toBe(10);
    expect(finished.stderr).toBe(`the restored database changed role memberships outside it: odoo_alpha in ${role}\n`);
    expectUntouched();
  });

  test("a planted backup named to sort last (a future stamp, a non-stamp) is never the drill's input", () => {
    const prefix = plantAndBackUp("planted", "SELECT 1");
    const dir = path.join(root, "s3", "shared-prod-backup", prefix);
    const [real] = readdirSync(dir);
    for (const planted of ["99991231T235959Z", "zzz", "20261202T000000Z-x"]) {
      mkdirSync(path.join(dir, planted));
      writeFileSync(path.join(dir, planted, "SHA256SUMS"), "");
    }
    const result = drill(prefix);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`restore drill of alpha from ${real}/:`);
    expectUntouched();
  });
});
