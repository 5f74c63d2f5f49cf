/**
 * `npm run bench [-- --sizes 100,300,1000] [--json out/bench.json]`
 * Plans generated shared stacks of N tenants with the offline plan CLI, exactly as a user runs it,
 * and, in the same run, the SDK's floor: the mocked registration of as many trivial resources.
 * Prints wall time and peak memory of each next to the floor, the ratio, and how time grows.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { fleetStackYaml } from "./fleet-stack";

interface Measure {
  wallMs: number;
  peakMiB: number;
}

export interface BenchRow {
  tenants: number;
  resources: number;
  /** Time the CLI reports for running the program (registration), within `plan.wallMs`. */
  programMs: number;
  exitCode: number | null;
  plan: Measure;
  /** As many trivial resources. */
  floor: Measure;
  /** One resource per planned custom resource, carrying its inputs, with none of our program. */
  inputsFloor: Measure;
}

const ROOT = path.resolve(__dirname, "..", "..");
/** The plan's own Node options (package.json's `plan` script), given to every measured process. */
export const NODE_OPTIONS = ["--max-old-space-size=16384"];

/** Runs one Node process with the peak-memory preload; returns its wall time, peak RSS and output. */
function measure(args: string[], dir: string, label: string): Measure & { status: number | null; stdout: string; stderr: string } {
  // Every process gets the same Node options, so the floor and the plan compare like for like.
  const peakFile = path.join(dir, `${label}.peak`);
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ["-r", path.join(ROOT, "dist", "bench", "peak.js"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, ODOO_FLEET_PEAK_FILE: peakFile },
    maxBuffer: 256 * 1024 * 1024,
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${label} exited ${result.status ?? result.signal}:\n${result.stderr.slice(-4000)}\n${result.stdout.slice(-2000)}`);
  const peakMiB = Number(readFileSync(peakFile, "utf8")) / 1024;
  return { wallMs, peakMiB, status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function benchRow(tenants: number, dir: string): BenchRow {
  const stackFile = path.join(dir, `Pulumi.fleet-${tenants}.yaml`);
  writeFileSync(stackFile, fleetStackYaml(tenants));
  const json = path.join(dir, `fleet-${tenants}.json`);
  const plan = measure([...NODE_OPTIONS, path.join(ROOT, "dist", "plan", "cli.js"), "--stack-file", stackFile, "--json", json], dir, `plan-${tenants}`);
  const resources = (JSON.parse(readFileSync(json, "utf8")) as { summary: { resourceCount: number } }).summary.resourceCount;
  const programMs = Number(/ in ([\d.]+) s$/m.exec(plan.stdout)?.[1] ?? NaN) * 1000;
  // The floor registers as many resources: trivial ones under the root stack it creates too.
  const floor = measure([...NODE_OPTIONS, path.join(ROOT, "dist", "bench", "floor.js"), String(resources - 1)], dir, `floor-${tenants}`);
  const inputsFloor = measure([...NODE_OPTIONS, path.join(ROOT, "dist", "bench", "floor.js"), "--inputs", json], dir, `inputs-floor-${tenants}`);
  const pick = (m: Measure): Measure => ({ wallMs: m.wallMs, peakMiB: m.peakMiB });
  return { tenants, resources, programMs, exitCode: plan.status, plan: pick(plan), floor: pick(floor), inputsFloor: pick(inputsFloor) };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (m: number) => `${Math.round(m)} MiB`;

/** The table: one line per size, then how time per resource grows from the smallest to the largest. */
export function benchTable(rows: readonly BenchRow[]): string {
  const header = ["tenants", "resources", "plan", "(program)", "floor", "x floor", "inputs floor", "x inputs floor", "plan peak", "floor peak", "x floor", "inputs floor peak", "ms / tenant"];
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const cells = rows.map((r) => [
    String(r.tenants),
    String(r.resources),
    seconds(r.plan.wallMs),
    seconds(r.programMs),
    seconds(r.floor.wallMs),
    ratio(r.plan.wallMs, r.floor.wallMs),
    seconds(r.inputsFloor.wallMs),
    ratio(r.plan.wallMs, r.inputsFloor.wallMs),
    mib(r.plan.peakMiB),
    mib(r.floor.peakMiB),
    ratio(r.plan.peakMiB, r.floor.peakMiB),
    mib(r.inputsFloor.peakMiB),
    (r.plan.wallMs / r.tenants).toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ");
  const lines = [
    line(header),
    ...cells.map(line),
    "",
    "floor: as many trivial resources; inputs floor: one resource per planned custom resource with the same inputs, none of our program.",
  ];
  if (rows.length > 1) {
    const first = rows[0]!;
    const last = rows.at(-1)!;
    const perResource = (r: BenchRow, m: Measure) => m.wallMs / r.resources;
    lines.push(
      "",
      `growth ${first.tenants} -> ${last.tenants} tenants (x${(last.resources / first.resources).toFixed(1)} resources): ` +
        `plan time x${(last.plan.wallMs / first.plan.wallMs).toFixed(2)}, floor time x${(last.floor.wallMs / first.floor.wallMs).toFixed(2)}; ` +
        `time per resource x${(perResource(last, last.plan) / perResource(first, first.plan)).toFixed(2)} (plan), x${(perResource(last, last.floor) / perResource(first, first.floor)).toFixed(2)} (floor); 1.00 is linear`,
    );
  }
  return lines.join("\n");
}

function main(): void {
  const { values } = parseArgs({ options: { sizes: { type: "string", default: "100,300,1000" }, json: { type: "string" } }, strict: true });
  const sizes = values.sizes.split(",").map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes takes tenant counts such as 100,300,1000, got ${values.sizes}`);
  const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-bench-"));
  process.stdout.write(`odoo-fleet bench: offline plans of generated production shared stacks (node ${process.version}, one process each)\n\n`);
  const rows: BenchRow[] = [];
  for (const tenants of sizes) {
    process.stderr.write(`bench: planning ${tenants} tenants ...\n`);
    rows.push(benchRow(tenants, dir));
  }
  process.stdout.write(`${benchTable(rows)}\n`);
  if (values.json) {
    mkdirSync(path.dirname(path.resolve(values.json)), { recursive: true });
    writeFileSync(values.json, `${JSON.stringify(rows, null, 2)}\n`);
  }
}

if (require.main === module) main();
