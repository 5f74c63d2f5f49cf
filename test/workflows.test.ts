/** The GitHub workflows, checked offline by a real workflow validator (@action-validator/core, what its CLI runs). */
import { validateWorkflow } from "@action-validator/core";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { listStacks, readProject } from "../plan/project";
import { ROOT } from "./plan-cli";

const WORKFLOWS = path.join(ROOT, ".github", "workflows");
/** The validator's errors for a workflow file: none when it passes. */
const validate = (file: string) => validateWorkflow(readFileSync(file, "utf8")).errors;

type Workflow = { on: Record<string, unknown>; jobs: Record<string, { environment?: string; permissions?: Record<string, string>; strategy?: { matrix?: { stack?: string[] } }; steps?: { uses?: string; with?: Record<string, unknown> }[] }> };
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
    expect(Object.keys(pr.jobs)).toEqual(["test", "changed-stacks", "offline-plan", "preview"]);
    const preview = pr.jobs.preview!.steps!.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
    expect(preview.with).toMatchObject({ command: "preview", diff: true, refresh: true, "comment-on-pr": true, policyPacks: "policies" });
    expect(pr.jobs.preview!.permissions).toMatchObject({ "id-token": "write" });
    expect(pr.jobs["offline-plan"]!.steps!.some((s) => s.uses?.startsWith("marocchino/sticky-pull-request-comment@"))).toBe(true);
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
    const stacks = listStacks(readProject(ROOT)).filter((s) => !s.startsWith("pr"));
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
});
