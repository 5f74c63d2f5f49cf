/** The GitHub workflows, checked offline by a real workflow validator (@action-validator/core, what its CLI runs). */
import { validateWorkflow } from "@action-validator/core";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { DEPLOY_SESSION_SECONDS, PREVIEW_SESSION_SECONDS } from "../components/ci/policies";
import { parseStackSpec, type BootstrapSpec } from "../spec/index";
import { listStacks, readProject, readStackConfig } from "../plan/capture/project";
import { ROOT } from "./plan-cli";

const WORKFLOWS = path.join(ROOT, ".github", "workflows");
/** The validator's errors for a workflow file: none when it passes. */
const validate = (file: string) => validateWorkflow(readFileSync(file, "utf8")).errors;

type Step = { id?: string; name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> };
type Job = { if?: string; "runs-on"?: unknown; environment?: string; permissions?: Record<string, string>; strategy?: { matrix?: { stack?: string[] | string } }; steps?: Step[] };
type Workflow = { on: Record<string, unknown>; jobs: Record<string, Job> };
const workflow = (name: string) => parse(readFileSync(path.join(WORKFLOWS, name), "utf8")) as Workflow;

describe("workflows", () => {
  test.each(readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml")))("%s passes the validator", (file) => {
    expect(validate(path.join(WORKFLOWS, file))).toEqual([]);
  });

  test("the validator rejects a broken workflow (it can fail)", () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "odoo-fleet-wf-")), "broken.yml");
    writeFileSync(file, "name: x\non: push\njobs:\n  a:\n    runs-onn: ubuntu-latest\n    steps: []\n");
    expect(validate(file).map((e) => e.title)).not.toEqual([]);
  });

  test("pull requests: tests, offline plan with report and comment, then preview with the policy pack", () => {
    const pr = workflow("pull-request.yml");
    expect(Object.keys(pr.on)).toEqual(["pull_request"]);
    expect(Object.keys(pr.jobs)).toEqual(["test", "changed-stacks", "offline-plan", "comment", "preview"]);
    const preview = pr.jobs.preview!.steps!.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
    // The diff goes to the job summary: the preview runs pull-request code and holds no token that writes.
    expect(preview.with).toMatchObject({ command: "preview", diff: true, refresh: true, "comment-on-summary": true, policyPacks: "policies" });
    expect(pr.jobs.preview!.permissions).toEqual({ contents: "read", "id-token": "write" });
    // The comment job posts the offline plan's report and checks nothing out.
    const comment = pr.jobs.comment!;
    expect(comment.permissions).toEqual({ "pull-requests": "write" });
    expect(comment.steps!.map((s) => s.uses?.split("@")[0])).toEqual(["actions/download-artifact", "marocchino/sticky-pull-request-comment"]);
    expect(comment.steps![0]!.with!.name).toBe("odoo-fleet-report-${{ matrix.stack }}");
    expect(pr.jobs["offline-plan"]!.steps!.find((s) => s.with?.name === "odoo-fleet-report-${{ matrix.stack }}")!.with!.path).toBe("report.md");
    // The HTML report travels as an artifact, linked from the comment.
    const upload = pr.jobs["offline-plan"]!.steps!.find((s) => s.uses?.startsWith("actions/upload-artifact@"))!;
    expect(String(upload.with!.path)).toContain("report.html");
    const planStep = pr.jobs["offline-plan"]!.steps!.find((s) => String((s as { run?: string }).run ?? "").includes("npm run plan"))! as { run: string };
    expect(planStep.run).toContain("--report report.md --html report.html");
  });

  test("deploys: development before production, production behind its environment, all with the policy pack", () => {
    const deploy = workflow("deploy.yml");
    expect(deploy.jobs["up-production"]).toMatchObject({ environment: "production" });
    expect((deploy.jobs["up-production"] as { needs?: string }).needs).toBe("up-development");
    for (const job of ["up-development", "up-production"]) {
      expect(deploy.jobs[job]!.steps!.find((s) => s.uses?.startsWith("pulumi/actions@"))!.with).toMatchObject({ command: "up", policyPacks: "policies" });
    }
  });

  test("drift: a scheduled refresh that fails on any change", () => {
    const drift = workflow("drift.yml");
    expect(Object.keys(drift.on)).toContain("schedule");
    expect(drift.jobs.drift!.steps!.find((s) => s.uses?.startsWith("pulumi/actions@"))!.with).toMatchObject({ refresh: true, "expect-no-changes": true });
  });

  test("the stacks the deploy and drift workflows name are exactly those in stacks/", () => {
    // Not the review template (deployed as pr-<n> by review-stack.yml) nor bootstrap (applied by hand).
    const stacks = listStacks(readProject(ROOT)).filter((s) => s !== "pr" && s !== "bootstrap");
    const deploy = workflow("deploy.yml");
    const deployed = [...deploy.jobs["up-development"]!.strategy!.matrix!.stack!, ...deploy.jobs["up-production"]!.strategy!.matrix!.stack!];
    expect(deployed.sort()).toEqual(stacks);
    expect([...workflow("drift.yml").jobs.drift!.strategy!.matrix!.stack!].sort()).toEqual(stacks);
  });

  test("no workflow stores cloud keys: AWS access is by OIDC role assumption", () => {
    for (const file of readdirSync(WORKFLOWS)) {
      const text = readFileSync(path.join(WORKFLOWS, file), "utf8");
      expect(text).not.toMatch(/aws-access-key-id|AWS_SECRET_ACCESS_KEY/i);
      if (text.includes("configure-aws-credentials")) expect(text).toContain("role-to-assume");
    }
  });

  const files = readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml"));
  const allJobs = () => files.flatMap((file) => Object.entries(workflow(file).jobs).map(([name, job]) => ({ file, name, job })));

  test("every job that runs the tests first installs the tools npm does not ship, with sudo", () => {
    const testing = allJobs().filter(({ job }) => (job.steps ?? []).some((s) => /\bnpm test\b/.test(s.run ?? "")));
    expect(testing.map(({ file, name }) => `${file}:${name}`).sort()).toEqual(["deploy.yml:test", "pull-request.yml:test"]);
    for (const { job } of testing) {
      const steps = job.steps!.map((s) => s.run ?? "");
      expect(steps.indexOf("sudo bash .ci/install-tools")).toBeGreaterThanOrEqual(0);
      expect(steps.indexOf("sudo bash .ci/install-tools")).toBeLessThan(steps.findIndex((r) => /\bnpm test\b/.test(r)));
    }
  });

  // `npm run build` only transpiles (esbuild, no type-check): whatever tests or hands dist/ to Pulumi type-checks first.
  test("every job that runs the tests or a Pulumi command on dist/ type-checks before it builds", () => {
    const order = (job: Job) => job.steps!.flatMap((s) => (s.run ?? "").split(/&&|\n/).map((c) => c.trim()).filter(Boolean));
    const building = allJobs().filter(({ job }) => (job.steps ?? []).some((s) => /\bnpm test\b/.test(s.run ?? "") || (s.uses?.startsWith("pulumi/actions@") && s.with?.command !== undefined)));
    expect(building.map(({ file, name }) => `${file}:${name}`).sort()).toEqual([
      "deploy.yml:test",
      "deploy.yml:up-development",
      "deploy.yml:up-production",
      "drift.yml:drift",
      "pull-request.yml:preview",
      "pull-request.yml:test",
      "review-stack.yml:deploy",
    ]);
    for (const { job } of building) {
      const commands = order(job);
      const typecheck = commands.indexOf("npm run typecheck");
      const build = commands.findIndex((c) => c === "npm run build" || c === "npm test");
      expect(typecheck).toBeGreaterThanOrEqual(0);
      expect(typecheck).toBeLessThan(build);
    }
  });

  test("every job that runs the tests lints first: a back-pointing import or a cycle stops the merge", () => {
    const testing = allJobs().filter(({ job }) => (job.steps ?? []).some((s) => /\bnpm test\b/.test(s.run ?? "")));
    expect(testing.map(({ file, name }) => `${file}:${name}`).sort()).toEqual(["deploy.yml:test", "pull-request.yml:test"]);
    for (const { job } of testing) {
      const commands = job.steps!.map((s) => (s.run ?? "").trim());
      expect(commands.indexOf("npm run lint")).toBeGreaterThan(commands.indexOf("npm run typecheck"));
      expect(commands.indexOf("npm run lint")).toBeLessThan(commands.indexOf("npm test"));
    }
  });

  test("live previews leave out the review template, the bootstrap stack and production stacks; the offline plan keeps them all", () => {
    const pr = workflow("pull-request.yml");
    const pick = pr.jobs["changed-stacks"]!.steps!.find((s) => s.id === "pick")!.run!;
    const previews = pick.split("\n").find((l) => l.includes("previews="))!;
    expect(previews).toContain('. != "pr"');
    expect(previews).toContain('. != "bootstrap"');
    // Production stacks are those named *-prod (the last test holds names and environments together).
    expect(previews).toContain('(endswith("-prod") | not)');
    expect(pr.jobs.preview!.strategy!.matrix!.stack).toBe("${{ fromJSON(needs.changed-stacks.outputs.previews) }}");
    expect(pr.jobs["offline-plan"]!.strategy!.matrix!.stack).toBe("${{ fromJSON(needs.changed-stacks.outputs.stacks) }}");
  });

  test("no Pulumi Cloud: stacks by their plain name in the S3 backend of their CI environment, no access token or organisation", () => {
    for (const file of files) {
      const text = readFileSync(path.join(WORKFLOWS, file), "utf8");
      expect(text, file).not.toMatch(/PULUMI_ACCESS_TOKEN|PULUMI_ORG/);
    }
    const pulumiSteps = allJobs().flatMap(({ file, job }) => (job.steps ?? []).filter((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command).map((s) => ({ file, s })));
    expect(pulumiSteps.length).toBe(5);
    for (const { file, s } of pulumiSteps) {
      expect(String(s.with!["stack-name"]), file).not.toContain("/");
      expect(String(s.with!["cloud-url"]), file).toMatch(/vars\.PULUMI_BACKEND_URL_(DEV|PROD)/);
    }
    const template = readStackConfig(path.join(ROOT, "stacks", "Pulumi.pr.yaml"), "odoo-fleet").config;
    expect(JSON.parse(template["odoo-fleet:host"]!)).toEqual({ stack: "shared-dev" });
  });

  test("the review stack is created with the secrets provider its template names", () => {
    const up = workflow("review-stack.yml").jobs.deploy!.steps!.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
    const doc = parse(readFileSync(path.join(ROOT, "stacks", "Pulumi.pr.yaml"), "utf8")) as { secretsprovider: string };
    expect(up.with!["secrets-provider"]).toBe(doc.secretsprovider);
  });

  test("review teardown: destroy, a second pass after a partial destroy, then stack rm, even after a failed step", () => {
    const destroy = workflow("review-stack.yml").jobs.destroy!;
    const steps = destroy.steps!;
    const index = (id: string) => steps.findIndex((s) => s.id === id || s.name === id);
    expect(steps[index("destroy")]!.run).toBe('pulumi destroy --stack "$STACK" --yes --refresh --continue-on-error');
    expect(steps[index("retry")]!.if).toBe("${{ !cancelled() && steps.destroy.outcome == 'failure' }}");
    const rm = steps[index("Remove the stack")]!;
    expect(rm.run).toBe('pulumi stack rm "$STACK" --yes');
    expect(rm.if).toBe("${{ !cancelled() && (steps.destroy.outcome == 'success' || steps.retry.outcome == 'success') }}");
    expect(index("destroy")).toBeLessThan(index("retry"));
    expect(index("retry")).toBeLessThan(index("Remove the stack"));
    expect(steps.some((s) => s.run?.includes("pulumi login \"$PULUMI_BACKEND_URL\""))).toBe(true);
  });

  test("role sessions: deploys ask for the deploy role's 4 hours, previews for the preview role's 2", () => {
    const assumptions = allJobs().flatMap(({ file, name, job }) => (job.steps ?? []).filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@")).map((s) => ({ at: `${file}:${name}`, s })));
    expect(assumptions.length).toBe(6);
    for (const { at, s } of assumptions) {
      const deploy = String(s.with!["role-to-assume"]).includes("DEPLOY_ROLE");
      expect(s.with!["role-duration-seconds"], at).toBe(deploy ? DEPLOY_SESSION_SECONDS : PREVIEW_SESSION_SECONDS);
    }
  });

  test("every job that assumes an AWS role runs on the bootstrap runners of the stack it touches", () => {
    const bootstrap = parseStackSpec(readStackConfig(path.join(ROOT, "stacks", "Pulumi.bootstrap.yaml"), "odoo-fleet").config, "bootstrap") as BootstrapSpec;
    const labels = new Set(bootstrap.runners.map((r) => r.label));
    const withRole = allJobs().filter(({ job }) => (job.steps ?? []).some((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@")));
    expect(withRole.length).toBe(6);
    for (const { file, name, job } of withRole) {
      const runsOn = job["runs-on"] as string[];
      expect(runsOn[0], `${file}:${name}`).toBe("self-hosted");
      const label = runsOn[1]!;
      if (label.includes("${{ matrix.stack }}")) {
        const stacks = job.strategy!.matrix!.stack!;
        for (const stack of Array.isArray(stacks) ? stacks : [...labels].map((l) => l.replace(/^odoo-fleet-/, ""))) expect(labels.has(label.replace("${{ matrix.stack }}", stack)), `${file}:${name} ${stack}`).toBe(true);
      } else {
        expect(labels.has(label), `${file}:${name}`).toBe(true);
      }
    }
  });

  test("pull-request code never assumes a production role nor reaches a production backend", () => {
    const onPullRequests = files.filter((file) => Object.keys(workflow(file).on).some((event) => event.startsWith("pull_request")));
    expect(onPullRequests.sort()).toEqual(["pull-request.yml", "review-stack.yml"]);
    for (const file of onPullRequests) {
      const text = readFileSync(path.join(WORKFLOWS, file), "utf8");
      expect(text.match(/AWS_PROD_[A-Z_]+|PULUMI_BACKEND_URL_PROD/g), file).toBeNull();
    }
    const preview = workflow("pull-request.yml").jobs.preview!.steps!;
    expect(preview.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))!.with!["role-to-assume"]).toBe("${{ secrets.AWS_DEV_PREVIEW_ROLE_ARN }}");
    expect(preview.find((s) => s.uses?.startsWith("pulumi/actions@"))!.with!["cloud-url"]).toBe("${{ vars.PULUMI_BACKEND_URL_DEV }}");
  });

  const GUARD = "Stack file holds its real encryptedkey";
  const runsPulumi = (s: Step) => (s.uses?.startsWith("pulumi/actions@") && s.with?.command !== undefined) || /(^|\s)pulumi\s/.test(s.run ?? "");

  test("every job that runs a pulumi command first checks its stack file's encryptedkey, before installing anything", () => {
    const jobs = allJobs().filter(({ job }) => (job.steps ?? []).some(runsPulumi));
    expect(jobs.map(({ file, name }) => `${file}:${name}`).sort()).toEqual([
      "deploy.yml:up-development",
      "deploy.yml:up-production",
      "drift.yml:drift",
      "pull-request.yml:preview",
      "review-stack.yml:deploy",
      "review-stack.yml:destroy",
    ]);
    for (const { file, name, job } of jobs) {
      const steps = job.steps!;
      const guard = steps.findIndex((s) => s.name?.startsWith(GUARD));
      expect(guard, `${file}:${name}`).toBe(1);
      expect(steps[0]!.uses, `${file}:${name}`).toMatch(/^actions\/checkout@/);
      // Review stacks are copies of the template, with its encryptedkey.
      const stackFile = file === "review-stack.yml" ? "stacks/Pulumi.pr.yaml" : "stacks/Pulumi.${{ matrix.stack }}.yaml";
      expect(steps[guard]!.run, `${file}:${name}`).toBe(`sh scripts/require-encryptedkey.sh "${stackFile}"`);
      expect(guard, `${file}:${name}`).toBeLessThan(steps.findIndex(runsPulumi));
    }
  });

  describe("scripts/require-encryptedkey.sh", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-key-"));
    const check = (file: string) => spawnSync("sh", [path.join(ROOT, "scripts", "require-encryptedkey.sh"), file], { encoding: "utf8" });
    const variant = (stack: string, encryptedkey: string | undefined) => {
      const file = path.join(dir, `Pulumi.${stack}.yaml`);
      copyFileSync(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`), file);
      const lines = readFileSync(file, "utf8").split("\n").filter((l) => !l.startsWith("encryptedkey:"));
      writeFileSync(file, (encryptedkey === undefined ? lines : [`encryptedkey: ${encryptedkey}`, ...lines]).join("\n"));
      return file;
    };
    // What `pulumi stack change-secrets-provider` writes: base64 of the KMS ciphertext of the data key.
    const REAL = Buffer.from("AQICAHh kms ciphertext of a 32-byte data key, for the test").toString("base64");

    test.each(listStacks(readProject(ROOT)).filter((s) => s !== "bootstrap"))("the committed placeholder of Pulumi.%s.yaml fails, naming the file and the README step", (stack) => {
      const file = path.join(dir, `placeholder-${stack}.yaml`);
      copyFileSync(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`), file);
      const { status, stderr } = check(file);
      expect(readFileSync(file, "utf8")).toMatch(/^encryptedkey: PLACEHOLDER-/m);
      expect(status).toBe(1);
      expect(stderr).toContain(`${file} still holds a placeholder encryptedkey`);
      expect(stderr).toContain('README "From an empty AWS account" step 6');
    });

    test.each<[string, string | undefined, number, string]>([
      ["a real key passes", REAL, 0, ""],
      ["a quoted real key passes", `"${REAL}"`, 0, ""],
      ["no key fails", undefined, 1, "has no encryptedkey"],
      ["a key that is not base64 fails", `${REAL.slice(0, -4)}-x_y`, 1, "still holds a placeholder encryptedkey"],
      ["a truncated key fails", REAL.slice(0, -1), 1, "still holds a placeholder encryptedkey"],
    ])("%s", (_, key, status, message) => {
      const result = check(variant("shared-prod", key));
      expect(result.status, result.stderr).toBe(status);
      expect(result.stderr).toContain(message);
    });
  });

  test("self-hosted runners never take pull requests from forks", () => {
    for (const [file, job] of [["pull-request.yml", "preview"], ["review-stack.yml", "deploy"], ["review-stack.yml", "destroy"]] as const) {
      expect(workflow(file).jobs[job]!.if, `${file}:${job}`).toContain("github.event.pull_request.head.repo.full_name == github.repository");
    }
  });

  test("the workflows' '-prod' suffix picks production roles for exactly the production stacks", () => {
    for (const stack of listStacks(readProject(ROOT)).filter((s) => s !== "bootstrap")) {
      const environment = readStackConfig(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`), "odoo-fleet").config["odoo-fleet:environment"];
      expect(stack.endsWith("-prod"), stack).toBe(environment === "production");
    }
  });
});

