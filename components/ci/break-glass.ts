import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { managedPolicyArn, type PolicyDocument } from "../iam";
import { withName } from "../tagging";

/**
 * Trust of the break-glass role: people of this account signed in with MFA. CI never qualifies:
 * GitHub's OIDC sessions carry no aws:MultiFactorAuthPresent, and a missing key fails a Bool test.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-multifactorauthpresent
 */
export function breakGlassTrustPolicy(partition: string, accountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: "sts:AssumeRole",
        Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } },
      },
    ],
  };
}

/**
 * Guard of the CI roles against the break-glass role: they may read it, never change, delete,
 * re-create (key policies name it by ARN) or assume it. Without this, a deploy role holding
 * AdministratorAccess could rewrite the role's trust to itself and then delete any key.
 */
export function breakGlassGuardPolicy(breakGlassRoleArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "NoBreakGlassChanges", Effect: "Deny", NotAction: ["iam:Get*", "iam:List*"], Resource: breakGlassRoleArn },
      { Sid: "NoBreakGlassSessions", Effect: "Deny", Action: "sts:AssumeRole", Resource: breakGlassRoleArn },
    ],
  };
}

/**
 * The break-glass role (BREAK_GLASS_ROLE_NAME): the only principal the stacks' key policies let
 * schedule a key's deletion or disable it, and an administrator of every key, so no key becomes
 * unmanageable. Administrator access: it is also what the bootstrap stack is deployed as once it
 * exists (README). Sessions last one hour.
 */
export class BreakGlassRole extends pulumi.ComponentResource {
  public readonly roleArn: pulumi.Output<string>;
  private readonly name: string;

  constructor(name: string, args: { readonly roleName: string; readonly accountId: pulumi.Input<string>; readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>> }, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:ci:BreakGlassRole", name, {}, opts);
    this.name = name;
    const child = { parent: this };
    const partition = aws.getPartitionOutput({}, child).partition;
    const role = new aws.iam.Role(name, {
      name: args.roleName,
      description: "odoo-fleet break-glass: KMS key deletion, bootstrap deploys (MFA only)",
      assumeRolePolicy: pulumi.all([partition, args.accountId]).apply(([p, account]) => JSON.stringify(breakGlassTrustPolicy(p, account))),
      maxSessionDuration: 3600,
      tags: withName(args.tags, args.roleName),
    }, { ...child, protect: true });
    new aws.iam.RolePolicyAttachment(name, { role: role.name, policyArn: partition.apply((p) => managedPolicyArn(p, "AdministratorAccess")) }, child);
    this.roleArn = role.arn;
    this.registerOutputs({ roleArn: this.roleArn });
  }

  /** Puts breakGlassGuardPolicy on each of these roles (by ARN; the CI roles), as an inline policy of their own. */
  guard(roleArns: Readonly<Record<string, pulumi.Input<string>>>): void {
    for (const [key, roleArn] of Object.entries(roleArns)) {
      new aws.iam.RolePolicy(`${this.name}-guard-${key}`, {
        role: pulumi.output(roleArn).apply((arn) => arn.split("/").pop()!),
        policy: this.roleArn.apply((arn) => JSON.stringify(breakGlassGuardPolicy(arn))),
      }, { parent: this });
    }
  }
}
