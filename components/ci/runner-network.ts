import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { runnerPublicSubnet } from "../../model/cidr";
import { vpcFlowLog } from "../network";
import { withName } from "../tagging";
import { SUBNET_ROLE_TAG } from "../../model/tags";

export interface RunnerNetworkArgs {
  readonly cidr: string;
  /** One zone: CI tolerates a zone outage better than it pays for a NAT gateway per zone. */
  readonly zone: string;
  /**
   * One private subnet per runner label (per platform stack), each with its own route table, both
   * tagged with that platform's environment: the platform stack's CI role adds routes there.
   */
  readonly subnets: readonly { readonly label: string; readonly cidr: string; readonly environment: string }[];
  /** Tags that let platform stacks find the VPC (and, with the label tag, each route table). */
  readonly lookupTags: { readonly network: Readonly<Record<string, string>>; readonly labelKey: string };
  /** `environment` tag of the VPC, which every platform stack peers with (as accepter). */
  readonly vpcEnvironment: string;
  /**
   * Retention of the VPC flow log group.
   * @default 365
   */
  readonly flowLogRetentionDays?: number;
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The CI runners' VPC: a NAT gateway for GitHub, npm and the AWS APIs, and a private subnet per
 * platform stack. Each subnet's route table is that platform's alone: the platform stack adds the
 * route to its VPC through its peering (RunnerLink), so runners of one label reach one platform.
 */
export class RunnerNetwork extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly securityGroupId: pulumi.Output<string>;
  public readonly subnetIds: Readonly<Record<string, pulumi.Output<string>>>;
  public readonly routeTableIds: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: RunnerNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:ci:RunnerNetwork", name, {}, opts);
    const child = { parent: this };
    const tagsFor = (resourceName: string, extra: Record<string, string> = {}) => withName(args.tags, resourceName, extra);

    const vpc = new aws.ec2.Vpc(`${name}-vpc`, {
      cidrBlock: args.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: tagsFor(`${name}-vpc`, { ...args.lookupTags.network, environment: args.vpcEnvironment }),
    }, child);
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, ingress: [], egress: [], tags: tagsFor(`${name}-default-closed`) }, child);
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tagsFor(`${name}-igw`) }, child);

    const publicSubnet = new aws.ec2.Subnet(`${name}-public`, {
      vpcId: vpc.id,
      availabilityZone: args.zone,
      cidrBlock: runnerPublicSubnet(args.cidr),
      mapPublicIpOnLaunch: false,
      tags: tagsFor(`${name}-public`, { [SUBNET_ROLE_TAG]: "public" }),
    }, child);
    const publicRoutes = new aws.ec2.RouteTable(`${name}-public-rt`, {
      vpcId: vpc.id,
      routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
      tags: tagsFor(`${name}-public`),
    }, child);
    new aws.ec2.RouteTableAssociation(`${name}-public`, { subnetId: publicSubnet.id, routeTableId: publicRoutes.id }, child);
    const eip = new aws.ec2.Eip(`${name}-nat`, { domain: "vpc", tags: tagsFor(`${name}-nat`) }, child);
    const nat = new aws.ec2.NatGateway(`${name}-nat`, {
      allocationId: eip.id,
      subnetId: publicSubnet.id,
      connectivityType: "public",
      tags: tagsFor(`${name}-nat`),
    }, { parent: this, dependsOn: [igw] });

    const subnetIds: Record<string, pulumi.Output<string>> = {};
    const routeTableIds: Record<string, pulumi.Output<string>> = {};
    for (const { label, cidr, environment } of args.subnets) {
      const subnet = new aws.ec2.Subnet(`${name}-${label}`, {
        vpcId: vpc.id,
        availabilityZone: args.zone,
        cidrBlock: cidr,
        mapPublicIpOnLaunch: false,
        tags: tagsFor(`${name}-${label}`, { [SUBNET_ROLE_TAG]: "private", [args.lookupTags.labelKey]: label, environment }),
      }, child);
      // Routes to the platform VPC are added by the platform stack (RunnerLink), in this table.
      const routes = new aws.ec2.RouteTable(`${name}-${label}`, {
        vpcId: vpc.id,
        tags: tagsFor(`${name}-${label}`, { [args.lookupTags.labelKey]: label, environment }),
      }, child);
      // Inline routes would make this stack remove the platform's routes on its next update.
      new aws.ec2.Route(`${name}-${label}-internet`, { routeTableId: routes.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id }, child);
      new aws.ec2.RouteTableAssociation(`${name}-${label}`, { subnetId: subnet.id, routeTableId: routes.id }, child);
      subnetIds[label] = subnet.id;
      routeTableIds[label] = routes.id;
    }

    // Runners only call out: no ingress at all (sessions through SSM are not needed for ephemeral runners).
    const runners = new aws.ec2.SecurityGroup(`${name}-runners`, {
      vpcId: vpc.id,
      description: "CI runners: outbound only",
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "GitHub, registries, AWS APIs, peered clusters" }],
      tags: tagsFor(`${name}-runners`),
    }, child);

    vpcFlowLog(name, vpc.id, args.flowLogRetentionDays ?? 365, tagsFor, child);

    this.vpcId = vpc.id;
    this.securityGroupId = runners.id;
    this.subnetIds = subnetIds;
    this.routeTableIds = routeTableIds;
    this.registerOutputs({ vpcId: this.vpcId, subnetIds: this.subnetIds, routeTableIds: this.routeTableIds });
  }
}
