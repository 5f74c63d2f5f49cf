/**
 * Issue 14, keys and trusts: the planned key policies evaluated (who may administer, use, delete),
 * and each weakness the review found re-created and caught by its named policy.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { keyPolicy, type ResolvedKeyAccess } from "../components/data/keys";
import { serviceTrustPolicy } from "../components/iam";
import type { CapturedResource } from "../model/resource";
import { BREAK_GLASS_ROLE_NAME, roleArnBesides } from "../model/ci";
import { evaluatePolicies } from "../plan/evaluation/policy-eval";
import type { PlanDocument } from "../plan/report/document";
import { tenantOfResource } from "../policies/common";
import { keyPolicies, keyPolicyProblems, unguardedServiceTrusts } from "../policies/keys";
import { objectLockModeOf } from "../tiers/catalogue";
import { allows, type PolicyDoc } from "./iam-evaluator";
import { stackPlan } from "./plan-cli";

const ACCOUNT = "123456789012";
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const DEPLOY = role("odoo-fleet-ci-deploy-prod");
const BREAK_GLASS = role(BREAK_GLASS_ROLE_NAME);
const TENANT_ROLE = role("shared-prod-northwind-backup");
/** As production stacks plan it (program/platform.ts). Not the harness's: this file reads plans, it runs no component. */
const KEY_ADMINISTRATION = { administratorArns: [DEPLOY], breakGlassRoleArn: BREAK_GLASS };

type R = CapturedResource & { inputs: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
const keysOf = (doc: PlanDocument) => doc.resources.filter((r) => r.type === "aws:kms/key:Key") as R[];
const policyOf = (key: R) => JSON.parse(key.inputs.policy as string) as PolicyDoc;
const key = (doc: PlanDocument, name: string) => {
  const found = keysOf(doc).find((k) => k.name === name);
  if (!found) throw new Error(`no key ${name}`);
  return found;
};

/** Whether `principal` (a role ARN, or a service) may take `action` on the key, with these request keys. */
function may(policy: PolicyDoc, principal: string, action: string, context: Record<string, string> = {}): boolean {
  const who = principal.endsWith(".amazonaws.com") ? { Service: principal } : { AWS: principal };
  const ctx = principal.endsWith(".amazonaws.com") ? context : { "aws:PrincipalArn": principal, "kms:CallerAccount": principal.split(":")[4]!, ...context };
  return allows(policy, { principal: who, action, resource: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/k`, context: ctx });
}

let sharedProd: PlanDocument;
let dedicated: PlanDocument;
let sharedDev: PlanDocument;
let bootstrap: PlanDocument;
beforeAll(() => {
  sharedProd = stackPlan("shared-prod").document;
  dedicated = stackPlan("dedicated-acme-prod").document;
  sharedDev = stackPlan("shared-dev").document;
  bootstrap = stackPlan("bootstrap").document;
});

describe("planned key policies", () => {
  test("every key of every planned stack has its own policy, and the policy holds", () => {
    const counts = [sharedProd, dedicated, sharedDev, bootstrap].map((doc) => keysOf(doc).length);
    expect(counts).toEqual([11, 14, 7, 2]);
    for (const doc of [sharedProd, dedicated, sharedDev, bootstrap]) {
      for (const k of keysOf(doc)) expect([k.name, keyPolicyProblems(k.inputs.policy)]).toEqual([k.name, []]);
    }
  });

  test("on every shared-prod key: a user role and the deploy role cannot delete or disable it, the break-glass role can", () => {
    for (const k of keysOf(sharedProd)) {
      const policy = policyOf(k);
      for (const action of ["kms:ScheduleKeyDeletion", "kms:DisableKey"]) {
        expect([k.name, action, may(policy, TENANT_ROLE, action)]).toEqual([k.name, action, false]);
        expect([k.name, action, may(policy, DEPLOY, action)]).toEqual([k.name, action, false]);
        expect([k.name, action, may(policy, `arn:aws:iam::${ACCOUNT}:root`, action)]).toEqual([k.name, action, false]);
        expect([k.name, action, may(policy, BREAK_GLASS, action)]).toEqual([k.name, action, true]);
      }
      // Administrators administer but do not use; users use but do not administer.
      expect(may(policy, DEPLOY, "kms:PutKeyPolicy")).toBe(true);
      expect(may(policy, DEPLOY, "kms:Decrypt")).toBe(false);
      expect(may(policy, TENANT_ROLE, "kms:PutKeyPolicy")).toBe(false);
      expect(may(policy, TENANT_ROLE, "kms:CreateGrant")).toBe(false);
    }
  });

  test("each service can use its key through itself, in the key's region, for this account only", () => {
    const via = (service: string, region = "eu-west-1") => ({ "kms:ViaService": `${service}.${region}.amazonaws.com` });
    const cases: [string, string, Record<string, string>, boolean][] = [
      ["shared-prod-postgres", "kms:Decrypt", via("rds"), true],
      ["shared-prod-postgres", "kms:Decrypt", via("secretsmanager"), true],
      ["shared-prod-postgres", "kms:Decrypt", via("s3"), false],
      ["shared-prod-postgres", "kms:Decrypt", {}, false],
      ["shared-prod-redis", "kms:CreateGrant", via("elasticache"), true],
      ["shared-prod-filestore", "kms:GenerateDataKeyWithoutPlaintext", via("elasticfilesystem"), true],
      ["shared-prod-secrets", "kms:Encrypt", via("eks"), true],
      ["shared-prod-postgres-dr", "kms:CreateGrant", via("rds", "eu-central-1"), true],
      ["shared-prod-postgres-dr", "kms:CreateGrant", via("rds", "eu-west-1"), false],
    ];
    for (const [name, action, context, expected] of cases) {
      expect([name, action, context, may(policyOf(key(sharedProd, name)), TENANT_ROLE, action, context)]).toEqual([name, action, context, expected]);
    }
    // Two keys share each backup name (bucket and vault): S3's and AWS Backup's.
    const backupKeys = keysOf(sharedProd).filter((k) => k.name === "shared-prod-backup").map(policyOf);
    expect(backupKeys.map((p) => [may(p, TENANT_ROLE, "kms:GenerateDataKey", via("s3")), may(p, TENANT_ROLE, "kms:CreateGrant", via("backup"))])).toEqual([
      [true, false],
      [false, true],
    ]);
    // Another account's principal, through the right service, is refused.
    expect(may(policyOf(key(sharedProd, "shared-prod-postgres")), "arn:aws:iam::999999999999:role/x", "kms:Decrypt", via("rds"))).toBe(false);
  });

  test("alarms and EventBridge publish to the encrypted alert topics for this account only", () => {
    const policy = policyOf(key(sharedProd, "shared-prod-alerts"));
    expect(may(policy, "cloudwatch.amazonaws.com", "kms:GenerateDataKey", { "aws:SourceAccount": ACCOUNT })).toBe(true);
    expect(may(policy, "events.amazonaws.com", "kms:Decrypt", { "aws:SourceAccount": ACCOUNT })).toBe(true);
    expect(may(policy, "cloudwatch.amazonaws.com", "kms:GenerateDataKey", { "aws:SourceAccount": "999999999999" })).toBe(false);
    expect(may(policy, "cloudwatch.amazonaws.com", "kms:ScheduleKeyDeletion", { "aws:SourceAccount": ACCOUNT })).toBe(false);
  });

  test("the bootstrap's state keys: the environment's CI roles and break-glass use them, the other environment's roles do not", () => {
    const [dev, prod] = ["pulumi-dev-key", "pulumi-prod-key"].map((n) => policyOf(key(bootstrap, n)));
    expect(may(prod!, role("odoo-fleet-ci-preview-prod"), "kms:Decrypt")).toBe(true);
    expect(may(prod!, role("odoo-fleet-ci-deploy-prod"), "kms:Encrypt")).toBe(true);
    expect(may(prod!, role("odoo-fleet-ci-deploy-dev"), "kms:Decrypt")).toBe(false);
    expect(may(prod!, role("odoo-fleet-ci-deploy-prod"), "kms:PutKeyPolicy")).toBe(false);
    expect(may(prod!, BREAK_GLASS, "kms:PutKeyPolicy")).toBe(true);
    expect(may(dev!, role("odoo-fleet-ci-preview-dev"), "kms:Decrypt")).toBe(true);
    expect(may(dev!, role("odoo-fleet-ci-preview-prod"), "kms:Decrypt")).toBe(false);
    expect(may(dev!, role("odoo-fleet-ci-deploy-dev"), "kms:ScheduleKeyDeletion")).toBe(false);
  });

  test("the bootstrap stack creates the break-glass role the key policies name, trusted only with MFA", () => {
    const breakGlass = bootstrap.resources.find((r) => r.type === "aws:iam/role:Role" && r.inputs.name === BREAK_GLASS_ROLE_NAME)!;
    expect(breakGlass.protect).toBe(true);
    const trust = JSON.parse(breakGlass.inputs.assumeRolePolicy as string) as PolicyDoc;
    const assume = (context: Record<string, string>) => allows(trust, { principal: { AWS: role("someone") }, action: "sts:AssumeRole", resource: BREAK_GLASS, context });
    expect(assume({ "aws:MultiFactorAuthPresent": "true" })).toBe(true);
    // A GitHub OIDC session (the CI roles) has no MFA key at all.
    expect(assume({})).toBe(false);
    expect(roleArnBesides(DEPLOY, BREAK_GLASS_ROLE_NAME)).toBe(BREAK_GLASS);
  });

  test("no CI role may change, re-create or assume the break-glass role, even with AdministratorAccess", () => {
    const guards = bootstrap.resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.startsWith("break-glass-guard-"));
    expect(guards.map((g) => [g.name, g.inputs.role])).toEqual([
      ["break-glass-guard-deploy-dev", "odoo-fleet-ci-deploy-dev"],
      ["break-glass-guard-preview-dev", "odoo-fleet-ci-preview-dev"],
      ["break-glass-guard-deploy-prod", "odoo-fleet-ci-deploy-prod"],
      ["break-glass-guard-preview-prod", "odoo-fleet-ci-preview-prod"],
    ]);
    const guard = JSON.parse(guards.find((g) => g.name === "break-glass-guard-deploy-prod")!.inputs.policy as string) as PolicyDoc;
    // The deploy role's AdministratorAccess, and its guard.
    const deploy: PolicyDoc = { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }, ...guard.Statement] };
    for (const action of ["iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:CreateRole", "iam:AttachRolePolicy", "iam:PutRolePolicy", "sts:AssumeRole"]) {
      expect([action, allows(deploy, { action, resource: BREAK_GLASS })]).toEqual([action, false]);
    }
    expect(allows(deploy, { action: "iam:GetRole", resource: BREAK_GLASS })).toBe(true);
    expect(allows(deploy, { action: "iam:UpdateAssumeRolePolicy", resource: role("shared-prod-backup") })).toBe(true);
  });
});

async function run(policyName: string, doc: PlanDocument, mutate: (resources: R[]) => void) {
  const policy = keyPolicies.find((p) => p.name === policyName)!;
  const resources = structuredClone(doc.resources) as R[];
  mutate(resources);
  const { violations } = await evaluatePolicies([policy], resources.map((resource) => ({ resource })), { tenantOf: tenantOfResource });
  return violations.map((v) => `${v.enforcementLevel}: ${v.message}`);
}
const find = (resources: R[], name: string, type: string) => resources.find((r) => r.name === name && r.type === type)!;
const KEY = "aws:kms/key:Key";
const ROLE = "aws:iam/role:Role";

describe("kms-key-policy", () => {
  test("passes every planned stack", async () => {
    for (const doc of [sharedProd, dedicated, sharedDev, bootstrap]) expect(await run("kms-key-policy", doc, () => undefined)).toEqual([]);
  });

  test("fails on a key on AWS's default key policy (the finding: no policy argument)", async () => {
    expect(await run("kms-key-policy", sharedProd, (r) => void delete find(r, "shared-prod-postgres", KEY).inputs.policy)).toEqual([
      "mandatory: KMS key shared-prod-postgres has no key policy of its own (AWS's default lets every IAM principal of the account with kms:* administer, use and delete it)",
    ]);
  });

  test("fails on the default policy written out (the account with kms:*)", async () => {
    const defaultPolicy = { Version: "2012-10-17", Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" }] };
    expect(await run("kms-key-policy", sharedProd, (r) => void (find(r, "shared-prod-redis", KEY).inputs.policy = JSON.stringify(defaultPolicy)))).toEqual([
      "mandatory: KMS key shared-prod-redis grants kms:* (administration, use and deletion in one statement)",
      "mandatory: KMS key shared-prod-redis statement Enable IAM User Permissions lets the same principals administer and use the key",
      "mandatory: KMS key shared-prod-redis statement Enable IAM User Permissions lets the whole account administer the key instead of named roles",
      "mandatory: KMS key shared-prod-redis names no user apart from its administrators",
      "mandatory: KMS key shared-prod-redis statement Enable IAM User Permissions lets someone other than the break-glass role delete or disable the key",
      "mandatory: KMS key shared-prod-redis does not deny kms:ScheduleKeyDeletion and kms:DisableKey to everyone but the break-glass role odoo-fleet-break-glass",
    ]);
  });

  test("fails on a policy letting the deploy role schedule deletion", async () => {
    const access: ResolvedKeyAccess = { administration: KEY_ADMINISTRATION, use: { viaServices: ["rds"] } };
    const policy = keyPolicy({ partition: "aws", accountId: ACCOUNT, region: "eu-west-1", access });
    // The administrators' statement widened to deletion, and the deny narrowed to let the deploy role through.
    (policy.Statement[0]!.Action as string[]).push("kms:ScheduleKeyDeletion");
    (policy.Statement[2]!.Condition as Record<string, Record<string, unknown>>).ArnNotEquals!["aws:PrincipalArn"] = [BREAK_GLASS, DEPLOY];
    expect(await run("kms-key-policy", sharedProd, (r) => void (find(r, "shared-prod-postgres", KEY).inputs.policy = JSON.stringify(policy)))).toEqual([
      "mandatory: KMS key shared-prod-postgres statement Administrators lets someone other than the break-glass role delete or disable the key",
      "mandatory: KMS key shared-prod-postgres does not deny kms:ScheduleKeyDeletion and kms:DisableKey to everyone but the break-glass role odoo-fleet-break-glass",
    ]);
    // And the evaluator agrees the deploy role could then delete the key.
    expect(may(policy as unknown as PolicyDoc, DEPLOY, "kms:ScheduleKeyDeletion")).toBe(true);
  });

  test("fails when administrators may also use the key (no separation)", async () => {
    const policy = keyPolicy({ partition: "aws", accountId: ACCOUNT, region: "eu-west-1", access: { administration: KEY_ADMINISTRATION, use: { viaServices: ["rds"] } } });
    (policy.Statement[0]!.Action as string[]).push("kms:Decrypt");
    expect(await run("kms-key-policy", sharedProd, (r) => void (find(r, "shared-prod-postgres", KEY).inputs.policy = JSON.stringify(policy)))).toEqual([
      "mandatory: KMS key shared-prod-postgres statement Administrators lets the same principals administer and use the key",
    ]);
    expect(may(policy as unknown as PolicyDoc, DEPLOY, "kms:Decrypt")).toBe(true);
  });
});

describe("service-trust-source-account", () => {
  test("passes every planned stack; the EC2 roles (nodes, runners) are exempt", async () => {
    for (const doc of [sharedProd, dedicated, sharedDev, bootstrap]) expect(await run("service-trust-source-account", doc, () => undefined)).toEqual([]);
    const services = (doc: PlanDocument) => doc.resources.filter((r) => r.type === ROLE).flatMap((r) => JSON.parse(r.inputs.assumeRolePolicy as string).Statement).filter((s: { Principal: { Service?: string } }) => s.Principal.Service);
    const unconditioned = [sharedProd, bootstrap].flatMap(services).filter((s: { Condition?: unknown }) => !s.Condition).map((s: { Principal: { Service: string } }) => s.Principal.Service);
    expect([...new Set(unconditioned)]).toEqual(["ec2.amazonaws.com"]);
  });

  test("fails on each service trust as it was planned before (no aws:SourceAccount)", async () => {
    const old = (service: string) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });
    const roles: [string, string][] = [
      ["shared-prod-backup", "backup.amazonaws.com"],
      ["shared-prod-backup-replication", "s3.amazonaws.com"],
      ["shared-prod-postgres-monitoring", "monitoring.rds.amazonaws.com"],
      ["shared-prod-flow-logs", "vpc-flow-logs.amazonaws.com"],
      ["shared-prod-cluster", "eks.amazonaws.com"],
    ];
    const violations = await run("service-trust-source-account", sharedProd, (r) => roles.forEach(([name, service]) => (find(r, name, ROLE).inputs.assumeRolePolicy = old(service))));
    expect(violations.sort()).toEqual(roles.map(([name, service]) => `mandatory: role ${name} trusts ${service} without aws:SourceAccount: another account could have the service act with it`).sort());
  });

  test("the trust builder refuses the old call, and holds a service to the source given", () => {
    expect(() => serviceTrustPolicy("backup.amazonaws.com")).toThrow("the trust in backup.amazonaws.com needs its source account");
    const trust = serviceTrustPolicy("s3.amazonaws.com", { account: ACCOUNT, arn: "arn:aws:s3:::shared-prod-backup-x" }) as unknown as PolicyDoc;
    const assume = (context: Record<string, string>) => allows(trust, { principal: { Service: "s3.amazonaws.com" }, action: "sts:AssumeRole", resource: role("r"), context });
    expect(assume({ "aws:SourceAccount": ACCOUNT, "aws:SourceArn": "arn:aws:s3:::shared-prod-backup-x" })).toBe(true);
    expect(assume({ "aws:SourceAccount": "999999999999", "aws:SourceArn": "arn:aws:s3:::shared-prod-backup-x" })).toBe(false);
    expect(assume({ "aws:SourceAccount": ACCOUNT, "aws:SourceArn": "arn:aws:s3:::someone-elses" })).toBe(false);
    expect(unguardedServiceTrusts(serviceTrustPolicy("ec2.amazonaws.com"))).toEqual([]);
  });
});

describe("production-backups-compliance-lock", () => {
  test("production locks backups in COMPLIANCE whatever the tier; elsewhere the tier decides", () => {
    expect(objectLockModeOf("essential", true)).toBe("COMPLIANCE");
    expect(objectLockModeOf("business", true)).toBe("COMPLIANCE");
    expect(objectLockModeOf("business", false)).toBe("GOVERNANCE");
    expect(objectLockModeOf("critical", false)).toBe("COMPLIANCE");
    const locks = (doc: PlanDocument) => doc.resources.filter((r) => r.type === "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").map((l) => [l.name, (l.inputs as R["inputs"]).rule.defaultRetention]);
    // shared-prod holds business and essential tenants only: GOVERNANCE before this change.
    expect(locks(sharedProd)).toEqual([["shared-prod-backup", { mode: "COMPLIANCE", days: 90 }], ["shared-prod-backup-dr", { mode: "COMPLIANCE", days: 90 }]]);
    expect(locks(sharedDev)).toEqual([["shared-dev-backup", { mode: "GOVERNANCE", days: 30 }]]);
  });

  test("passes the planned stacks and fails on a shared production stack locked in GOVERNANCE (the finding)", async () => {
    for (const doc of [sharedProd, dedicated, sharedDev]) expect(await run("production-backups-compliance-lock", doc, () => undefined)).toEqual([]);
    const governance = (r: R[]) => r.filter((x) => x.type === "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").forEach((l) => (l.inputs.rule.defaultRetention.mode = "GOVERNANCE"));
    expect(await run("production-backups-compliance-lock", sharedProd, governance)).toEqual([
      "mandatory: production backup bucket shared-prod-backup locks in GOVERNANCE mode; production needs COMPLIANCE",
      "mandatory: production backup bucket shared-prod-backup-dr locks in GOVERNANCE mode; production needs COMPLIANCE",
    ]);
    // A development stack in GOVERNANCE is its tier's choice, not a violation.
    expect(await run("production-backups-compliance-lock", sharedDev, governance)).toEqual([]);
  });
});
