import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceAccountTrustPolicy } from "./iam";

export interface ServiceAccountRoleArgs {
  /** The cluster's IAM OIDC provider. */
  readonly oidcProviderArn: pulumi.Input<string>;
  /** The cluster's OIDC issuer URL (https://oidc.eks...). */
  readonly oidcIssuerUrl: pulumi.Input<string>;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** The role's inline policy (a JSON document), named like the role. @default none: the caller attaches what it needs */
  readonly policy?: pulumi.Input<string>;
}

/**
 * An IAM role for one Kubernetes service account (IRSA): only that account of this cluster's issuer
 * may assume it, with its own least-privilege inline policy. Its resources are the caller's children
 * (`opts` carries `parent`), named `name`.
 */
export function serviceAccountRole(name: string, args: ServiceAccountRoleArgs, opts: pulumi.CustomResourceOptions): aws.iam.Role {
  const role = new aws.iam.Role(name, {
    assumeRolePolicy: pulumi
      .all([args.oidcProviderArn, args.oidcIssuerUrl])
      .apply(([arn, url]) => JSON.stringify(serviceAccountTrustPolicy(arn, url, args.namespace, args.serviceAccount))),
    tags: args.tags,
  }, opts);
  if (args.policy !== undefined) new aws.iam.RolePolicy(name, { role: role.id, policy: args.policy }, opts);
  return role;
}
