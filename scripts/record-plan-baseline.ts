/**
 * Records what every stack plans today as test/fixtures/plan-baseline/<stack>.json.gz (`npm run
 * record-plan-baseline`, after `npm run build`). test/plan-baseline.test.ts then holds each stack to
 * it: a refactor must plan the same resources (renames matched through their aliases). Re-record
 * only in a change that means to alter a plan, and say what it alters in the commit.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";

const root = path.resolve(__dirname, "..");
const out = path.join(root, "test", "fixtures", "plan-baseline");
const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim();
const scratch = mkdtempSync(path.join(tmpdir(), "plan-baseline-"));
mkdirSync(out, { recursive: true });
for (const file of readdirSync(path.join(root, "stacks")).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
  const stack = file.slice("Pulumi.".length, -".yaml".length);
  const json = path.join(scratch, `${stack}.json`);
  const run = spawnSync(process.execPath, [path.join(root, "dist", "plan", "cli.js"), "--stack", stack, "--json", json], { cwd: root, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`the plan of ${stack} exited ${run.status}:\n${run.stderr}`);
  const { resources } = JSON.parse(readFileSync(json, "utf8")) as { resources: unknown[] };
  writeFileSync(path.join(out, `${stack}.json.gz`), gzipSync(JSON.stringify({ stack, recordedAt: commit, resources }), { level: 9 }));
  console.log(`${stack}: ${resources.length} resources recorded at ${commit}`);
}
