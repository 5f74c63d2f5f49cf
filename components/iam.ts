/** IAM policy documents for the cluster, as pure functions. */
import { SERVICES_WITHOUT_SOURCE_KEYS } from "../model/trust";

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Record<string, unknown>[];
}

/**
 * Trust policy that lets one AWS service assume a role, on behalf of this account only
 * (aws:SourceAccount) and, where given, of these resources only (aws:SourceArn, ArnLike). A service
 * that sends no source keys (SERVICES_WITHOUT_SOURCE_KEYS) takes none; any other must.
 */
export function serviceTrustPolicy(service: string, source?: { readonly account: string; readonly arn?: string }): PolicyDocument {
  const statement: Record<string, unknown> = { Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" };
  if (source) {
    statement.Condition = { StringEquals: { "aws:SourceAccount": source.account }, ...(source.arn ? { ArnLike: { "aws:SourceArn": source.arn } } : {}) };
  } else if (!SERVICES_WITHOUT_SOURCE_KEYS.includes(service)) {
    throw new Error(`the trust in ${service} needs its source account: the service sends aws:SourceAccount, and without it another account could have it act with this role`);
  }
  return { Version: "2012-10-17", Statement: [statement] };
}

/**
 * Trust policy for IAM roles for service accounts: only the named Kubernetes service account of
 * this cluster's OIDC issuer, with the STS audience, may assume the role.
 */
export function serviceAccountTrustPolicy(oidcProviderArn: string, issuerUrl: string, namespace: string, serviceAccount: string): PolicyDocument {
  const issuer = issuerUrl.replace(/^https:\/\//, "");
  return webIdentityTrustPolicy(oidcProviderArn, {
    [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
    [`${issuer}:aud`]: "sts.amazonaws.com",
  });
}

/** Trust policy for tokens of one OIDC provider (EKS's issuer, GitHub's) whose claims equal these. */
export function webIdentityTrustPolicy(oidcProviderArn: string, claimsEqual: Record<string, string | string[]>): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: oidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: { StringEquals: claimsEqual },
      },
    ],
  };
}

export function managedPolicyArn(partition: string, policyName: string): string {
  return `arn:${partition}:iam::aws:policy/${policyName}`;
}
