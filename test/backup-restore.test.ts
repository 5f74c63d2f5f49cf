/**
 * The tenant backup and restore-drill scripts against a real PostgreSQL server (test/postgres.ts),
 * each with the credentials it has in the cluster: the backup as the tenant's own role, the drill with
 * the RDS-like master's (never `postgres`), which it uses only to create and drop its own drill role. The AWS CLI is the one thing replaced: a small double of
 * `aws s3 cp|ls` over a local folder stands in for the bucket, and a loopback HTTP server stands in
 * for the Pushgateway, recording what the scripts push. psql, pg_dump and pg_restore come from the
 * system: where one is absent the suite skips with one line (required under CI=true).
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { projectFile } from "../components/tenant/project-files";
import { clientOlderThanServer, clientPath, MASTER, startServer, type TestServer } from "./postgres";
import { missingTools } from "./tools";
import { FAKE_AWS } from "./fake-aws";


const TENANT = { user: "odoo_northwind", password: "tenant-secret" };

const SUITE = "backup-tenant.sh and restore-drill.sh";
const unable = missingTools(SUITE, "psql", "pg_dump", "pg_restore").length > 0 || clientOlderThanServer(SUITE, "pg_dump");

describe.skipIf(unable)(SUITE, () => {
  let pg: TestServer;
  let root: string;
  let pushed: { path: string; body: string }[];
  let gateway: Server;
  let gatewayUrl: string;

  beforeAll(async () => {
    pg = await startServer(26432 + (process.pid % 1000));
    root = mkdtempSync(path.join(tmpdir(), "odoo-fleet-backup-"));
    mkdirSync(path.join(root, "bin"));
    writeFileSync(path.join(root, "master.password"), MASTER.password, { mode: 0o600 });
    writeFileSync(path.join(root, "tenant.password"), TENANT.password, { mode: 0o600 });
    writeFileSync(path.join(root, "bin", "aws"), FAKE_AWS);
    chmodSync(path.join(root, "bin", "aws"), 0o755);
    // The tenant as the provisioning Job leaves it, with a database shaped like Odoo's (created by
    // its own role, as Odoo does) and a filestore.
    const provisioned = spawnSync("/bin/sh", [projectFile("scripts/provision-tenant-db.sh")], {
      encoding: "utf8",
      env: { PATH: clientPath(), ...pg.env, PGUSER: MASTER.user, PGPASSWORD: MASTER.password, TENANT_ROLE: TENANT.user, TENANT_DB: "odoo_northwind", TENANT_PASSWORD_FILE: path.join(root, "tenant.password"), TENANT_CONNECTION_LIMIT: "20" },
    });
    expect(provisioned.status, provisioned.stderr).toBe(0);
    const schema = [
      "CREATE TABLE res_partner (id serial PRIMARY KEY, name text)",
      "CREATE TABLE res_users (id serial PRIMARY KEY, login text, partner_id int REFERENCES res_partner)",
      "CREATE TABLE ir_module_module (id serial PRIMARY KEY, name text, state text)",
      "INSERT INTO res_partner (name) SELECT 'partner ' || g FROM generate_series(1, 250) g",
      "INSERT INTO res_users (login, partner_id) VALUES ('admin', 1), ('sales', 2)",
      "INSERT INTO ir_module_module (name, state) VALUES ('base', 'installed'), ('sale', 'installed'), ('mrp', 'uninstalled')",
    ].join("; ");
    expect(pg.sql("odoo_northwind", schema, TENANT).status).toBe(0);
    mkdirSync(path.join(root, "data", "filestore", "odoo_northwind", "ab"), { recursive: true });
    writeFileSync(path.join(root, "data", "filestore", "odoo_northwind", "ab", "abcdef"), "an invoice PDF");
    pushed = [];
    gateway = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        pushed.push({ path: req.url ?? "", body });
        res.end();
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", resolve));
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as { port: number }).port}`;
  }, 60_000);

  afterAll(async () => {
    gateway?.close();
    await pg?.stop();
  });

  const env = (extra: Record<string, string>) => ({
    PATH: `${path.join(root, "bin")}:${clientPath()}`,
    ...pg.env,
    // The drill's credentials (the master's); the backup runs with the tenant's own (asTenant).
    PGUSER: MASTER.user,
    // The password reaches the scripts as a file, as the mounted Secret does in the cluster.
    PGPASSWORD_FILE: path.join(root, "master.password"),
    FAKE_S3_ROOT: path.join(root, "s3"),
    BACKUP_BUCKET: "shared-prod-backup",
    BACKUP_PREFIX: "tenants/northwind/",
    BACKUP_TIER_TAG: "odoo-fleet-tier=business",
    TENANT: "northwind",
    PUSHGATEWAY_URL: gatewayUrl,
    ...extra,
  });
  // Asynchronous, so the in-process Pushgateway stand-in can answer while the script runs.
  const run = (script: string, extra: Record<string, string>) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn("/bin/sh", [projectFile(`scripts/${script}`)], { env: env(extra), stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
  // The backup CronJob connects as the tenant's role with its own password (components/tenant/backup-job.ts).
  const asTenant = () => ({ PGDATABASE: "odoo_northwind", FILESTORE_DIR: path.join(root, "data"), PGUSER: TENANT.user, PGPASSWORD_FILE: path.join(root, "tenant.password") });
  const backups = () => readdirSync(path.join(root, "s3", "shared-prod-backup", "tenants", "northwind")).sort();

  test("a backup writes the dump, the filestore, checksums and a manifest under the tenant's prefix, each tagged with its tier", async () => {
    const result = await run("backup-tenant.sh", asTenant());
    expect(result.status, result.stderr).toBe(0);
    const [stamp] = backups();
    expect(stamp).toMatch(/^\d{8}T\d{6}Z$/);
    const dir = path.join(root, "s3", "shared-prod-backup", "tenants", "northwind", stamp!);
    const files = ["SHA256SUMS", "database.dump", "filestore.tar.gz", "manifest.json"];
    expect(readdirSync(dir).filter((f) => !f.endsWith(".tags")).sort()).toEqual(files);
    // The tier's lifecycle rule expires each object by this tag.
    for (const file of files) expect(readFileSync(path.join(dir, `${file}.tags`), "utf8")).toBe("TagSet=[{Key=odoo-fleet-tier,Value=business}]\n");
    expect(JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8"))).toMatchObject({ tenant: "northwind", database: "odoo_northwind", created: stamp, format: "pg_dump custom + tar.gz" });
    expect(readFileSync(path.join(dir, "SHA256SUMS"), "utf8")).toMatch(/^[0-9a-f]{64} {2}database\.dump\n[0-9a-f]{64} {2}filestore\.tar\.gz\n$/);
    expect(pushed.at(-1)!.path).toBe("/metrics/job/odoo_backup/tenant/northwind");
    expect(pushed.at(-1)!.body).toMatch(/^odoo_fleet_backup_last_success_timestamp_seconds \d+\nodoo_fleet_backup_duration_seconds \d+\n$/);
  });

  test("the drill restores the latest backup into a scratch database, checks it, drops it and records success", async () => {
    const result = await run("restore-drill.sh", { RTO_SECONDS: "600", REGISTRY_CHECK: "none" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain("res_users: 2 rows\nres_partner: 250 rows\nir_module_module: 3 rows\n");
    expect(result.stdout).toMatch(new RegExp(`restore drill of northwind from ${backups().at(-1)}/: \\d+ s \\(RTO 600 s\\)`));
    expect(pg.sql("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'drill_%'").stdout.trim()).toBe("0");
    expect(pg.sql("postgres", "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'drill_%'").stdout.trim()).toBe("0");
    expect(pushed.at(-1)!.path).toBe("/metrics/job/odoo_restore_drill/tenant/northwind");
    expect(pushed.at(-1)!.body).toMatch(/^odoo_fleet_restore_drill_last_success_timestamp_seconds \d+\nodoo_fleet_restore_drill_duration_seconds \d+\nodoo_fleet_restore_drill_rto_seconds 600\n$/);
  });

  test("the phases (prepare and finish in the tools image, the registry in the Odoo image) hand over through DRILL_DIR, the master's password never in it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-drill-"));
    const state = mkdtempSync(path.join(tmpdir(), "odoo-fleet-drill-state-"));
    const prepared = await run("restore-drill.sh", { RTO_SECONDS: "600", DRILL_PHASE: "prepare", DRILL_DIR: dir, STATE_DIR: state });
    expect(prepared.status, prepared.stderr).toBe(0);
    expect(prepared.stdout).toContain("res_partner: 250 rows");
    expect(readdirSync(dir).sort()).toEqual(["SHA256SUMS", "database.dump", "drill.database", "drill.pgpass", "drill.role", "filestore.tar.gz", "manifest.json"]);
    for (const file of readdirSync(dir)) expect(readFileSync(path.join(dir, file)).includes(MASTER.password)).toBe(false);
    const drill = readFileSync(path.join(dir, "drill.role"), "utf8").trim();
    expect(drill).toMatch(/^drill_northwind_\d+$/);
    // The registry phase's verdict, as the Odoo image writes it.
    writeFileSync(path.join(dir, "registry.status"), "0\n");
    const finished = await run("restore-drill.sh", { RTO_SECONDS: "600", DRILL_PHASE: "finish", DRILL_DIR: dir, STATE_DIR: state });
    expect(finished.status, finished.stderr).toBe(0);
    expect(pg.sql("postgres", `SELECT count(*) FROM pg_roles WHERE rolname = '${drill}'`).stdout.trim()).toBe("0");
    expect(pg.sql("postgres", `SELECT count(*) FROM pg_database WHERE datname = '${drill}'`).stdout.trim()).toBe("0");
  });

  test("a failed registry check fails the drill and still drops the scratch database and the drill role", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-drill-"));
    const state = mkdtempSync(path.join(tmpdir(), "odoo-fleet-drill-state-"));
    expect((await run("restore-drill.sh", { RTO_SECONDS: "600", DRILL_PHASE: "prepare", DRILL_DIR: dir, STATE_DIR: state })).status).toBe(0);
    writeFileSync(path.join(dir, "registry.status"), "1\n");
    const finished = await run("restore-drill.sh", { RTO_SECONDS: "600", DRILL_PHASE: "finish", DRILL_DIR: dir, STATE_DIR: state });
    expect(finished.status).toBe(8);
    expect(finished.stderr).toContain("Odoo's registry did not load on the restored database (status 1)");
    expect(pg.sql("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'drill_%'").stdout.trim()).toBe("0");
    expect(pg.sql("postgres", "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'drill_%'").stdout.trim()).toBe("0");
  });

  test("a corrupted backup fails the drill on its checksums and records the failure", async () => {
    const latest = backups().at(-1)!;
    writeFileSync(path.join(root, "s3", "shared-prod-backup", "tenants", "northwind", latest, "database.dump"), "tampered");
    const result = await run("restore-drill.sh", { RTO_SECONDS: "600", REGISTRY_CHECK: "none" });
    expect(result.status).toBe(4);
    expect(result.stderr).toContain(`checksums of ${latest}/ do not match`);
    expect(pushed.at(-1)!.body).toMatch(/^odoo_fleet_restore_drill_last_failure_timestamp_seconds \d+\n$/);
  });

  test("a restore slower than the tier's RTO fails the drill", async () => {
    const backup = await run("backup-tenant.sh", asTenant());
    expect(backup.status, backup.stderr).toBe(0);
    const result = await run("restore-drill.sh", { RTO_SECONDS: "-1", REGISTRY_CHECK: "none" });
    expect(result.status).toBe(6);
    expect(result.stderr).toContain("the restore took longer than the tier's RTO");
  });

  test("a restored database without users fails the drill", async () => {
    expect(pg.sql("odoo_northwind", "DELETE FROM res_users", TENANT).status).toBe(0);
    // Stamps are per second (UTC): the new backup must sort after the previous one, so wait for the next second if needed.
    const latest = backups().at(-1)!;
    const stampNow = () => new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    while (stampNow() <= latest) spawnSync("sleep", ["0.1"]);
    expect((await run("backup-tenant.sh", asTenant())).status).toBe(0);
    const result = await run("restore-drill.sh", { RTO_SECONDS: "600", REGISTRY_CHECK: "none" });
    expect(result.status).toBe(5);
    expect(result.stderr).toContain("table res_users of the restored database is empty");
    expect(existsSync(path.join(root, "s3"))).toBe(true);
  });
});
