import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { serviceAccountRole } from "../irsa";
import { withName } from "../tagging";
import { managedPolicyArn, serviceTrustPolicy } from "../iam";
import { eksKubeconfig } from "./kubeconfig";
import { planNodeGroups, type ClusterNodePool } from "../../model/node-pools";
import { ClusterAccess, type CiIdentities } from "./access";
import { CONTROL_PLANE_LOG_TYPES } from "../../model/kubernetes";

export type { ClusterNodePool } from "../../model/node-pools";


export interface ClusterArgs {
  /** The EKS cluster name (fixed, not auto-named: the control-plane log group is named after it). */
  clusterName: string;
  kubernetesVersion: pulumi.Input<string>;
  /** Private subnets of the nodes, one per zone; a node group is created per pool per zone. */
  subnets: readonly { zone: string; subnetId: pulumi.Input<string> }[];
  nodePools: readonly ClusterNodePool[];
  /**
   * Add-on builds by add-on name, for the cluster's Kubernetes version; an upgrade of the cluster
   * moves them with it. An add-on not named gets the default build EKS picks when it is created.
   * @default {}
   */
  addonVersions?: Readonly<Record<string, string>>;
  /**
   * CIDRs that may reach the public API endpoint; empty keeps the endpoint private only.
   * @default []
   */
  endpointPublicAccessCidrs?: readonly string[];
  /**
   * Retention of the control-plane log group.
   * @default 365
   */
  logRetentionDays?: number;
  /**
   * EKS deletion protection on the control plane.
   * @default true
   */
  deletionProtection?: boolean;
  /**
   * Protect the secrets KMS key from `pulumi destroy`: without it no Kubernetes secret can be read.
   * @default true
   */
  protect?: boolean;
  /** The CI roles that get access entries: cluster admin for deploys, a dry-run group for previews. */
  ci: CiIdentities;
  /**
   * Networks of the CI runners, admitted to the control plane on 443.
   * @default []
   */
  runnerCidrs?: readonly string[];
  /**
   * What the path from the runners to the private endpoint is made of (peering, routes): the
   * Kubernetes provider waits for it.
   * @default []
   */
  apiPath?: readonly pulumi.Resource[];
  /** Tags for every resource. */
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Extra tags per node pool name (e.g. tenant and tier of a dedicated pool). */
  poolTags?: Readonly<Record<string, Record<string, string>>>;
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
    const tagsFor = (resourceName: string) => withName(args.tags, resourceName);
    const partition = aws.getPartitionOutput({}, child).partition;
    const region = aws.getRegionOutput({}, child).region;
    const managed = (policy: string) => partition.apply((p) => managedPolicyArn(p, policy));

    const secretsKey = new aws.kms.Key(`${name}-secrets`, {
      description: `Envelope encryption of Kubernetes secrets in EKS cluster ${args.clusterName}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      tags: tagsFor(`${name}-secrets`),
    }, { parent: this, protect: args.protect ?? true });
    new aws.kms.Alias(`${name}-secrets`, { name: `alias/${args.clusterName}-secrets`, targetKeyId: secretsKey.keyId }, child);

    // Created before the cluster so EKS writes into a group whose retention we own.
    const controlPlaneLogs = new aws.cloudwatch.LogGroup(`${name}-control-plane`, {
      name: `/aws/eks/${args.clusterName}/cluster`,
      retentionInDays: args.logRetentionDays ?? 365,
      tags: tagsFor(`${name}-control-plane`),
    }, child);

    const clusterRole = new aws.iam.Role(`${name}-cluster`, {
      assumeRolePolicy: JSON.stringify(serviceTrustPolicy("eks.amazonaws.com")),
      tags: tagsFor(`${name}-cluster`),
    }, child);
    const clusterPolicy = new aws.iam.RolePolicyAttachment(`${name}-cluster-policy`, {
      role: clusterRole.name,
      policyArn: managed("AmazonEKSClusterPolicy"),
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
      // Access only through the access entries below: whoever created the cluster gets nothing implicit
      // (a human's bootstrap credentials or the deploy role alike). Fixed at creation.
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
      // Add-ons below are EKS-managed from the start; self-managed copies would need adopting.
      bootstrapSelfManagedAddons: false,
      upgradePolicy: { supportType: "STANDARD" },
      deletionProtection: args.deletionProtection ?? true,
      tags: tagsFor(`${name}-eks`),
    }, { parent: this, dependsOn: [controlPlaneLogs, clusterPolicy] });

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

    const addonRole = (roleName: string, namespace: string, serviceAccount: string, policy: string) => {
      const role = serviceAccountRole(`${name}-${roleName}`, { oidcProviderArn: oidc.arn, oidcIssuerUrl: issuerUrl, namespace, serviceAccount, tags: tagsFor(`${name}-${roleName}`) }, child);
      const attachment = new aws.iam.RolePolicyAttachment(`${name}-${roleName}`, { role: role.name, policyArn: managed(policy) }, child);
      return { role, attachment };
    };
    // The CNI's AWS permissions go to its own service account, not to every pod through the node role.
    const cniRole = addonRole("vpc-cni", "kube-system", "aws-node", "AmazonEKS_CNI_Policy");
    const ebsCsiRole = addonRole("ebs-csi", "kube-system", "ebs-csi-controller-sa", "service-role/AmazonEBSCSIDriverPolicy");
    // Tenants' filestores are EFS access points mounted through the EFS CSI driver.
    const efsCsiRole = addonRole("efs-csi", "kube-system", "efs-csi-controller-sa", "service-role/AmazonEFSCSIDriverPolicy");

    const addon = (addonName: string, extra: Partial<aws.eks.AddonArgs>, dependsOn: pulumi.Resource[]) =>
      new aws.eks.Addon(`${name}-${addonName}`, {
        clusterName: cluster.name,
        addonName,
        resolveConflictsOnCreate: "OVERWRITE",
        resolveConflictsOnUpdate: "OVERWRITE",
        ...(args.addonVersions?.[addonName] !== undefined ? { addonVersion: args.addonVersions[addonName] } : {}),
        tags: tagsFor(`${name}-${addonName}`),
        ...extra,
      }, { parent: this, dependsOn });

    // Networking add-ons first: nodes join only once pods can get addresses and policies are enforced.
    const vpcCni = addon("vpc-cni", {
      serviceAccountRoleArn: cniRole.role.arn,
      configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
    }, [cniRole.attachment]);
    const kubeProxy = addon("kube-proxy", {}, []);

    const nodeRole = new aws.iam.Role(`${name}-node`, {
      assumeRolePolicy: JSON.stringify(serviceTrustPolicy("ec2.amazonaws.com")),
      tags: tagsFor(`${name}-node`),
    }, child);
    const nodePolicies = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore"].map(
      (policy) => new aws.iam.RolePolicyAttachment(`${name}-node-${policy}`, { role: nodeRole.name, policyArn: managed(policy) }, child),
    );

    const launchTemplates = new Map<string, aws.ec2.LaunchTemplate>();
    for (const pool of args.nodePools) {
      const poolTags = pulumi.output(args.tags).apply((base) => ({ ...base, ...(args.poolTags?.[pool.name] ?? {}) }));
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

    const subnetByZone = new Map(args.subnets.map((s) => [s.zone, s.subnetId]));
    const nodeGroups = planNodeGroups(args.nodePools, args.subnets.map((s) => s.zone)).map((layout) => {
      const template = launchTemplates.get(layout.pool.name)!;
      return new aws.eks.NodeGroup(`${name}-${layout.key}`, {
        clusterName: cluster.name,
        nodeRoleArn: nodeRole.arn,
        subnetIds: [subnetByZone.get(layout.zone)!],
        instanceTypes: [...layout.pool.instanceTypes],
        capacityType: layout.pool.capacityType ?? "ON_DEMAND",
        amiType: "AL2023_x86_64_STANDARD",
        scalingConfig: { minSize: layout.minSize, maxSize: layout.pool.maxPerZone, desiredSize: layout.minSize },
        updateConfig: { maxUnavailable: 1 },
        labels: layout.labels,
        taints: layout.taints,
        launchTemplate: { id: template.id, version: pulumi.interpolate`${template.latestVersion}` },
        tags: pulumi.output(args.tags).apply((base) => ({
          ...base,
          ...(args.poolTags?.[layout.pool.name] ?? {}),
          Name: `${name}-${layout.key}`,
          // Lets the cluster autoscaler scale a group from zero with the right labels in mind.
          "k8s.io/cluster-autoscaler/enabled": "true",
          [`k8s.io/cluster-autoscaler/${args.clusterName}`]: "owned",
        })),
      }, {
        parent: this,
        dependsOn: [...nodePolicies, vpcCni, kubeProxy],
        // The cluster autoscaler owns the desired size once the group exists.
        ignoreChanges: ["scalingConfig.desiredSize"],
      });
    });

    // CoreDNS and the EBS CSI controller are Deployments: they need nodes to become healthy.
    addon("coredns", {}, nodeGroups);
    addon("aws-ebs-csi-driver", { serviceAccountRoleArn: ebsCsiRole.role.arn }, [...nodeGroups, ebsCsiRole.attachment]);
    addon("aws-efs-csi-driver", { serviceAccountRoleArn: efsCsiRole.role.arn }, [...nodeGroups, efsCsiRole.attachment]);

    const access = new ClusterAccess(name, {
      clusterName: cluster.name,
      ci: args.ci,
      clusterSecurityGroupId: cluster.vpcConfig.clusterSecurityGroupId,
      runnerCidrs: args.runnerCidrs ?? [],
      tags: args.tags,
    }, child);

    this.clusterName = cluster.name;
    this.endpoint = cluster.endpoint;
    this.certificateAuthority = cluster.certificateAuthority.data;
    this.oidcProviderArn = oidc.arn;
    this.oidcIssuerUrl = issuerUrl;
    this.clusterSecurityGroupId = cluster.vpcConfig.clusterSecurityGroupId;
    this.nodeRoleArn = nodeRole.arn;
    this.secretsKeyArn = secretsKey.arn;
    this.kubeconfig = pulumi
      .all([cluster.name, cluster.endpoint, cluster.certificateAuthority.data, region])
      .apply(([clusterName, endpoint, certificateAuthority, r]) => eksKubeconfig({ clusterName, endpoint, certificateAuthority, region: r }));
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
