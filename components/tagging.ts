import * as pulumi from "@pulumi/pulumi";

/** The caller's tags plus a `Name` (what the AWS console shows) and any resource-specific tags. */
export function withName(
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>,
  name: string,
  extra: Record<string, string> = {},
): pulumi.Output<Record<string, string>> {
  return pulumi.output(tags).apply((base): Record<string, string> => ({ ...base, ...extra, Name: name }));
}
