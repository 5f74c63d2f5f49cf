import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { KeyAdministration } from "../data/keys";
import { denyWithoutTls } from "../data/backup-bucket";
import { encryptionKey } from "../data/keys";
import { withName } from "../tagging";

export interface StateBackendArgs {
  /** Bucket name (global: carries the account id). */
  readonly bucketName: pulumi.Input<string>;
  /** KMS alias without `alias/`; stack files name it in `secretsprovider: awskms://alias/<it>`. */
  readonly keyAlias: string;
  /**
   * Days a replaced state file (a noncurrent version) is kept: the way back from a bad checkpoint.
   * @default 365
   */
  readonly noncurrentDays?: number;
  /** Who administers the component's KMS keys, and the break-glass role that alone may delete them. */
  readonly keyAdministration: KeyAdministration;
  /** Roles that encrypt and decrypt stack secrets with the key (this CI environment's deploy and preview roles). */
  readonly keyUsers: readonly pulumi.Input<string>[];
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * A self-managed Pulumi backend for one CI environment (`pulumi login s3://<bucket>`): a versioned,
 * KMS-encrypted, TLS-only bucket without public access or ACLs, and the KMS key that encrypts both
 * the state objects and the stacks' secrets (`secretsprovider: awskms://alias/...`). Both are
 * protected and retained: losing either loses every stack of the environment.
 */
export class StateBackend extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly keyArn: pulumi.Output<string>;

  constructor(name: string, args: StateBackendArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:ci:StateBackend", name, {}, opts);
    const child = { parent: this };
    const kept = { parent: this, protect: true, retainOnDelete: true };

    const key = encryptionKey(`${name}-key`, {
      description: `Pulumi state and stack secrets (${args.keyAlias})`,
      alias: args.keyAlias,
      tags: args.tags,
      // The state objects through S3; the stacks' secrets by the CI roles themselves (awskms://).
      access: { administration: args.keyAdministration, use: { viaServices: ["s3"], users: args.keyUsers } },
    }, kept);
    const bucket = new aws.s3.Bucket(`${name}-state`, {
      bucket: args.bucketName,
      forceDestroy: false,
      tags: withName(args.tags, `${name}-state`),
    }, kept);
    new aws.s3.BucketVersioning(`${name}-state`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, child);
    new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-state`, {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
    }, child);
    new aws.s3.BucketPublicAccessBlock(`${name}-state`, {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }, child);
    new aws.s3.BucketOwnershipControls(`${name}-state`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
    new aws.s3.BucketPolicy(`${name}-state`, {
      bucket: bucket.id,
      policy: bucket.arn.apply((arn) => JSON.stringify({ Version: "2012-10-17", Statement: [denyWithoutTls(arn)] })),
    }, child);
    new aws.s3.BucketLifecycleConfiguration(`${name}-state`, {
      bucket: bucket.id,
      rules: [{ id: "noncurrent-checkpoints", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: args.noncurrentDays ?? 365 } }],
    }, child);

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.keyArn = key.arn;
    this.registerOutputs({ bucketName: this.bucketName, keyArn: this.keyArn });
  }
}
