/**
 * Supply-chain rules of the GitHub workflows, as pure functions over their text: who runs
 * pull-request code, with which credentials, on which runners, behind which gate, with which token
 * permissions, and which code of others runs at all (actions pinned by commit). Each finding names
 * its rule; `npx tsx scripts/check-workflows.ts` prints them, test/ci-supply-chain.test.ts holds the
 * workflows to none. A pull request can edit its own workflow, so these rules keep what is merged
 * honest; what a pull request cannot edit (IAM trust, environment reviewers, runner groups) is what
 * holds against one that does.
 * https://docs.github.com/en/actions/security-guides/security-hardening-for-github-actions
 */
import { spawnSync } from "node:child_process";
import { parse } from "yaml";
import { GITHUB_ENVIRONMENTS, PRODUCTION_RUNNER_GROUP, PRODUCTION_RUNNER_WORKFLOWS } from "../model/ci";

export const WORKFLOW_RULES = [
  "action-pinned-by-sha",
  "no-long-lived-pulumi-token",
  "pr-code-no-prod-credential",
  "pr-code-not-on-prod-runner",
  "prod-runner-only-in-its-workflows",
  "pr-deploy-behind-reviewed-environment",
  "minimal-permissions",
  "pull-request-target-no-pr-checkout",
  "checkout-keeps-no-token",
] as const;
export type WorkflowRule = (typeof WORKFLOW_RULES)[number];

export interface WorkflowFinding {
  readonly rule: WorkflowRule;
  readonly file: string;
  /** The job, or none for a finding about the whole file. */
  readonly job?: string;
  readonly message: string;
}

export interface WorkflowContext {
  /** Labels of the self-hosted runners of production stacks (the bootstrap stack's production pools). */
  readonly prodRunnerLabels: ReadonlySet<string>;
  /** Every stack name: what a matrix computed from the changed stacks can hold. */
  readonly stacks: readonly string[];
}

type Step = { id?: string; uses?: string; run?: string; with?: Record<string, unknown> };
type Job = {
  "runs-on"?: unknown;
  environment?: string | { name?: string };
  permissions?: string | Record<string, string>;
  outputs?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown> | string };
  steps?: Step[];
};
type Workflow = { on?: unknown; env?: Record<string, unknown>; permissions?: string | Record<string, string>; jobs?: Record<string, Job> };

/** Events whose workflows run with a pull request's content or on its behalf. */
const PR_EVENTS = ["pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment", "issue_comment", "workflow_run"];
const SHA = /^[0-9a-f]{40}$/;
/** A credential or backend of production: secrets and variables named *PROD*, and the production environment. */
const PROD_REFERENCE = /\b(?:secrets|vars)\.[A-Z0-9_]*PROD[A-Z0-9_]*/g;
const PULUMI_TOKEN = /PULUMI_ACCESS_TOKEN|\bsecrets\.PULUMI_[A-Z0-9_]*TOKEN\b|pulumi\s+login\s+[^\n]*--token|app\.pulumi\.com|api\.pulumi\.com/;
/** Pulumi commands that change a stack (a preview only reads). */
const PULUMI_WRITES = /(^|[\s;&|])pulumi\s+(up|update|destroy|refresh|import|state|stack\s+rm|cancel)\b/m;

const events = (workflow: Workflow): string[] =>
  typeof workflow.on === "string" ? [workflow.on] : Array.isArray(workflow.on) ? workflow.on.map(String) : Object.keys(workflow.on ?? {});
const isAction = (step: Step, action: string) => step.uses?.split("@")[0] === action;
const environmentOf = (job: Job): string | undefined => (typeof job.environment === "string" ? job.environment : job.environment?.name);

/** Whether a job runs code from the pull request: it checks out the pull request's content. */
function runsPullRequestCode(job: Job, on: string[]): boolean {
  return (job.steps ?? []).some((step) => {
    if (!isAction(step, "actions/checkout")) return false;
    const ref = String(step.with?.ref ?? "");
    // pull_request checks out the merge commit by default (github.sha is that commit too); the other
    // events check out their base unless told otherwise.
    if (on.includes("pull_request") && !/pull_request\.base\./.test(ref)) return true;
    return /pull_request\.head\.|refs\/pull\/|github\.head_ref|merge_commit_sha/.test(ref);
  });
}

/** Every `uses:` line names a full commit, with the release it is in a trailing comment (`# v4.2.2`). */
function pinFindings(file: string, text: string): WorkflowFinding[] {
  const findings: WorkflowFinding[] = [];
  for (const line of text.split("\n")) {
    const match = /^\s*(?:-\s+)?uses:\s*["']?([^\s"'#]+)["']?\s*(#.*)?$/.exec(line);
    if (!match || match[1]!.startsWith("./") || match[1]!.startsWith("docker://")) continue;
    const [action, ref = ""] = match[1]!.split("@");
    if (!SHA.test(ref)) findings.push({ rule: "action-pinned-by-sha", file, message: `${action}@${ref}: a tag or branch can be moved to other code; pin the full commit SHA` });
    else if (!/^#\s*v\d+(\.\d+)*\s*$/.test(match[2] ?? "")) findings.push({ rule: "action-pinned-by-sha", file, message: `${action}@${ref}: say the release it is (a trailing \`# v1.2.3\`)` });
  }
  return findings;
}

/** The values a matrix key takes; a value computed by an earlier job's step is evaluated with that step's jq filter. */
function matrixValues(workflow: Workflow, job: Job, key: string, context: WorkflowContext): string[] | string {
  const matrix = job.strategy?.matrix;
  const values = typeof matrix === "object" ? matrix[key] : undefined;
  if (Array.isArray(values)) return values.map(String);
  const from = /^\$\{\{\s*fromJSON\(needs\.([\w-]+)\.outputs\.([\w-]+)\)\s*\}\}$/.exec(String(values ?? matrix ?? ""));
  if (!from) return `matrix.${key} is not a list the check can read`;
  const producer = workflow.jobs?.[from[1]!];
  const output = /^\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}$/.exec(producer?.outputs?.[from[2]!] ?? "");
  const script = producer?.steps?.find((s) => s.id === output?.[1])?.run ?? "";
  const line = script.split("\n").find((l) => l.includes(`${output?.[2]}=`));
  const filter = line && /jq -R -s -c '([^']+)'/.exec(line)?.[1];
  if (!filter) return `matrix.${key} comes from needs.${from[1]}.outputs.${from[2]}, which the check cannot evaluate`;
  const run = spawnSync("jq", ["-R", "-s", "-c", filter], { input: context.stacks.join("\n") + "\n", encoding: "utf8" });
  if (run.status !== 0) return `jq failed on the filter of needs.${from[1]}.outputs.${from[2]}: ${run.stderr.trim()}`;
  return (JSON.parse(run.stdout) as unknown[]).map(String);
}

/** The labels a job can ask for, one list per matrix value; a string where the check cannot tell. */
function runnerLabelSets(workflow: Workflow, job: Job, context: WorkflowContext): string[][] | string {
  const runsOn = job["runs-on"];
  const labels = (typeof runsOn === "object" && runsOn !== null && !Array.isArray(runsOn) ? (runsOn as { labels?: unknown }).labels : runsOn) ?? [];
  const list = (Array.isArray(labels) ? labels : [labels]).map(String);
  const keys = [...new Set(list.flatMap((l) => [...l.matchAll(/\$\{\{\s*matrix\.([\w-]+)\s*\}\}/g)].map((m) => m[1]!)))];
  if (keys.length === 0) return [list];
  if (keys.length > 1) return `runs-on depends on ${keys.length} matrix keys`;
  const values = matrixValues(workflow, job, keys[0]!, context);
  if (typeof values === "string") return values;
  return values.map((value) => list.map((l) => l.replace(/\$\{\{\s*matrix\.[\w-]+\s*\}\}/g, value)));
}

function prRunnerFindings(file: string, name: string, workflow: Workflow, job: Job, context: WorkflowContext): WorkflowFinding[] {
  const sets = runnerLabelSets(workflow, job, context);
  if (typeof sets === "string") return [{ rule: "pr-code-not-on-prod-runner", file, job: name, message: `cannot tell which runners it reaches: ${sets}` }];
  return sets.flatMap((labels): WorkflowFinding[] => {
    const prod = labels.filter((l) => context.prodRunnerLabels.has(l));
    if (prod.length > 0) return [{ rule: "pr-code-not-on-prod-runner", file, job: name, message: `runs on the production runners ${prod.join(", ")}` }];
    // `self-hosted` alone matches every self-hosted runner of the repository, production's included.
    if (labels.includes("self-hosted") && labels.length === 1) return [{ rule: "pr-code-not-on-prod-runner", file, job: name, message: "runs-on [self-hosted] alone can take a production runner" }];
    return [];
  });
}

/** Writes a job's token needs: id-token for OIDC role assumption, pull-requests for posting a comment. */
function neededWrites(job: Job): Set<string> {
  const steps = job.steps ?? [];
  const needed = new Set<string>();
  if (steps.some((s) => isAction(s, "aws-actions/configure-aws-credentials") && s.with?.["role-to-assume"] !== undefined)) needed.add("id-token");
  if (steps.some((s) => isAction(s, "marocchino/sticky-pull-request-comment") || (isAction(s, "pulumi/actions") && String(s.with?.["comment-on-pr"]) === "true"))) needed.add("pull-requests");
  return needed;
}

function permissionFindings(file: string, workflow: Workflow, prWorkflow: boolean): WorkflowFinding[] {
  const findings: WorkflowFinding[] = [];
  const writes = (permissions: Workflow["permissions"]) =>
    permissions === undefined ? ["(default token permissions)"] : typeof permissions === "string" ? (permissions === "read-all" ? [] : [permissions]) : Object.entries(permissions).filter(([, v]) => v === "write").map(([k]) => k);
  const top = writes(workflow.permissions);
  if (top.length > 0) findings.push({ rule: "minimal-permissions", file, message: `workflow-level permissions grant ${top.join(", ")} to every job; grant writes per job` });
  for (const [name, job] of Object.entries(workflow.jobs ?? {})) {
    const needed = neededWrites(job);
    for (const scope of job.permissions === undefined ? [] : writes(job.permissions)) {
      if (!needed.has(scope)) findings.push({ rule: "minimal-permissions", file, job: name, message: `${scope}: write is not needed by any of its steps` });
      else if (scope === "pull-requests" && prWorkflow && runsPullRequestCode(job, events(workflow))) {
        findings.push({ rule: "minimal-permissions", file, job: name, message: "pull-requests: write in a job that runs pull-request code; post the comment from a job that checks nothing out" });
      }
    }
  }
  return findings;
}

/** Production runners join a group that serves PRODUCTION_RUNNER_WORKFLOWS on main only: no other workflow may ask for them. */
function prodRunnerWorkflowFindings(file: string, name: string, workflow: Workflow, job: Job, context: WorkflowContext): WorkflowFinding[] {
  if ((PRODUCTION_RUNNER_WORKFLOWS as readonly string[]).includes(file)) return [];
  const sets = runnerLabelSets(workflow, job, context);
  const prod = typeof sets === "string" ? [] : [...new Set(sets.flat().filter((l) => context.prodRunnerLabels.has(l)))];
  if (prod.length === 0) return [];
  return [{ rule: "prod-runner-only-in-its-workflows", file, job: name, message: `asks for ${prod.join(", ")}, which the runner group ${PRODUCTION_RUNNER_GROUP} gives only to ${PRODUCTION_RUNNER_WORKFLOWS.join(", ")} on main` }];
}

function jobFindings(file: string, workflow: Workflow, name: string, job: Job, context: WorkflowContext): WorkflowFinding[] {
  const on = events(workflow);
  const prWorkflow = on.some((e) => PR_EVENTS.includes(e));
  const findings: WorkflowFinding[] = [];
  const steps = job.steps ?? [];
  for (const step of steps.filter((s) => isAction(s, "actions/checkout"))) {
    if (step.with?.["persist-credentials"] !== false) findings.push({ rule: "checkout-keeps-no-token", file, job: name, message: "actions/checkout without persist-credentials: false leaves the job's token in .git/config for every later step" });
  }
  for (const step of steps.filter((s) => isAction(s, "pulumi/actions") && s.with?.command !== undefined && s.with["cloud-url"] === undefined)) {
    findings.push({ rule: "no-long-lived-pulumi-token", file, job: name, message: `pulumi/actions ${String(step.with!.command)} without cloud-url logs in to Pulumi Cloud, which takes an access token` });
  }
  if (!prWorkflow) return [...findings, ...prodRunnerWorkflowFindings(file, name, workflow, job, context)];
  const prCode = runsPullRequestCode(job, on);
  if (on.includes("pull_request_target") && prCode) {
    findings.push({ rule: "pull-request-target-no-pr-checkout", file, job: name, message: "pull_request_target runs with the base's secrets and a write token; it must not check out the pull request's code" });
  }
  const text = JSON.stringify({ env: workflow.env, job });
  const prod = [...new Set(text.match(PROD_REFERENCE) ?? [])];
  if (environmentOf(job) === "production") prod.push("environment: production");
  if (prod.length > 0) findings.push({ rule: "pr-code-no-prod-credential", file, job: name, message: `a pull-request workflow reaches production credentials: ${prod.join(", ")}` });
  if (prCode) findings.push(...prRunnerFindings(file, name, workflow, job, context));
  const deploys = steps.some((s) => (isAction(s, "pulumi/actions") && s.with?.command !== undefined && s.with.command !== "preview") || PULUMI_WRITES.test(s.run ?? "") || /DEPLOY/.test(String(s.with?.["role-to-assume"] ?? "")));
  const environment = environmentOf(job);
  const gated = environment !== undefined && GITHUB_ENVIRONMENTS[environment as keyof typeof GITHUB_ENVIRONMENTS]?.requiredReviewers === true;
  if (prCode && deploys && !gated) {
    findings.push({ rule: "pr-deploy-behind-reviewed-environment", file, job: name, message: `deploys pull-request code ${environment ? `in environment ${environment}, which has no required reviewers` : "with no environment"}; name one with required reviewers (model/ci.ts GITHUB_ENVIRONMENTS)` });
  }
  return findings;
}

/** Every finding of one workflow file. */
export function workflowFindings(file: string, text: string, context: WorkflowContext): WorkflowFinding[] {
  const workflow = parse(text) as Workflow;
  const findings: WorkflowFinding[] = [...pinFindings(file, text)];
  if (PULUMI_TOKEN.test(text)) findings.push({ rule: "no-long-lived-pulumi-token", file, message: "names a Pulumi Cloud token or endpoint; state is in the S3 backends, reached with the OIDC-assumed AWS role" });
  const prWorkflow = events(workflow).some((e) => PR_EVENTS.includes(e));
  if (prWorkflow && (PRODUCTION_RUNNER_WORKFLOWS as readonly string[]).includes(file)) {
    findings.push({ rule: "prod-runner-only-in-its-workflows", file, message: `runs for pull requests, yet its jobs may take the production runners (runner group ${PRODUCTION_RUNNER_GROUP})` });
  }
  findings.push(...permissionFindings(file, workflow, prWorkflow));
  for (const [name, job] of Object.entries(workflow.jobs ?? {})) findings.push(...jobFindings(file, workflow, name, job, context));
  return findings;
}
