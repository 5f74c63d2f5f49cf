/**
 * The tenants' filestores on EFS: who may mount, how, and which pods may reach NFS at all. A mount that
 * EFS admits without IAM, TLS or an access point reaches every tenant's files; a tenant pod that can
 * reach 2049 can try one with a userspace NFS client.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
  ACCESS_POINT_ARN_KEY,
  CLIENT_ROOT_ACCESS,
  EFS_CLIENT_ACTIONS,
  EFS_CSI_DRIVER,
  NFS_PORT,
  accessPointOfVolumeHandle,
} from "../model/filestore";
import { metadataOf, tenantOfK8s } from "./common";

interface Statement {
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const glob = (pattern: string, value: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i").test(value);

/** The EFS client actions a statement names (through Action or NotAction, wildcards included). */
export function clientActionsOf(s: Statement): string[] {
  if (s.NotAction !== undefined) return EFS_CLIENT_ACTIONS.filter((a) => !list(s.NotAction).some((p) => glob(p, a)));
  return EFS_CLIENT_ACTIONS.filter((a) => list(s.Action).some((p) => glob(p, a)));
}

/** Whether a Principal admits anyone: "*", {AWS: "*"} (anonymous NFS clients included), or a NotPrincipal. */
function anyPrincipal(s: Statement): boolean {
  if (s.NotPrincipal !== undefined) return true;
  const p = s.Principal;
  if (p === "*") return true;
  return typeof p === "object" && p !== null && list((p as { AWS?: string | string[] }).AWS).includes("*");
}

/** Whether an Allow is confined to access points: StringEquals/StringLike on AccessPointArn with access-point ARNs only. */
function confinedToAccessPoints(s: Statement): boolean {
  const values = ["StringEquals", "StringLike"].flatMap((op) => list(s.Condition?.[op]?.[ACCESS_POINT_ARN_KEY] as string | string[] | undefined));
  return values.length > 0 && values.every((v) => /^arn:[^:]+:elasticfilesystem:[^:]+:[^:]+:access-point\/[^/]+$/.test(v) && !v.startsWith("*"));
}

/** Problems of an EFS file system policy, one sentence each; none for a policy that admits only IAM-signed TLS mounts through access points. */
export function fileSystemPolicyProblems(policy: string): string[] {
  let doc: { Statement?: Statement | Statement[] };
  try {
    doc = JSON.parse(policy) as typeof doc;
  } catch {
    return ["is not valid JSON"];
  }
  const statements = list(doc.Statement);
  const problems: string[] = [];
  const deniesPlain = statements.some((s) => s.Effect === "Deny" && anyPrincipal(s) && clientActionsOf(s).length === EFS_CLIENT_ACTIONS.length && !s.NotPrincipal && String(s.Condition?.Bool?.["aws:SecureTransport"]) === "false");
  if (!deniesPlain) problems.push("does not deny every principal a mount without TLS");
  for (const [i, s] of statements.entries()) {
    if (s.Effect !== "Allow") continue;
    const actions = clientActionsOf(s);
    if (actions.length === 0) continue;
    const which = `statement ${i} (${actions.join(", ")})`;
    if (anyPrincipal(s)) problems.push(`${which} admits any principal: mounts need no IAM identity`);
    if (!confinedToAccessPoints(s)) problems.push(`${which} admits mounts outside an access point`);
    if (actions.includes(CLIENT_ROOT_ACCESS)) problems.push(`${which} grants root access`);
  }
  return problems;
}

export const efsMountsNeedIamTlsAccessPoint: ResourceValidationPolicy = {
  name: "efs-mounts-need-iam-tls-access-point",
  description: "EFS file system policies admit only named IAM principals, over TLS, through an access point, never as root.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  remediationSteps: "Use the Filestore component's policy: Deny without aws:SecureTransport, Allow ClientMount/ClientWrite to the CSI node's role with an elasticfilesystem:AccessPointArn condition.",
  validateResource: (args, reportViolation) => {
    if (args.type !== "aws:efs/fileSystemPolicy:FileSystemPolicy") args.notApplicable("not an EFS file system policy");
    const policy = args.props.policy as unknown;
    // Unknown until the file system exists (a first `pulumi preview`): judged on `up` and in the offline plan.
    if (typeof policy !== "string") return;
    for (const problem of fileSystemPolicyProblems(policy)) reportViolation(`EFS file system policy ${args.name} ${problem}`);
  },
};

export const efsVolumesMountWithIam: ResourceValidationPolicy = {
  name: "efs-volumes-mount-with-iam",
  description: "PersistentVolumes of the EFS CSI driver mount with `iam`, over TLS, through an access point.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  remediationSteps: "Set mountOptions [tls, iam] and a volumeHandle fs-…::fsap-… (the OdooTenant component does).",
  validateResource: (args, reportViolation) => {
    if (args.type !== "kubernetes:core/v1:PersistentVolume") args.notApplicable("not a PersistentVolume");
    const spec = (args.props.spec ?? {}) as { mountOptions?: string[]; csi?: { driver?: string; volumeHandle?: unknown; volumeAttributes?: Record<string, string> } };
    if (spec.csi?.driver !== EFS_CSI_DRIVER) return;
    const name = metadataOf(args.props).name ?? args.name;
    const options = (spec.mountOptions ?? []).map((o) => o.toLowerCase());
    if (!options.includes("iam")) reportViolation(`PersistentVolume ${name} mounts EFS without iam: the client is anonymous to the file system policy`);
    if (String(spec.csi.volumeAttributes?.encryptInTransit ?? "true").toLowerCase() === "false") reportViolation(`PersistentVolume ${name} mounts EFS without TLS`);
    if (typeof spec.csi.volumeHandle === "string" && accessPointOfVolumeHandle(spec.csi.volumeHandle) === undefined) reportViolation(`PersistentVolume ${name} mounts EFS outside an access point (${spec.csi.volumeHandle})`);
  },
};

interface PolicyPeer { ipBlock?: unknown; podSelector?: unknown; namespaceSelector?: unknown }
interface PolicyPort { protocol?: string; port?: number | string; endPort?: number }

/** Whether an egress rule lets traffic reach TCP 2049 at an address outside the cluster's pods. */
export function egressReachesNfs(rule: { to?: PolicyPeer[]; ports?: PolicyPort[] }): boolean {
  // No `to` (or an empty one) means every destination; an ipBlock names addresses, EFS mount targets among them.
  const toAddresses = (rule.to ?? []).length === 0 || (rule.to ?? []).some((peer) => peer.ipBlock !== undefined);
  // No `ports` means every port; a port without a protocol is TCP.
  const ports = rule.ports ?? [];
  const toNfs = ports.length === 0 || ports.some((p) => (p.protocol ?? "TCP") === "TCP" && (p.port === undefined || (typeof p.port === "number" && p.port <= NFS_PORT && NFS_PORT <= (p.endPort ?? p.port))));
  return toAddresses && toNfs;
}

export const noNfsEgressFromTenants: ResourceValidationPolicy = {
  name: "no-nfs-egress-from-tenants",
  description: "No tenant NetworkPolicy allows egress to NFS (TCP 2049): the EFS CSI driver mounts from the node, so a tenant pod never needs a mount target.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  remediationSteps: "Remove port 2049 (and any rule open to every port) from the tenant's egress rules to addresses.",
  validateResource: (args, reportViolation) => {
    if (args.type !== "kubernetes:networking.k8s.io/v1:NetworkPolicy") args.notApplicable("not a NetworkPolicy");
    const tenant = tenantOfK8s(args.props);
    if (!tenant) return;
    const egress = ((args.props.spec as { egress?: { to?: PolicyPeer[]; ports?: PolicyPort[] }[] } | undefined)?.egress ?? []);
    for (const [i, rule] of egress.entries()) {
      if (egressReachesNfs(rule)) reportViolation(`NetworkPolicy ${metadataOf(args.props).name} of tenant ${tenant} lets pods reach NFS (TCP ${NFS_PORT}) in egress rule ${i}`);
    }
  },
};

/** The EFS client actions an identity policy document allows by name (`elasticfilesystem:*`, `elasticfilesystem:Client*`, …); a bare "*" is an administrator's, not counted. */
export function identityClientGrants(policy: string): string[] {
  let doc: { Statement?: Statement | Statement[] };
  try {
    doc = JSON.parse(policy) as typeof doc;
  } catch {
    return [];
  }
  const named = (s: Statement) => s.NotAction !== undefined || list(s.Action).some((a) => a !== "*");
  return [...new Set(list(doc.Statement).filter((s) => s.Effect === "Allow" && named(s)).flatMap((s) => clientActionsOf({ ...s, Action: list(s.Action).filter((a) => a !== "*") })))];
}

const IDENTITY_POLICY_TYPES = ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"];
const ATTACHMENT_TYPES = ["aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment", "aws:iam/userPolicyAttachment:UserPolicyAttachment", "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"];
/** AWS's managed policies that grant EFS client access. https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonElasticFileSystemClientReadWriteAccess.html */
const CLIENT_MANAGED_POLICY = /:policy\/AmazonElasticFileSystemClient(FullAccess|ReadWriteAccess|ReadOnlyAccess)$/;

export const noEfsClientGrantsInIdentityPolicies: ResourceValidationPolicy = {
  name: "no-efs-client-grants-in-identity-policies",
  description: "No identity policy grants EFS client access: within the account an identity Allow alone lets a role mount any access point, past the file system policy's principal.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  remediationSteps: "Remove elasticfilesystem:Client* (and the AmazonElasticFileSystemClient* managed policies) from the role; only the file system policy grants mounts.",
  validateResource: (args, reportViolation) => {
    if (IDENTITY_POLICY_TYPES.includes(args.type)) {
      const policy = args.props.policy as unknown;
      if (typeof policy !== "string") return;
      const grants = identityClientGrants(policy);
      if (grants.length > 0) reportViolation(`IAM policy ${args.name} grants ${grants.join(", ")}`);
    } else if (ATTACHMENT_TYPES.includes(args.type)) {
      const arn = args.props.policyArn as unknown;
      if (typeof arn === "string" && CLIENT_MANAGED_POLICY.test(arn)) reportViolation(`policy attachment ${args.name} grants EFS client access (${arn.split("/").pop()})`);
    } else {
      args.notApplicable("not an identity policy");
    }
  },
};

export const filestorePolicies = [efsMountsNeedIamTlsAccessPoint, efsVolumesMountWithIam, noNfsEgressFromTenants, noEfsClientGrantsInIdentityPolicies];
