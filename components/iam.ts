/** IAM policy documents for the cluster, as pure functions. */

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Record<string, unknown>[];
}

/** Trust policy that lets one AWS service assume a role. */
export function serviceTrustPolicy(service: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  };
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
