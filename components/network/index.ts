import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy } from "../iam";
import { sourceOf } from "../trust";
import type { NatGatewayMode } from "../../model/stack";
import { planSubnets, type ZoneSubnets } from "../../model/cidr";
import { withName } from "../tagging";
import { SUBNET_ROLE_TAG } from "../../model/tags";

export interface NetworkArgs {
  /** VPC block, e.g. `10.20.0.0/16`; subnets are laid out by `planSubnets`. */
  readonly cidr: string;
  /** Availability zones, in a stable order: a zone's subnets depend on its position. */
  readonly zones: readonly string[];
  /** `OnePerAz` keeps egress alive through a zone loss; `Single` saves cost outside production. */
  readonly natGateways: NatGatewayMode;
  /**
   * Retention of the VPC flow log group.
   * @default 365
   */
  readonly flowLogRetentionDays?: number;
  /** Tags for every resource; each also gets a `Name`. */
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export interface SubnetGroup {
  readonly zone: string;
  readonly publicSubnetId: pulumi.Output<string>;
  readonly privateSubnetId: pulumi.Output<string>;
  readonly isolatedSubnetId: pulumi.Output<string>;
}

/**
 * A VPC spread over the given zones: per zone a public subnet (NAT gateways, load balancers), a
 * private one (nodes and pods) and an isolated one (data stores, no internet route). Flow logs go
 * to CloudWatch; S3 traffic stays on a gateway endpoint; the default security group allows nothing.
 */
export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly cidr: string;
  public readonly layout: readonly ZoneSubnets[];
  public readonly zones: readonly SubnetGroup[];
  public readonly publicSubnetIds: pulumi.Output<string>[];
  public readonly privateSubnetIds: pulumi.Output<string>[];
  public readonly isolatedSubnetIds: pulumi.Output<string>[];
  public readonly natGatewayIds: pulumi.Output<string>[];
  /** Route tables of the private subnets (nodes, the EKS control plane's interfaces), by zone order. */
  public readonly privateRouteTableIds: pulumi.Output<string>[];
  public readonly flowLogGroupName: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:network:Network", name, {}, opts);
    const child = { parent: this };
    const tagsFor = (resourceName: string, extra: Record<string, string> = {}) => withName(args.tags, resourceName, extra);

    this.cidr = args.cidr;
    this.layout = planSubnets(args.cidr, args.zones);

    const vpc = vpcOf(name, args, tagsFor, this);
    this.vpcId = vpc.vpc.id;
    const zones = zoneNetworks(name, args, this.layout, vpc, tagsFor, this);

    const region = aws.getRegionOutput({}, child);
    new aws.ec2.VpcEndpoint(`${name}-s3`, {
      vpcId: vpc.vpc.id,
      serviceName: pulumi.interpolate`com.amazonaws.${region.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: [...zones.privateRouteTableIds, vpc.isolatedRouteTable.id],
      tags: tagsFor(`${name}-s3`),
    }, child);

    const flowLog = vpcFlowLog(name, vpc.vpc.id, args.flowLogRetentionDays ?? 365, tagsFor, child);

    this.zones = zones.groups;
    this.publicSubnetIds = zones.groups.map((g) => g.publicSubnetId);
    this.privateSubnetIds = zones.groups.map((g) => g.privateSubnetId);
    this.isolatedSubnetIds = zones.groups.map((g) => g.isolatedSubnetId);
    this.natGatewayIds = zones.natGatewayIds;
    this.privateRouteTableIds = zones.privateRouteTableIds;
    this.flowLogGroupName = flowLog.group.name;
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      isolatedSubnetIds: this.isolatedSubnetIds,
      natGatewayIds: this.natGatewayIds,
    });
  }
}

type TagsFor = (resourceName: string, extra?: Record<string, string>) => pulumi.Output<Record<string, string>>;

/** What the zones of a VPC share. */
interface VpcParts {
  readonly vpc: aws.ec2.Vpc;
  readonly igw: aws.ec2.InternetGateway;
  readonly publicRouteTable: aws.ec2.RouteTable;
  readonly isolatedRouteTable: aws.ec2.RouteTable;
}

/** The VPC and what every zone shares: the internet gateway, the public and the isolated route tables. */
function vpcOf(name: string, args: NetworkArgs, tagsFor: TagsFor, parent: pulumi.Resource): VpcParts {
  const child = { parent };
  const vpc = new aws.ec2.Vpc(`${name}-vpc`, {
    cidrBlock: args.cidr,
    enableDnsHostnames: true,
    enableDnsSupport: true,
    tags: tagsFor(`${name}-vpc`),
  }, child);

  // Strip every rule from the default security group (Security Hub EC2.2): nothing may rely on it.
  new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, {
    vpcId: vpc.id,
    ingress: [],
    egress: [],
    tags: tagsFor(`${name}-default-closed`),
  }, child);

  const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tagsFor(`${name}-igw`) }, child);

  const publicRouteTable = new aws.ec2.RouteTable(`${name}-public-rt`, {
    vpcId: vpc.id,
    routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
    tags: tagsFor(`${name}-public`),
  }, child);
  // Data subnets share one route table with only the local route (and the S3 endpoint).
  const isolatedRouteTable = new aws.ec2.RouteTable(`${name}-isolated-rt`, {
    vpcId: vpc.id,
    tags: tagsFor(`${name}-isolated`),
  }, child);
  return { vpc, igw, publicRouteTable, isolatedRouteTable };
}

/**
 * Per zone: the public, private and isolated subnets, the NAT gateway (one per zone, or the first
 * zone's for all with `Single`), and the private route table through it.
 */
function zoneNetworks(name: string, args: NetworkArgs, layout: readonly ZoneSubnets[], shared: VpcParts, tagsFor: TagsFor, parent: pulumi.Resource) {
  const child = { parent };
  const { vpc } = shared;
  const subnet = (role: "public" | "private" | "isolated", zone: ZoneSubnets, extraTags: Record<string, string>) =>
    new aws.ec2.Subnet(`${name}-${role}-${zone.zone}`, {
      vpcId: vpc.id,
      availabilityZone: zone.zone,
      cidrBlock: zone[role],
      // Nothing we launch needs a public IP: NAT gateways and load balancers bring their own.
      mapPublicIpOnLaunch: false,
      tags: tagsFor(`${name}-${role}-${zone.zone}`, { [SUBNET_ROLE_TAG]: role, ...extraTags }),
    }, child);

  const groups: SubnetGroup[] = [];
  const natGatewayIds: pulumi.Output<string>[] = [];
  const privateRouteTableIds: pulumi.Output<string>[] = [];
  let sharedNat: aws.ec2.NatGateway | undefined;

  for (const zone of layout) {
    const publicSubnet = subnet("public", zone, { "kubernetes.io/role/elb": "1" });
    const privateSubnet = subnet("private", zone, { "kubernetes.io/role/internal-elb": "1" });
    const isolatedSubnet = subnet("isolated", zone, {});

    new aws.ec2.RouteTableAssociation(`${name}-public-${zone.zone}`, { subnetId: publicSubnet.id, routeTableId: shared.publicRouteTable.id }, child);
    new aws.ec2.RouteTableAssociation(`${name}-isolated-${zone.zone}`, { subnetId: isolatedSubnet.id, routeTableId: shared.isolatedRouteTable.id }, child);

    let nat = sharedNat;
    if (nat === undefined) {
      const eip = new aws.ec2.Eip(`${name}-nat-${zone.zone}`, { domain: "vpc", tags: tagsFor(`${name}-nat-${zone.zone}`) }, child);
      nat = new aws.ec2.NatGateway(`${name}-nat-${zone.zone}`, {
        allocationId: eip.id,
        subnetId: publicSubnet.id,
        connectivityType: "public",
        tags: tagsFor(`${name}-nat-${zone.zone}`),
      }, { parent, dependsOn: [shared.igw] });
      natGatewayIds.push(nat.id);
      if (args.natGateways === "Single") sharedNat = nat;
    }

    const privateRouteTable = new aws.ec2.RouteTable(`${name}-private-rt-${zone.zone}`, {
      vpcId: vpc.id,
      routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }],
      tags: tagsFor(`${name}-private-${zone.zone}`),
    }, child);
    new aws.ec2.RouteTableAssociation(`${name}-private-${zone.zone}`, { subnetId: privateSubnet.id, routeTableId: privateRouteTable.id }, child);
    privateRouteTableIds.push(privateRouteTable.id);

    groups.push({ zone: zone.zone, publicSubnetId: publicSubnet.id, privateSubnetId: privateSubnet.id, isolatedSubnetId: isolatedSubnet.id });
  }
  return { groups, natGatewayIds, privateRouteTableIds };
}

/**
 * Every packet's metadata of a VPC into its own log group (FSBP EC2.6), written by a role that may
 * write only there. Children of the caller's component (`opts` carries `parent`).
 */
export function vpcFlowLog(name: string, vpcId: pulumi.Input<string>, retentionInDays: number, tagsFor: (name: string) => pulumi.Input<Record<string, pulumi.Input<string>>>, opts: pulumi.CustomResourceOptions): { group: aws.cloudwatch.LogGroup; flowLog: aws.ec2.FlowLog } {
  const group = new aws.cloudwatch.LogGroup(`${name}-flow-logs`, { retentionInDays, tags: tagsFor(`${name}-flow-logs`) }, opts);
  const role = new aws.iam.Role(`${name}-flow-logs`, {
    // The flow-log service of this account, for its flow logs only (VPC user guide, "IAM role for
    // publishing flow logs to CloudWatch Logs": aws:SourceAccount and aws:SourceArn).
    assumeRolePolicy: sourceOf(opts, (p, account) => `arn:${p}:ec2:*:${account}:vpc-flow-log/*`).apply((source) => JSON.stringify(serviceTrustPolicy("vpc-flow-logs.amazonaws.com", source))),
    tags: tagsFor(`${name}-flow-logs`),
  }, opts);
  new aws.iam.RolePolicy(`${name}-flow-logs`, { role: role.id, policy: group.arn.apply((arn) => JSON.stringify(flowLogWritePolicy(arn))) }, opts);
  const flowLog = new aws.ec2.FlowLog(`${name}-flow-log`, {
    vpcId,
    trafficType: "ALL",
    logDestinationType: "cloud-watch-logs",
    logDestination: group.arn,
    iamRoleArn: role.arn,
    maxAggregationInterval: 60,
    tags: tagsFor(`${name}-flow-log`),
  }, opts);
  return { group, flowLog };
}

/** Least privilege for the flow-log service: write streams into this one group. */
export function flowLogWritePolicy(logGroupArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: [logGroupArn, `${logGroupArn}:*`],
      },
    ],
  };
}
