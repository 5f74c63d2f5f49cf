/** The bootstrap stack: its spec, the CI identities' IAM documents, and the program under the mock harness. */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, test } from "vitest";
import { ciSubjects, DEPLOY_SESSION_SECONDS, denyProductionPolicy, githubTrustPolicy, previewStatePolicy, runnerUserData } from "../components/ci/policies";
import { overlaps, parseCidr, runnerPublicSubnet } from "../model/cidr";
import { buildBootstrap } from "../program/bootstrap";
import { ciEnvironmentOf } from "../model/ci";
import { parsePlatformSpec, parseStackSpec, stackSpecProblems, type BootstrapSpec } from "../spec/index";
import type { CapturedResource } from "../model/resource";
import { listStacks, readProject, readStackConfig } from "../plan/capture/project";
import { childrenOf, named, ofType, startHarness } from "./harness";
import { allows, type PolicyDoc, type Request } from "./iam-evaluator";
import { ROOT } from "./plan-cli";

const configOf = (stack: string) => readStackConfig(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`), "odoo-fleet").config;
const bootstrapSpec = () => parseStackSpec(configOf("bootstrap"), "bootstrap") as BootstrapSpec;
const REPO = "odoo-fleet/odoo-fleet";

describe("CI identities' documents", () => {
  test.each([
    ["deploy", "prod", [`repo:${REPO}:environment:production`]],
    ["deploy", "dev", [`repo:${REPO}:environment:development`, `repo:${REPO}:environment:review`]],
    // Pull-request code never runs as the prod preview role (it decrypts production secrets).
    ["preview", "prod", [`repo:${REPO}:ref:refs/heads/main`]],
    ["preview", "dev", [`repo:${REPO}:pull_request`, `repo:${REPO}:ref:refs/heads/main`]],
  ] as const)("%s role of %s trusts %j", (purpose, env, subjects) => {
    expect(ciSubjects(purpose, env, REPO)).toEqual(subjects);
  });

  test("the trust policy pins the audience and the subjects, exactly", () => {
    expect(githubTrustPolicy("arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com", ["repo:a/b:pull_request"]).Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Federated: "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com" },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: { StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": ["repo:a/b:pull_request"] } },
      },
    ]);
  });

  test("previews may write only the state's lock files", () => {
    const writes = previewStatePolicy({ bucketArn: "arn:aws:s3:::b", keyArn: "arn:k" }).Statement.filter((s) => (s.Action as string[]).some((a) => a.startsWith("s3:Put") || a.startsWith("s3:Delete")));
    expect(writes.map((s) => s.Resource)).toEqual(["arn:aws:s3:::b/.pulumi/locks/*"]);
  });

  test("dev roles are denied the production state, key, every CI role and production-tagged resources", () => {
    const doc = denyProductionPolicy({ prodBucketArn: "arn:aws:s3:::p", prodKeyArn: "arn:kp", ciRoleArnPattern: "arn:aws:iam::*:role/ci-*" });
    expect(doc.Statement.map((s) => [s.Effect, s.Resource])).toEqual([
      ["Deny", ["arn:aws:s3:::p", "arn:aws:s3:::p/*"]],
      ["Deny", "arn:kp"],
      ["Deny", "arn:aws:iam::*:role/ci-*"],
      ["Deny", "*"],
    ]);
    expect(doc.Statement[3]!.Condition).toEqual({ StringEquals: { "aws:ResourceTag/environment": "production" } });
  });

  test.each<[string, Request, boolean]>([
    ["NotAction: an action outside the list", { action: "iam:DeleteRolePolicy", resource: "arn:r" }, true],
    ["NotAction: an action of the list", { action: "iam:GetRole", resource: "arn:r" }, false],
  ])("the evaluator, %s matches the deny", (_, request, denied) => {
    expect(allows({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }, { Effect: "Deny", NotAction: ["iam:Get*"], Resource: "arn:r" }] }, request)).toBe(!denied);
  });

  test("a runner registers ephemeral with its one label and self-update on, switches its metadata off before any job, and powers off after one", () => {
    const script = runnerUserData({ repository: REPO, label: "odoo-fleet-shared-prod", tokenSecretId: "odoo-fleet/github-runner-token", region: "eu-west-1" });
    const lines = script.split("\n");
    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    const config = lines.find((l) => l.includes("./config.sh"))!;
    expect(config).toContain("--ephemeral --url https://github.com/odoo-fleet/odoo-fleet");
    // Self-update stays on: GitHub refuses runners too old to run jobs when it is disabled.
    expect(script).not.toContain("--disableupdate");
    expect(lines.find((l) => l.includes("./config.sh"))).toContain("--labels odoo-fleet-shared-prod ");
    expect(at(/config\.sh/)).toBeLessThan(at(/--http-endpoint disabled/));
    expect(at(/--http-endpoint disabled/)).toBeLessThan(at(/run\.sh/));
    expect(lines.at(-2)).toBe("shutdown -h now");
  });

  test.each([["10.250.0.0/20", "10.250.0.0/26"], ["172.16.0.0/16", "172.16.0.0/26"], ["10.9.8.0/24", "10.9.8.0/26"]])("runnerPublicSubnet(%s) = %s", (vpc, subnet) => {
    expect(runnerPublicSubnet(vpc)).toBe(subnet);
  });
});

describe("bootstrap spec", () => {
  test("the stack file: one pool and label per platform stack", () => {
    const spec = bootstrapSpec();
    expect(spec).toMatchObject({ mode: "bootstrap", environment: "production", region: "eu-west-1", repository: REPO, runnerNetwork: { cidr: "10.250.0.0/20", zone: "eu-west-1a" } });
    expect(spec.runners.map((r) => [r.stack, r.environment, r.label, r.cidr, r.count, r.instanceType])).toEqual([
      ["shared-dev", "development", "odoo-fleet-shared-dev", "10.250.1.0/24", 2, "m7i.large"],
      ["shared-prod", "production", "odoo-fleet-shared-prod", "10.250.2.0/24", 1, "m7i.large"],
      ["dedicated-acme-prod", "production", "odoo-fleet-dedicated-acme-prod", "10.250.3.0/24", 1, "m7i.large"],
    ]);
  });

  test("every platform stack has its pool, and names that pool's subnet and its CI environment's roles", () => {
    const pools = new Map(bootstrapSpec().runners.map((r) => [r.stack, r]));
    const platforms = listStacks(readProject(ROOT)).filter((s) => configOf(s)["odoo-fleet:ci"] !== undefined);
    expect(platforms.sort()).toEqual([...pools.keys()].sort());
    for (const stack of platforms) {
      const spec = parsePlatformSpec(configOf(stack), stack);
      expect(spec.ci.runnerCidr, stack).toBe(pools.get(stack)!.cidr);
      expect(spec.ci.runnerLabel, stack).toBe(pools.get(stack)!.label);
      // The pool's subnet and route table carry the platform's environment: its CI role changes them.
      expect(spec.environment, stack).toBe(pools.get(stack)!.environment);
      expect(spec.ci.deployRoleArn, stack).toMatch(new RegExp(`:role/odoo-fleet-ci-deploy-${ciEnvironmentOf(spec.environment)}$`));
      // Peered VPCs may not overlap anywhere, not only at the runner subnet.
      for (const cidr of [spec.network.cidr, spec.dr.network?.cidr].filter((c): c is string => c !== undefined)) {
        expect(overlaps(parseCidr(cidr), parseCidr(bootstrapSpec().runnerNetwork.cidr)), `${stack} ${cidr}`).toBe(false);
      }
    }
  });

  test("every problem at once: environment, zone, overlaps, outside the network, a stack twice", () => {
    const config = {
      ...configOf("bootstrap"),
      "odoo-fleet:environment": "development",
      "odoo-fleet:bootstrap": JSON.stringify({
        repository: REPO,
        runnerNetwork: { cidr: "10.250.0.0/20", zone: "eu-central-1a" },
        runnerTokenSecret: "odoo-fleet/github-runner-token",
        runners: [
          { stack: "shared-dev", environment: "development", cidr: "10.250.0.0/24" },
          { stack: "shared-prod", environment: "production", cidr: "10.251.0.0/24" },
          { stack: "shared-dev", environment: "development", cidr: "10.250.1.0/24" },
          { stack: "acme", environment: "production", cidr: "10.250.1.128/25" },
        ],
      }),
    };
    expect(stackSpecProblems(config, "bootstrap")).toEqual([
      { path: "odoo-fleet:environment", message: "the bootstrap stack holds production's state, keys and roles: environment must be production, got development" },
      { path: "odoo-fleet:bootstrap.runnerNetwork.zone", message: "eu-central-1a is not in eu-west-1" },
      { path: "odoo-fleet:bootstrap.runners[0].cidr", message: "10.250.0.0/24 overlaps the runner network's public subnet 10.250.0.0/26" },
      { path: "odoo-fleet:bootstrap.runners[1].cidr", message: "10.251.0.0/24 is not inside the runner network 10.250.0.0/20" },
      { path: "odoo-fleet:bootstrap.runners[2].stack", message: "shared-dev already has runners at odoo-fleet:bootstrap.runners[0]" },
      { path: "odoo-fleet:bootstrap.runners[3].cidr", message: "10.250.1.128/25 overlaps odoo-fleet:bootstrap.runners[2].cidr" },
    ]);
  });
});

describe("bootstrap program (mock harness)", () => {
  let resources: CapturedResource[];
  let outputs: Record<string, unknown>;
  beforeAll(async () => {
    const harness = await startHarness({ stack: "bootstrap" });
    const result = await buildBootstrap(bootstrapSpec());
    resources = await harness.settle();
    outputs = await new Promise((resolve) => pulumi.output(result).apply((values) => resolve(values as Record<string, unknown>)));
  });
  const roles = () => ofType(resources, "aws:iam/role:Role").filter((r) => String(r.inputs.name ?? "").startsWith("odoo-fleet-ci-"));

  test("four CI roles; deploy sessions last 4 hours, and each trusts only its subjects", () => {
    expect(roles().map((r) => [r.inputs.name, r.inputs.maxSessionDuration]).sort()).toEqual([
      ["odoo-fleet-ci-deploy-dev", DEPLOY_SESSION_SECONDS],
      ["odoo-fleet-ci-deploy-prod", DEPLOY_SESSION_SECONDS],
      ["odoo-fleet-ci-preview-dev", 7200],
      ["odoo-fleet-ci-preview-prod", 7200],
    ]);
    const trust = JSON.parse(roles().find((r) => r.inputs.name === "odoo-fleet-ci-deploy-prod")!.inputs.assumeRolePolicy as string);
    expect(trust.Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"]).toEqual([`repo:${REPO}:environment:production`]);
    expect(trust.Statement[0].Principal.Federated).toBe("arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com");
    const subjectsOf = (name: string) => JSON.parse(roles().find((r) => r.inputs.name === name)!.inputs.assumeRolePolicy as string).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"];
    expect(subjectsOf("odoo-fleet-ci-preview-prod")).toEqual([`repo:${REPO}:ref:refs/heads/main`]);
    expect(subjectsOf("odoo-fleet-ci-preview-dev")).toEqual([`repo:${REPO}:pull_request`, `repo:${REPO}:ref:refs/heads/main`]);
    // What the platform stack files name (with the example account of the mocks).
    const named_ = (stack: string) => parsePlatformSpec(configOf(stack), stack).ci;
    expect(outputs.deployRoleArns).toEqual({ dev: named_("shared-dev").deployRoleArn, prod: named_("shared-prod").deployRoleArn });
    expect(outputs.previewRoleArns).toEqual({ dev: named_("shared-dev").previewRoleArn, prod: named_("dedicated-acme-prod").previewRoleArn });
  });

  test("only the dev roles carry the production deny", () => {
    const denies = ofType(resources, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.endsWith("-deny-production"));
    expect(denies.map((p) => p.name).sort()).toEqual(["ci-dev-deploy-deny-production", "ci-dev-preview-deny-production"]);
  });

  test("a state bucket and secrets key per CI environment, protected and retained, named for the account", () => {
    const buckets = ofType(resources, "aws:s3/bucket:Bucket");
    expect(buckets.map((b) => [b.inputs.bucket, b.protect, b.retainOnDelete])).toEqual([
      ["odoo-fleet-pulumi-state-dev-123456789012", true, true],
      ["odoo-fleet-pulumi-state-prod-123456789012", true, true],
    ]);
    expect(ofType(resources, "aws:kms/alias:Alias").map((a) => a.inputs.name)).toEqual(["alias/odoo-fleet-pulumi-dev", "alias/odoo-fleet-pulumi-prod"]);
    expect(ofType(resources, "aws:kms/key:Key").every((k) => k.protect && k.inputs.enableKeyRotation === true)).toBe(true);
    for (const backend of ["pulumi-dev", "pulumi-prod"]) {
      const children = childrenOf(resources, named(resources, backend, "odoo-fleet:ci:StateBackend"));
      expect(ofType(children, "aws:s3/bucketVersioning:BucketVersioning")[0]!.inputs.versioningConfiguration).toEqual({ status: "Enabled" });
      expect(ofType(children, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[0]!.inputs.rules).toMatchObject([
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true },
      ]);
    }
    expect(outputs.backendUrls).toEqual({ dev: "s3://odoo-fleet-pulumi-state-dev-123456789012?region=eu-west-1", prod: "s3://odoo-fleet-pulumi-state-prod-123456789012?region=eu-west-1" });
    expect(outputs.secretsProviders).toEqual({ dev: "awskms://alias/odoo-fleet-pulumi-dev?region=eu-west-1", prod: "awskms://alias/odoo-fleet-pulumi-prod?region=eu-west-1" });
  });

  test("the runner VPC and each label's route table carry the tags platform stacks look them up by", () => {
    expect(named(resources, "runners-vpc", "aws:ec2/vpc:Vpc").inputs.tags).toMatchObject({ "odoo-fleet/runner-network": "bootstrap" });
    const tables = ofType(resources, "aws:ec2/routeTable:RouteTable").filter((t) => (t.inputs.tags as Record<string, string>)["odoo-fleet/runner-label"] !== undefined);
    expect(tables.map((t) => [(t.inputs.tags as Record<string, string>)["odoo-fleet/runner-label"], t.inputs.routes])).toEqual([
      ["odoo-fleet-shared-dev", undefined],
      ["odoo-fleet-shared-prod", undefined],
      ["odoo-fleet-dedicated-acme-prod", undefined],
    ]);
    expect(ofType(resources, "aws:ec2/subnet:Subnet").map((s) => [s.name, s.inputs.cidrBlock])).toEqual([
      ["runners-public", "10.250.0.0/26"],
      ["runners-odoo-fleet-shared-dev", "10.250.1.0/24"],
      ["runners-odoo-fleet-shared-prod", "10.250.2.0/24"],
      ["runners-odoo-fleet-dedicated-acme-prod", "10.250.3.0/24"],
    ]);
  });

  test("runner pools: their size, IMDSv2, encrypted disks, terminate on shutdown, in their own subnet", () => {
    const groups = ofType(resources, "aws:autoscaling/group:Group");
    expect(groups.map((g) => [g.name, g.inputs.minSize, g.inputs.maxSize])).toEqual([
      ["shared-dev-runners", 2, 2],
      ["shared-prod-runners", 1, 1],
      ["dedicated-acme-prod-runners", 1, 1],
    ]);
    const template = named(resources, "shared-prod-runner", "aws:ec2/launchTemplate:LaunchTemplate");
    expect(template.inputs).toMatchObject({
      instanceInitiatedShutdownBehavior: "terminate",
      metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [{ ebs: { encrypted: "true" } }],
    });
    expect(Buffer.from(String(template.inputs.userData), "base64").toString()).toContain("--labels odoo-fleet-shared-prod ");
  });
  /** Tags AWS sees on a resource: its provider's default tags, overridden by its own for the same key. */
  const effectiveTags = (resource: CapturedResource): Record<string, string> => {
    const provider = resources.find((p) => p.type.startsWith("pulumi:providers:") && resource.provider?.startsWith(`${p.urn}::`));
    const raw = provider?.inputs.defaultTags;
    const defaults = ((typeof raw === "string" ? JSON.parse(raw) : raw) as { tags?: Record<string, string> } | undefined)?.tags ?? {};
    return { ...defaults, ...((resource.inputs.tags as Record<string, string> | undefined) ?? {}) };
  };
  const ARN = "arn:aws:ec2:eu-west-1:123456789012";

  test("the effective environment tags: dev backend and roles development, the runner VPC ci, each label its platform's", () => {
    const environmentOf = (resource: CapturedResource) => effectiveTags(resource).environment;
    expect(ofType(resources, "aws:kms/key:Key").map(environmentOf)).toEqual(["development", "production"]);
    expect(ofType(resources, "aws:s3/bucket:Bucket").map(environmentOf)).toEqual(["development", "production"]);
    expect(roles().map((r) => [r.inputs.name, environmentOf(r)]).sort()).toEqual([
      ["odoo-fleet-ci-deploy-dev", "development"],
      ["odoo-fleet-ci-deploy-prod", "production"],
      ["odoo-fleet-ci-preview-dev", "development"],
      ["odoo-fleet-ci-preview-prod", "production"],
    ]);
    expect(environmentOf(named(resources, "runners-vpc", "aws:ec2/vpc:Vpc"))).toBe("ci");
    expect(ofType(resources, "aws:ec2/routeTable:RouteTable").map((t) => [t.name, environmentOf(t)])).toEqual([
      ["runners-odoo-fleet-shared-dev", "development"],
      ["runners-odoo-fleet-shared-prod", "production"],
      ["runners-odoo-fleet-dedicated-acme-prod", "production"],
      ["runners-public-rt", "production"],
    ]);
    expect(ofType(resources, "aws:ec2/subnet:Subnet").map((t) => [t.name, environmentOf(t)])).toEqual([
      ["runners-public", "production"],
      ["runners-odoo-fleet-shared-dev", "development"],
      ["runners-odoo-fleet-shared-prod", "production"],
      ["runners-odoo-fleet-dedicated-acme-prod", "production"],
    ]);
  });

  test.each(["ci-dev-deploy", "ci-dev-preview"])("%s: what its guard lets through, evaluated against the plan's effective tags", (role) => {
    // The deploy role's AdministratorAccess (the preview role's reads are narrower; the guard is the same).
    const guard = JSON.parse(String(named(resources, `${role}-deny-production`, "aws:iam/rolePolicy:RolePolicy").inputs.policy)) as PolicyDoc;
    const policy: PolicyDoc = { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }, ...guard.Statement] };
    const on = (resource: CapturedResource, arn: string, action: string): Request => ({ action, resource: arn, context: { "aws:ResourceTag/environment": effectiveTags(resource).environment ?? "" } });
    const key = (alias: string) => {
      const k = ofType(resources, "aws:kms/key:Key").find((r) => r.parent === named(resources, alias, "odoo-fleet:ci:StateBackend").urn)!;
      return (action: string) => on(k, `arn:aws:kms:eu-west-1:123456789012:key/${k.id}`, action);
    };
    const bucket = (name: string) => (action: string, suffix = "") => on(named(resources, name, "aws:s3/bucket:Bucket"), `arn:aws:s3:::${named(resources, name, "aws:s3/bucket:Bucket").inputs.bucket}${suffix}`, action);
    const table = (label: string) => (action: string) => { const t = named(resources, `runners-${label}`, "aws:ec2/routeTable:RouteTable"); return on(t, `${ARN}:route-table/${t.id}`, action); };
    const vpc = named(resources, "runners-vpc", "aws:ec2/vpc:Vpc");
    const ciRole = (name: string) => (action: string) => { const r = roles().find((x) => x.inputs.name === name)!; return on(r, `arn:aws:iam::123456789012:role/${name}`, action); };

    const must: [string, Request][] = [
      ["decrypt stack secrets with the dev key", key("pulumi-dev")("kms:Decrypt")],
      ["read dev state", bucket("pulumi-dev-state")("s3:GetObject", "/.pulumi/stacks/odoo-fleet/shared-dev.json")],
      ["peer with the runner VPC (accepter)", on(vpc, `${ARN}:vpc/${vpc.id}`, "ec2:CreateVpcPeeringConnection")],
      ["route back from shared-dev's runner subnet", table("odoo-fleet-shared-dev")("ec2:CreateRoute")],
    ];
    const mustNot: [string, Request][] = [
      ["decrypt with the prod key", key("pulumi-prod")("kms:Decrypt")],
      ["schedule the prod key's deletion", key("pulumi-prod")("kms:ScheduleKeyDeletion")],
      ["read prod state", bucket("pulumi-prod-state")("s3:GetObject", "/.pulumi/stacks/odoo-fleet/shared-prod.json")],
      ["delete the prod bucket", bucket("pulumi-prod-state")("s3:DeleteBucket")],
      ["change the prod deploy role's trust", ciRole("odoo-fleet-ci-deploy-prod")("iam:UpdateAssumeRolePolicy")],
      ["remove its own guard", ciRole(role === "ci-dev-deploy" ? "odoo-fleet-ci-deploy-dev" : "odoo-fleet-ci-preview-dev")("iam:DeleteRolePolicy")],
      ["route from shared-prod's runner subnet", table("odoo-fleet-shared-prod")("ec2:CreateRoute")],
      ["route from dedicated-acme-prod's runner subnet", table("odoo-fleet-dedicated-acme-prod")("ec2:CreateRoute")],
      ["delete a production route", table("odoo-fleet-shared-prod")("ec2:DeleteRoute")],
    ];
    expect(must.filter(([, request]) => !allows(policy, request)).map(([what]) => what)).toEqual([]);
    expect(mustNot.filter(([, request]) => allows(policy, request)).map(([what]) => what)).toEqual([]);
  });
});
