/**
 * Issue 14, filestore: the planned EFS file system policy and IAM role policies, evaluated as AWS does
 * within one account (test/iam-evaluator.ts); the policies that catch each weakness, re-created on the
 * planned shared-prod stack; and the evaluator's own rules.
 */
import { beforeAll, describe, expect, test } from "vitest";
import type { CapturedResource } from "../model/resource";
import { evaluatePolicies } from "../plan/evaluation/policy-eval";
import type { PlanDocument } from "../plan/report/document";
import { egressReachesNfs, fileSystemPolicyProblems, filestorePolicies, identityClientGrants } from "../policies/filestore";
import { tenantOfResource } from "../policies/common";
import { ANONYMOUS, allows, authorize, type PolicyDoc, type Request } from "./iam-evaluator";
import { stackPlan } from "./plan-cli";

type R = CapturedResource & { inputs: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
let shared: PlanDocument;
beforeAll(() => {
  shared = stackPlan("shared-prod").document;
});
const resources = () => shared.resources as R[];
const find = (rs: R[], name: string, type: string) => {
  const found = rs.find((r) => r.name === name && r.type === type);
  if (!found) throw new Error(`no ${type} ${name}`);
  return found;
};
const ACCOUNT = "123456789012";

/** The planned file system, its policy, the tenants' access points and the roles that could mount. */
function planned() {
  const rs = resources();
  const policy = JSON.parse(find(rs, "shared-prod-filestore", "aws:efs/fileSystemPolicy:FileSystemPolicy").inputs.policy as string) as PolicyDoc & { Statement: { Resource: string }[] };
  const fileSystemArn = policy.Statement[0]!.Resource;
  const accessPoint = (tenant: string) => `arn:aws:elasticfilesystem:eu-west-1:${ACCOUNT}:access-point/${find(rs, `shared-prod-filestore-${tenant}`, "aws:efs/accessPoint:AccessPoint").id}`;
  // The roles as the plan hands them out: the nodes' through their node groups, a tenant's through its service account.
  const roleArn = (name: string): string =>
    name === "shared-prod-node"
      ? (rs.find((r) => r.type === "aws:eks/nodeGroup:NodeGroup")!.inputs.nodeRoleArn as string)
      : (find(rs, `${name.replace(/-backup$/, "")}-serviceaccount-odoo-backup`, "kubernetes:core/v1:ServiceAccount").inputs.metadata.annotations["eks.amazonaws.com/role-arn"] as string);
  // A role's identity policies as planned: its inline RolePolicies.
  const identity = (name: string) => {
    const id = find(rs, name, "aws:iam/role:Role").id;
    return rs.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.inputs.role === id).map((r) => JSON.parse(r.inputs.policy as string) as PolicyDoc);
  };
  return { policy, fileSystemArn, accessPoint, roleArn, identity };
}

function mount(action: "ClientMount" | "ClientWrite" | "ClientRootAccess", principal: string, how: { accessPoint?: string; tls?: boolean }): Request & { principal: string } {
  const { fileSystemArn } = planned();
  return {
    action: `elasticfilesystem:${action}`,
    resource: fileSystemArn,
    principal,
    context: {
      "aws:SecureTransport": String(how.tls ?? true),
      "elasticfilesystem:AccessedViaMountTarget": "true",
      ...(how.accessPoint ? { "elasticfilesystem:AccessPointArn": how.accessPoint } : {}),
    },
  };
}

describe("the planned EFS file system policy, evaluated with the planned role policies", () => {
  test("the CSI node's role mounts and writes through a tenant's access point over TLS, and nothing else", () => {
    const { policy, accessPoint, roleArn, identity } = planned();
    const node = roleArn("shared-prod-node");
    const decide = (req: Request & { principal: string }) => authorize({ identity: identity("shared-prod-node"), resource: policy }, req);
    expect(decide(mount("ClientMount", node, { accessPoint: accessPoint("northwind") }))).toBe(true);
    expect(decide(mount("ClientWrite", node, { accessPoint: accessPoint("contoso") }))).toBe(true);
    expect(decide(mount("ClientRootAccess", node, { accessPoint: accessPoint("northwind") }))).toBe(false);
    expect(decide(mount("ClientMount", node, {}))).toBe(false);
    expect(decide(mount("ClientWrite", node, {}))).toBe(false);
    expect(decide(mount("ClientMount", node, { accessPoint: accessPoint("northwind"), tls: false }))).toBe(false);
  });

  test("tenant A's identity is denied on B's access point, on its own and on the root; so is an anonymous client", () => {
    const { policy, accessPoint, roleArn, identity } = planned();
    const tenantA = roleArn("northwind-backup");
    const decide = (principal: string, req: Request & { principal: string }) => authorize({ identity: principal === ANONYMOUS ? [] : identity("northwind-backup"), resource: policy }, req);
    expect(identity("northwind-backup").length).toBe(1);
    for (const action of ["ClientMount", "ClientWrite", "ClientRootAccess"] as const) {
      expect(decide(tenantA, mount(action, tenantA, { accessPoint: accessPoint("contoso") }))).toBe(false);
      expect(decide(tenantA, mount(action, tenantA, { accessPoint: accessPoint("northwind") }))).toBe(false);
      expect(decide(tenantA, mount(action, tenantA, {}))).toBe(false);
      // A userspace NFS-over-TLS client signs nothing: EFS sees an anonymous principal.
      expect(decide(ANONYMOUS, mount(action, ANONYMOUS, { accessPoint: accessPoint("contoso") }))).toBe(false);
      expect(decide(ANONYMOUS, mount(action, ANONYMOUS, {}))).toBe(false);
    }
  });

  test("even an identity policy granting EFS client access cannot reach the root, go without TLS or act as root", () => {
    const { policy, accessPoint, roleArn } = planned();
    const tenantA = roleArn("northwind-backup");
    const grant: PolicyDoc = { Statement: [{ Effect: "Allow", Action: "elasticfilesystem:Client*", Resource: "*" }] };
    const decide = (req: Request & { principal: string }) => authorize({ identity: [grant], resource: policy }, req);
    expect(decide(mount("ClientMount", tenantA, {}))).toBe(false);
    expect(decide(mount("ClientMount", tenantA, { accessPoint: accessPoint("contoso"), tls: false }))).toBe(false);
    expect(decide(mount("ClientRootAccess", tenantA, { accessPoint: accessPoint("contoso") }))).toBe(false);
  });

  test("the policy this replaces admitted an anonymous client at the root: the same evaluation catches it", () => {
    const { fileSystemArn } = planned();
    const before: PolicyDoc = {
      Statement: [
        { Effect: "Deny", Principal: { AWS: "*" }, Action: "*", Resource: fileSystemArn, Condition: { Bool: { "aws:SecureTransport": "false" } } },
        { Effect: "Allow", Principal: { AWS: "*" }, Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], Resource: fileSystemArn, Condition: { Bool: { "elasticfilesystem:AccessedViaMountTarget": "true" } } },
      ],
    };
    expect(authorize({ resource: before }, mount("ClientWrite", ANONYMOUS, {}))).toBe(true);
    expect(fileSystemPolicyProblems(JSON.stringify(before))).toEqual([
      "statement 1 (elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite) admits any principal: mounts need no IAM identity",
      "statement 1 (elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite) admits mounts outside an access point",
    ]);
  });
});

async function violations(policyName: string, mutate: (rs: R[]) => void = () => undefined) {
  const policy = filestorePolicies.find((p) => p.name === policyName)!;
  const rs = structuredClone(resources());
  mutate(rs);
  const { violations: found } = await evaluatePolicies([policy], rs.map((resource) => ({ resource })), { tenantOf: tenantOfResource });
  return found.map((v) => `${v.enforcementLevel}: ${v.message}`);
}
const FSP = "aws:efs/fileSystemPolicy:FileSystemPolicy";
const PV = "kubernetes:core/v1:PersistentVolume";
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const editPolicy = (rs: R[], edit: (doc: { Statement: Record<string, any>[] }) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = find(rs, "shared-prod-filestore", FSP);
  const doc = JSON.parse(r.inputs.policy as string) as { Statement: Record<string, any>[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
  edit(doc);
  r.inputs.policy = JSON.stringify(doc);
};

describe("each weakness re-created on the planned shared-prod, and the check that catches it", () => {
  test.each([
    ["efs-mounts-need-iam-tls-access-point", undefined],
    ["efs-volumes-mount-with-iam", undefined],
    ["no-nfs-egress-from-tenants", undefined],
  ])("%s passes on the plan", async (name) => {
    expect(await violations(name)).toEqual([]);
  });

  const allow = (doc: { Statement: Record<string, any>[] }) => doc.Statement[3]!; // eslint-disable-line @typescript-eslint/no-explicit-any
  test.each<[string, (rs: R[]) => void, string[]]>([
    ["any principal", (rs) => editPolicy(rs, (d) => void (allow(d).Principal = { AWS: "*" })), ["mandatory: EFS file system policy shared-prod-filestore statement 3 (elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite) admits any principal: mounts need no IAM identity"]],
    ["no access point", (rs) => editPolicy(rs, (d) => void delete allow(d).Condition.StringLike), ["mandatory: EFS file system policy shared-prod-filestore statement 3 (elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite) admits mounts outside an access point"]],
    ["any access point pattern", (rs) => editPolicy(rs, (d) => void (allow(d).Condition.StringLike["elasticfilesystem:AccessPointArn"] = "*")), ["mandatory: EFS file system policy shared-prod-filestore statement 3 (elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite) admits mounts outside an access point"]],
    ["root access", (rs) => editPolicy(rs, (d) => void (allow(d).Action = "elasticfilesystem:*")), ["mandatory: EFS file system policy shared-prod-filestore statement 3 (elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite, elasticfilesystem:ClientRootAccess) grants root access"]],
    ["no TLS deny", (rs) => editPolicy(rs, (d) => void d.Statement.splice(0, 1)), ["mandatory: EFS file system policy shared-prod-filestore does not deny every principal a mount without TLS"]],
  ])("efs-mounts-need-iam-tls-access-point fails on %s", async (_case, mutate, expected) => {
    expect(await violations("efs-mounts-need-iam-tls-access-point", mutate)).toEqual(expected);
  });

  test.each<[string, (rs: R[]) => void, string[]]>([
    ["no iam", (rs) => void (find(rs, "northwind-filestore", PV).inputs.spec.mountOptions = ["tls"]), ["mandatory: PersistentVolume odoo-northwind-filestore mounts EFS without iam: the client is anonymous to the file system policy"]],
    ["no TLS", (rs) => void (find(rs, "northwind-filestore", PV).inputs.spec.csi.volumeAttributes = { encryptInTransit: "false" }), ["mandatory: PersistentVolume odoo-northwind-filestore mounts EFS without TLS"]],
    [
      "no access point",
      (rs) => void (find(rs, "northwind-filestore", PV).inputs.spec.csi.volumeHandle = "shared-prod-filestore-52c89494"),
      ["mandatory: PersistentVolume odoo-northwind-filestore mounts EFS outside an access point (shared-prod-filestore-52c89494)"],
    ],
  ])("efs-volumes-mount-with-iam fails on %s", async (_case, mutate, expected) => {
    expect(await violations("efs-volumes-mount-with-iam", mutate)).toEqual(expected);
  });

  test.each<[string, (rs: R[]) => void, string[]]>([
    [
      "an inline grant to tenant A's role",
      (rs) => {
        const policy = find(rs, "northwind-backup", "aws:iam/rolePolicy:RolePolicy");
        policy.inputs.policy = JSON.stringify({ Statement: [...JSON.parse(policy.inputs.policy as string).Statement, { Effect: "Allow", Action: "elasticfilesystem:ClientWrite", Resource: "*" }] });
      },
      ["mandatory: IAM policy northwind-backup grants elasticfilesystem:ClientWrite"],
    ],
    [
      "a managed client policy on tenant A's role",
      (rs) => {
        const attachment = structuredClone(rs.find((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment")!);
        Object.assign(attachment, { name: "northwind-efs" });
        attachment.inputs.policyArn = "arn:aws:iam::aws:policy/AmazonElasticFileSystemClientReadWriteAccess";
        rs.push(attachment);
      },
      ["mandatory: policy attachment northwind-efs grants EFS client access (AmazonElasticFileSystemClientReadWriteAccess)"],
    ],
  ])("no-efs-client-grants-in-identity-policies fails on %s", async (_case, mutate, expected) => {
    expect(await violations("no-efs-client-grants-in-identity-policies", mutate)).toEqual(expected);
  });

  test("no-efs-client-grants-in-identity-policies passes on the plan; a bare * (an administrator's) is not counted", async () => {
    expect(await violations("no-efs-client-grants-in-identity-policies")).toEqual([]);
    expect(identityClientGrants(JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }))).toEqual([]);
    expect(identityClientGrants(JSON.stringify({ Statement: [{ Effect: "Allow", NotAction: "s3:*", Resource: "*" }] }))).toEqual(["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"]);
    expect(identityClientGrants(JSON.stringify({ Statement: [{ Effect: "Deny", Action: "elasticfilesystem:*", Resource: "*" }] }))).toEqual([]);
  });

  test("no-nfs-egress-from-tenants fails when a tenant's data-store egress allows 2049 again", async () => {
    const broken = await violations("no-nfs-egress-from-tenants", (rs) => void find(rs, "northwind-networkpolicy-allow-data-stores", NETPOL).inputs.spec.egress[0].ports.push({ protocol: "TCP", port: 2049 }));
    expect(broken).toEqual(["mandatory: NetworkPolicy allow-data-stores of tenant northwind lets pods reach NFS (TCP 2049) in egress rule 0"]);
  });

  test.each([
    [{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }], ports: [{ protocol: "TCP", port: 2049 }] }, true],
    [{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }] }, true],
    [{ ports: [{ port: 2000, endPort: 3000 }] }, true],
    [{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }], ports: [{ protocol: "UDP", port: 2049 }] }, false],
    [{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }], ports: [{ protocol: "TCP", port: 5432 }] }, false],
    [{ to: [{ namespaceSelector: {}, podSelector: {} }] }, false],
  ])("egressReachesNfs(%j) is %s", (rule, expected) => {
    expect(egressReachesNfs(rule)).toBe(expected);
  });
});

describe("the IAM evaluator's own rules", () => {
  const R = "arn:aws:s3:::b/k";
  test("a missing key fails a positive operator and satisfies a negated one; Null tests presence", () => {
    const doc = (condition: Record<string, Record<string, string>>): PolicyDoc => ({ Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: R, Condition: condition }] });
    const get = (context: Record<string, string>): Request => ({ action: "s3:GetObject", resource: R, context });
    expect(allows(doc({ StringLike: { k: "a*" } }), get({}))).toBe(false);
    expect(allows(doc({ StringNotLike: { k: "a*" } }), get({}))).toBe(true);
    expect(allows(doc({ StringNotLike: { k: "a*" } }), get({ k: "ab" }))).toBe(false);
    expect(allows(doc({ StringNotEquals: { k: "a" } }), get({ k: "b" }))).toBe(true);
    expect(allows(doc({ StringNotEquals: { k: "a" } }), get({ k: "a" }))).toBe(false);
    expect(allows(doc({ Null: { k: "true" } }), get({}))).toBe(true);
    expect(allows(doc({ Null: { k: "true" } }), get({ k: "x" }))).toBe(false);
    expect(() => allows(doc({ DateGreaterThan: { k: "x" } }), get({ k: "x" }))).toThrow("does not know condition operator DateGreaterThan");
  });

  test("Principal: a role matches itself and *, an anonymous client only *; an explicit Deny anywhere wins", () => {
    const role = "arn:aws:iam::1:role/a";
    const resource: PolicyDoc = { Statement: [{ Effect: "Allow", Principal: { AWS: [role] }, Action: "s3:GetObject", Resource: R }] };
    const req = (principal: string) => ({ action: "s3:GetObject", resource: R, principal });
    expect(authorize({ resource }, req(role))).toBe(true);
    expect(authorize({ resource }, req("arn:aws:iam::1:role/b"))).toBe(false);
    expect(authorize({ resource }, req(ANONYMOUS))).toBe(false);
    expect(authorize({ resource: { Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:*", Resource: R }] } }, req(ANONYMOUS))).toBe(true);
    // Same account: an identity Allow alone suffices, unless a Deny matches; an anonymous client has no identity policy.
    const identity = [{ Statement: [{ Effect: "Allow" as const, Action: "s3:*", Resource: "*" }] }];
    expect(authorize({ identity }, req("arn:aws:iam::1:role/b"))).toBe(true);
    expect(authorize({ identity }, req(ANONYMOUS))).toBe(false);
    expect(authorize({ identity, resource: { Statement: [{ Effect: "Deny", Principal: { AWS: "*" }, Action: "s3:GetObject", Resource: R }] } }, req("arn:aws:iam::1:role/b"))).toBe(false);
  });
});
