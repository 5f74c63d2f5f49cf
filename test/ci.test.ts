/** CI access: the stack spec's CI key, the stack files' secrets providers, and what plans show of both. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { parse, stringify } from "yaml";
import { ciEnvironmentOf, ciRoleName, runnerLabel, secretsProviderProblems, secretsProviderUrl } from "../model/ci";
import { parsePlatformSpec, SpecError } from "../spec/index";
import type { Environment } from "../model/stack";
import { listStacks, readProject, readStackConfig } from "../plan/capture/project";
import type { PlanDocument } from "../plan/report/document";
import { ROOT, runPlanCli, stackPlan } from "./plan-cli";

const stackFile = (stack: string) => path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`);
const stackConfig = (stack: string) => readStackConfig(stackFile(stack), "odoo-fleet").config;
const PROD_CI = JSON.parse(stackConfig("shared-prod")["odoo-fleet:ci"]!) as Record<string, string>;

function problemsOf(changes: Record<string, unknown>): { path: string; message: string }[] {
  const config = { ...stackConfig("shared-prod") };
  for (const [key, value] of Object.entries(changes)) config[key] = typeof value === "string" ? value : JSON.stringify(value);
  try {
    parsePlatformSpec(config, "shared-prod");
  } catch (error) {
    if (SpecError.isInstance(error)) return [...error.problems];
    throw error;
  }
  throw new Error("expected the configuration to be rejected");
}

describe("the ci key of the stack spec", () => {
  test("shared-prod: the prod roles, its runner subnet and the runner label of its stack", () => {
    expect(parsePlatformSpec(stackConfig("shared-prod"), "shared-prod").ci).toEqual({
      deployRoleArn: "arn:aws:iam::123456789012:role/odoo-fleet-ci-deploy-prod",
      previewRoleArn: "arn:aws:iam::123456789012:role/odoo-fleet-ci-preview-prod",
      runnerCidr: "10.250.2.0/24",
      runnerLabel: "odoo-fleet-shared-prod",
    });
  });

  test.each<[string, Record<string, unknown>, { path: string; message: string }[]]>([
    [
      "a production stack deploying with the dev role",
      { "odoo-fleet:ci": { ...PROD_CI, deployRoleArn: "arn:aws:iam::123456789012:role/odoo-fleet-ci-deploy-dev" } },
      [{ path: "odoo-fleet:ci.deployRoleArn", message: "production stacks deploy as odoo-fleet-ci-deploy-prod (made by the bootstrap stack), got role odoo-fleet-ci-deploy-dev" }],
    ],
    [
      "not a role ARN",
      { "odoo-fleet:ci": { ...PROD_CI, previewRoleArn: "odoo-fleet-ci-preview-prod" } },
      [{ path: "odoo-fleet:ci.previewRoleArn", message: "must be an IAM role ARN such as arn:aws:iam::123456789012:role/odoo-fleet-ci-preview-prod" }],
    ],
    [
      "a runner network overlapping the stack's",
      { "odoo-fleet:ci": { ...PROD_CI, runnerCidr: "10.20.8.0/24" } },
      [{ path: "odoo-fleet:ci.runnerCidr", message: "10.20.8.0/24 overlaps odoo-fleet:network.cidr 10.20.0.0/16; the runner network is peered with it" }],
    ],
    [
      "a runner network that is the whole internet",
      { "odoo-fleet:ci": { ...PROD_CI, runnerCidr: "0.0.0.0/0" } },
      [
        { path: "odoo-fleet:ci.runnerCidr", message: "0.0.0.0/0 would admit everyone to the API endpoint" },
        { path: "odoo-fleet:ci.runnerCidr", message: "0.0.0.0/0 overlaps odoo-fleet:network.cidr 10.20.0.0/16; the runner network is peered with it" },
      ],
    ],
    ["a misspelt key", { "odoo-fleet:ci": { ...PROD_CI, runnerCIDR: "10.250.9.0/24" } }, [{ path: "odoo-fleet:ci.runnerCIDR", message: "unknown key; check its spelling" }]],
  ])("%s", (_, changes, expected) => {
    expect(problemsOf(changes)).toEqual(expected);
  });

  test("a platform stack without the ci key is refused", () => {
    const config = { ...stackConfig("shared-dev") };
    delete config["odoo-fleet:ci"];
    expect(() => parsePlatformSpec(config, "shared-dev")).toThrow(/odoo-fleet:ci: is required/);
  });

  test.each<[Environment, "dev" | "prod"]>([["production", "prod"], ["staging", "dev"], ["development", "dev"], ["review", "dev"]])(
    "%s stacks use the %s CI environment",
    (environment, env) => expect(ciEnvironmentOf(environment)).toBe(env),
  );

  test("names the bootstrap stack creates", () => {
    expect([ciRoleName("deploy", "prod"), ciRoleName("preview", "dev"), runnerLabel("shared-dev"), secretsProviderUrl("prod", "eu-west-1")]).toEqual([
      "odoo-fleet-ci-deploy-prod",
      "odoo-fleet-ci-preview-dev",
      "odoo-fleet-shared-dev",
      "awskms://alias/odoo-fleet-pulumi-prod?region=eu-west-1",
    ]);
  });
});

describe("secrets providers", () => {
  test.each<[string, Record<string, unknown>, "dev" | "prod", string[]]>([
    ["the prod key", { secretsprovider: "awskms://alias/odoo-fleet-pulumi-prod?region=eu-west-1", encryptedkey: "AQICAHg=" }, "prod", []],
    ["none at all", {}, "dev", ["secretsprovider", "encryptedkey"]],
    ["another environment's key", { secretsprovider: "awskms://alias/odoo-fleet-pulumi-dev?region=eu-west-1", encryptedkey: "x" }, "prod", ["secretsprovider"]],
    ["a passphrase", { secretsprovider: "passphrase", encryptedkey: "x" }, "dev", ["secretsprovider"]],
    ["no region", { secretsprovider: "awskms://alias/odoo-fleet-pulumi-dev", encryptedkey: "x" }, "dev", ["secretsprovider"]],
    ["a region that is none", { secretsprovider: "awskms://alias/odoo-fleet-pulumi-dev?region=europe", encryptedkey: "x" }, "dev", ["secretsprovider"]],
    ["an empty data key", { secretsprovider: "awskms://alias/odoo-fleet-pulumi-dev?region=eu-west-1", encryptedkey: "" }, "dev", ["encryptedkey"]],
  ])("%s", (_, doc, env, paths) => {
    expect(secretsProviderProblems(doc, env).map((p) => p.path)).toEqual(paths);
  });

  test.each(listStacks(readProject(ROOT)))("stacks/Pulumi.%s.yaml names its CI environment's key", (stack) => {
    const { config, secrets } = readStackConfig(stackFile(stack), "odoo-fleet");
    const environment = config["odoo-fleet:environment"] as Environment;
    expect(secrets.secretsprovider).toBe(secretsProviderUrl(ciEnvironmentOf(environment), "eu-west-1"));
    expect(secretsProviderProblems(secrets, ciEnvironmentOf(environment))).toEqual([]);
  });

  test("the plan refuses a stack file with another environment's key, with the configuration's problems at once (exit 2)", () => {
    const doc = parse(readFileSync(stackFile("shared-prod"), "utf8")) as { secretsprovider: string; config: Record<string, unknown> };
    doc.secretsprovider = "awskms://alias/odoo-fleet-pulumi-dev?region=eu-west-1";
    doc.config["odoo-fleet:zones"] = ["eu-west-1a", "eu-west-1b"];
    const file = path.join(mkdtempSync(path.join(tmpdir(), "odoo-fleet-ci-")), "Pulumi.keyless-prod.yaml");
    writeFileSync(file, stringify(doc));
    const { status, stderr, document } = runPlanCli(["--stack-file", file]);
    expect(status, stderr).toBe(2);
    expect(document.errors).toEqual([
      { path: "odoo-fleet:zones", message: "production stacks need 3 zones or more, got 2" },
      { path: "secretsprovider", message: "names alias/odoo-fleet-pulumi-dev, but prod stacks use the bootstrap stack's key alias/odoo-fleet-pulumi-prod" },
    ]);
    expect(document.resources).toEqual([]);
  });
});

describe("plans: every cluster has access entries for both CI roles; the runners reach the primary one", () => {
  let acme: PlanDocument;
  beforeAll(() => {
    const result = stackPlan("dedicated-acme-prod");
    expect(result.status, result.stderr).toBe(0);
    acme = result.document;
  }, 120_000);
  const ofType = (type: string) => acme.resources.filter((r) => r.type === type);

  test("both clusters (primary and DR): deploy role admin, preview role in its group", () => {
    const entries = ofType("aws:eks/accessEntry:AccessEntry");
    expect(entries.map((e) => [e.name, e.inputs.principalArn]).sort()).toEqual([
      ["dedicated-acme-prod-ci-deploy", PROD_CI.deployRoleArn],
      ["dedicated-acme-prod-ci-preview", PROD_CI.previewRoleArn],
      ["dedicated-acme-prod-dr-ci-deploy", PROD_CI.deployRoleArn],
      ["dedicated-acme-prod-dr-ci-preview", PROD_CI.previewRoleArn],
    ]);
    expect(ofType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation").map((a) => [a.name, a.inputs.policyArn])).toEqual([
      ["dedicated-acme-prod-ci-deploy", "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"],
      ["dedicated-acme-prod-dr-ci-deploy", "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"],
    ]);
    for (const cluster of ofType("aws:eks/cluster:Cluster")) {
      expect(cluster.inputs.accessConfig).toEqual({ authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false });
    }
  });

  test("a peering to the runner VPC, routes both ways, and 443 from the runner subnet", () => {
    const [peering, ...others] = ofType("aws:ec2/vpcPeeringConnection:VpcPeeringConnection");
    expect(others).toEqual([]);
    expect(peering!.inputs).toMatchObject({ autoAccept: true, peerVpcId: expect.stringMatching(/^vpc-/) });
    const routes = ofType("aws:ec2/route:Route").filter((r) => r.inputs.vpcPeeringConnectionId !== undefined);
    expect(routes.map((r) => [r.name, r.inputs.destinationCidrBlock]).sort()).toEqual([
      ["dedicated-acme-prod-from-runners", "10.40.0.0/16"],
      ["dedicated-acme-prod-to-runners-eu-west-1a", "10.250.3.0/24"],
      ["dedicated-acme-prod-to-runners-eu-west-1b", "10.250.3.0/24"],
      ["dedicated-acme-prod-to-runners-eu-west-1c", "10.250.3.0/24"],
    ]);
    expect(ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs.fromPort === 443 && r.inputs.cidrIpv4 === "10.250.3.0/24")).toHaveLength(1);
  });

  test("nothing registers Kubernetes resources through the DR cluster: no runner reaches it (no link in its region)", () => {
    const provider = (name: string) => acme.resources.find((r) => r.type === "pulumi:providers:kubernetes" && r.name === name)!;
    const through = (p: { urn: string }) => acme.resources.filter((r) => r.provider?.startsWith(`${p.urn}::`));
    const [primary, dr] = [provider("dedicated-acme-prod-k8s"), provider("dedicated-acme-prod-dr-k8s")];
    expect(through(dr).map((r) => r.urn)).toEqual([]);
    // Every Kubernetes resource goes through the primary cluster's provider, which waits for the runner link.
    const kubernetes = acme.resources.filter((r) => r.type.startsWith("kubernetes:"));
    expect(kubernetes.length).toBeGreaterThan(0);
    expect(through(primary).map((r) => r.urn).sort()).toEqual(kubernetes.map((r) => r.urn).sort());
    // The DR region has no path from the runners: no peering, no 443 rule from a runner subnet there.
    const drRegion = (r: { urn: string }) => r.urn.includes("dedicated-acme-prod-dr");
    expect(ofType("aws:ec2/vpcPeeringConnection:VpcPeeringConnection").filter(drRegion)).toEqual([]);
  });

  test("the preview group may write only in dry-run, and not to admission policies", () => {
    const role = ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole").find((r) => r.name === "dedicated-acme-prod-ci-preview")!;
    const rules = role.inputs.rules as { apiGroups: string[]; verbs: string[] }[];
    expect(rules.flatMap((r) => r.verbs).sort()).toEqual(["create", "get", "list", "patch", "watch"]);
    expect(rules.filter((r) => r.verbs.includes("patch")).flatMap((r) => r.apiGroups)).not.toContain("admissionregistration.k8s.io");
    expect(rules.filter((r) => r.verbs.includes("patch")).flatMap((r) => r.apiGroups)).not.toContain("*");
    const policy = ofType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy")[0]!;
    expect(policy.inputs.spec).toMatchObject({
      failurePolicy: "Fail",
      matchConstraints: { resourceRules: [{ apiGroups: ["*"], resources: ["*/*"], operations: ["CREATE", "UPDATE", "DELETE", "CONNECT"] }] },
      matchConditions: [{ expression: "'odoo-fleet-ci-preview' in request.userInfo.groups" }],
      validations: [{ expression: "request.dryRun == true" }],
    });
    const provider = acme.resources.find((r) => r.type === "pulumi:providers:kubernetes" && r.name === "dedicated-acme-prod-k8s")!;
    expect(provider.dependsOn).toContain(acme.resources.find((r) => r.name === "dedicated-acme-prod-from-runners")!.urn);
  });
});
