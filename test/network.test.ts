import { beforeAll, describe, expect, test } from "vitest";
import { Network } from "../components/network";
import type { CapturedResource } from "../model/resource";
import { childrenOf, named, ofType, startHarness } from "./harness";

const ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
const SUBNET = "aws:ec2/subnet:Subnet";
const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const TAGS = { project: "odoo-fleet", stack: "test", environment: "production" };

let resources: CapturedResource[];
let invokes: string[];

beforeAll(async () => {
  const harness = await startHarness();
  new Network("prod", { cidr: "10.20.0.0/16", zones: ZONES, natGateways: "OnePerAz", tags: TAGS });
  new Network("dev", { cidr: "10.10.0.0/16", zones: ZONES.slice(0, 2), natGateways: "Single", flowLogRetentionDays: 30, tags: TAGS });
  resources = await harness.settle();
  invokes = harness.mocks.invokes.map((i) => i.token);
});

const inNetwork = (name: string) => childrenOf(resources, named(resources, name));

describe("Network in OnePerAz mode (production)", () => {
  test("registers exactly these resources", () => {
    const counts: Record<string, number> = {};
    for (const r of inNetwork("prod")) counts[r.type] = (counts[r.type] ?? 0) + 1;
    expect(counts).toEqual({
      "aws:ec2/vpc:Vpc": 1,
      "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": 1,
      "aws:ec2/internetGateway:InternetGateway": 1,
      "aws:ec2/routeTable:RouteTable": 5,
      "aws:ec2/routeTableAssociation:RouteTableAssociation": 9,
      "aws:ec2/subnet:Subnet": 9,
      "aws:ec2/eip:Eip": 3,
      "aws:ec2/natGateway:NatGateway": 3,
      "aws:ec2/vpcEndpoint:VpcEndpoint": 1,
      "aws:cloudwatch/logGroup:LogGroup": 1,
      "aws:iam/role:Role": 1,
      "aws:iam/rolePolicy:RolePolicy": 1,
      "aws:ec2/flowLog:FlowLog": 1,
    });
    expect(named(resources, "prod").type).toBe("odoo-fleet:network:Network");
  });

  test("a public, a private and an isolated subnet in each zone, none assigning public IPs", () => {
    const subnets = ofType(inNetwork("prod"), "aws:ec2/subnet:Subnet");
    const rows = subnets.map((s) => [s.inputs.availabilityZone, (s.inputs.tags as Record<string, string>)["odoo-fleet/subnet-role"], s.inputs.cidrBlock, s.inputs.mapPublicIpOnLaunch]);
    expect(rows.sort()).toEqual([
      ["eu-west-1a", "isolated", "10.20.160.0/21", false],
      ["eu-west-1a", "private", "10.20.0.0/19", false],
      ["eu-west-1a", "public", "10.20.128.0/21", false],
      ["eu-west-1b", "isolated", "10.20.168.0/21", false],
      ["eu-west-1b", "private", "10.20.32.0/19", false],
      ["eu-west-1b", "public", "10.20.136.0/21", false],
      ["eu-west-1c", "isolated", "10.20.176.0/21", false],
      ["eu-west-1c", "private", "10.20.64.0/19", false],
      ["eu-west-1c", "public", "10.20.144.0/21", false],
    ]);
    expect(named(resources, "prod-public-eu-west-1a", SUBNET).inputs.tags).toEqual({
      ...TAGS,
      Name: "prod-public-eu-west-1a",
      "odoo-fleet/subnet-role": "public",
      "kubernetes.io/role/elb": "1",
    });
    expect((named(resources, "prod-private-eu-west-1b", SUBNET).inputs.tags as Record<string, string>)["kubernetes.io/role/internal-elb"]).toBe("1");
  });

  test("one NAT gateway per zone, each in its zone's public subnet, and each private route table uses its own zone's", () => {
    for (const zone of ZONES) {
      const nat = named(resources, `prod-nat-${zone}`, "aws:ec2/natGateway:NatGateway");
      expect(nat.type).toBe("aws:ec2/natGateway:NatGateway");
      expect(nat.inputs.subnetId).toMatch(new RegExp(`^prod-public-${zone}-[0-9a-f]{8}$`));
      expect(nat.inputs.allocationId).toMatch(new RegExp(`^prod-nat-${zone}-`));
      const routes = named(resources, `prod-private-rt-${zone}`).inputs.routes as Record<string, unknown>[];
      expect(routes).toEqual([expect.objectContaining({ cidrBlock: "0.0.0.0/0", natGatewayId: expect.stringMatching(new RegExp(`^prod-nat-${zone}-`)) })]);
    }
  });

  test("the isolated route table has no route out", () => {
    expect(named(resources, "prod-isolated-rt").inputs.routes).toBeUndefined();
  });

  test("the default security group has no rules", () => {
    const sg = named(resources, "prod-default-sg");
    expect(sg.inputs.ingress).toEqual([]);
    expect(sg.inputs.egress).toEqual([]);
  });

  test("flow logs of all traffic go to a CloudWatch group with retention, through a role limited to it", () => {
    const group = named(resources, "prod-flow-logs", LOG_GROUP);
    expect(group.type).toBe("aws:cloudwatch/logGroup:LogGroup");
    expect(group.inputs.retentionInDays).toBe(365);
    const flowLog = named(resources, "prod-flow-log");
    expect(flowLog.inputs).toMatchObject({
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: expect.stringMatching(/^arn:aws:logs:eu-west-1:123456789012:log-group:prod-flow-logs-/),
      iamRoleArn: expect.stringMatching(/^arn:aws:iam::123456789012:role\/prod-flow-logs-/),
    });
    const policy = JSON.parse(ofType(inNetwork("prod"), "aws:iam/rolePolicy:RolePolicy")[0]!.inputs.policy as string);
    const arn = flowLog.inputs.logDestination as string;
    expect(policy.Statement).toEqual([
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], Resource: [arn, `${arn}:*`] },
    ]);
    const trust = JSON.parse(ofType(inNetwork("prod"), "aws:iam/role:Role")[0]!.inputs.assumeRolePolicy as string);
    expect(trust.Statement[0].Principal).toEqual({ Service: "vpc-flow-logs.amazonaws.com" });
  });

  test("an S3 gateway endpoint in the provider's region serves the private and isolated route tables", () => {
    const endpoint = named(resources, "prod-s3");
    expect(endpoint.inputs.serviceName).toBe("com.amazonaws.eu-west-1.s3");
    expect(endpoint.inputs.vpcEndpointType).toBe("Gateway");
    expect((endpoint.inputs.routeTableIds as string[]).map((id) => id.replace(/-[0-9a-f]{8}$/, ""))).toEqual([
      "prod-private-rt-eu-west-1a",
      "prod-private-rt-eu-west-1b",
      "prod-private-rt-eu-west-1c",
      "prod-isolated-rt",
    ]);
    expect(invokes).toContain("aws:index/getRegion:getRegion");
  });
});

describe("Network in Single mode (development)", () => {
  test("one NAT gateway in the first zone serves every private route table", () => {
    const nats = ofType(inNetwork("dev"), "aws:ec2/natGateway:NatGateway");
    expect(nats.map((n) => n.name)).toEqual(["dev-nat-eu-west-1a"]);
    expect(ofType(inNetwork("dev"), "aws:ec2/eip:Eip")).toHaveLength(1);
    for (const zone of ["eu-west-1a", "eu-west-1b"]) {
      const routes = named(resources, `dev-private-rt-${zone}`).inputs.routes as Record<string, unknown>[];
      expect(routes[0]!.natGatewayId).toMatch(/^dev-nat-eu-west-1a-/);
    }
  });

  test("two zones give six subnets and the requested flow-log retention", () => {
    expect(ofType(inNetwork("dev"), "aws:ec2/subnet:Subnet").map((s) => s.inputs.availabilityZone).sort()).toEqual([
      "eu-west-1a", "eu-west-1a", "eu-west-1a", "eu-west-1b", "eu-west-1b", "eu-west-1b",
    ]);
    expect(named(resources, "dev-flow-logs", LOG_GROUP).inputs.retentionInDays).toBe(30);
  });
});

