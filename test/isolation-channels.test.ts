/**
 * The isolation analysis, channel by channel: each weakness of issue 14 re-created in a hand-made list
 * of captured resources (shaped as the plan captures them) and seen as a finding, next to the fixed
 * shape that passes; the cache ACL reading checked against a real redis-server; hostnames across a
 * host stack and a review stack planned onto its cluster; and the real stacks, every channel reported.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { CapturedResource } from "../model/resource";
import {
  cacheChannel,
  channelResults,
  crossStackHostConflicts,
  databaseChannel,
  filesystemChannel,
  hostnamesChannel,
  hostsOfRule,
  iamChannel,
  jobsChannel,
  parseCacheAcl,
  planView,
  rbacChannel,
  REFUSED_CACHE_COMMANDS,
} from "../plan/analyses/channels";
import { decide, statementsOf } from "../plan/analyses/iam-policy";
import { htmlReport } from "../plan/report/html";
import { markdownReport } from "../plan/report/markdown";
import { isolationTable } from "../plan/report/summary";
import { ROOT, runPlanCli, stackPlan } from "./plan-cli";
import { missingTools } from "./tools";

// ---- hand-made captured resources ------------------------------------------------------------

let serial = 0;
function res(type: string, name: string, inputs: Record<string, unknown>, extra: Partial<CapturedResource> = {}): CapturedResource {
  serial++;
  return { urn: `urn:pulumi:test::odoo-fleet::${type}::${name}`, id: `${name}-id${serial}`, type, name, custom: true, parent: null, provider: null, protect: false, retainOnDelete: false, dependsOn: [], ignoreChanges: [], inputs, ...extra };
}
const namespace = (tenant: string) => res("kubernetes:core/v1:Namespace", `${tenant}-namespace`, { metadata: { name: `odoo-${tenant}`, labels: { "odoo-fleet/role": "tenant", tenant } } });
const TENANT_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/odoo:18.0@sha256:" + "a".repeat(64);
const TOOLS_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fleet-tools:1@sha256:" + "b".repeat(64);
const MASTER = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0001";
const BUCKET = "fleet-backup-0001";
const role = (name: string, subject: string, tenant?: string) =>
  res("aws:iam/role:Role", name, {
    assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/x" }, Action: "sts:AssumeRoleWithWebIdentity", Condition: { StringEquals: { "x:sub": subject, "x:aud": "sts.amazonaws.com" } } }] }),
    tags: tenant ? { tenant } : {},
  });
const rolePolicy = (r: CapturedResource, statements: unknown[]) => res("aws:iam/rolePolicy:RolePolicy", r.name, { role: r.id, policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) }, { dependsOn: [r.urn] });
const serviceAccount = (ns: string, name: string, roleArn?: string) => res("kubernetes:core/v1:ServiceAccount", `${ns}-${name}`, { metadata: { name, namespace: ns, ...(roleArn ? { annotations: { "eks.amazonaws.com/role-arn": roleArn } } : {}) } });
const cronJob = (ns: string, name: string, labels: Record<string, string>, spec: Record<string, unknown>, annotations: Record<string, string> = {}) =>
  res("kubernetes:batch/v1:CronJob", `${ns}-${name}`, { metadata: { name, namespace: ns, labels }, spec: { schedule: "0 1 * * *", jobTemplate: { spec: { template: { metadata: { labels, annotations }, spec } } } } });
const odooDeployment = (tenant: string, env: Record<string, string> = {}) =>
  res("kubernetes:apps/v1:Deployment", `${tenant}-odoo-web`, {
    metadata: { name: "odoo-web", namespace: `odoo-${tenant}` },
    spec: { template: { metadata: { labels: { app: "odoo-web", tenant } }, spec: { serviceAccountName: "odoo", containers: [{ name: "odoo", image: TENANT_IMAGE, env: Object.entries(env).map(([name, value]) => ({ name, value })) }] } } },
  });
const provisionJob = (tenant: string, roleName: string) =>
  res("kubernetes:batch/v1:Job", `${tenant}-provision-db`, {
    metadata: { namespace: "odoo-fleet-system", labels: { app: "tenant-provisioner", tenant } },
    spec: { template: { metadata: { labels: { tenant } }, spec: { serviceAccountName: "tenant-provisioner", containers: [{ name: "provision", image: TOOLS_IMAGE, env: [{ name: "MASTER_SECRET_ARN", value: MASTER }, { name: "TENANT_ROLE", value: roleName }, { name: "TENANT_DB", value: roleName }] }] } } },
  });
const messages = (findings: { message: string }[]) => findings.map((f) => f.message);

// ---- the IAM evaluator the IAM, jobs and file system channels use ---------------------------------

describe("IAM statements evaluator", () => {
  const s3 = (statements: unknown[]) => statementsOf(JSON.stringify({ Statement: statements }));
  test("an explicit Deny beats an Allow; nothing allowed is the implicit deny", () => {
    const st = s3([
      { Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::b/*" },
      { Effect: "Deny", Action: "s3:DeleteObject", Resource: "arn:aws:s3:::b/tenants/*" },
    ]);
    expect(decide(st, { action: "s3:GetObject", resource: "arn:aws:s3:::b/tenants/a/x" })).toBe("allow");
    expect(decide(st, { action: "S3:deleteobject", resource: "arn:aws:s3:::b/tenants/a/x" })).toBe("explicit-deny");
    expect(decide(st, { action: "s3:GetObject", resource: "arn:aws:s3:::other/x" })).toBe("implicit-deny");
  });
  test("a missing condition key: false for StringLike, true for StringNotLike and for IfExists (AWS's rule)", () => {
    const like = s3([{ Effect: "Allow", Action: "s3:ListBucket", Resource: "*", Condition: { StringLike: { "s3:prefix": "tenants/a/*" } } }]);
    expect(decide(like, { action: "s3:ListBucket", resource: "arn:aws:s3:::b" })).toBe("implicit-deny");
    expect(decide(like, { action: "s3:ListBucket", resource: "arn:aws:s3:::b", context: { "s3:prefix": "tenants/a/" } })).toBe("allow");
    expect(decide(like, { action: "s3:ListBucket", resource: "arn:aws:s3:::b", context: { "s3:prefix": "tenants/b/" } })).toBe("implicit-deny");
    const notLike = s3([{ Effect: "Allow", Action: "*", Resource: "*" }, { Effect: "Deny", Action: "elasticfilesystem:ClientMount", Resource: "*", Condition: { StringNotLike: { "elasticfilesystem:AccessPointArn": "arn:*:access-point/*" } } }]);
    expect(decide(notLike, { action: "elasticfilesystem:ClientMount", resource: "fs" })).toBe("explicit-deny");
    expect(decide(notLike, { action: "elasticfilesystem:ClientMount", resource: "fs", context: { "elasticfilesystem:AccessPointArn": "arn:aws:x:access-point/fsap-1" } })).toBe("allow");
    const ifExists = s3([{ Effect: "Allow", Action: "*", Resource: "*", Condition: { StringEqualsIfExists: { "aws:SourceAccount": "1" } } }]);
    expect(decide(ifExists, { action: "x:Y", resource: "r" })).toBe("allow");
    expect(decide(ifExists, { action: "x:Y", resource: "r", context: { "aws:SourceAccount": "2" } })).toBe("implicit-deny");
  });
});

// ---- cache ACLs ----------------------------------------------------------------------------------

const cacheUser = (tenant: string | undefined, userName: string, accessString: string) => res("aws:elasticache/user:User", `fleet-redis-${userName}`, { userName, accessString, engine: "valkey", tags: tenant ? { tenant } : {} });
/** The tenant user's string as planned before issue 14 (categories; SCAN and RANDOMKEY left in by +@keyspace/+@read). */
const CATEGORY_ACL = (t: string) => `on ~${t}:* &${t}:* -@all +@connection +@read +@write +@keyspace -@dangerous`;
const ALLOW_LIST_ACL = (t: string) => `on ~session::${t}:* &${t}:* -@all +get +set +expire +del +ping`;

describe("cache channel", () => {
  test("the category ACL planned before lets each tenant SCAN and RANDOMKEY: found", () => {
    const { findings, checked } = cacheChannel(planView([cacheUser("a", "a", CATEGORY_ACL("a")), cacheUser("b", "b", CATEGORY_ACL("b"))]));
    expect(checked).toBe(2);
    expect(messages(findings)).toEqual([
      "cache user fleet-redis-a of tenant a may run SCAN, RANDOMKEY: key patterns do not limit what these list or change",
      "cache user fleet-redis-b of tenant b may run SCAN, RANDOMKEY: key patterns do not limit what these list or change",
    ]);
    expect(findings.map((f) => [f.channel, f.kind, f.tenant])).toEqual([["cache", "cache-acl", "a"], ["cache", "cache-acl", "b"]]);
  });

  test("a user with ~* (and &*, +@all) reaches every key and channel and every refused command: found", () => {
    const findings = messages(cacheChannel(planView([cacheUser("a", "a", "on ~* &* +@all"), cacheUser("b", "b", ALLOW_LIST_ACL("b"))])).findings);
    expect(findings).toEqual([
      "cache user fleet-redis-a of tenant a reaches keys beyond its own prefix (~*)",
      "cache users fleet-redis-a (tenant a) and fleet-redis-b (tenant b) have overlapping keys patterns (~*)",
      "cache user fleet-redis-a of tenant a reaches channels beyond its own prefix (&*)",
      "cache users fleet-redis-a (tenant a) and fleet-redis-b (tenant b) have overlapping channels patterns (&*)",
      `cache user fleet-redis-a of tenant a may run ${Object.keys(REFUSED_CACHE_COMMANDS).map((c) => c.toUpperCase().replace("|", " ")).join(", ")}: key patterns do not limit what these list or change`,
    ]);
  });

  test("a shared session prefix overlaps; a tenant's name as a prefix of another's does not; a default user on with nopass is found", () => {
    const findings = messages(
      cacheChannel(planView([cacheUser("a", "a", "on ~session::* -@all +get"), cacheUser("ab", "ab", "on ~session::ab:* -@all +get"), cacheUser("abc", "abc", "on ~session::abc:* -@all +get"), cacheUser(undefined, "default", "on nopass ~* +@all")])).findings,
    );
    expect(findings).toEqual([
      "cache user fleet-redis-a of tenant a reaches keys beyond its own prefix (~session::*)",
      "cache users fleet-redis-a (tenant a) and fleet-redis-ab (tenant ab) have overlapping keys patterns (~session::*)",
      "cache users fleet-redis-a (tenant a) and fleet-redis-abc (tenant abc) have overlapping keys patterns (~session::*)",
      "cache user fleet-redis-default (default) is on without a password: any client that reaches the cache uses it",
    ]);
  });

  test("an allow-list on the tenant's own session prefix and channels passes; so does a default user that is off", () => {
    expect(cacheChannel(planView([cacheUser("a", "a", ALLOW_LIST_ACL("a")), cacheUser("b", "b", ALLOW_LIST_ACL("b")), cacheUser(undefined, "default", "off -@all")])).findings).toEqual([]);
  });
});

describe.skipIf(missingTools("cache ACL reading against a real redis-server", "redis-server", "redis-cli").length > 0)("cache ACL reading against a real redis-server 7", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-acl-"));
  const socket = path.join(dir, "redis.sock");
  let server: ChildProcess;
  const cli = (...args: string[]) => spawnSync("redis-cli", ["-s", socket, ...args], { encoding: "utf8" }).stdout.trim();
  beforeAll(async () => {
    server = spawn("redis-server", ["--port", "0", "--unixsocket", socket, "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    for (let i = 0; i < 100 && !(existsSync(socket) && cli("PING") === "PONG"); i++) await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(() => {
    server?.kill();
  });

  test("each refused command's categories are the server's own (COMMAND INFO)", () => {
    const info = JSON.parse(spawnSync("redis-cli", ["-s", socket, "--json", "COMMAND", "INFO", ...Object.keys(REFUSED_CACHE_COMMANDS)], { encoding: "utf8" }).stdout) as [string, number, string[], number, number, number, string[]][];
    expect(Object.fromEntries(info.map((c) => [c[0], c[6].map((x) => x.slice(1))]))).toEqual(REFUSED_CACHE_COMMANDS);
  });

  // Arguments each command needs to pass its arity, for ACL DRYRUN.
  const ARGS: Record<string, string[]> = { scan: ["0"], keys: ["*"], "client|kill": ["ID", "1"], "config|get": ["x"], "config|set": ["x", "y"], debug: ["object", "k"], "slowlog|get": [], swapdb: ["0", "1"], migrate: ["h", "1", "k", "0", "1"] };
  test.each([
    ["category ACL", CATEGORY_ACL("a")],
    ["allow-list ACL", ALLOW_LIST_ACL("a")],
    ["everything", "on ~* &* +@all"],
    ["admin off", "on ~a:* +@all -@admin -@dangerous +client|list -keys"],
  ])("the %s: what parseCacheAcl allows is what the server allows (ACL DRYRUN)", (_label, acl) => {
    expect(cli("ACL", "SETUSER", "probe", "reset", ...acl.replace(/^on /, "on nopass ").split(" "))).toBe("OK");
    const parsed = parseCacheAcl(acl);
    for (const [command, categories] of Object.entries(REFUSED_CACHE_COMMANDS)) {
      const reply = cli("ACL", "DRYRUN", "probe", ...command.split("|"), ...(ARGS[command] ?? []));
      expect([command, reply === "OK" ? "allowed" : /no permissions to run/.test(reply) ? "refused" : reply]).toEqual([command, parsed.allows(command, categories) ? "allowed" : "refused"]);
    }
  });
});

// ---- file system ---------------------------------------------------------------------------------

const FS = "fs-0001";
const fileSystem = () => res("aws:efs/fileSystem:FileSystem", "filestore", {}, { id: FS });
const accessPoint = (tenant: string, pathName: string, uid: number) => res("aws:efs/accessPoint:AccessPoint", `filestore-${tenant}`, { fileSystemId: FS, posixUser: { uid, gid: uid }, rootDirectory: { path: pathName }, tags: { tenant } });
const fsPolicy = (statements: unknown[]) => res("aws:efs/fileSystemPolicy:FileSystemPolicy", "filestore", { fileSystemId: FS, policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) });
const FS_ARN = "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-0001";
/** The file system policy planned before issue 14: TLS required, any principal through a mount target. */
const OPEN_POLICY = [
  { Sid: "DenyWithoutTls", Effect: "Deny", Principal: { AWS: "*" }, Action: "*", Resource: FS_ARN, Condition: { Bool: { "aws:SecureTransport": "false" } } },
  { Sid: "MountThroughMountTargetsOnly", Effect: "Allow", Principal: { AWS: "*" }, Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], Resource: FS_ARN, Condition: { Bool: { "elasticfilesystem:AccessedViaMountTarget": "true" } } },
];
const IAM_POLICY = [
  OPEN_POLICY[0],
  { Sid: "DenyOutsideAccessPoints", Effect: "Deny", Principal: { AWS: "*" }, Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"], Resource: FS_ARN, Condition: { StringNotLike: { "elasticfilesystem:AccessPointArn": "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/*" } } },
  { Sid: "CsiNode", Effect: "Allow", Principal: { AWS: ["arn:aws:iam::123456789012:role/node"] }, Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], Resource: FS_ARN, Condition: { StringLike: { "elasticfilesystem:AccessPointArn": "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/*" } } },
];
const subnet = (cidr: string) => res("aws:ec2/subnet:Subnet", `isolated-${cidr}`, { cidrBlock: cidr }, { id: `subnet-${cidr}` });
const mountTarget = (cidr: string) => res("aws:efs/mountTarget:MountTarget", `mt-${cidr}`, { fileSystemId: FS, subnetId: `subnet-${cidr}` });
const egressPolicy = (tenant: string, ports: number[], cidr: string) =>
  res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `${tenant}-allow-data-stores`, { metadata: { name: "allow-data-stores", namespace: `odoo-${tenant}` }, spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: ports.map((port) => ({ port, protocol: "TCP" })), to: [{ ipBlock: { cidr } }] }] } });

describe("filesystem channel", () => {
  const base = () => [namespace("a"), namespace("b"), fileSystem(), subnet("10.0.160.0/20"), mountTarget("10.0.160.0/20")];
  test("the open policy, NFS egress from tenant pods, a shared root and a shared POSIX user: each found", () => {
    const { findings, checked } = filesystemChannel(planView([...base(), accessPoint("a", "/tenants/a", 1001), accessPoint("b", "/tenants", 1001), fsPolicy(OPEN_POLICY), egressPolicy("a", [5432, 2049], "10.0.160.0/20"), egressPolicy("b", [5432, 6379], "10.0.160.0/20")]));
    expect(checked).toBe(5);
    expect(messages(findings)).toEqual([
      "access points filestore-a (/tenants/a) and filestore-b (/tenants) of tenants a and b share a directory tree",
      "access points filestore-a and filestore-b of tenants a and b act as one POSIX user 1001",
      "access point filestore-b of tenant b is rooted at /tenants",
      "file system policy filestore lets any NFS client through a mount target, with no IAM identity and no access point, ClientMount, ClientWrite: every tenant's directory",
      "NetworkPolicy odoo-a/allow-data-stores lets tenant pods send NFS (TCP 2049) to the file system's mount targets",
    ]);
  });
  test("no file system policy at all is EFS's open default: found", () => {
    expect(messages(filesystemChannel(planView([...base(), accessPoint("a", "/tenants/a", 1001)])).findings)).toEqual([
      "file system fs-0001 holds tenants' access points and has no file system policy: EFS lets any NFS client that reaches a mount target mount its root",
    ]);
  });
  test("IAM-only mounts through access points, own roots and users, no NFS egress: nothing found; egress to elsewhere on 2049 is not the mount targets", () => {
    expect(filesystemChannel(planView([...base(), accessPoint("a", "/tenants/a", 1001), accessPoint("b", "/tenants/b", 1002), fsPolicy(IAM_POLICY), egressPolicy("a", [5432], "10.0.160.0/20"), egressPolicy("b", [2049], "192.168.0.0/24")])).findings).toEqual([]);
  });
});

// ---- IAM roles, jobs acting for a tenant, database roles ----------------------------------------

const backupRole = (tenant: string, prefix: string) => {
  const r = role(`${tenant}-backup`, `system:serviceaccount:odoo-${tenant}:odoo-backup`, tenant);
  return [r, rolePolicy(r, [{ Effect: "Allow", Action: ["s3:PutObject"], Resource: `arn:aws:s3:::${BUCKET}/${prefix}` }])];
};

describe("iam channel", () => {
  test("tenant a's role reading b's prefix, a role trusted by two tenants, a wildcard trust and a tenant role reading the master secret: each found", () => {
    const shared = role("shared-role", "system:serviceaccount:odoo-a:odoo", "a");
    const sharedTrust = JSON.parse(String(shared.inputs.assumeRolePolicy));
    sharedTrust.Statement[0].Condition.StringEquals["x:sub"] = ["system:serviceaccount:odoo-a:odoo", "system:serviceaccount:odoo-b:odoo"];
    shared.inputs.assumeRolePolicy = JSON.stringify(sharedTrust);
    const wildcard = role("any-sa", "x", undefined);
    wildcard.inputs.assumeRolePolicy = JSON.stringify({ Statement: [{ Effect: "Allow", Action: "sts:AssumeRoleWithWebIdentity", Condition: { StringLike: { "x:sub": "system:serviceaccount:*:*" } } }] });
    const reader = role("b-reader", "system:serviceaccount:odoo-b:odoo", "b");
    const resources = [namespace("a"), namespace("b"), ...backupRole("a", "tenants/b/*"), shared, wildcard, reader, rolePolicy(reader, [{ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!*" }]), provisionJob("a", "odoo_a")];
    const { findings, checked } = iamChannel(planView(resources));
    expect(checked).toBe(4);
    expect(messages(findings)).toEqual([
      "IAM role a-backup of tenant a reaches the backups of b",
      "IAM role shared-role is trusted by service accounts of tenants a and b",
      "IAM role shared-role of tenant a is trusted by a service account of tenant b",
      "IAM role any-sa trusts every service account matching system:serviceaccount:*:*, tenants' included",
      `IAM role b-reader of tenant b reads the database master secret ${MASTER}`,
    ]);
  });
  test("a role only an AWS service assumes acts for the platform even when tagged with a tenant (a dedicated stack's replication role)", () => {
    const replication = res("aws:iam/role:Role", "backup-replication", { assumeRolePolicy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: "s3.amazonaws.com" }, Action: "sts:AssumeRole" }] }), tags: { tenant: "a" } });
    const resources = [namespace("a"), replication, rolePolicy(replication, [{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${BUCKET}/*` }])];
    expect(iamChannel(planView(resources)).findings).toEqual([]);
    // Trusted by a tenant's service account instead, the same policy is a finding.
    replication.inputs.assumeRolePolicy = role("x", "system:serviceaccount:odoo-a:odoo").inputs.assumeRolePolicy;
    expect(messages(iamChannel(planView(resources)).findings)).toEqual(["IAM role backup-replication of tenant a reaches the backups of any other tenant"]);
  });

  test("a tenants/* wildcard reaches any other tenant even in a one-tenant stack; each role on its own prefix passes", () => {
    expect(messages(iamChannel(planView([namespace("a"), ...backupRole("a", "tenants/*")])).findings)).toEqual(["IAM role a-backup of tenant a reaches the backups of any other tenant"]);
    expect(iamChannel(planView([namespace("a"), namespace("b"), ...backupRole("a", "tenants/a/*"), ...backupRole("b", "tenants/b/*")])).findings).toEqual([]);
  });
});

/**
 * A restore drill: tools containers with the master secret and the tenant's image in one pod, on one
 * IRSA role. As planned before issue 14: the role reads every prefix and the master secret, and every
 * container gets its token. `skipTenantImage` names the tenant's container in eks.amazonaws.com/skip-containers.
 */
function drill(tenant: string, prefix: string, masterInPod: boolean, skipTenantImage = false) {
  const r = role("restore-drill", "system:serviceaccount:odoo-fleet-system:restore-drill");
  const statements = [{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${BUCKET}/${prefix}` }, ...(masterInPod ? [{ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: MASTER }] : [])];
  return [
    r,
    rolePolicy(r, statements),
    serviceAccount("odoo-fleet-system", "restore-drill", "arn:aws:iam::123456789012:role/restore-drill-abc1234"),
    cronJob("odoo-fleet-system", `drill-${tenant}`, { app: "restore-drill", tenant }, {
      serviceAccountName: "restore-drill",
      initContainers: [{ name: "fetch", image: TOOLS_IMAGE, env: masterInPod ? [{ name: "MASTER_SECRET_ARN", value: MASTER }] : [] }],
      containers: [{ name: "restore", image: TENANT_IMAGE, env: [{ name: "TENANT", value: tenant }] }],
      volumes: [{ name: "tenant", secret: { secretName: `${tenant}-db` } }],
    }, skipTenantImage ? { "eks.amazonaws.com/skip-containers": "restore" } : {}),
  ];
}

describe("jobs and database channels", () => {
  const secret = (tenant: string) => res("kubernetes:core/v1:Secret", `${tenant}-db`, { metadata: { name: `${tenant}-db`, namespace: "odoo-fleet-system", labels: { tenant } } });
  test("the drill planned before: tenant code beside the master's credentials and an IRSA role reading every tenant's backups: found in both channels", () => {
    const view = planView([namespace("a"), namespace("b"), secret("a"), secret("b"), ...drill("a", "tenants/*", true), provisionJob("a", "odoo_a"), provisionJob("b", "odoo_b"), odooDeployment("a"), odooDeployment("b")]);
    expect(messages(jobsChannel(view).findings)).toEqual([
      "CronJob odoo-fleet-system/drill-a acts for tenant a with IAM role restore-drill, which reaches the backups of any other tenant",
      "CronJob odoo-fleet-system/drill-a runs tenant a's image (container restore) with IAM role restore-drill: IRSA gives its token to every container the pod does not list in eks.amazonaws.com/skip-containers",
    ]);
    expect(jobsChannel(view).checked).toBe(3);
    expect(messages(databaseChannel(view).findings)).toEqual([
      "CronJob odoo-fleet-system/drill-a runs tenant a's image (container restore) within reach of the database master's credentials: the pod's IAM role restore-drill reads the master secret and restore gets its token",
    ]);
  });
  test("a job for tenant a reading b's Secret, an Odoo pod of a connecting as b's role, and one role provisioned for two tenants: found", () => {
    const reading = cronJob("odoo-fleet-system", "report-a", { tenant: "a" }, { containers: [{ name: "x", image: TOOLS_IMAGE, env: [{ name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "b-db", key: "password" } } }] }] });
    const view = planView([namespace("a"), namespace("b"), namespace("c"), secret("a"), secret("b"), reading, provisionJob("a", "odoo_a"), provisionJob("b", "odoo_b"), provisionJob("c", "odoo_b"), odooDeployment("a", { PGUSER: "odoo_b" })]);
    expect(messages(jobsChannel(view).findings)).toEqual(["CronJob odoo-fleet-system/report-a acts for tenant a and reads Secret b-db of tenant b"]);
    expect(messages(databaseChannel(view).findings)).toEqual([
      "database role odoo_b is provisioned for tenants b and c",
      "database database odoo_b is provisioned for tenants b and c",
      "Deployment odoo-a/odoo-web of tenant a uses database role odoo_b of tenant b",
    ]);
  });
  test("the drill with its tenant container skipped by IRSA and the role on the tenant's own prefix: nothing found, the master secret staying with the tools containers", () => {
    const view = planView([namespace("a"), namespace("b"), secret("a"), ...drill("a", "tenants/a/*", true, true), provisionJob("a", "odoo_a"), odooDeployment("a", { PGUSER: "odoo_a" })]);
    expect(jobsChannel(view).findings).toEqual([]);
    expect(databaseChannel(view).findings).toEqual([]);
  });

  test("skipping the tenant's container does not excuse a role reading every tenant's backups, nor master env in the tenant's container", () => {
    const skipped = drill("a", "tenants/*", true, true);
    const spec = (skipped[3]!.inputs.spec as { jobTemplate: { spec: { template: { spec: { containers: { env: unknown[] }[] } } } } }).jobTemplate.spec.template.spec;
    spec.containers[0]!.env.push({ name: "MASTER_PASSWORD", valueFrom: { secretKeyRef: { name: "rds-master", key: "password" } } });
    const view = planView([namespace("a"), namespace("b"), secret("a"), ...skipped, odooDeployment("a")]);
    expect(messages(jobsChannel(view).findings)).toEqual(["CronJob odoo-fleet-system/drill-a acts for tenant a with IAM role restore-drill, which reaches the backups of any other tenant"]);
    expect(messages(databaseChannel(view).findings)).toEqual(["CronJob odoo-fleet-system/drill-a runs tenant a's image (container restore) within reach of the database master's credentials: container restore has MASTER_PASSWORD; it reads Secret rds-master"]);
  });
});

// ---- RBAC ----------------------------------------------------------------------------------------

describe("rbac channel", () => {
  const binding = (kind: "RoleBinding" | "ClusterRoleBinding", name: string, ns: string | undefined, subjects: unknown[]) =>
    res(`kubernetes:rbac.authorization.k8s.io/v1:${kind}`, name, { metadata: { name, ...(ns ? { namespace: ns } : {}) }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" }, subjects });
  test("a RoleBinding giving tenant a's service account rights in b's namespace, and cluster-wide bindings to tenants' identities: found; a's own namespace passes", () => {
    const { findings, checked } = rbacChannel(
      planView([
        namespace("a"),
        namespace("b"),
        binding("RoleBinding", "a-into-b", "odoo-b", [{ kind: "ServiceAccount", name: "odoo", namespace: "odoo-a" }]),
        binding("RoleBinding", "a-own", "odoo-a", [{ kind: "ServiceAccount", name: "odoo", namespace: "odoo-a" }]),
        binding("ClusterRoleBinding", "all-sas", undefined, [{ kind: "Group", name: "system:serviceaccounts", apiGroup: "rbac.authorization.k8s.io" }]),
        binding("ClusterRoleBinding", "a-sas", undefined, [{ kind: "Group", name: "system:serviceaccounts:odoo-a", apiGroup: "rbac.authorization.k8s.io" }]),
        binding("ClusterRoleBinding", "ci", undefined, [{ kind: "Group", name: "odoo-fleet-ci-preview", apiGroup: "rbac.authorization.k8s.io" }]),
      ]),
    );
    expect(checked).toBe(5);
    expect(messages(findings)).toEqual([
      "RoleBinding odoo-b/a-into-b grants ClusterRole edit to service account odoo-a/odoo of tenant a in namespace odoo-b",
      "ClusterRoleBinding all-sas grants ClusterRole edit to group system:serviceaccounts, every tenant's service accounts among them, across the cluster",
      "ClusterRoleBinding a-sas grants ClusterRole edit to group system:serviceaccounts:odoo-a (tenant a) across the cluster",
    ]);
  });
});

// ---- hostnames -----------------------------------------------------------------------------------

describe("hostnames channel", () => {
  test("Traefik rules: Host, v2's Host with several names, HostSNI, HostRegexp", () => {
    expect(hostsOfRule("Host(`A.example`) && PathPrefix(`/websocket`)")).toEqual([{ host: "a.example", pattern: false }]);
    expect(hostsOfRule("Host(`a.example`, `b.example`) || HostRegexp(`^.+\\.example$`)")).toEqual([
      { host: "a.example", pattern: false },
      { host: "b.example", pattern: false },
      { host: "^.+\\.example$", pattern: true },
    ]);
    expect(hostsOfRule("HostSNI(`db.example`)")).toEqual([{ host: "db.example", pattern: false }]);
  });

  const route = (ns: string, host: string) => res("kubernetes:traefik.io/v1alpha1:IngressRoute", `${ns}-${host}`, { metadata: { name: host, namespace: ns }, spec: { routes: [{ kind: "Rule", match: `Host(\`${host}\`)`, services: [{ name: "odoo", port: 8069 }] }] } });
  test("two namespaces of one plan routing one host, or a pattern covering another's: found; one namespace's route and certificate for its host pass", () => {
    const cert = res("kubernetes:cert-manager.io/v1:Certificate", "a-tls", { metadata: { name: "tls", namespace: "odoo-a" }, spec: { dnsNames: ["a.example"] } });
    const regexp = res("kubernetes:traefik.io/v1alpha1:IngressRoute", "c-any", { metadata: { name: "any", namespace: "odoo-c" }, spec: { routes: [{ match: "HostRegexp(`^[a-z]+\\.example$`)" }] } });
    const { findings, checked } = hostnamesChannel(planView([namespace("a"), namespace("b"), namespace("c"), route("odoo-a", "a.example"), cert, route("odoo-b", "a.example"), regexp]));
    expect(checked).toBe(2);
    expect(messages(findings)).toEqual([
      "hostname a.example is claimed by namespace odoo-a and by namespace odoo-b on one cluster: Traefik matches Host() across namespaces",
      "hostname pattern ^[a-z]+\\.example$ of namespace odoo-c covers a.example of namespace odoo-a on one cluster",
      "hostname pattern ^[a-z]+\\.example$ of namespace odoo-c covers a.example of namespace odoo-b on one cluster",
    ]);
    expect(hostnamesChannel(planView([namespace("a"), route("odoo-a", "a.example"), cert])).findings).toEqual([]);
  });

  /** A review stack's file from the template, as the review workflow makes it, with its domain replaced. */
  function reviewStack(stack: string, domain?: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-hosts-"));
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    let text = readFileSync(path.join(ROOT, "stacks", "Pulumi.pr.yaml"), "utf8").replace(/pr-template/g, stack);
    if (domain) text = text.replace(`${stack}.review.odoo-fleet.example`, domain);
    writeFileSync(file, text);
    return file;
  }

  test("a review stack on shared-dev claiming the host tenant's hostname: found across the two plans; one with its own hostname passes", () => {
    const host = stackPlan("shared-dev");
    const plans = [
      ["pr-7", "demo.dev.odoo-fleet.example"],
      ["pr-8", undefined],
    ].map(([stack, domain]) => runPlanCli(["--stack-file", reviewStack(stack!, domain), "--host-plan", host.json]).document);
    const hostStack = { stack: "shared-dev", resources: host.document.resources };
    const [claiming, own] = plans.map((d) => ({ stack: d.stack, resources: d.resources }));
    // Not vacuous: the review stack's route is planned onto the host's cluster, and names the host's hostname.
    expect(claiming!.resources.some((r) => r.type === "kubernetes:traefik.io/v1alpha1:IngressRoute" && r.inputs.metadata && (r.inputs.metadata as { name: string }).name === "demo.dev.odoo-fleet.example")).toBe(true);
    const conflicts = crossStackHostConflicts([hostStack, claiming!, own!]);
    expect(conflicts.map((f) => [f.channel, f.tenant, f.message])).toEqual([
      ["hostnames", "pr-7", "hostname demo.dev.odoo-fleet.example is claimed by namespace odoo-demo of stack shared-dev and by namespace odoo-pr-7 of stack pr-7 on one cluster: Traefik matches Host() across namespaces"],
    ]);
    expect(crossStackHostConflicts([hostStack, own!])).toEqual([]);
    // Its resources alone show no conflict; its plan, which reads the host's plan, does: a mandatory violation there.
    expect(channelResults(claiming!.resources).find((c) => c.channel === "hostnames")!.findings).toEqual([]);
    const message = "hostname demo.dev.odoo-fleet.example is claimed by namespace odoo-demo of stack shared-dev and by namespace odoo-pr-7 of stack pr-7 on one cluster: Traefik matches Host() across namespaces";
    expect(plans[0]!.violations.filter((v) => v.policy === "tenant-isolation-paths" && v.message.startsWith("hostname "))).toEqual([expect.objectContaining({ enforcementLevel: "mandatory", message })]);
    expect(plans[0]!.isolationChannels!.find((c) => c.channel === "hostnames")).toEqual({ channel: "hostnames", checked: 1, unit: "hostnames, against host stack shared-dev's", findings: 1 });
    expect(plans[1]!.isolation!.filter((f) => f.channel === "hostnames")).toEqual([]);
  });
});

// ---- the real stacks -----------------------------------------------------------------------------

const CHANNELS = ["network", "database", "cache", "filesystem", "iam", "jobs", "hostnames", "rbac"];
/** What each stack has to check per channel: a review stack's cache users, roles and bindings are its host's. */
const EMPTY_BY_DESIGN: Record<string, string[]> = { "shared-dev": [], "shared-prod": [], "dedicated-acme-prod": [], pr: ["cache", "iam", "rbac"] };

describe.each(Object.keys(EMPTY_BY_DESIGN))("plan of %s", (stack) => {
  test("every channel reported, each that has something to check checked, no finding; the text report lists each with its count", () => {
    const { document, stdout } = stackPlan(stack);
    const channels = document.isolationChannels!;
    expect(channels.map((c) => c.channel)).toEqual(CHANNELS);
    expect(channels.filter((c) => c.checked === 0).map((c) => c.channel)).toEqual(EMPTY_BY_DESIGN[stack]);
    expect(channels.filter((c) => c.findings > 0).map((c) => `${c.channel}: ${c.findings}`)).toEqual([]);
    expect(document.isolation).toEqual([]);
    expect(stdout).toContain(isolationTable(channels));
    expect(stdout).toContain("isolation: 0 findings in 8 channels\n");
    for (const c of channels) expect(stdout).toMatch(new RegExp(`\\n  ${c.channel} +${c.checked} checked \\(`));
    expect(document.violations.filter((v) => v.policy === "tenant-isolation-paths")).toEqual([]);
  });

  test("the Markdown and HTML reports' isolation sections list each channel with its count", () => {
    const { document } = stackPlan(stack);
    const markdown = markdownReport(document, []);
    const page = htmlReport({ document, violations: [], graph: { error: "none" }, generatedAt: "2026-12-02T00:00:00Z" });
    expect(markdown).toContain("### Isolation: no finding in 8 channels\n");
    for (const c of document.isolationChannels!) {
      expect(markdown).toContain(`| ${c.channel} | ${c.checked} | ${c.unit} | 0 |`);
      expect(page).toContain(`<tr><td><b>${c.channel}</b></td><td class="num">${c.checked}</td>`);
    }
  });
});

test("a finding shows in the reports under its channel and tenant", () => {
  const document = { ...stackPlan("shared-dev").document };
  document.isolationChannels = document.isolationChannels!.map((c) => ({ ...c, findings: c.channel === "hostnames" ? 1 : 0 }));
  document.isolation = [{ kind: "hostname", channel: "hostnames", tenant: "pr-7", message: "hostname demo.dev.odoo-fleet.example is claimed by namespace odoo-demo and by namespace odoo-pr-7 on one cluster" }];
  const markdown = markdownReport(document, []);
  expect(markdown).toContain("### Isolation: 1 finding in 8 channels\n");
  expect(markdown).toMatch(/\| hostnames \| \d+ \| hostnames \| \*\*1\*\* \|/);
  expect(markdown).toContain("- hostnames, pr-7: hostname demo.dev.odoo-fleet.example is claimed by namespace odoo-demo and by namespace odoo-pr-7 on one cluster\n");
  const page = htmlReport({ document, violations: [], graph: { error: "none" }, generatedAt: "2026-12-02T00:00:00Z" });
  expect(page).toContain('<li><span class="badge bad">hostnames</span> <b>pr-7</b>: hostname demo.dev.odoo-fleet.example is claimed');
});
