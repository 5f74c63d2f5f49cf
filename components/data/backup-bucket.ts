import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { KeyAdministration } from "./keys";
import { serviceTrustPolicy } from "../iam";
import { sourceOf } from "../trust";
import type { PolicyDocument } from "../iam";
import { withName } from "../tagging";
import { encryptionKey } from "./keys";
import { BACKUP_OBJECT_TIER_TAG } from "../../model/tags";
import { BUCKET_PURPOSE_TAG } from "../../model/tags";

export type ObjectLockMode = "GOVERNANCE" | "COMPLIANCE";

/** Id of the rule replicating backups to the DR region (S3 replication metrics are per rule). */
export const BACKUP_REPLICATION_RULE = "backups-to-dr-region";


export interface BackupBucketArgs {
  /** Object Lock default retention: from the strictest tier the bucket holds. */
  readonly lock: { readonly mode: ObjectLockMode; readonly days: number };
  /**
   * How long each tier's backups are kept (lifecycle expiry). The backup jobs tag what they write
   * with their tier (BACKUP_OBJECT_TIER_TAG): rules per tier, not per tenant, so a stack of any
   * number of tenants stays within S3's 1,000 lifecycle rules per bucket.
   */
  readonly retention: readonly { readonly tier: string; readonly keepDays: number }[];
  /**
   * Replicate to an object-locked bucket in the DR region.
   * @default none: no replica bucket, no replication role or configuration
   */
  readonly replication?: {
    readonly provider: aws.Provider;
    /** Replication Time Control: 99.99% of objects within 15 minutes, with metrics. */
    readonly replicationTimeControl: boolean;
  };
  /**
   * Keep the buckets and keys out of `pulumi destroy`.
   * @default true
   */
  readonly protect?: boolean;
  /** Who administers the component's KMS keys, and the break-glass role that alone may delete them. */
  readonly keyAdministration: KeyAdministration;
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** The prefix a tenant's logical backups are written under. */
export function tenantBackupPrefix(tenant: string): string {
  return `tenants/${tenant}/`;
}

/** Denies every request to the bucket and its objects that does not use TLS (Security Hub S3.5). */
export function denyWithoutTls(bucketArn: string) {
  return {
    Sid: "DenyWithoutTls",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/**
 * Policy of an immutable backup bucket: TLS only, and nobody may delete an object version or bypass
 * governance retention. Lifecycle expiry is not subject to it; Object Lock still holds each version
 * until its retention ends.
 */
export function immutableBucketPolicy(bucketArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      denyWithoutTls(bucketArn),
      {
        Sid: "DenyVersionDeletion",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: ["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"],
        Resource: `${bucketArn}/*`,
      },
    ],
  };
}

/** Least privilege for S3 replication from one bucket and key to the other. */
export function replicationPolicy(args: { sourceBucketArn: string; destinationBucketArn: string; sourceKeyArn: string; destinationKeyArn: string }): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"], Resource: args.sourceBucketArn },
      {
        Effect: "Allow",
        Action: ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging", "s3:GetObjectRetention", "s3:GetObjectLegalHold"],
        Resource: `${args.sourceBucketArn}/*`,
      },
      { Effect: "Allow", Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], Resource: `${args.destinationBucketArn}/*` },
      { Effect: "Allow", Action: ["kms:Decrypt"], Resource: args.sourceKeyArn },
      { Effect: "Allow", Action: ["kms:Encrypt", "kms:GenerateDataKey"], Resource: args.destinationKeyArn },
    ],
  };
}


/** Lifecycle of the backup bucket: colder storage with age, and each tier's retention. */
export function backupLifecycleRules(retention: readonly { tier: string; keepDays: number }[]) {
  return [
    {
      id: "abort-incomplete-uploads",
      status: "Enabled",
      filter: { prefix: "" },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
    },
    ...retention.map(({ tier, keepDays }) => ({
      id: `tier-${tier}`,
      status: "Enabled",
      filter: { tag: { key: BACKUP_OBJECT_TIER_TAG, value: tier } },
      transitions: [
        ...(keepDays > 30 ? [{ days: 30, storageClass: "STANDARD_IA" }] : []),
        ...(keepDays > 120 ? [{ days: 90, storageClass: "GLACIER_IR" }] : []),
      ],
      expiration: { days: keepDays },
      // Once expired, a version lingers as noncurrent for one day and is then removed (Object Lock
      // still holds it until its retention ends).
      noncurrentVersionExpiration: { noncurrentDays: 1 },
    })),
  ];
}

/**
 * The immutable backup bucket of a stack: versioned, Object Lock by default, SSE-KMS with a bucket
 * key, public access blocked, ACLs off, TLS-only and version-deletion-proof policy, lifecycle per
 * tier, access logs to a log bucket, and replication to an object-locked bucket in the DR region
 * with Replication Time Control.
 */
export class BackupBucket extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly kmsKeyArn: pulumi.Output<string>;
  public readonly replicaBucketArn?: pulumi.Output<string>;
  public readonly replicaBucketName?: pulumi.Output<string>;

  constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:data:BackupBucket", name, {}, opts);
    const protect = args.protect ?? true;

    const logBucket = this.accessLogBucket(name, args, protect);
    // Key aliases say `bucket`: the backup vault's keys take `<stack>-backup-bucket`, and an alias is unique per account and region.
    const primary = this.lockedBucket(`${name}-backup`, `${name}-backup-bucket`, args, protect, { parent: this });
    new aws.s3.BucketLogging(`${name}-backup`, {
      bucket: primary.bucket.id,
      targetBucket: logBucket.id,
      targetPrefix: "backup/",
    }, { parent: this });
    new aws.s3.BucketLifecycleConfiguration(`${name}-backup`, {
      bucket: primary.bucket.id,
      rules: backupLifecycleRules(args.retention),
    }, { parent: this, dependsOn: [primary.versioning] });

    if (args.replication) {
      const replica = this.replicateToDr(name, args, args.replication, primary, protect);
      this.replicaBucketArn = replica.arn;
      this.replicaBucketName = replica.bucket;
    }

    this.bucketName = primary.bucket.bucket;
    this.bucketArn = primary.bucket.arn;
    this.kmsKeyArn = primary.key.arn;
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, replicaBucketArn: this.replicaBucketArn });
  }

  /** The access-log bucket: S3 log delivery writes only to SSE-S3 buckets, so this one has no KMS key. */
  private accessLogBucket(name: string, args: BackupBucketArgs, protect: boolean): aws.s3.Bucket {
    const logBucket = new aws.s3.Bucket(`${name}-backup-logs`, {
      forceDestroy: false,
      tags: withName(args.tags, `${name}-backup-logs`, { [BUCKET_PURPOSE_TAG]: "access-logs" }),
    }, { parent: this, protect, retainOnDelete: true });
    this.hardenBucket(`${name}-backup-logs`, logBucket, { sse: { sseAlgorithm: "AES256" } }, {});
    new aws.s3.BucketPolicy(`${name}-backup-logs`, {
      bucket: logBucket.id,
      policy: pulumi.all([logBucket.arn, aws.getCallerIdentityOutput({}, { parent: this }).accountId]).apply(([arn, account]) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            denyWithoutTls(arn),
            {
              Sid: "S3ServerAccessLogs",
              Effect: "Allow",
              Principal: { Service: "logging.s3.amazonaws.com" },
              Action: "s3:PutObject",
              Resource: `${arn}/*`,
              Condition: { StringEquals: { "aws:SourceAccount": account } },
            },
          ],
        }),
      ),
    }, { parent: this });
    new aws.s3.BucketLifecycleConfiguration(`${name}-backup-logs`, {
      bucket: logBucket.id,
      rules: [{ id: "expire-access-logs", status: "Enabled", filter: { prefix: "" }, expiration: { days: 365 } }],
    }, { parent: this });
    return logBucket;
  }

  /**
   * The object-locked replica in the DR region, its lifecycle, and the replication to it (with
   * Replication Time Control where asked) through a role that may do that alone. Returns the replica.
   */
  private replicateToDr(
    name: string,
    args: BackupBucketArgs,
    replication: NonNullable<BackupBucketArgs["replication"]>,
    primary: { bucket: aws.s3.Bucket; key: aws.kms.Key; versioning: aws.s3.BucketVersioning },
    protect: boolean,
  ): aws.s3.Bucket {
    const drOpts = { parent: this, provider: replication.provider };
    const replica = this.lockedBucket(`${name}-backup-dr`, `${name}-backup-bucket-dr`, args, protect, drOpts);
    new aws.s3.BucketLifecycleConfiguration(`${name}-backup-dr`, {
      bucket: replica.bucket.id,
      rules: backupLifecycleRules(args.retention),
    }, { ...drOpts, dependsOn: [replica.versioning] });

    const role = new aws.iam.Role(`${name}-backup-replication`, {
      // S3 replicating this account's source bucket only: a bucket ARN names no account, so both keys
      // (S3 user guide, "Setting up permissions for live replication"; IAM, "confused deputy").
      assumeRolePolicy: pulumi.all([sourceOf({ parent: this }), primary.bucket.arn]).apply(([source, arn]) => JSON.stringify(serviceTrustPolicy("s3.amazonaws.com", { ...source, arn }))),
      tags: withName(args.tags, `${name}-backup-replication`),
    }, { parent: this });
    const rolePolicy = new aws.iam.RolePolicy(`${name}-backup-replication`, {
      role: role.id,
      policy: pulumi
        .all([primary.bucket.arn, replica.bucket.arn, primary.key.arn, replica.key.arn])
        .apply(([sourceBucketArn, destinationBucketArn, sourceKeyArn, destinationKeyArn]) =>
          JSON.stringify(replicationPolicy({ sourceBucketArn, destinationBucketArn, sourceKeyArn, destinationKeyArn })),
        ),
    }, { parent: this });

    new aws.s3.BucketReplicationConfig(`${name}-backup`, {
      bucket: primary.bucket.id,
      role: role.arn,
      rules: [
        {
          id: BACKUP_REPLICATION_RULE,
          status: "Enabled",
          priority: 1,
          filter: { prefix: "" },
          deleteMarkerReplication: { status: "Disabled" },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
          destination: {
            bucket: replica.bucket.arn,
            storageClass: "STANDARD",
            encryptionConfiguration: { replicaKmsKeyId: replica.key.arn },
            ...(replication.replicationTimeControl
              ? {
                  // AWS requires both at 15 minutes: 99.99% of objects replicated within them.
                  replicationTime: { status: "Enabled", time: { minutes: 15 } },
                  metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
                }
              : {}),
          },
        },
      ],
    }, { parent: this, dependsOn: [primary.versioning, replica.versioning, rolePolicy] });
    return replica.bucket;
  }

  /** A versioned, object-locked, KMS-encrypted bucket with the immutable policy. */
  private lockedBucket(name: string, alias: string, args: BackupBucketArgs, protect: boolean, opts: pulumi.CustomResourceOptions) {
    const key = encryptionKey(name, {
      description: `Immutable Odoo backups (${name})`,
      alias,
      tags: args.tags,
      // S3 for the backup jobs, the drills and replication (whose role S3 calls KMS for).
      access: { administration: args.keyAdministration, use: { viaServices: ["s3"] } },
    }, { ...opts, protect });
    const bucket = new aws.s3.Bucket(name, {
      objectLockEnabled: true,
      forceDestroy: false,
      tags: withName(args.tags, name, { [BUCKET_PURPOSE_TAG]: "backups" }),
    }, { ...opts, protect, retainOnDelete: true });
    const { versioning } = this.hardenBucket(name, bucket, { sse: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn } }, opts);
    new aws.s3.BucketObjectLockConfiguration(name, {
      bucket: bucket.id,
      objectLockEnabled: "Enabled",
      rule: { defaultRetention: { mode: args.lock.mode, days: args.lock.days } },
    }, { ...opts, dependsOn: [versioning] });
    new aws.s3.BucketPolicy(name, {
      bucket: bucket.id,
      policy: bucket.arn.apply((arn) => JSON.stringify(immutableBucketPolicy(arn))),
    }, opts);
    return { bucket, key, versioning };
  }

  /** Versioning, default encryption, public access blocked and ACLs disabled. */
  private hardenBucket(
    name: string,
    bucket: aws.s3.Bucket,
    encryption: { sse: { sseAlgorithm: string; kmsMasterKeyId?: pulumi.Input<string> } },
    opts: pulumi.CustomResourceOptions,
  ) {
    const parented = { parent: this, ...opts };
    const versioning = new aws.s3.BucketVersioning(name, {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    }, parented);
    new aws.s3.BucketServerSideEncryptionConfiguration(name, {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: encryption.sse, bucketKeyEnabled: encryption.sse.sseAlgorithm === "aws:kms" }],
    }, parented);
    new aws.s3.BucketPublicAccessBlock(name, {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }, parented);
    new aws.s3.BucketOwnershipControls(name, {
      bucket: bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    }, parented);
    return { versioning };
  }
}
