import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyDocument } from "../iam";

/** Days a deleted key waits before it is gone: the longest AWS allows, to undo a mistake. */
export const KEY_DELETION_WINDOW_DAYS = 30;

/**
 * Who administers a stack's keys. Administrators manage them (aliases, tags, rotation, the key
 * policy) but cannot use them; only the break-glass role may schedule a key's deletion or disable it.
 * Both are named by ARN in an `aws:PrincipalArn` condition under the account principal, not as
 * principals themselves: a role deleted and re-created under the same name keeps its rights (a
 * role principal is stored as its unique id), and a key may be created before its roles exist.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 */
export interface KeyAdministration {
  /** The CI deploy role (ciRoleName("deploy", env)): `pulumi up` creates and updates the keys. */
  readonly administratorArns: readonly pulumi.Input<string>[];
  /** The break-glass role (BREAK_GLASS_ROLE_NAME): the only principal that may delete or disable a key. */
  readonly breakGlassRoleArn: pulumi.Input<string>;
}

/** Who uses a key, and how. */
export interface KeyUse {
  /**
   * Services (the endpoint prefix: "rds", "s3", "secretsmanager", ...) through which any principal of
   * the account may use the key in the key's region, as AWS-managed keys allow (kms:ViaService and
   * kms:CallerAccount): the caller still needs its own IAM permission.
   */
  readonly viaServices: readonly string[];
  /**
   * Roles that call KMS themselves (Pulumi's awskms secrets provider).
   * @default none
   */
  readonly users?: readonly pulumi.Input<string>[];
  /**
   * Service principals that encrypt with the key on the account's behalf (CloudWatch alarms and
   * EventBridge publishing to encrypted SNS topics), limited to this account with aws:SourceAccount.
   * @default none
   */
  readonly servicePrincipals?: readonly string[];
}

export interface KeyAccess {
  readonly administration: KeyAdministration;
  readonly use: KeyUse;
}

/** A KeyAccess with its ARNs known (what keyPolicy reads). */
export type ResolvedKeyAccess = pulumi.Unwrap<KeyAccess>;

/** What administrators may do: everything but using the key, granting its use, and deleting or disabling it. */
export const KEY_ADMIN_ACTIONS = [
  "kms:DescribeKey",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListAliases",
  "kms:ListGrants",
  "kms:ListKeyPolicies",
  "kms:ListResourceTags",
  "kms:PutKeyPolicy",
  "kms:CreateAlias",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:UpdateKeyDescription",
  "kms:EnableKey",
  "kms:EnableKeyRotation",
  "kms:RotateKeyOnDemand",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:RevokeGrant",
];
/** Actions no one but the break-glass role may take: a disabled or deleted key makes every copy under it unreadable. */
export const KEY_DESTRUCTIVE_ACTIONS = ["kms:ScheduleKeyDeletion", "kms:DisableKey"];
/** What services do with a key on a caller's behalf (the AWS-managed keys' policy). */
export const KEY_USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"];
const DIRECT_USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"];

/**
 * The key policy: named administrators, users through services (and named roles), and deletion or
 * disabling denied to everyone but the break-glass role. PutKeyPolicy stays with the administrators:
 * KMS refuses a policy that would stop its caller from changing it again (the lockout safety check),
 * and the policy pack checks every key policy the program plans.
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
 */
export function keyPolicy(args: { partition: string; accountId: string; region: string; access: ResolvedKeyAccess }): PolicyDocument {
  const { partition, accountId, region, access } = args;
  const account = { AWS: `arn:${partition}:iam::${accountId}:root` };
  const breakGlass = access.administration.breakGlassRoleArn;
  const { viaServices, users = [], servicePrincipals = [] } = access.use;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Administrators",
        Effect: "Allow",
        Principal: account,
        Action: [...KEY_ADMIN_ACTIONS],
        Resource: "*",
        Condition: { ArnEquals: { "aws:PrincipalArn": [...new Set([...access.administration.administratorArns, breakGlass])] } },
      },
      { Sid: "BreakGlass", Effect: "Allow", Principal: account, Action: [...KEY_DESTRUCTIVE_ACTIONS, "kms:CancelKeyDeletion"], Resource: "*", Condition: { ArnEquals: { "aws:PrincipalArn": breakGlass } } },
      { Sid: "NoDeletionButBreakGlass", Effect: "Deny", Principal: { AWS: "*" }, Action: [...KEY_DESTRUCTIVE_ACTIONS], Resource: "*", Condition: { ArnNotEquals: { "aws:PrincipalArn": breakGlass } } },
      ...(viaServices.length > 0
        ? [{
            Sid: "UseThroughServices",
            Effect: "Allow",
            Principal: account,
            Action: [...KEY_USE_ACTIONS],
            Resource: "*",
            Condition: { StringEquals: { "kms:CallerAccount": accountId, "kms:ViaService": viaServices.map((s) => `${s}.${region}.amazonaws.com`) } },
          }]
        : []),
      ...(users.length > 0 ? [{ Sid: "Users", Effect: "Allow", Principal: account, Action: [...DIRECT_USE_ACTIONS], Resource: "*", Condition: { ArnEquals: { "aws:PrincipalArn": [...users] } } }] : []),
      ...(servicePrincipals.length > 0
        ? [{
            Sid: "ServicePublishers",
            Effect: "Allow",
            Principal: { Service: [...servicePrincipals] },
            Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
            Resource: "*",
            Condition: { StringEquals: { "aws:SourceAccount": accountId } },
          }]
        : []),
    ],
  };
}

/**
 * A customer-managed KMS key with yearly rotation, an alias, and a key policy of its own (keyPolicy),
 * written for the account and region of the key's provider.
 */
export function encryptionKey(
  name: string,
  args: {
    readonly description: string;
    /** The alias's name without `alias/`. */
    readonly alias: string;
    readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
    readonly access: KeyAccess;
  },
  opts: pulumi.CustomResourceOptions,
): aws.kms.Key {
  const invoke = { parent: opts.parent, provider: opts.provider };
  const policy = pulumi
    .all([aws.getPartitionOutput({}, invoke).partition, aws.getCallerIdentityOutput({}, invoke).accountId, aws.getRegionOutput({}, invoke).region, pulumi.output(args.access)])
    .apply(([partition, accountId, region, access]) => JSON.stringify(keyPolicy({ partition, accountId, region, access })));
  const key = new aws.kms.Key(name, {
    description: args.description,
    enableKeyRotation: true,
    deletionWindowInDays: KEY_DELETION_WINDOW_DAYS,
    policy,
    tags: pulumi.output(args.tags).apply((t): Record<string, string> => ({ ...t, Name: name })),
  }, opts);
  // Aliases are names only: never protected, so renaming one stays possible.
  new aws.kms.Alias(name, { name: `alias/${args.alias}`, targetKeyId: key.keyId }, { parent: opts.parent, provider: opts.provider });
  return key;
}
