/**
 * Every channel through which one tenant could reach another's data or traffic, each checked from the
 * captured plan: database roles, cache ACLs, file system access, IAM roles, jobs acting for a tenant
 * outside its namespace, hostnames and Kubernetes RBAC (the network channel is isolation.ts). Each check
 * says how many things it looked at, so an empty result is seen to be a checked one. Inputs are read
 * defensively: a field of an unexpected shape is skipped, never trusted.
 */
import type { CapturedResource } from "../../model/resource";
import { CRON_LABELS, SYSTEM_NAMESPACE, WEB_LABELS, tenantOfNamespace, IRSA_ROLE_ANNOTATION, IRSA_SKIP_CONTAINERS } from "../../model/kubernetes";

/**
 * The pod annotation naming containers the EKS pod identity webhook leaves without the role's token
 * (https://github.com/aws/amazon-eks-pod-identity-webhook#usage); every other container of the pod gets it.
 */
import { TENANT_TAG } from "../../model/tags";
import { contains, overlaps, parseCidr, type Cidr } from "../../model/cidr";
import { providerUrnOf } from "../capture/capture";
import { decide, glob, statementsOf, type IamRequest } from "./iam-policy";
import type { IsolationFinding } from "./isolation";
import { clusterOf } from "./names";

type Obj = Record<string, unknown>;

export type ChannelName = "network" | "database" | "cache" | "filesystem" | "iam" | "jobs" | "hostnames" | "rbac";

export interface ChannelResult {
  channel: ChannelName;
  /** How many things the check looked at, in `unit`s. */
  checked: number;
  unit: string;
  findings: IsolationFinding[];
}

/** Findings that concern every tenant at once (a file system anyone may mount) name this tenant. */
export const EVERY_TENANT = "(every tenant)";

// ---- reading inputs defensively --------------------------------------------------------------

const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" && v !== "[unknown]" && v !== "[secret]" ? v : undefined);
const labelsOf = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(v)).filter(([, x]) => typeof x === "string")) as Record<string, string>;
const metaOf = (r: CapturedResource) => obj(r.inputs.metadata);
const nameOf = (r: CapturedResource) => str(metaOf(r).name) ?? r.name;
const namespaceOf = (r: CapturedResource) => str(metaOf(r).namespace) ?? "default";
const tagTenant = (r: CapturedResource) => str(obj(r.inputs.tags)[TENANT_TAG]);

/** One pod template of the plan and whom it acts for. */
export interface PodView {
  ref: string;
  namespace: string;
  /** The tenant whose namespace it runs in, or the tenant it is labelled for (a job in the system namespace). */
  tenant?: string;
  /** Whether it runs in its tenant's own namespace. */
  inTenantNamespace: boolean;
  containers: Obj[];
  volumes: Obj[];
  serviceAccount: string;
  /** Containers the IRSA webhook gives no web identity token (the pod's eks.amazonaws.com/skip-containers). */
  skipped: Set<string>;
}

const POD_TEMPLATES: Record<string, (spec: Obj) => Obj> = {
  "kubernetes:apps/v1:Deployment": (s) => obj(s.template),
  "kubernetes:apps/v1:StatefulSet": (s) => obj(s.template),
  "kubernetes:apps/v1:DaemonSet": (s) => obj(s.template),
  "kubernetes:batch/v1:Job": (s) => obj(s.template),
  "kubernetes:batch/v1:CronJob": (s) => obj(obj(obj(s.jobTemplate).spec).template),
  "kubernetes:core/v1:Pod": (s) => ({ spec: s }),
};

/** What the channels share: tenants, namespaces, pods, secrets, roles and what they reach. */
export interface PlanView {
  resources: readonly CapturedResource[];
  tenants: Set<string>;
  /** Namespace name → its tenant, for tenant namespaces. */
  tenantNamespaces: Map<string, string>;
  pods: PodView[];
  /** Images a tenant supplies: code the platform does not control. */
  tenantImages: Set<string>;
  /** `namespace/name` of a Secret → its tenant. */
  secretTenant: Map<string, string>;
  /** `namespace/name` of a ServiceAccount → the IAM role ARN it is given (IRSA or Pod Identity). */
  serviceAccountRole: Map<string, string>;
  /** Master-credential secret ARNs of the database servers. */
  masterSecrets: Set<string>;
  /** Buckets any policy of the plan names. */
  buckets: Set<string>;
  /** Role attachments by role reference, built on first use. */
  attachments?: Map<string, CapturedResource[]>;
}

export interface ChannelOptions {
  /** The images the stack's spec gives its tenants (`odoo.image`); the plan's Odoo pods' images are added. */
  tenantImages?: readonly string[];
  /** This stack's name, and for a review stack its host as planned: hostnames are checked against the host's too. */
  stack?: string;
  host?: PlannedStackResources;
}

function tenantOfNamespaceResource(r: CapturedResource): string | undefined {
  const labels = labelsOf(metaOf(r).labels);
  const name = nameOf(r);
  if (labels["odoo-fleet/role"] === "tenant") return labels[TENANT_TAG] ?? tenantOfNamespace(name) ?? name;
  return tenantOfNamespace(name);
}

function podViews(resources: readonly CapturedResource[], tenantNamespaces: Map<string, string>): PodView[] {
  const pods: PodView[] = [];
  for (const r of resources) {
    const templateOf = POD_TEMPLATES[r.type];
    if (!templateOf) continue;
    const template = templateOf(obj(r.inputs.spec));
    const spec = obj(template.spec);
    const namespace = namespaceOf(r);
    const own = tenantNamespaces.get(namespace) ?? tenantOfNamespace(namespace);
    const labelled = labelsOf(obj(template.metadata).labels)[TENANT_TAG] ?? labelsOf(metaOf(r).labels)[TENANT_TAG];
    const containers = [...arr(spec.initContainers), ...arr(spec.containers), ...arr(spec.ephemeralContainers)].map(obj);
    const tenant = own ?? labelled;
    pods.push({
      ref: `${r.type.split(":").pop()} ${namespace}/${nameOf(r)}`,
      namespace,
      ...(tenant ? { tenant } : {}),
      inTenantNamespace: own !== undefined,
      containers,
      volumes: arr(spec.volumes).map(obj),
      serviceAccount: str(spec.serviceAccountName) ?? str(spec.serviceAccount) ?? "default",
      skipped: new Set((str(labelsOf(obj(template.metadata).annotations)[IRSA_SKIP_CONTAINERS]) ?? "").split(",").map((c) => c.trim()).filter(Boolean)),
    });
  }
  return pods;
}

export function planView(resources: readonly CapturedResource[], options: ChannelOptions = {}): PlanView {
  const tenantNamespaces = new Map<string, string>();
  for (const r of resources) {
    if (r.type !== "kubernetes:core/v1:Namespace") continue;
    const tenant = tenantOfNamespaceResource(r);
    if (tenant) tenantNamespaces.set(nameOf(r), tenant);
  }
  const pods = podViews(resources, tenantNamespaces);
  const tenants = new Set<string>([...tenantNamespaces.values()]);
  for (const r of resources) {
    const t = tagTenant(r);
    if (t) tenants.add(t);
  }
  const tenantImages = new Set(options.tenantImages ?? []);
  for (const r of resources) {
    if (r.type !== "kubernetes:apps/v1:Deployment" || !tenantNamespaces.has(namespaceOf(r))) continue;
    const template = obj(obj(r.inputs.spec).template);
    const app = labelsOf(obj(template.metadata).labels).app;
    if (app !== WEB_LABELS.app && app !== CRON_LABELS.app) continue;
    for (const c of arr(obj(template.spec).containers).map(obj)) if (str(c.image)) tenantImages.add(str(c.image)!);
  }
  const secretTenant = new Map<string, string>();
  const serviceAccountRole = new Map<string, string>();
  for (const r of resources) {
    const key = `${namespaceOf(r)}/${nameOf(r)}`;
    if (r.type === "kubernetes:core/v1:Secret") {
      const t = labelsOf(metaOf(r).labels)[TENANT_TAG] ?? tenantNamespaces.get(namespaceOf(r));
      if (t) secretTenant.set(key, t);
    }
    if (r.type === "kubernetes:core/v1:ServiceAccount") {
      const arn = str(labelsOf(metaOf(r).annotations)[IRSA_ROLE_ANNOTATION]);
      if (arn) serviceAccountRole.set(key, arn);
    }
    if (r.type === "aws:eks/podIdentityAssociation:PodIdentityAssociation") {
      const arn = str(r.inputs.roleArn);
      if (arn && str(r.inputs.namespace) && str(r.inputs.serviceAccount)) serviceAccountRole.set(`${str(r.inputs.namespace)}/${str(r.inputs.serviceAccount)}`, arn);
    }
  }
  const masterSecrets = new Set<string>();
  const buckets = new Set<string>();
  for (const text of resources.flatMap((r) => (r.type.startsWith("aws:iam/") || r.type === "aws:s3/bucketPolicy:BucketPolicy" ? [r.inputs.policy] : []))) {
    for (const s of statementsOf(text)) {
      for (const resource of [s.Resource, s.NotResource].flatMap((x) => (Array.isArray(x) ? x : [x]))) {
        if (typeof resource !== "string") continue;
        const bucket = /^arn:aws[a-z-]*:s3:::([^/*?]+)/.exec(resource)?.[1];
        if (bucket) buckets.add(bucket);
        if (/:secretsmanager:.*:secret:rds!/.test(resource) && !/[*?]/.test(resource)) masterSecrets.add(resource);
      }
    }
  }
  for (const pod of pods) for (const c of pod.containers) for (const e of arr(c.env).map(obj)) if (/MASTER/i.test(String(e.name)) && str(e.value)?.startsWith("arn:")) masterSecrets.add(str(e.value)!);
  return { resources, tenants, tenantNamespaces, pods, tenantImages, secretTenant, serviceAccountRole, masterSecrets, buckets };
}

const finding = (kind: string, channel: ChannelName, tenant: string, message: string): IsolationFinding => ({ kind, channel, tenant, message });

// ---- IAM: what a role may reach ----------------------------------------------------------------

const roles = (view: PlanView) => view.resources.filter((r) => r.type === "aws:iam/role:Role");

/** The role an ARN names: by its explicit name, its id, or its autonamed logical name (a suffix of 7 hex characters). */
export function roleByArn(view: PlanView, arn: string): CapturedResource | undefined {
  const name = arn.split("/").pop() ?? arn;
  return roles(view).find((r) => str(r.inputs.name) === name || r.id === name || r.name === name || r.name === name.replace(/-[0-9a-f]{7}$/, ""));
}

const ROLE_ATTACHMENTS = new Set(["aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"]);

/** RolePolicies and RolePolicyAttachments by what they name their role by (a dependency's URN, the `role` input), found once per plan. */
function attachmentIndex(view: PlanView): Map<string, CapturedResource[]> {
  if (view.attachments) return view.attachments;
  const index = new Map<string, CapturedResource[]>();
  for (const r of view.resources) {
    if (!ROLE_ATTACHMENTS.has(r.type)) continue;
    for (const key of new Set([...r.dependsOn, str(r.inputs.role)].filter((k): k is string => k !== undefined))) index.set(key, [...(index.get(key) ?? []), r]);
  }
  view.attachments = index;
  return index;
}

/** Every statement of a role's policies: inline (as a property or a RolePolicy) and attached customer policies. */
export function roleStatements(view: PlanView, role: CapturedResource): Obj[] {
  const index = attachmentIndex(view);
  const keys = [role.urn, role.id, str(role.inputs.name), role.name].filter((k): k is string => k !== undefined);
  const attached = [...new Set(keys.flatMap((k) => index.get(k) ?? []))];
  const statements = arr(role.inputs.inlinePolicies).flatMap((p) => statementsOf(obj(p).policy));
  for (const r of attached) {
    if (r.type === "aws:iam/rolePolicy:RolePolicy") statements.push(...statementsOf(r.inputs.policy));
    else {
      const arn = str(r.inputs.policyArn);
      const policy = view.resources.find((p) => p.type === "aws:iam/policy:Policy" && (r.dependsOn.includes(p.urn) || (arn !== undefined && (arn.endsWith(`/${str(p.inputs.name) ?? p.name}`) || arn === p.id))));
      if (policy) statements.push(...statementsOf(policy.inputs.policy));
    }
  }
  return statements;
}

/** A tenant name no tenant has: stands for "any other tenant" so that `tenants/*` is caught in a one-tenant stack. */
const SOME_OTHER_TENANT = "some-other-tenant";

/**
 * The tenants (other than `tenant`) whose backup prefix the statements let one read, write or list:
 * "any other tenant" alone when a tenant no one has is reached (a wildcard), else the tenants the
 * statements name (only a named prefix can be reached without a wildcard: a fleet's worth of probes is not needed).
 */
export function foreignBackupReach(view: PlanView, statements: readonly Obj[], tenant: string | undefined): string[] {
  if (statements.length === 0) return [];
  const reaches = (other: string) =>
    [...view.buckets].some((bucket) => {
      const requests: IamRequest[] = [
        ...["s3:GetObject", "s3:PutObject", "s3:DeleteObject"].map((action) => ({ action, resource: `arn:aws:s3:::${bucket}/tenants/${other}/probe` })),
        { action: "s3:ListBucket", resource: `arn:aws:s3:::${bucket}`, context: { "s3:prefix": `tenants/${other}/` } },
      ];
      return requests.some((q) => decide(statements, q) === "allow");
    });
  if (reaches(SOME_OTHER_TENANT)) return [SOME_OTHER_TENANT];
  // Past a wildcard, only a prefix the statements spell out (or one a partial wildcard like tenants/b* covers) can be reached.
  const text = JSON.stringify(statements);
  const partial = /tenants\/[^"/]*[*?]/.test(text);
  return [...view.tenants].filter((t) => t !== tenant && t !== SOME_OTHER_TENANT && (partial || text.includes(`tenants/${t}/`)) && reaches(t));
}

const describeOthers = (names: readonly string[]) => names.map((n) => (n === SOME_OTHER_TENANT ? "any other tenant" : n)).join(", ");

export function readableMasterSecrets(view: PlanView, statements: readonly Obj[]): string[] {
  return [...view.masterSecrets].filter((arn) => decide(statements, { action: "secretsmanager:GetSecretValue", resource: arn }) === "allow");
}

/** `system:serviceaccount:<ns>:<name>` subjects (exact or patterns) a role's trust policy admits. */
function trustedSubjects(role: CapturedResource): string[] {
  const subjects: string[] = [];
  for (const s of statementsOf(role.inputs.assumeRolePolicy)) {
    if (s.Effect !== "Allow") continue;
    for (const keys of Object.values(obj(s.Condition))) {
      for (const [key, value] of Object.entries(obj(keys))) if (key.endsWith(":sub")) subjects.push(...(Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string"));
    }
  }
  return subjects;
}

export function iamChannel(view: PlanView): ChannelResult {
  const findings: IsolationFinding[] = [];
  const all = roles(view);
  const tenantNamespaceList = [...view.tenantNamespaces.keys()];
  for (const role of all) {
    const owner = tagTenant(role);
    const subjects = trustedSubjects(role);
    const exact = subjects.filter((s) => !/[*?]/.test(s));
    const trusting = [...new Set(exact.map((s) => view.tenantNamespaces.get(s.split(":")[2] ?? "") ?? tenantOfNamespace(s.split(":")[2])).filter((t): t is string => t !== undefined))];
    for (const pattern of subjects.filter((s) => /[*?]/.test(s))) {
      const matched = tenantNamespaceList.filter((ns) => glob(pattern, `system:serviceaccount:${ns}:any`) || glob(pattern, `system:serviceaccount:${ns}:odoo`));
      if (matched.length > 0 || glob(pattern, "system:serviceaccount:odoo-some-other-tenant:odoo")) findings.push(finding("iam-trust", "iam", owner ?? EVERY_TENANT, `IAM role ${role.name} trusts every service account matching ${pattern}, tenants' included`));
    }
    if (trusting.length > 1) findings.push(finding("iam-trust", "iam", trusting[0]!, `IAM role ${role.name} is trusted by service accounts of tenants ${trusting.join(" and ")}`));
    if (owner && trusting.some((t) => t !== owner)) findings.push(finding("iam-trust", "iam", owner, `IAM role ${role.name} of tenant ${owner} is trusted by a service account of tenant ${trusting.find((t) => t !== owner)}`));
    // A role only AWS services assume (S3 replication, AWS Backup) acts for the platform, whatever its tags say.
    const servicesOnly = statementsOf(role.inputs.assumeRolePolicy).every((s) => s.Effect !== "Allow" || Object.keys(obj(s.Principal)).every((k) => k === "Service"));
    const tenant = trusting.length === 1 ? trusting[0] : servicesOnly ? undefined : owner;
    if (!tenant) continue;
    const statements = roleStatements(view, role);
    const foreign = foreignBackupReach(view, statements, tenant);
    if (foreign.length > 0) findings.push(finding("iam-reach", "iam", tenant, `IAM role ${role.name} of tenant ${tenant} reaches the backups of ${describeOthers(foreign)}`));
    for (const secret of readableMasterSecrets(view, statements)) findings.push(finding("iam-reach", "iam", tenant, `IAM role ${role.name} of tenant ${tenant} reads the database master secret ${secret}`));
  }
  return { channel: "iam", checked: all.length, unit: "IAM roles", findings };
}

// ---- pods: what they hold ------------------------------------------------------------------------

/** The names of the Secrets a pod reads (or, given `only`, those containers), by volume, projected volume, env and envFrom. */
function secretsOfPod(pod: PodView, only?: readonly Obj[]): string[] {
  const names: (string | undefined)[] = [];
  const containers = only ?? pod.containers;
  const mounted = new Set(containers.flatMap((c) => arr(c.volumeMounts).map((m) => String(obj(m).name))));
  for (const v of pod.volumes) {
    if (only && !mounted.has(String(v.name))) continue;
    names.push(str(obj(v.secret).secretName));
    for (const source of arr(obj(v.projected).sources).map(obj)) names.push(str(obj(source.secret).name));
  }
  for (const c of containers) {
    for (const e of arr(c.env).map(obj)) names.push(str(obj(obj(e.valueFrom).secretKeyRef).name));
    for (const e of arr(c.envFrom).map(obj)) names.push(str(obj(e.secretRef).name));
  }
  return [...new Set(names.filter((n): n is string => n !== undefined))];
}

const runsTenantImage = (pod: PodView, view: PlanView) => pod.containers.filter((c) => view.tenantImages.has(String(c.image)));

/** The IAM role a pod's service account is given, and its statements. */
function podRole(pod: PodView, view: PlanView): { arn: string; role?: CapturedResource; statements: Obj[] } | undefined {
  const arn = view.serviceAccountRole.get(`${pod.namespace}/${pod.serviceAccount}`);
  if (!arn) return undefined;
  const role = roleByArn(view, arn);
  return { arn, ...(role ? { role } : {}), statements: role ? roleStatements(view, role) : [] };
}

/** Containers of `containers` that get the pod's IAM role: all but those the pod tells the IRSA webhook to skip. */
const roleHolders = (pod: PodView, containers: readonly Obj[]) => containers.filter((c) => !pod.skipped.has(String(c.name)));

/**
 * How the given containers (those running a tenant's image) reach the database master's credentials:
 * env naming the master, a master Secret, or the pod's IAM role reading the master secret when they
 * get its token. What other containers of the pod write to shared volumes is not in the plan: the
 * drill's attack tests cover that.
 */
function masterCredentials(pod: PodView, view: PlanView, containers: readonly Obj[]): string[] {
  const found: string[] = [];
  for (const c of containers) for (const e of arr(c.env).map(obj)) if (/MASTER/i.test(String(e.name))) found.push(`container ${String(c.name)} has ${String(e.name)}`);
  for (const s of secretsOfPod(pod, containers)) if (/master/i.test(s)) found.push(`it reads Secret ${s}`);
  const role = podRole(pod, view);
  if (role && roleHolders(pod, containers).length > 0 && readableMasterSecrets(view, role.statements).length > 0) found.push(`the pod's IAM role ${role.role?.name ?? role.arn} reads the master secret and ${roleHolders(pod, containers).map((c) => String(c.name)).join(", ")} gets its token`);
  return found;
}

// ---- database roles ------------------------------------------------------------------------------

const ROLE_ENV = ["TENANT_ROLE", "PGUSER"];
const DB_ENV = ["TENANT_DB", "PGDATABASE"];

/**
 * Tenant database roles and who uses them: each tenant provisioned its own role and database, no pod
 * acting for one tenant connects as another's, and no pod that runs a tenant's image (its code: a
 * restore runs the tenant's functions) holds the master's credentials, which are a member of every
 * tenant role (scripts/provision-tenant-db.sh grants each role to the master).
 */
export function databaseChannel(view: PlanView): ChannelResult {
  const findings: IsolationFinding[] = [];
  const owners = new Map<string, Set<string>>();
  const envOf = (pod: PodView, names: readonly string[]) => pod.containers.flatMap((c) => arr(c.env).map(obj).filter((e) => names.includes(String(e.name))).map((e) => str(e.value)).filter((v): v is string => v !== undefined));
  for (const pod of view.pods) {
    if (!pod.tenant) continue;
    for (const [kind, names] of [["role", ["TENANT_ROLE"]], ["database", ["TENANT_DB"]]] as const) {
      for (const value of envOf(pod, names)) owners.set(`${kind} ${value}`, (owners.get(`${kind} ${value}`) ?? new Set()).add(pod.tenant));
    }
  }
  for (const [what, tenants] of owners) if (tenants.size > 1) findings.push(finding("database-role", "database", [...tenants][0]!, `database ${what} is provisioned for tenants ${[...tenants].join(" and ")}`));
  const tenantPods = view.pods.filter((p) => p.tenant);
  for (const pod of tenantPods) {
    for (const [kind, names] of [["role", ROLE_ENV], ["database", DB_ENV]] as const) {
      for (const value of envOf(pod, names)) {
        const other = [...(owners.get(`${kind} ${value}`) ?? [])].find((t) => t !== pod.tenant);
        if (other && !owners.get(`${kind} ${value}`)!.has(pod.tenant!)) findings.push(finding("database-role", "database", pod.tenant!, `${pod.ref} of tenant ${pod.tenant} uses database ${kind} ${value} of tenant ${other}`));
      }
    }
    const tenantCode = runsTenantImage(pod, view);
    if (tenantCode.length === 0) continue;
    const master = masterCredentials(pod, view, tenantCode);
    if (master.length > 0) findings.push(finding("database-master", "database", pod.tenant!, `${pod.ref} runs tenant ${pod.tenant}'s image (container ${tenantCode.map((c) => String(c.name)).join(", ")}) within reach of the database master's credentials: ${master.join("; ")}`));
  }
  return { channel: "database", checked: owners.size + tenantPods.length, unit: "tenant roles, databases and pods acting for a tenant", findings };
}

// ---- jobs acting for a tenant outside its namespace --------------------------------------------

/**
 * Pods labelled for a tenant that run in another namespace (the system namespace's provisioning jobs
 * and restore drills): they read only that tenant's Secrets, their IAM role reaches only that tenant's
 * backups, and a pod that runs the tenant's image carries no cloud credentials at all (IRSA hands the
 * role's web identity token to every container of the pod).
 */
export function jobsChannel(view: PlanView): ChannelResult {
  const findings: IsolationFinding[] = [];
  const outside = view.pods.filter((p) => p.tenant && !p.inTenantNamespace);
  for (const pod of outside) {
    const tenant = pod.tenant!;
    for (const secret of secretsOfPod(pod)) {
      const owner = view.secretTenant.get(`${pod.namespace}/${secret}`);
      if (owner && owner !== tenant) findings.push(finding("tenant-job", "jobs", tenant, `${pod.ref} acts for tenant ${tenant} and reads Secret ${secret} of tenant ${owner}`));
    }
    const role = podRole(pod, view);
    if (!role) continue;
    const roleName = role.role?.name ?? role.arn;
    const foreign = foreignBackupReach(view, role.statements, tenant);
    if (foreign.length > 0) findings.push(finding("tenant-job", "jobs", tenant, `${pod.ref} acts for tenant ${tenant} with IAM role ${roleName}, which reaches the backups of ${describeOthers(foreign)}`));
    const tenantCode = roleHolders(pod, runsTenantImage(pod, view));
    if (tenantCode.length > 0) findings.push(finding("tenant-job", "jobs", tenant, `${pod.ref} runs tenant ${tenant}'s image (container ${tenantCode.map((c) => String(c.name)).join(", ")}) with IAM role ${roleName}: IRSA gives its token to every container the pod does not list in ${IRSA_SKIP_CONTAINERS}`));
  }
  return { channel: "jobs", checked: outside.length, unit: "pods acting for a tenant outside its namespace", findings };
}

// ---- cache ACLs ----------------------------------------------------------------------------------

/**
 * The ACL categories of the commands a tenant must not run, as Redis 7.0 and Valkey 7.2/8 list them
 * (`COMMAND INFO <cmd>`, https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/):
 * each lists or touches keys, channels or clients regardless of key patterns, or changes the server.
 * test/isolation-channels.test.ts checks this table against a real redis-server.
 */
export const REFUSED_CACHE_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  scan: ["keyspace", "read", "slow"],
  keys: ["keyspace", "read", "slow", "dangerous"],
  randomkey: ["keyspace", "read", "slow"],
  monitor: ["admin", "slow", "dangerous"],
  "client|list": ["admin", "slow", "dangerous", "connection"],
  "client|kill": ["admin", "slow", "dangerous", "connection"],
  "config|get": ["admin", "slow", "dangerous"],
  "config|set": ["admin", "slow", "dangerous"],
  flushall: ["keyspace", "write", "slow", "dangerous"],
  flushdb: ["keyspace", "write", "slow", "dangerous"],
  debug: ["admin", "slow", "dangerous"],
  "pubsub|channels": ["pubsub", "slow"],
  "pubsub|shardchannels": ["pubsub", "slow"],
  "slowlog|get": ["admin", "slow", "dangerous"],
  "acl|list": ["admin", "slow", "dangerous"],
  swapdb: ["keyspace", "write", "fast", "dangerous"],
  migrate: ["keyspace", "write", "slow", "dangerous"],
};

export interface CacheAcl {
  on: boolean;
  nopass: boolean;
  /** Key patterns without their `~` (or `%R~`…); `*` for allkeys. */
  keys: string[];
  channels: string[];
  /** Whether the rules allow `command` (`name` or `name|subcommand`), with its categories. */
  allows(command: string, categories: readonly string[]): boolean;
}

/** An ACL rule string as the server applies it: left to right, the last rule on a command wins. */
export function parseCacheAcl(accessString: string): CacheAcl {
  const rules = accessString.trim().split(/\s+/).filter(Boolean);
  let on = false;
  let nopass = false;
  let keys: string[] = [];
  let channels: string[] = [];
  for (const r of rules) {
    const lower = r.toLowerCase();
    if (lower === "on") on = true;
    else if (lower === "off") on = false;
    else if (lower === "nopass") nopass = true;
    else if (lower === "resetpass") nopass = false;
    else if (lower === "allkeys") keys.push("*");
    else if (lower === "resetkeys") keys = [];
    else if (lower === "allchannels") channels.push("*");
    else if (lower === "resetchannels") channels = [];
    else if (lower === "reset") [on, nopass, keys, channels] = [false, false, [], []];
    else if (/^%[rw]{1,2}~/i.test(r)) keys.push(r.slice(r.indexOf("~") + 1));
    else if (r.startsWith("~")) keys.push(r.slice(1));
    else if (r.startsWith("&")) channels.push(r.slice(1));
  }
  const allows = (command: string, categories: readonly string[]) => {
    const [name] = command.split("|");
    let allowed = false;
    for (const r of rules.map((x) => x.toLowerCase())) {
      if (r === "allcommands" || r === "+@all") allowed = true;
      else if (r === "nocommands" || r === "-@all" || r === "reset") allowed = false;
      else if (/^[+-]@/.test(r) && categories.includes(r.slice(2))) allowed = r.startsWith("+");
      else if (/^[+-]/.test(r) && (r.slice(1) === name || r.slice(1) === command)) allowed = r.startsWith("+");
    }
    return allowed;
  };
  return { on, nopass, keys, channels, allows };
}

/** The literal start of a glob pattern: every name it matches begins with it. */
const literalPrefix = (pattern: string) => pattern.split(/[*?[\\]/)[0]!;
const ownsPrefix = (prefix: string, tenant: string) => new RegExp(`(^|[^a-z0-9-])${tenant.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}([^a-z0-9-]|$)`).test(prefix);

/**
 * Each tenant's cache user: on, with a password, key and channel patterns inside its own prefix and
 * overlapping no other tenant's, and none of the commands that list or touch what patterns do not limit.
 */
export function cacheChannel(view: PlanView): ChannelResult {
  const findings: IsolationFinding[] = [];
  const users = view.resources.filter((r) => r.type === "aws:elasticache/user:User").map((r) => ({ r, owner: tagTenant(r), acl: parseCacheAcl(str(r.inputs.accessString) ?? "") }));
  for (const { r, owner, acl } of users) {
    if (!owner) {
      if (acl.on && acl.nopass) findings.push(finding("cache-acl", "cache", EVERY_TENANT, `cache user ${r.name} (${String(r.inputs.userName)}) is on without a password: any client that reaches the cache uses it`));
      continue;
    }
    for (const [what, patterns, sigil] of [["keys", acl.keys, "~"], ["channels", acl.channels, "&"]] as const) {
      const wide = patterns.filter((p) => !ownsPrefix(literalPrefix(p), owner));
      if (wide.length > 0) findings.push(finding("cache-acl", "cache", owner, `cache user ${r.name} of tenant ${owner} reaches ${what} beyond its own prefix (${wide.map((p) => `${sigil}${p}`).join(" ")})`));
      for (const other of users) {
        if (!other.owner || other.owner === owner || other.r.urn <= r.urn) continue;
        const theirs = what === "keys" ? other.acl.keys : other.acl.channels;
        const shared = patterns.filter((p) => theirs.some((q) => literalPrefix(p).startsWith(literalPrefix(q)) || literalPrefix(q).startsWith(literalPrefix(p))));
        if (shared.length > 0) findings.push(finding("cache-acl", "cache", owner, `cache users ${r.name} (tenant ${owner}) and ${other.r.name} (tenant ${other.owner}) have overlapping ${what} patterns (${shared.map((p) => `${sigil}${p}`).join(" ")})`));
      }
    }
    const refused = Object.entries(REFUSED_CACHE_COMMANDS).filter(([command, categories]) => acl.allows(command, categories)).map(([command]) => command.toUpperCase().replace("|", " "));
    if (acl.on && refused.length > 0) findings.push(finding("cache-acl", "cache", owner, `cache user ${r.name} of tenant ${owner} may run ${refused.join(", ")}: key patterns do not limit what these list or change`));
  }
  return { channel: "cache", checked: users.length, unit: "cache users", findings };
}

// ---- file system ---------------------------------------------------------------------------------

const NFS_PORT = 2049;

/** Whether a NetworkPolicy egress rule lets TCP to port 2049 out to any of `targets` (no targets known: any address block). */
function egressAllowsNfs(rule: Obj, targets: readonly Cidr[]): boolean {
  const ports = arr(rule.ports).map(obj);
  const portOk =
    ports.length === 0 ||
    ports.some((p) => {
      if (p.protocol !== undefined && p.protocol !== "TCP") return false;
      if (p.port === undefined) return true;
      const port = Number(p.port);
      const end = p.endPort === undefined ? port : Number(p.endPort);
      return port <= NFS_PORT && NFS_PORT <= end;
    });
  if (!portOk) return false;
  const peers = arr(rule.to).map(obj);
  if (peers.length === 0) return true;
  return peers.some((peer) => {
    const block = obj(peer.ipBlock);
    const cidr = str(block.cidr);
    if (!cidr) return false;
    try {
      const parsed = parseCidr(cidr);
      const except = arr(block.except).map((e) => parseCidr(String(e)));
      return targets.length === 0 || targets.some((t) => overlaps(parsed, t) && !except.some((e) => contains(e, t)));
    } catch {
      return true; // an address block we cannot read might cover the mount targets
    }
  });
}

const anyPrincipal = (principal: unknown) => principal === "*" || (Array.isArray(obj(principal).AWS) ? (obj(principal).AWS as unknown[]).includes("*") : obj(principal).AWS === "*");

/**
 * EFS: each tenant's access point is rooted in its own directory, apart from every other's, with its
 * own POSIX user; the file system policy lets no anonymous NFS client mount without an access point;
 * and tenant pods cannot send NFS to the mount targets (the CSI driver mounts from the node).
 */
export function filesystemChannel(view: PlanView): ChannelResult {
  const findings: IsolationFinding[] = [];
  const points = view.resources.filter((r) => r.type === "aws:efs/accessPoint:AccessPoint" && tagTenant(r)).map((r) => ({ r, owner: tagTenant(r)!, root: str(obj(r.inputs.rootDirectory).path) ?? "/", uid: obj(r.inputs.posixUser).uid }));
  for (const p of points) {
    if (!new RegExp(`/${p.owner}$`).test(p.root)) findings.push(finding("filesystem-access", "filesystem", p.owner, `access point ${p.r.name} of tenant ${p.owner} is rooted at ${p.root}`));
    for (const q of points) {
      if (q.owner === p.owner || q.r.urn <= p.r.urn) continue;
      const within = (a: string, b: string) => a === b || b === "/" || a.startsWith(`${b.replace(/\/$/, "")}/`);
      if (within(p.root, q.root) || within(q.root, p.root)) findings.push(finding("filesystem-access", "filesystem", p.owner, `access points ${p.r.name} (${p.root}) and ${q.r.name} (${q.root}) of tenants ${p.owner} and ${q.owner} share a directory tree`));
      if (p.uid !== undefined && p.uid === q.uid) findings.push(finding("filesystem-access", "filesystem", p.owner, `access points ${p.r.name} and ${q.r.name} of tenants ${p.owner} and ${q.owner} act as one POSIX user ${String(p.uid)}`));
    }
  }
  const policies = view.resources.filter((r) => r.type === "aws:efs/fileSystemPolicy:FileSystemPolicy");
  for (const policy of policies) {
    // An NFS client with no IAM identity is an anonymous principal: only statements for any principal apply to it.
    const anonymous = statementsOf(policy.inputs.policy).filter((s) => anyPrincipal(s.Principal));
    const context = { "aws:SecureTransport": "true", "elasticfilesystem:AccessedViaMountTarget": "true" };
    // The statements name the planned file system by an id known only at deployment: any resource matches.
    const anyResource = anonymous.map(({ NotResource: _ignored, ...s }) => ({ ...s, Resource: "*" }));
    const mountable = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"].filter((action) => decide(anyResource, { action, resource: "file-system", context }) === "allow");
    const actions = mountable;
    if (actions.length > 0) findings.push(finding("filesystem-access", "filesystem", EVERY_TENANT, `file system policy ${policy.name} lets any NFS client through a mount target, with no IAM identity and no access point, ${actions.map((a) => a.split(":")[1]).join(", ")}: every tenant's directory`));
  }
  // Only file systems of this plan: a review stack's access points live on its host's, whose plan checks its policy.
  const planned = new Set(view.resources.filter((r) => r.type === "aws:efs/fileSystem:FileSystem").map((r) => r.id));
  const systems = new Set(points.map((p) => str(p.r.inputs.fileSystemId)).filter((id): id is string => id !== undefined && planned.has(id)));
  for (const fs of systems) if (!policies.some((p) => str(p.inputs.fileSystemId) === fs)) findings.push(finding("filesystem-access", "filesystem", EVERY_TENANT, `file system ${fs} holds tenants' access points and has no file system policy: EFS lets any NFS client that reaches a mount target mount its root`));
  const subnets = new Map(view.resources.filter((r) => r.type === "aws:ec2/subnet:Subnet").map((r) => [r.id, str(r.inputs.cidrBlock)]));
  const targets = view.resources.filter((r) => r.type === "aws:efs/mountTarget:MountTarget").map((r) => subnets.get(str(r.inputs.subnetId))).filter((c): c is string => c !== undefined).map(parseCidr);
  const tenantPolicies = view.resources.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && view.tenantNamespaces.has(namespaceOf(r)));
  for (const np of tenantPolicies) {
    if (arr(obj(np.inputs.spec).egress).map(obj).some((rule) => egressAllowsNfs(rule, targets))) {
      findings.push(finding("filesystem-access", "filesystem", view.tenantNamespaces.get(namespaceOf(np))!, `NetworkPolicy ${namespaceOf(np)}/${nameOf(np)} lets tenant pods send NFS (TCP ${NFS_PORT}) to the file system's mount targets`));
    }
  }
  return { channel: "filesystem", checked: points.length + policies.length + tenantPolicies.length, unit: "access points, file system policies and tenant NetworkPolicies", findings };
}

// ---- hostnames -----------------------------------------------------------------------------------

const ROUTE_TYPES = new Set(["kubernetes:traefik.io/v1alpha1:IngressRoute", "kubernetes:traefik.containo.us/v1alpha1:IngressRoute", "kubernetes:traefik.io/v1alpha1:IngressRouteTCP", "kubernetes:traefik.containo.us/v1alpha1:IngressRouteTCP"]);

/** One hostname a planned object routes (or certifies) for its namespace. */
export interface HostClaim {
  host: string;
  /** Whether `host` is a regular expression (HostRegexp) or a `*.` wildcard, not one name. */
  pattern: boolean;
  namespace: string;
  tenant?: string;
  urn: string;
  /** The cluster the object lands on (its provider's API server). */
  cluster: string;
}

/** The hosts of a Traefik rule: Host(`a`) (and v2's Host(`a`, `b`)), HostSNI, HostRegexp. */
export function hostsOfRule(rule: string): { host: string; pattern: boolean }[] {
  const hosts: { host: string; pattern: boolean }[] = [];
  for (const m of rule.matchAll(/\b(Host|HostSNI|HostRegexp)\s*\(([^)]*)\)/g)) {
    for (const arg of m[2]!.matchAll(/[`"]([^`"]+)[`"]/g)) hosts.push({ host: arg[1]!.toLowerCase(), pattern: m[1] === "HostRegexp" || arg[1]!.startsWith("*.") });
  }
  return hosts;
}

/** Every hostname the plan's IngressRoutes, Ingresses and Certificates claim, by namespace and cluster. */
export function hostClaims(resources: readonly CapturedResource[]): HostClaim[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const tenantNamespaces = new Map(resources.filter((r) => r.type === "kubernetes:core/v1:Namespace").map((r) => [nameOf(r), tenantOfNamespaceResource(r)] as const));
  const claims: HostClaim[] = [];
  for (const r of resources) {
    const spec = obj(r.inputs.spec);
    let hosts: { host: string; pattern: boolean }[];
    if (ROUTE_TYPES.has(r.type)) hosts = arr(spec.routes).flatMap((route) => hostsOfRule(String(obj(route).match ?? "")));
    else if (r.type === "kubernetes:networking.k8s.io/v1:Ingress") hosts = arr(spec.rules).map((rule) => str(obj(rule).host)).filter((h): h is string => h !== undefined).map((h) => ({ host: h.toLowerCase(), pattern: h.startsWith("*.") }));
    else if (r.type === "kubernetes:cert-manager.io/v1:Certificate") hosts = arr(spec.dnsNames).filter((h): h is string => typeof h === "string").map((h) => ({ host: h.toLowerCase(), pattern: h.startsWith("*.") }));
    else continue;
    const namespace = namespaceOf(r);
    const tenant = tenantNamespaces.get(namespace) ?? tenantOfNamespace(namespace);
    const cluster = clusterOf(byUrn.get(providerUrnOf(r.provider) ?? ""));
    for (const h of new Set(hosts.map((x) => JSON.stringify(x)))) claims.push({ ...(JSON.parse(h) as { host: string; pattern: boolean }), namespace, ...(tenant ? { tenant } : {}), urn: r.urn, cluster });
  }
  return claims;
}

/** Whether a claim by pattern covers a host: a `*.` wildcard one label deep, a HostRegexp as a regular expression. */
function covers(claim: HostClaim, host: string): boolean {
  if (!claim.pattern) return claim.host === host;
  if (claim.host.startsWith("*.")) return host.endsWith(claim.host.slice(1)) && !host.slice(0, -claim.host.length + 1).includes(".");
  try {
    return new RegExp(`^(?:${claim.host})$`, "i").test(host);
  } catch {
    return true; // an expression we cannot read might match it
  }
}

/**
 * Hostnames claimed from two namespaces of one cluster: Traefik routes `Host()` across every namespace it
 * watches, so the second claim can take the first's traffic (and cert-manager can certify it for both).
 * Among routers whose rules match, the highest priority wins, by default the rule's length, whichever
 * namespace it comes from (https://doc.traefik.io/traefik/routing/routers/#priority); the CRD provider's
 * `allowCrossNamespace` only governs references to services and middlewares, not hosts.
 * `stackOf` names a claim's stack when the claims come from several plans; `acrossStacks` keeps only
 * conflicts between two stacks.
 */
export function hostConflicts(claims: readonly HostClaim[], stackOf: (claim: HostClaim) => string = () => "", acrossStacks = false): IsolationFinding[] {
  const findings: IsolationFinding[] = [];
  const where = (c: HostClaim) => `namespace ${c.namespace}${stackOf(c) ? ` of stack ${stackOf(c)}` : ""}`;
  const seen = new Set<string>();
  for (const a of claims) {
    for (const b of claims) {
      if (a === b || a.cluster !== b.cluster || (a.namespace === b.namespace && stackOf(a) === stackOf(b))) continue;
      if (acrossStacks && stackOf(a) === stackOf(b)) continue;
      if (!(a.host === b.host || (a.pattern && !b.pattern && covers(a, b.host)))) continue;
      const key = [`${a.host} ${where(a)}`, `${b.host} ${where(b)}`].sort().join("|");
      if (seen.has(key)) continue;
      seen.add(key);
      const tenant = b.tenant ?? a.tenant ?? EVERY_TENANT;
      findings.push(finding("hostname", "hostnames", tenant, a.host === b.host ? `hostname ${a.host} is claimed by ${where(a)} and by ${where(b)} on one cluster: Traefik matches Host() across namespaces` : `hostname pattern ${a.host} of ${where(a)} covers ${b.host} of ${where(b)} on one cluster`));
    }
  }
  return findings;
}

/** Hostnames claimed twice in this plan, and for a review stack, any its host's plan claims on the same cluster. */
export function hostnamesChannel(view: PlanView, options: Pick<ChannelOptions, "stack" | "host"> = {}): ChannelResult {
  const claims = hostClaims(view.resources);
  const findings = hostConflicts(claims);
  if (options.host) findings.push(...crossStackHostConflicts([options.host, { stack: options.stack ?? "(this stack)", resources: view.resources }]));
  return { channel: "hostnames", checked: new Set(claims.map((c) => c.host)).size, unit: options.host ? `hostnames, against host stack ${options.host.stack}'s` : "hostnames", findings };
}

/** A planned stack, for checks across the stacks that share a cluster (a host stack and its review stacks). */
export interface PlannedStackResources {
  stack: string;
  resources: readonly CapturedResource[];
}

/** Hostnames that two stacks sharing a cluster claim (conflicts inside one stack are its own plan's finding). */
export function crossStackHostConflicts(plans: readonly PlannedStackResources[]): IsolationFinding[] {
  const stackOfClaim = new Map<HostClaim, string>();
  const claims = plans.flatMap((p) => hostClaims(p.resources).map((c) => (stackOfClaim.set(c, p.stack), c)));
  return hostConflicts(claims, (c) => stackOfClaim.get(c) ?? "", true);
}

// ---- Kubernetes RBAC -----------------------------------------------------------------------------

/** Groups every tenant's service accounts belong to (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-subjects). */
const GROUPS_OF_EVERY_TENANT = new Set(["system:serviceaccounts", "system:authenticated", "system:unauthenticated"]);

/**
 * Role bindings that give a tenant's identities rights beyond their own namespace: any ClusterRoleBinding
 * naming a tenant's service account (or a group holding every tenant's), and any RoleBinding in one
 * namespace naming another tenant's.
 */
export function rbacChannel(view: PlanView): ChannelResult {
  const findings: IsolationFinding[] = [];
  const bindings = view.resources.filter((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding" || r.type === "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding");
  for (const b of bindings) {
    const cluster = b.type.endsWith(":ClusterRoleBinding");
    const namespace = namespaceOf(b);
    const role = `${String(obj(b.inputs.roleRef).kind ?? "Role")} ${String(obj(b.inputs.roleRef).name ?? "?")}`;
    const ref = `${cluster ? "ClusterRoleBinding" : `RoleBinding ${namespace}/`}${cluster ? ` ${nameOf(b)}` : nameOf(b)}`;
    for (const subject of arr(b.inputs.subjects).map(obj)) {
      const name = String(subject.name ?? "");
      let tenant: string | undefined;
      if (subject.kind === "ServiceAccount") {
        const ns = str(subject.namespace) ?? namespace;
        tenant = view.tenantNamespaces.get(ns) ?? tenantOfNamespace(ns);
        if (tenant && (cluster || ns !== namespace)) findings.push(finding("rbac", "rbac", tenant, `${ref} grants ${role} to service account ${ns}/${name} of tenant ${tenant} ${cluster ? "across the cluster" : `in namespace ${namespace}`}`));
      } else if (subject.kind === "Group") {
        const ns = name.startsWith("system:serviceaccounts:") ? name.slice("system:serviceaccounts:".length) : undefined;
        tenant = ns ? (view.tenantNamespaces.get(ns) ?? tenantOfNamespace(ns)) : undefined;
        const everyTenant = GROUPS_OF_EVERY_TENANT.has(name);
        if ((tenant && (cluster || ns !== namespace)) || (everyTenant && (cluster || namespace === SYSTEM_NAMESPACE || view.tenantNamespaces.has(namespace)))) {
          findings.push(finding("rbac", "rbac", tenant ?? EVERY_TENANT, `${ref} grants ${role} to group ${name}${tenant ? ` (tenant ${tenant})` : ", every tenant's service accounts among them,"} ${cluster ? "across the cluster" : `in namespace ${namespace}`}`));
        }
      }
    }
  }
  return { channel: "rbac", checked: bindings.length, unit: "role bindings", findings };
}

/** Every channel but the network one (isolation.ts), over the captured resources. */
export function channelResults(resources: readonly CapturedResource[], options: ChannelOptions = {}): ChannelResult[] {
  const view = planView(resources, options);
  return [databaseChannel(view), cacheChannel(view), filesystemChannel(view), iamChannel(view), jobsChannel(view), hostnamesChannel(view, options), rbacChannel(view)];
}
