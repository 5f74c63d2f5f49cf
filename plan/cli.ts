/**
 * `npm run plan -- [--stack <name>] [--stack-file <file>] [--json <file>] [--host-plan <host.json>]`
 * Offline plan: runs the real program with a stack's configuration under Pulumi's mock runtime and
 * prints what it would create. Exit status: 0 valid; 1 a mandatory violation; 2 invalid configuration;
 * 3 the program or the plan itself failed.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { analyse } from "./analyses/index";
import { runPlan, withoutStackTraces } from "./capture/run";
import { evaluate } from "./evaluation/index";
import { changeSummary, diffPlans } from "./report/changes";
import { exitCode, planDocument, type PlanDocument } from "./report/document";
import { componentGraphDot, renderSvg } from "./report/graph";
import { htmlReport } from "./report/html";
import { markdownReport } from "./report/markdown";
import { isolationTable, recoveryTable, summarize, violationsByTenant, zoneTable } from "./report/summary";

export const DEFAULT_STACK = "shared-dev";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      "stack-file": { type: "string" },
      json: { type: "string" },
      report: { type: "string" },
      html: { type: "string" },
      against: { type: "string" },
      "policy-config": { type: "string" },
      "host-plan": { type: "string" },
      "stack-traces": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write("usage: npm run plan -- [--stack <name>] [--stack-file <Pulumi.<name>.yaml>] [--json <out.json>] [--report <out.md>] [--html <out.html>] [--against <previous.json>] [--policy-config <file.json>] [--host-plan <host.json>] [--stack-traces]\n");
    return 0;
  }
  const stackFile = values["stack-file"];
  const fromFile = stackFile ? /^Pulumi\.(.+)\.yaml$/.exec(path.basename(stackFile))?.[1] : undefined;
  const stack = values.stack ?? fromFile ?? DEFAULT_STACK;
  const projectDir = path.resolve(__dirname, "..", "..");

  const run = await runPlan({
    projectDir,
    stack,
    ...(stackFile ? { stackFile } : {}),
    ...(values["host-plan"] ? { hostPlan: values["host-plan"] } : {}),
    stackTraces: values["stack-traces"] === true,
    onProgress: (message) => process.stderr.write(`plan: ${message}\n`),
  });
  // The same file `pulumi preview --policy-pack-config` takes: per policy, its enforcement level and limits.
  const policyConfig = values["policy-config"] ? (JSON.parse(readFileSync(values["policy-config"], "utf8")) as Record<string, Record<string, unknown>>) : undefined;
  const analysisStarted = process.hrtime.bigint();
  // Policies signal "not applicable" by throwing, tens of thousands of times in a fleet: without stack traces.
  const analysis = run.specError ? undefined : await withoutStackTraces(async () => {
    const findings = analyse(run);
    return { ...findings, violations: await evaluate(run, findings, policyConfig) };
  }, values["stack-traces"]);
  if (analysis) process.stderr.write(`plan: policies and analyses in ${(Number(process.hrtime.bigint() - analysisStarted) / 1e9).toFixed(1)} s\n`);
  const document = planDocument(run, analysis?.violations ?? [], analysis?.recovery);
  if (analysis) {
    document.isolation = analysis.isolation;
    document.isolationChannels = analysis.isolationChannels.map((c) => ({ channel: c.channel, checked: c.checked, unit: c.unit, findings: c.findings.length }));
    if (analysis.zones) document.zones = analysis.zones;
    document.tenants = analysis.tenants;
    const { claims, collisions, ruleBreaks, duplicateUrns, createdByService } = analysis.names;
    document.names = { checked: claims.length, autonamed: claims.filter((c) => c.autonamed).length, collisions, ruleBreaks, duplicateUrns, createdByService };
  }
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, text);
    process.stderr.write(`plan: wrote ${file}\n`);
  };
  const changes = values.against ? diffPlans(JSON.parse(readFileSync(values.against, "utf8")) as PlanDocument, document) : undefined;
  if (changes) document.changes = changes;
  if (values.report) write(values.report, markdownReport(document, analysis?.violations ?? [], changes));
  if (values.html) {
    const tiers = new Map((analysis?.tenants ?? []).map((t) => [t.name, t.tier]));
    const graph = await renderSvg(componentGraphDot(document.resources, (tenant) => tiers.get(tenant)));
    if ("error" in graph) process.stderr.write(`plan: the HTML report has no resource graph: ${graph.error}\n`);
    write(values.html, htmlReport({ document, violations: analysis?.violations ?? [], ...(changes ? { changes } : {}), graph, generatedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z") }));
  }
  if (values.json) {
    write(values.json, `${JSON.stringify(document, null, 2)}\n`);
  }
  if (run.specError) {
    process.stderr.write(`${run.specError.message}\n`);
  } else {
    process.stdout.write(`${summarize(document, run.durationMs)}\n`);
    if (document.recovery) process.stdout.write(`\n${recoveryTable(document.recovery.rows)}\n`);
    if (document.isolationChannels) process.stdout.write(`\n${isolationTable(document.isolationChannels)}\n`);
    if (document.names) {
      const n = document.names;
      process.stdout.write(`\nphysical names: ${n.checked} checked (${n.autonamed} autonamed), ${n.collisions.length} claimed twice, ${n.ruleBreaks.length} breaking their API's naming rule, ${n.createdByService.length} also created by AWS first, ${n.duplicateUrns.length} duplicate URNs\n`);
    }
    if (changes) process.stdout.write(`\n${changeSummary(changes)}\n`);
    if (analysis?.zones) process.stdout.write(`\n${zoneTable(analysis.zones)}\n`);
    process.stdout.write(`\n${violationsByTenant(analysis?.violations ?? [])}\n`);
  }
  return exitCode(document);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`plan failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    if (!process.argv.includes("--stack-traces")) process.stderr.write("plan: run again with --stack-traces for the program's stack frames\n");
    process.exitCode = 3;
  },
);
