import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RUNNER_LABEL_TAG, RUNNER_NETWORK, RUNNER_NETWORK_TAG } from "../../model/ci";
import { withName } from "../tagging";

export interface RunnerLinkArgs {
  /** The platform VPC and its CIDR. */
  readonly vpcId: pulumi.Input<string>;
  readonly cidr: string;
  /** Route tables of the subnets holding the EKS control plane's interfaces (the private ones), by zone. */
  readonly routeTables: readonly { readonly zone: string; readonly routeTableId: pulumi.Input<string> }[];
  /** The runner label whose subnet in the bootstrap stack's runner VPC serves this platform. */
  readonly runnerLabel: string;
  /** That subnet's CIDR (the stack spec's ci.runnerCidr). */
  readonly runnerCidr: string;
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The path from this platform's CI runners to its private API endpoint: a peering between the
 * platform VPC and the bootstrap stack's runner VPC (same account and region, accepted at once), a
 * route to the runners' subnet from the platform's private subnets, and one back from that subnet's
 * own route table. Only the runners of this platform's label get a route here: a development
 * runner, which runs pull-request code, has no path to a production VPC.
 *
 * The platform stack owns the link because a peering needs both VPCs: the runner VPC exists before
 * (bootstrap), this VPC only once this stack runs. The runner VPC and its route table are found by
 * the tags the bootstrap stack puts on them.
 */
export class RunnerLink extends pulumi.ComponentResource {
  public readonly peeringConnectionId: pulumi.Output<string>;
  /** What a Kubernetes provider talking to the private endpoint must wait for. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: RunnerLinkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:network:RunnerLink", name, {}, opts);
    const child = { parent: this };

    const runnerVpc = aws.ec2.getVpcOutput({ tags: { [RUNNER_NETWORK_TAG]: RUNNER_NETWORK } }, child);
    const runnerRoutes = aws.ec2.getRouteTableOutput({ vpcId: runnerVpc.id, tags: { [RUNNER_LABEL_TAG]: args.runnerLabel } }, child);

    const peering = new aws.ec2.VpcPeeringConnection(`${name}-runners`, {
      vpcId: args.vpcId,
      peerVpcId: runnerVpc.id,
      autoAccept: true,
      tags: withName(args.tags, `${name}-runners`),
    }, child);

    const toRunners = args.routeTables.map(({ zone, routeTableId }) =>
      new aws.ec2.Route(`${name}-to-runners-${zone}`, {
        routeTableId,
        destinationCidrBlock: args.runnerCidr,
        vpcPeeringConnectionId: peering.id,
      }, child));
    const fromRunners = new aws.ec2.Route(`${name}-from-runners`, {
      routeTableId: runnerRoutes.id,
      destinationCidrBlock: args.cidr,
      vpcPeeringConnectionId: peering.id,
    }, child);

    this.peeringConnectionId = peering.id;
    this.ready = [peering, ...toRunners, fromRunners];
    this.registerOutputs({ peeringConnectionId: this.peeringConnectionId });
  }
}
