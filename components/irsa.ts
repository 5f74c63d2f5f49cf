import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IRSA_ROLE_ANNOTATION } from "../model/kubernetes";
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

/**
 * A service account that exists only to carry its role: the role (serviceAccountRole, named `roleName`)
 * and the account named `args.serviceAccount` in `args.namespace`, registered as `accountName` with
 * `accountOpts` (its cluster's provider), annotated for IRSA and mounting no Kubernetes API token.
 */
export function serviceAccountWithRole(
  roleName: string,
  args: ServiceAccountRoleArgs & { readonly labels?: Record<string, string> },
  opts: { readonly role: pulumi.CustomResourceOptions; readonly accountName: string; readonly account: pulumi.CustomResourceOptions },
): k8s.core.v1.ServiceAccount {
  const role = serviceAccountRole(roleName, args, opts.role);
  return new k8s.core.v1.ServiceAccount(opts.accountName, {
    metadata: { name: args.serviceAccount, namespace: args.namespace, ...(args.labels ? { labels: args.labels } : {}), annotations: { [IRSA_ROLE_ANNOTATION]: role.arn } },
    automountServiceAccountToken: false,
  }, opts.account);
}
