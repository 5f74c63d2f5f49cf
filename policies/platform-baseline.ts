/** AWS Foundational Security Best Practices controls that apply to what the platform creates. */
import { validateResourceOfType, type PolicyResource, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import * as aws from "@pulumi/aws";
import { CONTROL_PLANE_LOG_TYPES } from "../model/kubernetes";
import { EKS_VERSIONS, eksSupportStatus } from "../tiers/catalogue";
import { awsTags, isProduction } from "./common";
import { SUBNET_ROLE_TAG } from "../model/tags";

export const eksEndpointPrivate: ResourceValidationPolicy = {
  name: "eks-endpoint-private",
  description: "EKS API endpoints are private in production (EKS.1) and elsewhere open only to declared CIDRs, never 0.0.0.0/0.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set endpointPublicAccess: false, or publicAccessCidrs to the CI runners' ranges outside production.",
  validateResource: validateResourceOfType(aws.eks.Cluster, (cluster, args, reportViolation) => {
    const vpc = cluster.vpcConfig;
    if (vpc.endpointPrivateAccess !== true) reportViolation(`EKS ${cluster.name ?? args.name} has no private endpoint`);
    if (vpc.endpointPublicAccess !== false) {
      if (isProduction(args.props)) reportViolation(`EKS ${cluster.name ?? args.name} has a public endpoint in production`);
      const cidrs = vpc.publicAccessCidrs ?? ["0.0.0.0/0"];
      if (cidrs.length === 0 || cidrs.includes("0.0.0.0/0")) reportViolation(`EKS ${cluster.name ?? args.name} public endpoint is open to the internet`);
    }
  }),
};

export const eksAuditAndSecretsEncryption: ResourceValidationPolicy = {
  name: "eks-audit-and-secrets-encryption",
  description: "EKS clusters send every control-plane log type, audit included (EKS.8), and encrypt secrets with a customer KMS key.",
  enforcementLevel: "mandatory",
  remediationSteps: "Enable all enabledClusterLogTypes and an encryptionConfig for secrets.",
  validateResource: validateResourceOfType(aws.eks.Cluster, (cluster, args, reportViolation) => {
    const enabled = cluster.enabledClusterLogTypes ?? [];
    const missing = CONTROL_PLANE_LOG_TYPES.filter((t) => !enabled.includes(t));
    if (missing.length > 0) reportViolation(`EKS ${cluster.name ?? args.name} does not log ${missing.join(", ")}`);
    const encryption = cluster.encryptionConfig;
    if (!encryption?.provider?.keyArn || !(encryption.resources ?? []).includes("secrets")) reportViolation(`EKS ${cluster.name ?? args.name} does not encrypt secrets with a KMS key`);
  }),
};

/** Versions of the EKS calendar in standard support on `today`, newest first: what to move to. */
export function versionsInStandardSupport(today: Date): string[] {
  return EKS_VERSIONS.filter((v) => eksSupportStatus(v.version, today, 0).kind !== "ended").map((v) => v.version);
}

/**
 * What the EKS calendar says of a cluster's version on `today`: a failure once standard support has
 * ended (or for a version the calendar does not know), a warning within `warnDays` of the end.
 */
export function eksVersionFinding(cluster: string, version: string, today: Date, warnDays: number): { level: "fail" | "warn"; message: string } | undefined {
  const status = eksSupportStatus(version, today, warnDays);
  const target = versionsInStandardSupport(today)[0];
  const move = target === undefined || target === version ? "add the next EKS version and its add-on builds to model/eks-versions.ts, then upgrade" : `upgrade to ${target}`;
  switch (status.kind) {
    case "unknown":
      return { level: "fail", message: `EKS ${cluster} runs Kubernetes ${version}, which the EKS calendar (model/eks-versions.ts) does not list; ${move}` };
    case "ended":
      return {
        level: "fail",
        message: `EKS ${cluster} runs Kubernetes ${version}, out of standard support since ${status.endOfStandardSupport}: under the STANDARD upgrade policy AWS upgrades it behind the stack's back; ${move}`,
      };
    case "ending":
      return { level: "warn", message: `EKS ${cluster} runs Kubernetes ${version}, whose standard support ends on ${status.endOfStandardSupport}, in ${status.daysLeft} days; ${move} before then` };
    default:
      return undefined;
  }
}

// Policies run at preview time: "today" is the day of the preview.
export const eksVersionInStandardSupport: ResourceValidationPolicy = {
  name: "eks-version-in-standard-support",
  description: "EKS clusters run a Kubernetes version in EKS standard support (EKS.2), per the release calendar in the tier catalogue.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set odoo-fleet:cluster.kubernetesVersion to a version in standard support, with its add-on builds in model/eks-versions.ts.",
  validateResource: validateResourceOfType(aws.eks.Cluster, (cluster, args, reportViolation) => {
    const finding = eksVersionFinding(cluster.name ?? args.name, String(cluster.version ?? ""), new Date(), 0);
    if (finding?.level === "fail") reportViolation(finding.message);
  }),
};

export const eksVersionSupportEnding: ResourceValidationPolicy = {
  name: "eks-version-support-ending",
  description: "Warns when an EKS cluster's Kubernetes version leaves standard support within warnDays (60 by default).",
  enforcementLevel: "advisory",
  configSchema: { properties: { warnDays: { type: "integer", default: 60, minimum: 0, maximum: 365 } } },
  remediationSteps: "Plan the upgrade of odoo-fleet:cluster.kubernetesVersion (one minor at a time) before the date.",
  validateResource: validateResourceOfType(aws.eks.Cluster, (cluster, args, reportViolation) => {
    const finding = eksVersionFinding(cluster.name ?? args.name, String(cluster.version ?? ""), new Date(), args.getConfig<{ warnDays: number }>().warnDays);
    if (finding?.level === "warn") reportViolation(finding.message);
  }),
};

export const nodesRequireImdsv2: ResourceValidationPolicy = {
  name: "nodes-require-imdsv2",
  description: "Node launch templates require IMDSv2 (EC2.8) with a hop limit that keeps pods off the node's credentials, and encrypt their volumes.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { maxHopLimit: { type: "integer", default: 1, minimum: 1, maximum: 64 } } },
  remediationSteps: "metadataOptions.httpTokens: required, httpPutResponseHopLimit: 1; ebs.encrypted: true.",
  validateResource: validateResourceOfType(aws.ec2.LaunchTemplate, (template, args, reportViolation) => {
    const metadata = template.metadataOptions;
    if (metadata?.httpTokens !== "required") reportViolation(`launch template ${args.name} does not require IMDSv2`);
    if ((metadata?.httpPutResponseHopLimit ?? 2) > args.getConfig<{ maxHopLimit: number }>().maxHopLimit) reportViolation(`launch template ${args.name} lets pods reach the instance metadata (hop limit ${metadata?.httpPutResponseHopLimit ?? 2})`);
    for (const device of template.blockDeviceMappings ?? []) {
      if (String(device.ebs?.encrypted) !== "true") reportViolation(`launch template ${args.name} volume ${device.deviceName} is not encrypted`);
    }
  }),
};

export const kmsKeysRotated: ResourceValidationPolicy = {
  name: "kms-keys-rotated",
  description: "Customer KMS keys rotate (KMS.4), wait at least 7 days before deletion (KMS.3), and are protected in production.",
  enforcementLevel: "mandatory",
  remediationSteps: "enableKeyRotation: true, deletionWindowInDays >= 7.",
  validateResource: validateResourceOfType(aws.kms.Key, (key, args, reportViolation) => {
    if (key.enableKeyRotation !== true) reportViolation(`KMS key ${args.name} does not rotate`);
    if ((key.deletionWindowInDays ?? 30) < 7) reportViolation(`KMS key ${args.name} can be deleted after ${key.deletionWindowInDays} days`);
    if (isProduction(args.props) && args.opts.protect !== true) reportViolation(`KMS key ${args.name} is not protected from pulumi destroy in production`);
  }),
};

export const subnetsNoPublicIps: ResourceValidationPolicy = {
  name: "subnets-no-public-ips",
  description: "Only public subnets may assign public IPs on launch (EC2.15).",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(aws.ec2.Subnet, (subnet, args, reportViolation) => {
    if (subnet.mapPublicIpOnLaunch === true && awsTags(args.props)[SUBNET_ROLE_TAG] !== "public") reportViolation(`subnet ${args.name} assigns public IPs`);
  }),
};

const dependents = (resources: readonly PolicyResource[], of: PolicyResource, type: string) => resources.filter((r) => r.type === type && r.dependencies.some((d) => d.urn === of.urn));

export const vpcBaseline: StackValidationPolicy = {
  name: "vpc-baseline",
  description: "Every VPC has flow logs of all traffic (EC2.6) and a default security group without rules (EC2.2).",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const vpc of args.resources.filter((r) => r.type === "aws:ec2/vpc:Vpc")) {
      if (!dependents(args.resources, vpc, "aws:ec2/flowLog:FlowLog").some((f) => f.props.trafficType === "ALL")) reportViolation(`VPC ${vpc.name} has no flow log of all traffic`, vpc.urn);
      const sg = dependents(args.resources, vpc, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")[0];
      if (!sg || (sg.props.ingress ?? []).length > 0 || (sg.props.egress ?? []).length > 0) reportViolation(`VPC ${vpc.name} does not close its default security group`, vpc.urn);
    }
  },
};

export const tlsEverywhere: StackValidationPolicy = {
  name: "tls-everywhere",
  description: "PostgreSQL refuses plain connections (rds.force_ssl), EFS and S3 policies deny non-TLS access.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const group of args.resources.filter((r) => r.type === "aws:rds/parameterGroup:ParameterGroup")) {
      const forceSsl = ((group.props.parameters ?? []) as { name: string; value: string }[]).find((p) => p.name === "rds.force_ssl");
      if (forceSsl?.value !== "1") reportViolation(`parameter group ${group.name} does not force TLS`, group.urn);
    }
    const deniesPlain = (policy: unknown) => {
      const doc = JSON.parse(String(policy ?? "{}")) as { Statement?: { Effect: string; Condition?: { Bool?: Record<string, string> } }[] };
      return (doc.Statement ?? []).some((s) => s.Effect === "Deny" && s.Condition?.Bool?.["aws:SecureTransport"] === "false");
    };
    for (const type of ["aws:efs/fileSystemPolicy:FileSystemPolicy", "aws:s3/bucketPolicy:BucketPolicy"]) {
      for (const policy of args.resources.filter((r) => r.type === type)) {
        if (!deniesPlain(policy.props.policy)) reportViolation(`${type.split(":").pop()} ${policy.name} does not deny non-TLS access`, policy.urn);
      }
    }
    for (const type of ["aws:efs/fileSystem:FileSystem", "aws:s3/bucket:Bucket"]) {
      for (const store of args.resources.filter((r) => r.type === type)) {
        const policyType = type.startsWith("aws:efs") ? "aws:efs/fileSystemPolicy:FileSystemPolicy" : "aws:s3/bucketPolicy:BucketPolicy";
        if (dependents(args.resources, store, policyType).length === 0) reportViolation(`${type.split(":").pop()} ${store.name} has no policy enforcing TLS`, store.urn);
      }
    }
  },
};

export const platformBaselinePolicies = [eksEndpointPrivate, eksAuditAndSecretsEncryption, eksVersionInStandardSupport, eksVersionSupportEnding, nodesRequireImdsv2, kmsKeysRotated, subnetsNoPublicIps, vpcBaseline, tlsEverywhere];
