import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { withName } from "../tagging";

/**
 * Kubernetes group of the preview/drift identity, bound by CiPreviewRbac (./ci-rbac.ts) to what a
 * preview and a refresh need. EKS refuses group names starting with `system:`.
 */
export const CI_PREVIEW_GROUP = "odoo-fleet-ci-preview";

/** The IAM roles CI runs as (made by the bootstrap stack, named by the stack spec). */
export interface CiIdentities {
  /** `pulumi up`: creates and changes everything in the cluster. */
  readonly deployRoleArn: string;
  /** Previews of pull requests and the nightly drift check: pull-request code, never cluster admin. */
  readonly previewRoleArn: string;
}

/** One EKS access entry and the access policy (if any) associated with it. */
export interface AccessEntryPlan {
  /** Stable resource-name suffix. */
  readonly key: "ci-deploy" | "ci-preview";
  readonly principalArn: string;
  readonly kubernetesGroups: readonly string[];
  /**
   * An EKS-managed access policy, cluster-wide. AmazonEKSViewPolicy does not fit the preview role:
   * it cannot read Secrets (refresh reads them) nor patch (server-side apply previews are dry-run
   * patches), so that role gets a group bound to its own ClusterRole instead.
   * https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html
   * @default none: the entry's Kubernetes groups and their RBAC bindings alone decide
   */
  readonly policy?: { readonly name: "AmazonEKSClusterAdminPolicy"; readonly scope: "cluster" };
}

/** The access entries of a cluster for its CI identities: admin for deploys, a bound group for previews. */
export function accessEntriesFor(ci: CiIdentities): AccessEntryPlan[] {
  if (ci.deployRoleArn === ci.previewRoleArn) {
    throw new Error(`the deploy and preview roles must differ (both are ${ci.deployRoleArn}): previews run pull-request code`);
  }
  return [
    { key: "ci-deploy", principalArn: ci.deployRoleArn, kubernetesGroups: [], policy: { name: "AmazonEKSClusterAdminPolicy", scope: "cluster" } },
    { key: "ci-preview", principalArn: ci.previewRoleArn, kubernetesGroups: [CI_PREVIEW_GROUP] },
  ];
}

/** `10.250.1.0/24` -> `10-250-1-0-24`, for resource names. */
export function cidrKey(cidr: string): string {
  return cidr.replace(/[./]/g, "-");
}

export interface ClusterAccessArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly ci: CiIdentities;
  /** The security group EKS made for the control plane's network interfaces. */
  readonly clusterSecurityGroupId: pulumi.Input<string>;
  /**
   * Networks of the self-hosted runners that reach the private API endpoint on 443.
   * @default []
   */
  readonly runnerCidrs?: readonly string[];
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * Who may reach a cluster's API and as what: EKS access entries for the CI identities (the cluster
 * runs in API authentication mode and grants its creator nothing), and the runners' network admitted
 * to the control plane's security group on 443.
 */
export class ClusterAccess extends pulumi.ComponentResource {
  /** What a Kubernetes provider for the deploy role must wait for. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: ClusterAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:compute:ClusterAccess", name, {}, opts);
    const child = { parent: this };
    const partition = aws.getPartitionOutput({}, child).partition;
    this.ready = [];

    for (const entry of accessEntriesFor(args.ci)) {
      const accessEntry = new aws.eks.AccessEntry(`${name}-${entry.key}`, {
        clusterName: args.clusterName,
        principalArn: entry.principalArn,
        type: "STANDARD",
        ...(entry.kubernetesGroups.length > 0 ? { kubernetesGroups: [...entry.kubernetesGroups] } : {}),
        tags: withName(args.tags, `${name}-${entry.key}`),
      }, child);
      this.ready.push(accessEntry);
      if (entry.policy) {
        this.ready.push(new aws.eks.AccessPolicyAssociation(`${name}-${entry.key}`, {
          clusterName: args.clusterName,
          principalArn: entry.principalArn,
          policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/${entry.policy.name}`,
          accessScope: { type: entry.policy.scope },
        }, { parent: this, dependsOn: [accessEntry] }));
      }
    }

    for (const cidr of args.runnerCidrs ?? []) {
      this.ready.push(new aws.vpc.SecurityGroupIngressRule(`${name}-runners-${cidrKey(cidr)}`, {
        securityGroupId: args.clusterSecurityGroupId,
        description: "CI runners to the Kubernetes API",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: cidr,
        tags: withName(args.tags, `${name}-runners`),
      }, child));
    }

    this.registerOutputs({});
  }
}
