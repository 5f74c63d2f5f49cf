import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Days a deleted key waits before it is gone: the longest AWS allows, to undo a mistake. */
export const KEY_DELETION_WINDOW_DAYS = 30;

/**
 * A customer-managed KMS key with yearly rotation and an alias. The default key policy delegates to
 * IAM in the account, so the services and roles that use it are granted through their own policies.
 */
export function encryptionKey(
  name: string,
  args: {
    readonly description: string;
    /** The alias's name without `alias/`. */
    readonly alias: string;
    readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * A key policy, where AWS services must use the key themselves.
     * @default none: AWS's default key policy (IAM in the account decides)
     */
    readonly policy?: pulumi.Input<string>;
  },
  opts: pulumi.CustomResourceOptions,
): aws.kms.Key {
  const key = new aws.kms.Key(name, {
    description: args.description,
    enableKeyRotation: true,
    deletionWindowInDays: KEY_DELETION_WINDOW_DAYS,
    ...(args.policy ? { policy: args.policy } : {}),
    tags: pulumi.output(args.tags).apply((t): Record<string, string> => ({ ...t, Name: name })),
  }, opts);
  // Aliases are names only: never protected, so renaming one stays possible.
  new aws.kms.Alias(name, { name: `alias/${args.alias}`, targetKeyId: key.keyId }, { parent: opts.parent, provider: opts.provider });
  return key;
}
