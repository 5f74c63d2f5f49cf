import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { KeyAdministration } from "./keys";
import { withName } from "../tagging";
import { allowFromClients } from "./access";
import { encryptionKey } from "./keys";
import { tenantPosixId } from "../../model/naming";
import { ACCESS_POINT_ARN_KEY, CLIENT_MOUNT, CLIENT_ROOT_ACCESS, CLIENT_WRITE, EFS_CLIENT_ACTIONS, NFS_PORT, VIA_MOUNT_TARGET_KEY, accessPointsOf } from "../../model/filestore";

export { NFS_PORT };

export interface FilestoreArgs {
  /** Zones and their (isolated) subnets: one mount target each. */
  readonly subnets: readonly { readonly zone: string; readonly subnetId: pulumi.Input<string> }[];
  readonly vpcId: pulumi.Input<string>;
  /** Security groups admitted to NFS: one ingress rule each. */
  readonly clientSecurityGroupIds: readonly pulumi.Input<string>[];
  /**
   * The IAM roles the EFS CSI node plugin mounts as (PersistentVolumes mount with `iam`): the only
   * principals the file system policy lets mount, and only through an access point.
   */
  readonly mountRoleArns: readonly pulumi.Input<string>[];
  /** Tenants, each getting its own access point, root directory and POSIX owner. */
  readonly tenants: readonly { readonly name: string; readonly tier: string }[];
  /**
   * Replicate the file system to the DR region through this provider's region.
   * @default none: no replica, no DR key
   */
  readonly replication?: { readonly provider: aws.Provider; readonly region: string };
  /**
   * `protect` the file system and its keys.
   * @default true
   */
  readonly protect?: boolean;
  /** Who administers the component's KMS keys, and the break-glass role that alone may delete them. */
  readonly keyAdministration: KeyAdministration;
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** An access point that pins one tenant's root directory and POSIX owner. */
export function tenantAccessPoint(posixId: number, path: string) {
  return {
    posixUser: { uid: posixId, gid: posixId },
    rootDirectory: { path, creationInfo: { ownerUid: posixId, ownerGid: posixId, permissions: "0750" } },
  };
}

export function tenantRootDirectory(tenant: string): string {
  return `/tenants/${tenant}`;
}

/**
 * The file system policy: only `mountRoleArns` (the EFS CSI node plugin's identity) may mount, only
 * through an access point (which pins the tenant's root directory and POSIX owner), over TLS, through a
 * mount target; nobody gets root. A client that mounts without `iam` is anonymous and matches no Allow.
 * The Denies hold even against a same-account identity policy that grants Client* (an Allow in either
 * an identity or this policy suffices for EFS): no mount without TLS, none outside an access point
 * (StringNotLike is true when the key is absent, i.e. a mount of the root), no root access.
 */
export function filestorePolicy(fileSystemArn: string, mountRoleArns: readonly string[]) {
  if (mountRoleArns.length === 0) throw new Error("the filestore policy needs the role the EFS CSI node plugin mounts as");
  const accessPoints = accessPointsOf(fileSystemArn);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyWithoutTls",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "*",
        Resource: fileSystemArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "DenyOutsideAccessPoints",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: [...EFS_CLIENT_ACTIONS],
        Resource: fileSystemArn,
        Condition: { StringNotLike: { [ACCESS_POINT_ARN_KEY]: accessPoints } },
      },
      {
        Sid: "DenyRootAccess",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: CLIENT_ROOT_ACCESS,
        Resource: fileSystemArn,
      },
      {
        Sid: "CsiNodeMountsThroughAccessPoints",
        Effect: "Allow",
        Principal: { AWS: [...mountRoleArns] },
        Action: [CLIENT_MOUNT, CLIENT_WRITE],
        Resource: fileSystemArn,
        Condition: {
          Bool: { "aws:SecureTransport": "true", [VIA_MOUNT_TARGET_KEY]: "true" },
          StringLike: { [ACCESS_POINT_ARN_KEY]: accessPoints },
        },
      },
    ],
  };
}

/**
 * EFS for the Odoo filestores (`data_dir`): encrypted with its own KMS key, a mount target in every
 * zone, one access point per tenant pinning its root directory and POSIX owner, a file system policy
 * that admits only the CSI node plugin's role over TLS through an access point, and replication to the
 * DR region where asked.
 */
export class Filestore extends pulumi.ComponentResource {
  public readonly fileSystemId: pulumi.Output<string>;
  public readonly fileSystemArn: pulumi.Output<string>;
  public readonly securityGroupId: pulumi.Output<string>;
  /** Per tenant: its access point id, root directory and POSIX id. */
  public readonly accessPoints: Readonly<Record<string, { id: pulumi.Output<string>; arn: pulumi.Output<string>; path: string; posixId: number }>>;

  constructor(name: string, args: FilestoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:data:Filestore", name, {}, opts);
    const protect = args.protect ?? true;
    const child = { parent: this };
    const tagsFor = (resourceName: string) => withName(args.tags, resourceName);

    const key = encryptionKey(`${name}-filestore`, {
      description: `Odoo filestores on EFS (${name})`,
      alias: `${name}-filestore`,
      tags: args.tags,
      access: { administration: args.keyAdministration, use: { viaServices: ["elasticfilesystem"] } },
    }, { parent: this, protect });

    const fileSystem = new aws.efs.FileSystem(`${name}-filestore`, {
      encrypted: true,
      kmsKeyId: key.arn,
      performanceMode: "generalPurpose",
      throughputMode: "elastic",
      lifecyclePolicies: [{ transitionToIa: "AFTER_30_DAYS" }, { transitionToPrimaryStorageClass: "AFTER_1_ACCESS" }],
      // A replication must never overwrite this file system.
      protection: { replicationOverwrite: "DISABLED" },
      tags: tagsFor(`${name}-filestore`),
    }, { parent: this, protect, retainOnDelete: protect });

    const securityGroup = new aws.ec2.SecurityGroup(`${name}-filestore`, {
      vpcId: args.vpcId,
      description: `EFS ${name}: NFS from the cluster only`,
      tags: tagsFor(`${name}-filestore`),
    }, child);
    allowFromClients(`${name}-filestore`, { securityGroupId: securityGroup.id, clientSecurityGroupIds: args.clientSecurityGroupIds, port: NFS_PORT, description: "NFS from the EKS cluster" }, child);

    for (const subnet of args.subnets) {
      new aws.efs.MountTarget(`${name}-filestore-${subnet.zone}`, {
        fileSystemId: fileSystem.id,
        subnetId: subnet.subnetId,
        securityGroups: [securityGroup.id],
      }, child);
    }

    new aws.efs.FileSystemPolicy(`${name}-filestore`, {
      fileSystemId: fileSystem.id,
      policy: pulumi.all([fileSystem.arn, ...args.mountRoleArns]).apply(([arn, ...roles]) => JSON.stringify(filestorePolicy(arn, roles))),
    }, child);

    const accessPoints: Record<string, { id: pulumi.Output<string>; arn: pulumi.Output<string>; path: string; posixId: number }> = {};
    for (const { name: tenant, tier } of args.tenants) {
      const posixId = tenantPosixId(tenant);
      const path = tenantRootDirectory(tenant);
      const accessPoint = new aws.efs.AccessPoint(`${name}-filestore-${tenant}`, {
        fileSystemId: fileSystem.id,
        ...tenantAccessPoint(posixId, path),
        tags: pulumi.output(args.tags).apply((t): Record<string, string> => ({ ...t, tenant, tier, Name: `${name}-filestore-${tenant}` })),
      }, child);
      accessPoints[tenant] = { id: accessPoint.id, arn: accessPoint.arn, path, posixId };
    }

    if (args.replication) {
      const drKey = encryptionKey(`${name}-filestore-dr`, {
        description: `DR replica of the Odoo filestores (${name})`,
        alias: `${name}-filestore-dr`,
        tags: args.tags,
        access: { administration: args.keyAdministration, use: { viaServices: ["elasticfilesystem"] } },
      }, { parent: this, provider: args.replication.provider, protect });
      // The replication is configured on the source file system, through the primary region's API.
      new aws.efs.ReplicationConfiguration(`${name}-filestore-replication`, {
        sourceFileSystemId: fileSystem.id,
        destination: { region: args.replication.region, kmsKeyId: drKey.arn },
      }, { parent: this, protect });
    }

    this.fileSystemId = fileSystem.id;
    this.fileSystemArn = fileSystem.arn;
    this.securityGroupId = securityGroup.id;
    this.accessPoints = accessPoints;
    this.registerOutputs({ fileSystemId: this.fileSystemId });
  }
}
