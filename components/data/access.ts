import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * Opens one TCP port of a data store's security group to each client security group (the cluster's),
 * and to nothing else. Rules are named `<prefix>-from-<index>`.
 */
export function allowFromClients(
  prefix: string,
  args: { readonly securityGroupId: pulumi.Input<string>; readonly clientSecurityGroupIds: readonly pulumi.Input<string>[]; readonly port: number; readonly description: string },
  opts: pulumi.CustomResourceOptions,
): aws.vpc.SecurityGroupIngressRule[] {
  return args.clientSecurityGroupIds.map(
    (clientId, i) =>
      new aws.vpc.SecurityGroupIngressRule(`${prefix}-from-${i}`, {
        securityGroupId: args.securityGroupId,
        referencedSecurityGroupId: clientId,
        ipProtocol: "tcp",
        fromPort: args.port,
        toPort: args.port,
        description: args.description,
      }, opts),
  );
}
