import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { encryptionKey, type KeyAdministration } from "../data/keys";
import { serviceAccountRole } from "../irsa";
import { withName } from "../tagging";
import { managedPolicyArn, serviceTrustPolicy } from "../iam";
import { sourceOf } from "../trust";
import { eksKubeconfig } from "./kubeconfig";
import { planNodeGroups, type ClusterNodePool } from "../../model/node-pools";
import { ClusterAccess, type CiIdentities } from "./access";
import { CONTROL_PLANE_LOG_TYPES } from "../../model/kubernetes";

export type { ClusterNodePool } from "../../model/node-pools";


export interface ClusterArgs {
  /** The EKS cluster name (fixed, not auto-named: the control-plane log group is named after it). */
  readonly clusterName: string;
  readonly kubernetesVersion: pulumi.Input<string>;
  /** Private subnets of the nodes, one per zone; a node group is created per pool per zone. */
  readonly subnets: readonly { readonly zone: string; readonly subnetId: pulumi.Input<string> }[];
  readonly nodePools: readonly ClusterNodePool[];
  /**
   * Add-on builds by add-on name, for the cluster's Kubernetes version; an upgrade of the cluster
   * moves them with it. An add-on not named gets the default build EKS picks when it is created.
   * @default {}
   */
  readonly addonVersions?: Readonly<Record<string, string>>;
  /**
   * CIDRs that may reach the public API endpoint; empty keeps the endpoint private only.
   * @default []
   */
  readonly endpointPublicAccessCidrs?: readonly string[];
  /** Retention of the control-plane log group: the stack's choice (spec/defaults.ts), so no second default here. */
  readonly logRetentionDays: number;
  /**
   * EKS deletion protection on the control plane.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Protect the secrets KMS key from `pulumi destroy`: without it no Kubernetes secret can be read.
   * @default true
   */
  readonly protect?: boolean;
  /** The CI roles that get access entries: cluster admin for deploys, a dry-run group for previews. */
  readonly ci: CiIdentities;
  /**
   * Networks of the CI runners, admitted to the control plane on 443.
   * @default []
   */
  readonly runnerCidrs?: readonly string[];
  /**
   * What the path from the runners to the private endpoint is made of (peering, routes): the
   * Kubernetes provider waits for it.
   * @default []
   */
  readonly apiPath?: readonly pulumi.Resource[];
  /** Tags for every resource. */
  /** Who administers the component's KMS keys, and the break-glass role that alone may delete them. */
  readonly keyAdministration: KeyAdministration;
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Extra tags per node pool name (e.g. tenant and tier of a dedicated pool).
   * @default {}: a pool not named gets `tags` only
   */
  readonly poolTags?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** What every build step of a Cluster shares: its name, arguments, and how it names, tags and parents. */
interface ClusterScope {
  readonly name: string;
  readonly args: ClusterArgs;
  readonly parent: pulumi.Resource;
  readonly child: { parent: pulumi.Resource };
  readonly tagsFor: (resourceName: string) => pulumi.Output<Record<string, string>>;
  /** The ARN of an AWS-managed IAM policy, in this partition. */
  readonly managed: (policy: string) => pulumi.Output<string>;
}

/** The IRSA role of one add-on and the attachment of its managed policy. */
interface AddonRole {
  readonly role: aws.iam.Role;
  readonly attachment: aws.iam.RolePolicyAttachment;
}

/** The EKS control plane and its OIDC issuer (what IRSA trusts). */
interface ControlPlane {
  readonly cluster: aws.eks.Cluster;
  readonly issuerUrl: pulumi.Output<string>;
  readonly oidc: aws.iam.OpenIdConnectProvider;
}

/** The nodes' role and its managed policies (the node groups wait for the attachments). */
interface NodeRole {
  readonly role: aws.iam.Role;
  readonly policies: aws.iam.RolePolicyAttachment[];
}

/**
 * An EKS cluster: private API endpoint, all control-plane logs, secrets encrypted with a rotating
 * customer KMS key, IRSA through an OIDC provider, managed node groups per zone with IMDSv2 and
 * encrypted volumes, and the core add-ons (VPC CNI enforcing NetworkPolicies, CoreDNS, kube-proxy,
 * EBS and EFS CSI drivers). Exposes a Kubernetes provider for the components that deploy into it.
 */
export class Cluster extends pulumi.ComponentResource {
  public readonly clusterName: pulumi.Output<string>;
  public readonly endpoint: pulumi.Output<string>;
  public readonly certificateAuthority: pulumi.Output<string>;
  public readonly oidcProviderArn: pulumi.Output<string>;
  public readonly oidcIssuerUrl: pulumi.Output<string>;
  public readonly clusterSecurityGroupId: pulumi.Output<string>;
  public readonly nodeRoleArn: pulumi.Output<string>;
  public readonly secretsKeyArn: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly provider: k8s.Provider;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:compute:Cluster", name, {}, opts);
    const child = { parent: this };
    const partition = aws.getPartitionOutput({}, child).partition;
    const region = aws.getRegionOutput({}, child).region;
    const scope: ClusterScope = {
      name,
      args,
      parent: this,
      child,
      tagsFor: (resourceName) => withName(args.tags, resourceName),
      managed: (policy) => partition.apply((p) => managedPolicyArn(p, policy)),
    };

    const secretsKey = secretsKeyOf(scope);
    const controlPlane = controlPlaneOf(scope, secretsKey);
    const addonRoles = addonRolesOf(scope, controlPlane);
    const networking = networkingAddons(scope, controlPlane.cluster, addonRoles);
    const nodeRole = nodeRoleOf(scope);
    const launchTemplates = launchTemplatesOf(scope);
    const nodeGroups = nodeGroupsOf(scope, controlPlane.cluster, nodeRole, launchTemplates, networking);
    workloadAddons(scope, controlPlane.cluster, addonRoles, nodeGroups);
    const access = new ClusterAccess(name, {
      clusterName: controlPlane.cluster.name,
      ci: args.ci,
      clusterSecurityGroupId: controlPlane.cluster.vpcConfig.clusterSecurityGroupId,
      runnerCidrs: args.runnerCidrs ?? [],
      tags: args.tags,
    }, child);

    const { cluster } = controlPlane;
    this.clusterName = cluster.name;
    this.endpoint = cluster.endpoint;
    this.certificateAuthority = cluster.certificateAuthority.data;
    this.oidcProviderArn = controlPlane.oidc.arn;
    this.oidcIssuerUrl = controlPlane.issuerUrl;
    this.clusterSecurityGroupId = cluster.vpcConfig.clusterSecurityGroupId;
    this.nodeRoleArn = nodeRole.role.arn;
    this.secretsKeyArn = secretsKey.arn;
    this.kubeconfig = kubeconfigOf(cluster, region);
    this.provider = new k8s.Provider(`${name}-k8s`, {
      kubeconfig: this.kubeconfig,
      enableServerSideApply: true,
    }, { parent: this, dependsOn: [...nodeGroups, ...access.ready, ...(args.apiPath ?? [])] });

    this.registerOutputs({
      clusterName: this.clusterName,
      endpoint: this.endpoint,
      oidcProviderArn: this.oidcProviderArn,
      kubeconfig: this.kubeconfig,
    });
  }
}

/** The customer KMS key (and its alias) that envelope-encrypts the cluster's Kubernetes secrets. */
function secretsKeyOf({ name, args, parent }: ClusterScope): aws.kms.Key {
  // Same key, alias, tags and URNs as before; now with its own key policy. EKS creates its grant
  // for the cluster role through the EKS endpoint (kms:ViaService).
  return encryptionKey(`${name}-secrets`, {
    description: `Envelope encryption of Kubernetes secrets in EKS cluster ${args.clusterName}`,
    alias: `${args.clusterName}-secrets`,
    tags: args.tags,
    access: { administration: args.keyAdministration, use: { viaServices: ["eks"] } },
  }, { parent, protect: args.protect ?? true });
}

/** The control plane: its log group, its IAM role, the EKS cluster itself and its OIDC provider. */
function controlPlaneOf(scope: ClusterScope, secretsKey: aws.kms.Key): ControlPlane {
  const { name, args, parent, child, tagsFor } = scope;
  // Created before the cluster so EKS writes into a group whose retention we own.
  const controlPlaneLogs = new aws.cloudwatch.LogGroup(`${name}-control-plane`, {
    name: `/aws/eks/${args.clusterName}/cluster`,
    retentionInDays: args.logRetentionDays,
    tags: tagsFor(`${name}-control-plane`),
  }, child);

  const clusterRole = new aws.iam.Role(`${name}-cluster`, {
    // EKS for this cluster of this account only: EKS accepts aws:SourceArn and aws:SourceAccount in
    // the cluster role's trust (EKS user guide, "Cross-service confused deputy prevention", 2025-08).
    assumeRolePolicy: sourceOf(child, (p, account) => `arn:${p}:eks:*:${account}:cluster/${args.clusterName}`).apply((source) => JSON.stringify(serviceTrustPolicy("eks.amazonaws.com", source))),
    tags: tagsFor(`${name}-cluster`),
  }, child);
  const clusterPolicy = new aws.iam.RolePolicyAttachment(`${name}-cluster-policy`, {
    role: clusterRole.name,
    policyArn: scope.managed("AmazonEKSClusterPolicy"),
  }, child);

  const publicCidrs = args.endpointPublicAccessCidrs ?? [];
  const cluster = new aws.eks.Cluster(`${name}-eks`, {
    name: args.clusterName,
    version: args.kubernetesVersion,
    roleArn: clusterRole.arn,
    vpcConfig: {
      subnetIds: args.subnets.map((s) => s.subnetId),
      endpointPrivateAccess: true,
      endpointPublicAccess: publicCidrs.length > 0,
      ...(publicCidrs.length > 0 ? { publicAccessCidrs: [...publicCidrs] } : {}),
    },
    enabledClusterLogTypes: [...CONTROL_PLANE_LOG_TYPES],
    encryptionConfig: { provider: { keyArn: secretsKey.arn }, resources: ["secrets"] },
    // Access only through the access entries (ClusterAccess): whoever created the cluster gets nothing
    // implicit (a human's bootstrap credentials or the deploy role alike). Fixed at creation.
    accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
    // The add-ons are EKS-managed from the start; self-managed copies would need adopting.
    bootstrapSelfManagedAddons: false,
    upgradePolicy: { supportType: "STANDARD" },
    deletionProtection: args.deletionProtection ?? true,
    tags: tagsFor(`${name}-eks`),
  }, { parent, dependsOn: [controlPlaneLogs, clusterPolicy] });

  const issuerUrl = cluster.identities.apply((ids) => {
    const issuer = ids[0]?.oidcs?.[0]?.issuer;
    if (!issuer) throw new Error(`EKS cluster ${args.clusterName} reported no OIDC issuer`);
    return issuer;
  });
  const oidc = new aws.iam.OpenIdConnectProvider(`${name}-oidc`, {
    url: issuerUrl,
    clientIdLists: ["sts.amazonaws.com"],
    tags: tagsFor(`${name}-oidc`),
  }, child);
  return { cluster, issuerUrl, oidc };
}

/** IRSA roles of the add-ons that call AWS: each gets its own service account's role, not the node role. */
function addonRolesOf(scope: ClusterScope, controlPlane: ControlPlane): { vpcCni: AddonRole; ebsCsi: AddonRole; efsCsi: AddonRole } {
  const { name, child, tagsFor } = scope;
  const addonRole = (roleName: string, namespace: string, serviceAccount: string, policy: string): AddonRole => {
    const role = serviceAccountRole(`${name}-${roleName}`, { oidcProviderArn: controlPlane.oidc.arn, oidcIssuerUrl: controlPlane.issuerUrl, namespace, serviceAccount, tags: tagsFor(`${name}-${roleName}`) }, child);
    const attachment = new aws.iam.RolePolicyAttachment(`${name}-${roleName}`, { role: role.name, policyArn: scope.managed(policy) }, child);
    return { role, attachment };
  };
  return {
    // The CNI's AWS permissions go to its own service account, not to every pod through the node role.
    vpcCni: addonRole("vpc-cni", "kube-system", "aws-node", "AmazonEKS_CNI_Policy"),
    ebsCsi: addonRole("ebs-csi", "kube-system", "ebs-csi-controller-sa", "service-role/AmazonEBSCSIDriverPolicy"),
    // Tenants' filestores are EFS access points mounted through the EFS CSI driver.
    efsCsi: addonRole("efs-csi", "kube-system", "efs-csi-controller-sa", "service-role/AmazonEFSCSIDriverPolicy"),
  };
}

/** One EKS-managed add-on, at the build `addonVersions` names for it (else EKS's default). */
function addon(scope: ClusterScope, cluster: aws.eks.Cluster, addonName: string, extra: Partial<aws.eks.AddonArgs>, dependsOn: pulumi.Resource[]): aws.eks.Addon {
  const { name, args } = scope;
  return new aws.eks.Addon(`${name}-${addonName}`, {
    clusterName: cluster.name,
    addonName,
    resolveConflictsOnCreate: "OVERWRITE",
    resolveConflictsOnUpdate: "OVERWRITE",
    ...(args.addonVersions?.[addonName] !== undefined ? { addonVersion: args.addonVersions[addonName] } : {}),
    tags: scope.tagsFor(`${name}-${addonName}`),
    ...extra,
  }, { parent: scope.parent, dependsOn });
}

/** The networking add-ons (VPC CNI enforcing NetworkPolicies, kube-proxy): nodes join only once they run. */
function networkingAddons(scope: ClusterScope, cluster: aws.eks.Cluster, roles: { vpcCni: AddonRole }): aws.eks.Addon[] {
  return [
    addon(scope, cluster, "vpc-cni", {
      serviceAccountRoleArn: roles.vpcCni.role.arn,
      configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
    }, [roles.vpcCni.attachment]),
    addon(scope, cluster, "kube-proxy", {}, []),
  ];
}

/** The add-ons that run as Deployments (CoreDNS, the CSI controllers): they need nodes to become healthy. */
function workloadAddons(scope: ClusterScope, cluster: aws.eks.Cluster, roles: { ebsCsi: AddonRole; efsCsi: AddonRole }, nodeGroups: aws.eks.NodeGroup[]): void {
  addon(scope, cluster, "coredns", {}, nodeGroups);
  addon(scope, cluster, "aws-ebs-csi-driver", { serviceAccountRoleArn: roles.ebsCsi.role.arn }, [...nodeGroups, roles.ebsCsi.attachment]);
  addon(scope, cluster, "aws-efs-csi-driver", { serviceAccountRoleArn: roles.efsCsi.role.arn }, [...nodeGroups, roles.efsCsi.attachment]);
}

/** The role every node runs as: joining the cluster, pulling images, and SSM sessions. */
function nodeRoleOf({ name, child, tagsFor, managed }: ClusterScope): NodeRole {
  const role = new aws.iam.Role(`${name}-node`, {
    assumeRolePolicy: JSON.stringify(serviceTrustPolicy("ec2.amazonaws.com")),
    tags: tagsFor(`${name}-node`),
  }, child);
  const policies = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore"].map(
    (policy) => new aws.iam.RolePolicyAttachment(`${name}-node-${policy}`, { role: role.name, policyArn: managed(policy) }, child),
  );
  return { role, policies };
}

/** The pool's tags: the stack's, and those `poolTags` adds for it. */
function poolTagsOf(args: ClusterArgs, pool: string): pulumi.Output<Record<string, string>> {
  return pulumi.output(args.tags).apply((base) => ({ ...base, ...(args.poolTags?.[pool] ?? {}) }));
}

/** A launch template per node pool (IMDSv2 with one hop, an encrypted gp3 root volume), by pool name. */
function launchTemplatesOf({ name, args, child }: ClusterScope): Map<string, aws.ec2.LaunchTemplate> {
  const launchTemplates = new Map<string, aws.ec2.LaunchTemplate>();
  for (const pool of args.nodePools) {
    const poolTags = poolTagsOf(args, pool.name);
    launchTemplates.set(pool.name, new aws.ec2.LaunchTemplate(`${name}-${pool.name}`, {
      description: `Nodes of pool ${pool.name} in ${args.clusterName}`,
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        // One hop: pods cannot reach the node's instance credentials; they use IRSA instead.
        httpPutResponseHopLimit: 1,
      },
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: { volumeSize: pool.diskGiB ?? 50, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
        },
      ],
      tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({
        resourceType,
        tags: poolTags.apply((t) => ({ ...t, Name: `${args.clusterName}-${pool.name}` })),
      })),
      updateDefaultVersion: true,
      tags: withName(poolTags, `${name}-${pool.name}`),
    }, child));
  }
  return launchTemplates;
}

/**
 * A managed node group per pool per zone (planNodeGroups), joining once the node role's policies
 * and the networking add-ons are in place.
 */
function nodeGroupsOf(
  scope: ClusterScope,
  cluster: aws.eks.Cluster,
  nodeRole: NodeRole,
  launchTemplates: ReadonlyMap<string, aws.ec2.LaunchTemplate>,
  networking: readonly aws.eks.Addon[],
): aws.eks.NodeGroup[] {
  const { name, args } = scope;
  const subnetByZone = new Map(args.subnets.map((s) => [s.zone, s.subnetId]));
  return planNodeGroups(args.nodePools, args.subnets.map((s) => s.zone)).map((layout) => {
    const template = launchTemplates.get(layout.pool.name)!;
    return new aws.eks.NodeGroup(`${name}-${layout.key}`, {
      clusterName: cluster.name,
      nodeRoleArn: nodeRole.role.arn,
      subnetIds: [subnetByZone.get(layout.zone)!],
      instanceTypes: [...layout.pool.instanceTypes],
      capacityType: layout.pool.capacityType ?? "ON_DEMAND",
      amiType: "AL2023_x86_64_STANDARD",
      scalingConfig: { minSize: layout.minSize, maxSize: layout.pool.maxPerZone, desiredSize: layout.minSize },
      updateConfig: { maxUnavailable: 1 },
      labels: layout.labels,
      taints: layout.taints,
      launchTemplate: { id: template.id, version: pulumi.interpolate`${template.latestVersion}` },
      tags: poolTagsOf(args, layout.pool.name).apply((poolTags) => ({
        ...poolTags,
        Name: `${name}-${layout.key}`,
        // Lets the cluster autoscaler scale a group from zero with the right labels in mind.
        "k8s.io/cluster-autoscaler/enabled": "true",
        [`k8s.io/cluster-autoscaler/${args.clusterName}`]: "owned",
      })),
    }, {
      parent: scope.parent,
      dependsOn: [...nodeRole.policies, ...networking],
      // The cluster autoscaler owns the desired size once the group exists.
      ignoreChanges: ["scalingConfig.desiredSize"],
    });
  });
}

/** The cluster's kubeconfig (`aws eks get-token`, no credential in it). */
function kubeconfigOf(cluster: aws.eks.Cluster, region: pulumi.Output<string>): pulumi.Output<string> {
  return pulumi
    .all([cluster.name, cluster.endpoint, cluster.certificateAuthority.data, region])
    .apply(([clusterName, endpoint, certificateAuthority, r]) => eksKubeconfig({ clusterName, endpoint, certificateAuthority, region: r }));
}
