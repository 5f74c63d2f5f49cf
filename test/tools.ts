/**
 * Real tools that npm does not ship (promtool; PostgreSQL's client tools psql, pg_dump, pg_restore;
 * redis-server for the cache ACL attacks).
 * Where one is absent a suite skips with one line naming it; under CI=true it is required, because
 * `.ci/run` installs it and a silent skip there would hide lost coverage.
 */
import { spawnSync } from "node:child_process";

const installHint: Record<string, string> = {
  promtool: "apt-get install prometheus",
  psql: "apt-get install postgresql",
  pg_dump: "apt-get install postgresql",
  pg_restore: "apt-get install postgresql",
  "redis-server": "apt-get install redis-server",
  "redis-cli": "apt-get install redis-tools (redis-server brings it)",
  nginx: "apt-get install nginx-light",
  "prometheus-pushgateway": "apt-get install prometheus-pushgateway",
};

export function toolAvailable(tool: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status === 0;
}

/**
 * The tools of `tools` absent from this machine. Under CI=true an absent tool throws (naming it and
 * how `.ci/run` installs it); elsewhere one line per suite says what is skipped and why.
 * Use as `describe.skipIf(missingTools("suite name", "psql").length > 0)(...)`.
 */
export function missingTools(suite: string, ...tools: string[]): string[] {
  const missing = tools.filter((tool) => !toolAvailable(tool));
  if (missing.length === 0) return missing;
  const how = missing.map((tool) => `${tool} (${installHint[tool] ?? "install it"})`).join(", ");
  unavailable(suite, { ci: `CI=true requires ${how} for "${suite}": .ci/run installs it`, skip: `${how} not found on this machine` });
  return missing;
}

/** A suite that cannot run here: under CI=true that is a failure (throws `ci`); elsewhere one line says it skips and why. */
export function unavailable(suite: string, why: { readonly ci: string; readonly skip: string }): void {
  if (process.env.CI === "true") throw new Error(why.ci);
  console.warn(`skipping "${suite}": ${why.skip}`);
}
