/**
 * The tenants' filestores on EFS: what the Filestore component builds and the policy pack checks. Pure.
 *
 * NFS clients ask EFS for three actions, and EFS evaluates for them only aws:SecureTransport,
 * aws:SourceIp, elasticfilesystem:AccessPointArn and elasticfilesystem:AccessedViaMountTarget: no other
 * condition key (aws:PrincipalArn included) is enforced, so who may mount is said by the Principal of
 * an Allow, never by a Deny on the principal.
 * https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html
 */

export const NFS_PORT = 2049;

/** The EFS CSI driver's name in a PersistentVolume's `csi.driver`. */
export const EFS_CSI_DRIVER = "efs.csi.aws.com";

export const CLIENT_MOUNT = "elasticfilesystem:ClientMount";
export const CLIENT_WRITE = "elasticfilesystem:ClientWrite";
export const CLIENT_ROOT_ACCESS = "elasticfilesystem:ClientRootAccess";
export const EFS_CLIENT_ACTIONS = [CLIENT_MOUNT, CLIENT_WRITE, CLIENT_ROOT_ACCESS] as const;
export const ACCESS_POINT_ARN_KEY = "elasticfilesystem:AccessPointArn";
export const VIA_MOUNT_TARGET_KEY = "elasticfilesystem:AccessedViaMountTarget";

/** `arn:aws:elasticfilesystem:<region>:<account>:access-point/*` of a file system's ARN: its account's access points there. */
export function accessPointsOf(fileSystemArn: string): string {
  const match = /^(arn:[^:]+:elasticfilesystem:[^:]+:[^:]+:)file-system\/fs-[0-9a-z]+$/.exec(fileSystemArn);
  if (!match) throw new Error(`${fileSystemArn} is not an EFS file system ARN`);
  return `${match[1]}access-point/*`;
}

/**
 * Mount options of every tenant PersistentVolume: `iam` makes efs-utils sign the mount with the node's
 * credentials (without it the client is anonymous), `tls` encrypts it (stunnel).
 * https://docs.aws.amazon.com/efs/latest/ug/mounting-IAM-option.html
 */
export const FILESTORE_MOUNT_OPTIONS = ["tls", "iam"] as const;

/** A CSI volume handle `<fs-id>::<fsap-id>` (or `<fs-id>:<path>:<fsap-id>`): its access point, if it names one. */
export function accessPointOfVolumeHandle(handle: string): string | undefined {
  const parts = handle.split(":");
  return parts.length === 3 && parts[2] !== "" ? parts[2] : undefined;
}
