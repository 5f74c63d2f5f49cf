import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { managedPolicyArn } from "../iam";
import { withName } from "../tagging";
import { DEPLOY_SESSION_SECONDS, denyProductionPolicy, githubTrustPolicy, PREVIEW_SESSION_SECONDS, previewStatePolicy } from "./policies";

export interface CiRolesArgs {
  /** Fixed role names: stack files name the roles' ARNs. */
  readonly deployRoleName: string;
  readonly previewRoleName: string;
  /** GitHub OIDC `sub` claims each role trusts (`ciSubjects`). */
  readonly deploySubjects: readonly string[];
  readonly previewSubjects: readonly string[];
  readonly oidcProviderArn: pulumi.Input<string>;
  /** This CI environment's state bucket and key. */
  readonly state: { readonly bucketArn: pulumi.Input<string>; readonly keyArn: pulumi.Input<string> };
  /**
   * Set for non-production roles: the production state and key they are denied, with
   * production-tagged resources and every CI role (names matching `ciRoleNamePattern`).
   * @default none: no deny policy (the production roles)
   */
  readonly denyProduction?: { readonly bucketArn: pulumi.Input<string>; readonly keyArn: pulumi.Input<string>; readonly ciRoleNamePattern: string };
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The two CI roles of one CI environment, assumed through GitHub's OIDC provider. Deploy: runs
 * `pulumi up`, which creates IAM roles, KMS keys and clusters, so it holds AdministratorAccess, for a
 * session long enough for a first deployment. Preview: read-only access plus the state's lock files
 * and the key, for pull-request previews and the nightly drift check.
 */
export class CiRoles extends pulumi.ComponentResource {
  public readonly deployRoleArn: pulumi.Output<string>;
  public readonly previewRoleArn: pulumi.Output<string>;

  constructor(name: string, args: CiRolesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:ci:CiRoles", name, {}, opts);
    const child = { parent: this };
    const partition = aws.getPartitionOutput({}, child).partition;
    const managed = (policy: string) => partition.apply((p) => managedPolicyArn(p, policy));

    const role = (purpose: "deploy" | "preview", roleName: string, subjects: readonly string[], maxSessionDuration: number, policy: string) => {
      const created = new aws.iam.Role(`${name}-${purpose}`, {
        name: roleName,
        description: `odoo-fleet CI ${purpose} (GitHub Actions OIDC)`,
        assumeRolePolicy: pulumi.output(args.oidcProviderArn).apply((arn) => JSON.stringify(githubTrustPolicy(arn, subjects))),
        maxSessionDuration,
        tags: withName(args.tags, roleName),
      }, child);
      new aws.iam.RolePolicyAttachment(`${name}-${purpose}`, { role: created.name, policyArn: managed(policy) }, child);
      if (args.denyProduction) {
        const deny = args.denyProduction;
        new aws.iam.RolePolicy(`${name}-${purpose}-deny-production`, {
          role: created.id,
          policy: pulumi.all([deny.bucketArn, deny.keyArn, partition]).apply(([prodBucketArn, prodKeyArn, p]) =>
            JSON.stringify(denyProductionPolicy({ prodBucketArn, prodKeyArn, ciRoleArnPattern: `arn:${p}:iam::*:role/${deny.ciRoleNamePattern}` })),
          ),
        }, child);
      }
      return created;
    };

    const deploy = role("deploy", args.deployRoleName, args.deploySubjects, DEPLOY_SESSION_SECONDS, "AdministratorAccess");
    const preview = role("preview", args.previewRoleName, args.previewSubjects, PREVIEW_SESSION_SECONDS, "ReadOnlyAccess");
    new aws.iam.RolePolicy(`${name}-preview-state`, {
      role: preview.id,
      policy: pulumi.all([args.state.bucketArn, args.state.keyArn]).apply(([bucketArn, keyArn]) => JSON.stringify(previewStatePolicy({ bucketArn, keyArn }))),
    }, child);

    this.deployRoleArn = deploy.arn;
    this.previewRoleArn = preview.arn;
    this.registerOutputs({ deployRoleArn: this.deployRoleArn, previewRoleArn: this.previewRoleArn });
  }
}
