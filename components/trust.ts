import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * The account (and, when `arn` is given, a source ARN pattern) a service trust policy holds the
 * service to (serviceTrustPolicy), from the caller's provider: the account that deploys is the one
 * whose resources the service acts for.
 */
export function sourceOf(
  opts: { readonly parent?: pulumi.Resource; readonly provider?: pulumi.ProviderResource },
  arn?: (partition: string, account: string) => string,
): pulumi.Output<{ account: string; arn?: string }> {
  const invoke = { parent: opts.parent, provider: opts.provider };
  return pulumi
    .all([aws.getPartitionOutput({}, invoke).partition, aws.getCallerIdentityOutput({}, invoke).accountId])
    .apply(([partition, account]) => (arn ? { account, arn: arn(partition, account) } : { account }));
}
