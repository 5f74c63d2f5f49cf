/** Checks .github/workflows against the supply-chain rules (scripts/workflow-rules.ts): `npx tsx scripts/check-workflows.ts`. */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { listStacks, readProject, readStackConfig } from "../plan/capture/project";
import { parseStackSpec, type BootstrapSpec } from "../spec/index";
import { workflowFindings, type WorkflowContext } from "./workflow-rules";

/** What the rules need from the repository: the production runner labels (bootstrap stack) and the stack names. */
export function repositoryContext(root: string): WorkflowContext {
  const bootstrap = parseStackSpec(readStackConfig(path.join(root, "stacks", "Pulumi.bootstrap.yaml"), "odoo-fleet").config, "bootstrap") as BootstrapSpec;
  return {
    prodRunnerLabels: new Set(bootstrap.runners.filter((r) => r.environment === "production").map((r) => r.label)),
    stacks: listStacks(readProject(root)),
  };
}

const root = path.resolve(__dirname, "..");
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(__filename)) {
  const dir = path.join(root, ".github", "workflows");
  const context = repositoryContext(root);
  const findings = readdirSync(dir).filter((f) => f.endsWith(".yml")).flatMap((f) => workflowFindings(f, readFileSync(path.join(dir, f), "utf8"), context));
  for (const f of findings) console.log(`${f.file}${f.job ? `:${f.job}` : ""}: [${f.rule}] ${f.message}`);
  console.log(`${findings.length} finding(s)`);
  process.exitCode = findings.length > 0 ? 1 : 0;
}
