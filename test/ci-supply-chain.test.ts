/**
 * The workflows' supply-chain rules (scripts/workflow-rules.ts): none broken by the real workflows,
 * and each weakness, re-created on a copy of a real workflow, caught by its rule with its message.
 */
import { validateWorkflow } from "@action-validator/core";
import * as pulumi from "@pulumi/pulumi";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { ciSubjects, runnerUserData } from "../components/ci/policies";
import { GITHUB_ENVIRONMENTS, PRODUCTION_RUNNER_WORKFLOWS } from "../model/ci";
import type { CapturedResource } from "../model/resource";
import { buildBootstrap } from "../program/bootstrap";
import { readStackConfig } from "../plan/capture/project";
import { parseStackSpec, type BootstrapSpec } from "../spec/index";
import { repositoryContext } from "../scripts/check-workflows";
import { named, startHarness } from "./harness";
import { WORKFLOW_RULES, workflowFindings, type WorkflowFinding } from "../scripts/workflow-rules";
import { ROOT } from "./plan-cli";
import { missingTools } from "./tools";

const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const FILES = readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml")).sort();
const real = (file: string) => readFileSync(path.join(WORKFLOWS, file), "utf8");
const context = repositoryContext(ROOT);
const findings = (file: string, text: string) => workflowFindings(file, text, context).map(({ rule, job, message }: WorkflowFinding) => ({ rule, job, message }));

/** The text with `from` replaced by `to`, where `from` occurs exactly `times` times (so a mutation cannot silently miss). */
function mutate(text: string, from: string, to: string, times = 1): string {
  const count = text.split(from).length - 1;
  if (count !== times) throw new Error(`expected ${times} occurrence(s) of ${JSON.stringify(from)}, found ${count}`);
  return text.split(from).join(to);
}

const CHECKOUT = "actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0";
const PREVIEW_ROLE = "role-to-assume: ${{ secrets.AWS_DEV_PREVIEW_ROLE_ARN }}";

// The weaknesses of the issue, and their neighbours, each on one real workflow.
const CASES: { name: string; file: string; text: () => string; expected: { rule: string; job?: string; message: string }[] }[] = [
  {
    name: "the PR preview assumes the production preview role and reads the production backend",
    file: "pull-request.yml",
    text: () => mutate(mutate(real("pull-request.yml"), PREVIEW_ROLE, "role-to-assume: ${{ secrets.AWS_PROD_PREVIEW_ROLE_ARN }}"), "cloud-url: ${{ vars.PULUMI_BACKEND_URL_DEV }}", "cloud-url: ${{ vars.PULUMI_BACKEND_URL_PROD }}"),
    expected: [{ rule: "pr-code-no-prod-credential", job: "preview", message: "a pull-request workflow reaches production credentials: secrets.AWS_PROD_PREVIEW_ROLE_ARN, vars.PULUMI_BACKEND_URL_PROD" }],
  },
  {
    name: "the PR preview of production stacks (filter without the -prod exclusion) lands on the production runners",
    file: "pull-request.yml",
    text: () => mutate(real("pull-request.yml"), ' and (endswith("-prod") | not)', ""),
    expected: [{ rule: "pr-code-not-on-prod-runner", job: "preview", message: "runs on the production runners odoo-fleet-dedicated-acme-prod" }, { rule: "pr-code-not-on-prod-runner", job: "preview", message: "runs on the production runners odoo-fleet-shared-prod" }],
  },
  {
    name: "a PR job on the production runner label by name",
    file: "review-stack.yml",
    text: () => mutate(real("review-stack.yml"), "runs-on: [self-hosted, odoo-fleet-shared-dev]\n    environment: review\n    permissions:\n      contents: read\n      id-token: write\n    steps", "runs-on: [self-hosted, odoo-fleet-shared-prod]\n    environment: review\n    permissions:\n      contents: read\n      id-token: write\n    steps"),
    expected: [{ rule: "pr-code-not-on-prod-runner", job: "deploy", message: "runs on the production runners odoo-fleet-shared-prod" }],
  },
  {
    name: "a PR job on any self-hosted runner",
    file: "pull-request.yml",
    text: () => mutate(real("pull-request.yml"), 'runs-on: [self-hosted, "odoo-fleet-${{ matrix.stack }}"]', "runs-on: [self-hosted]"),
    expected: [{ rule: "pr-code-not-on-prod-runner", job: "preview", message: "runs-on [self-hosted] alone can take a production runner" }],
  },
  {
    name: "another workflow asking for the production runners (the group would never give them)",
    file: "nightly.yml",
    text: () => real("drift.yml"),
    expected: [{ rule: "prod-runner-only-in-its-workflows", job: "drift", message: "asks for odoo-fleet-shared-prod, odoo-fleet-dedicated-acme-prod, which the runner group odoo-fleet-production gives only to deploy.yml, drift.yml on main" }],
  },
  {
    name: "a production workflow that also runs for pull requests",
    file: "drift.yml",
    text: () => mutate(real("drift.yml"), "  workflow_dispatch: {}\n", "  workflow_dispatch: {}\n  pull_request:\n    branches: [main]\n"),
    expected: [
      { rule: "prod-runner-only-in-its-workflows", job: undefined, message: "runs for pull requests, yet its jobs may take the production runners (runner group odoo-fleet-production)" },
      { rule: "pr-code-no-prod-credential", job: "drift", message: "a pull-request workflow reaches production credentials: secrets.AWS_PROD_PREVIEW_ROLE_ARN, vars.PULUMI_BACKEND_URL_PROD" },
      { rule: "pr-code-not-on-prod-runner", job: "drift", message: "runs on the production runners odoo-fleet-shared-prod" },
      { rule: "pr-code-not-on-prod-runner", job: "drift", message: "runs on the production runners odoo-fleet-dedicated-acme-prod" },
    ],
  },
  {
    name: "review stacks deploy pull-request code with no environment",
    file: "review-stack.yml",
    text: () => mutate(real("review-stack.yml"), "    runs-on: [self-hosted, odoo-fleet-shared-dev]\n    environment: review\n    permissions:\n      contents: read\n      id-token: write\n    steps", "    runs-on: [self-hosted, odoo-fleet-shared-dev]\n    permissions:\n      contents: read\n      id-token: write\n    steps"),
    expected: [{ rule: "pr-deploy-behind-reviewed-environment", job: "deploy", message: "deploys pull-request code with no environment; name one with required reviewers (model/ci.ts GITHUB_ENVIRONMENTS)" }],
  },
  {
    name: "review stacks torn down in an environment nobody reviews",
    file: "review-stack.yml",
    text: () => mutate(real("review-stack.yml"), "    environment: review\n    permissions:\n      contents: read\n      id-token: write\n    env:", "    environment: development\n    permissions:\n      contents: read\n      id-token: write\n    env:"),
    expected: [{ rule: "pr-deploy-behind-reviewed-environment", job: "destroy", message: "deploys pull-request code in environment development, which has no required reviewers; name one with required reviewers (model/ci.ts GITHUB_ENVIRONMENTS)" }],
  },
  {
    name: "an action pinned by its tag",
    file: "deploy.yml",
    text: () => mutate(real("deploy.yml"), "pulumi/actions@8582a9e8cc630786854029b4e09281acd6794b58 # v6.6.1", "pulumi/actions@v6", 2),
    expected: [1, 2].map(() => ({ rule: "action-pinned-by-sha", message: "pulumi/actions@v6: a tag or branch can be moved to other code; pin the full commit SHA" })),
  },
  {
    name: "a SHA with no release comment, and a short SHA",
    file: "drift.yml",
    text: () => mutate(mutate(real("drift.yml"), CHECKOUT, "actions/checkout@11d5960a326750d5838078e36cf38b85af677262"), "actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0", "actions/setup-node@49933ea # v4.4.0"),
    expected: [
      { rule: "action-pinned-by-sha", message: "actions/checkout@11d5960a326750d5838078e36cf38b85af677262: say the release it is (a trailing `# v1.2.3`)" },
      { rule: "action-pinned-by-sha", message: "actions/setup-node@49933ea: a tag or branch can be moved to other code; pin the full commit SHA" },
    ],
  },
  {
    name: "one long-lived Pulumi token for the workflow",
    file: "deploy.yml",
    text: () => mutate(real("deploy.yml"), "permissions:\n  contents: read\n\nconcurrency", "env:\n  PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}\n\npermissions:\n  contents: read\n\nconcurrency"),
    expected: [{ rule: "no-long-lived-pulumi-token", message: "names a Pulumi Cloud token or endpoint; state is in the S3 backends, reached with the OIDC-assumed AWS role" }],
  },
  {
    name: "a Pulumi command without the S3 backend (Pulumi Cloud by default)",
    file: "drift.yml",
    text: () => mutate(real("drift.yml"), "          cloud-url: ${{ endsWith(matrix.stack, '-prod') && vars.PULUMI_BACKEND_URL_PROD || vars.PULUMI_BACKEND_URL_DEV }}\n", ""),
    expected: [{ rule: "no-long-lived-pulumi-token", job: "drift", message: "pulumi/actions preview without cloud-url logs in to Pulumi Cloud, which takes an access token" }],
  },
  {
    name: "OIDC for every job of a workflow, and a PR comment token in the preview that runs PR code",
    file: "pull-request.yml",
    text: () => mutate(mutate(real("pull-request.yml"), "permissions:\n  contents: read\n\nconcurrency", "permissions:\n  contents: read\n  id-token: write\n\nconcurrency"), "      contents: read\n      id-token: write\n    strategy", "      contents: read\n      id-token: write\n      pull-requests: write\n    strategy"),
    expected: [
      { rule: "minimal-permissions", message: "workflow-level permissions grant id-token to every job; grant writes per job" },
      { rule: "minimal-permissions", job: "preview", message: "pull-requests: write is not needed by any of its steps" },
    ],
  },
  {
    name: "the preview comments on the PR itself, holding a write token while it runs PR code",
    file: "pull-request.yml",
    text: () => mutate(mutate(real("pull-request.yml"), "comment-on-summary: true", "comment-on-pr: true"), "      contents: read\n      id-token: write\n    strategy", "      contents: read\n      id-token: write\n      pull-requests: write\n    strategy"),
    expected: [{ rule: "minimal-permissions", job: "preview", message: "pull-requests: write in a job that runs pull-request code; post the comment from a job that checks nothing out" }],
  },
  {
    name: "no permissions key: the repository's default token (possibly write-all), and contents: write for the tests",
    file: "deploy.yml",
    text: () => mutate(mutate(real("deploy.yml"), "permissions:\n  contents: read\n\nconcurrency", "concurrency"), "  test:\n    runs-on: ubuntu-latest\n", "  test:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: write\n"),
    expected: [
      { rule: "minimal-permissions", message: "workflow-level permissions grant (default token permissions) to every job; grant writes per job" },
      { rule: "minimal-permissions", job: "test", message: "contents: write is not needed by any of its steps" },
    ],
  },
  {
    name: "pull_request_target checking out the pull request's head",
    file: "pull-request.yml",
    text: () => mutate(mutate(real("pull-request.yml"), "on:\n  pull_request:\n", "on:\n  pull_request_target:\n"), `      - uses: ${CHECKOUT}\n        with:\n          persist-credentials: false\n      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0\n        with:\n          node-version: 20\n          cache: npm\n      - name: Tools`, `      - uses: ${CHECKOUT}\n        with:\n          persist-credentials: false\n          ref: \${{ github.event.pull_request.head.sha }}\n      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0\n        with:\n          node-version: 20\n          cache: npm\n      - name: Tools`),
    expected: [{ rule: "pull-request-target-no-pr-checkout", job: "test", message: "pull_request_target runs with the base's secrets and a write token; it must not check out the pull request's code" }],
  },
  {
    name: "a checkout that leaves the token in .git/config",
    file: "review-stack.yml",
    text: () => mutate(real("review-stack.yml"), `      - uses: ${CHECKOUT}\n        with:\n          persist-credentials: false\n      - name: Stack file holds its real encryptedkey (README, "From an empty AWS account", step 6)\n        run: sh scripts/require-encryptedkey.sh "stacks/Pulumi.pr.yaml"\n      - uses: actions/setup-node`, `      - uses: ${CHECKOUT}\n      - name: Stack file holds its real encryptedkey (README, "From an empty AWS account", step 6)\n        run: sh scripts/require-encryptedkey.sh "stacks/Pulumi.pr.yaml"\n      - uses: actions/setup-node`),
    expected: [{ rule: "checkout-keeps-no-token", job: "deploy", message: "actions/checkout without persist-credentials: false leaves the job's token in .git/config for every later step" }],
  },
];

describe("CI supply chain", () => {
  // The preview's matrix is computed with jq (changed-stacks); the rules evaluate that same filter.
  const skip = missingTools("CI supply chain", "jq").length > 0;

  test.skipIf(skip).each(FILES)("%s breaks no rule", (file) => {
    expect(findings(file, real(file))).toEqual([]);
  });

  test.skipIf(skip).each(CASES.map((c) => [c.name, c] as const))("%s: caught", (_, c) => {
    const text = c.text();
    // Still a valid workflow: what is caught is the weakness, not a broken file.
    expect(validateWorkflow(text).errors).toEqual([]);
    const expected = c.expected.map((e) => ({ rule: e.rule, job: e.job, message: e.message }));
    expect(findings(c.file, text)).toEqual(expected);
  });

  test("every rule is re-created by at least one case", () => {
    expect([...new Set(CASES.flatMap((c) => c.expected.map((e) => e.rule)))].sort()).toEqual([...WORKFLOW_RULES].sort());
  });

  test("the production runner labels are the bootstrap stack's production pools", () => {
    expect([...context.prodRunnerLabels].sort()).toEqual(["odoo-fleet-dedicated-acme-prod", "odoo-fleet-shared-prod"]);
  });

  test("every environment a deploy role trusts is one the workflows' rules know; the one pull-request code deploys in has reviewers", () => {
    const environments = (["dev", "prod"] as const).flatMap((env) => ciSubjects("deploy", env, "o/r").map((s) => /:environment:(.+)$/.exec(s)![1]!));
    expect(environments.sort()).toEqual(Object.keys(GITHUB_ENVIRONMENTS).sort());
    expect(GITHUB_ENVIRONMENTS.review.requiredReviewers).toBe(true);
    expect(GITHUB_ENVIRONMENTS.production).toEqual({ requiredReviewers: true, deploymentBranches: ["main"] });
    // The production preview role never trusts pull requests (it decrypts production secrets).
    expect(ciSubjects("preview", "prod", "o/r")).toEqual(["repo:o/r:ref:refs/heads/main"]);
  });

  test("every action is pinned to the same commit in every workflow", () => {
    const pins = new Map<string, Set<string>>();
    for (const file of FILES) {
      for (const [, action, sha] of real(file).matchAll(/uses:\s*([\w./-]+)@([0-9a-f]{40}) #/g)) pins.set(action!, (pins.get(action!) ?? new Set()).add(sha!));
    }
    expect([...pins.keys()].sort()).toEqual(["actions/checkout", "actions/download-artifact", "actions/setup-node", "actions/upload-artifact", "aws-actions/configure-aws-credentials", "marocchino/sticky-pull-request-comment", "pulumi/actions"]);
    for (const [action, shas] of pins) expect(shas.size, action).toBe(1);
  });
});

describe("production runners take jobs of the production workflows only", () => {
  const REPO = "odoo-fleet/odoo-fleet";
  let resources: CapturedResource[];
  let outputs: Record<string, unknown>;
  beforeAll(async () => {
    const harness = await startHarness({ stack: "bootstrap" });
    const spec = parseStackSpec(readStackConfig(path.join(ROOT, "stacks", "Pulumi.bootstrap.yaml"), "odoo-fleet").config, "bootstrap") as BootstrapSpec;
    const result = await buildBootstrap(spec);
    resources = await harness.settle();
    outputs = await new Promise((resolve) => pulumi.output(result).apply((values) => resolve(values as Record<string, unknown>)));
  });
  const userData = (pool: string) => Buffer.from(String(named(resources, `${pool}-runner`, "aws:ec2/launchTemplate:LaunchTemplate").inputs.userData), "base64").toString();
  const configLine = (script: string) => script.split("\n").find((l) => l.includes("./config.sh"))!;
  const tokenLine = (script: string) => script.split("\n").find((l) => l.startsWith("registration="))!;

  test("production pools register with the organisation into the restricted group; the dev pool with the repository", () => {
    for (const pool of ["shared-prod", "dedicated-acme-prod"]) {
      expect(configLine(userData(pool)), pool).toContain(`--ephemeral --url https://github.com/odoo-fleet --runnergroup odoo-fleet-production --token "$registration" --labels odoo-fleet-${pool} `);
      expect(tokenLine(userData(pool)), pool).toContain("https://api.github.com/orgs/odoo-fleet/actions/runners/registration-token");
    }
    // The dev runners serve pull requests (previews, review stacks): repository runners, no group.
    expect(configLine(userData("shared-dev"))).toContain(`--ephemeral --url https://github.com/${REPO} --token "$registration" --labels odoo-fleet-shared-dev `);
    expect(userData("shared-dev")).not.toContain("--runnergroup");
  });

  test("the bootstrap stack says which workflows the group must be restricted to, and those are the workflows on production runners", () => {
    expect(outputs.productionRunnerGroup).toEqual({
      name: "odoo-fleet-production",
      selectedWorkflows: [`${REPO}/.github/workflows/deploy.yml@main`, `${REPO}/.github/workflows/drift.yml@main`],
    });
    expect([...PRODUCTION_RUNNER_WORKFLOWS].every((file) => FILES.includes(file))).toBe(true);
  });

  test("without a group, a runner registers with the repository", () => {
    const script = runnerUserData({ repository: REPO, label: "odoo-fleet-shared-dev", tokenSecretId: "s", region: "eu-west-1" });
    expect(tokenLine(script)).toContain(`https://api.github.com/repos/${REPO}/actions/runners/registration-token`);
  });
});
