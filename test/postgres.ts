/** A throw-away PostgreSQL server on loopback (Debian's binaries), for the scripts the cluster runs. */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export function serverBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, "bin", "initdb"))).sort();
  return versions.length ? path.join(root, versions[versions.length - 1]!, "bin") : undefined;
}

/** CI must exercise these suites: there a missing server is a failure, not a skip. */
export function requireServerInCi(): void {
  if (!serverBin() && process.env.CI === "true") throw new Error("CI needs a PostgreSQL server (apt-get install postgresql): .ci/run installs it");
}

export interface TestServer {
  readonly env: Record<string, string>;
  readonly dir: string;
  sql(database: string, query: string, credentials?: { user: string; password: string }): { status: number | null; stdout: string; stderr: string };
  stop(): void;
}

/** Starts a server whose superuser `postgres` has password `master-secret` over TCP on 127.0.0.1. */
export function startServer(port: number): TestServer {
  const bin = serverBin()!;
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-pg-"));
  const asServer = (cmd: string, args: string[]) =>
    asRoot ? execFileSync("runuser", ["-u", "postgres", "--", cmd, ...args], { stdio: "pipe" }) : execFileSync(cmd, args, { stdio: "pipe" });
  if (asRoot) {
    chmodSync(dir, 0o755);
    chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), Number(execFileSync("id", ["-g", "postgres"]).toString()));
  }
  asServer(path.join(bin, "initdb"), ["-D", path.join(dir, "data"), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8"]);
  asServer(path.join(bin, "pg_ctl"), ["-D", path.join(dir, "data"), "-l", path.join(dir, "log"), "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, "-w", "start"]);
  asServer("psql", ["-h", dir, "-p", String(port), "-U", "postgres", "-d", "postgres", "-c", "ALTER ROLE postgres PASSWORD 'master-secret'"]);
  const env = { PGHOST: "127.0.0.1", PGPORT: String(port), PGSSLMODE: "disable" };
  return {
    env,
    dir,
    sql: (database, query, credentials = { user: "postgres", password: "master-secret" }) =>
      spawnSync("psql", ["-X", "-tA", "-d", database, "-U", credentials.user, "-c", query], { encoding: "utf8", env: { PATH: process.env.PATH, ...env, PGPASSWORD: credentials.password } }),
    stop: () => void asServer(path.join(bin, "pg_ctl"), ["-D", path.join(dir, "data"), "-m", "fast", "-w", "stop"]),
  };
}
