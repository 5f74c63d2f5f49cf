import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy } from "../iam";
import { withName } from "../tagging";
import { runnerInstancePolicy, runnerUserData } from "./policies";

/** Ubuntu, as GitHub's hosted runners: the workflows install tools with apt. Resolved by EC2 at launch. */
export const RUNNER_IMAGE = "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";

export interface RunnerPoolArgs {
  /** The runner label jobs ask for (`runs-on: [self-hosted, <label>]`). */
  readonly label: string;
  /** Tag key carrying the label on the instances (their permission to switch off their own metadata). */
  readonly labelTag: string;
  /** `owner/name` of the GitHub repository the runners register with. */
  readonly repository: string;
  readonly subnetId: pulumi.Input<string>;
  readonly securityGroupId: pulumi.Input<string>;
  /** Secrets Manager secret (name) holding a GitHub token allowed to create runner registration tokens. */
  readonly tokenSecretName: string;
  readonly region: string;
  /**
   * Organisation runner group the runners join (production pools: one restricted to the workflows
   * that run merged code, model/ci.ts PRODUCTION_RUNNER_GROUP).
   * @default none: runners of the repository, which any of its workflows may ask for by label
   */
  readonly runnerGroup?: string;
  readonly accountId: pulumi.Input<string>;
  /**
   * EC2 instance type of the runners.
   * @default "m7i.large"
   */
  readonly instanceType?: string;
  /**
   * Idle runners kept ready; each takes one job and is replaced.
   * @default 1
   */
  readonly size?: number;
  /**
   * Root volume size of a runner, GiB.
   * @default 100
   */
  readonly diskGiB?: number;
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * Ephemeral self-hosted GitHub Actions runners of one label: an Auto Scaling group of instances that
 * each register, run one job and terminate (runnerUserData). IMDSv2 only, encrypted disks, an
 * instance role that can read the registration token and nothing else.
 */
export class RunnerPool extends pulumi.ComponentResource {
  public readonly groupName: pulumi.Output<string>;

  constructor(name: string, args: RunnerPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:ci:RunnerPool", name, {}, opts);
    const child = { parent: this };
    const partition = aws.getPartitionOutput({}, child).partition;

    const role = new aws.iam.Role(`${name}-runner`, {
      assumeRolePolicy: JSON.stringify(serviceTrustPolicy("ec2.amazonaws.com")),
      tags: withName(args.tags, `${name}-runner`),
    }, child);
    new aws.iam.RolePolicy(`${name}-runner`, {
      role: role.id,
      policy: pulumi.all([partition, args.accountId]).apply(([p, account]) =>
        JSON.stringify(runnerInstancePolicy({ secretArnPattern: `arn:${p}:secretsmanager:${args.region}:${account}:secret:${args.tokenSecretName}-*`, labelTag: args.labelTag })),
      ),
    }, child);
    const profile = new aws.iam.InstanceProfile(`${name}-runner`, { role: role.name, tags: withName(args.tags, `${name}-runner`) }, child);

    const instanceTags = pulumi.output(args.tags).apply((t) => ({ ...t, Name: `${name}-runner`, [args.labelTag]: args.label }));
    const template = new aws.ec2.LaunchTemplate(`${name}-runner`, {
      description: `Ephemeral GitHub Actions runners labelled ${args.label}`,
      imageId: RUNNER_IMAGE,
      instanceType: args.instanceType ?? "m7i.large",
      iamInstanceProfile: { arn: profile.arn },
      vpcSecurityGroupIds: [args.securityGroupId],
      // The runner powers off after its one job; terminating then lets the group start a fresh one.
      instanceInitiatedShutdownBehavior: "terminate",
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [{ deviceName: "/dev/sda1", ebs: { volumeSize: args.diskGiB ?? 100, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } }],
      userData: Buffer.from(runnerUserData({ repository: args.repository, label: args.label, tokenSecretId: args.tokenSecretName, region: args.region, ...(args.runnerGroup === undefined ? {} : { runnerGroup: args.runnerGroup }) })).toString("base64"),
      tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({ resourceType, tags: instanceTags })),
      updateDefaultVersion: true,
      tags: withName(args.tags, `${name}-runner`),
    }, child);

    const size = args.size ?? 1;
    const group = new aws.autoscaling.Group(`${name}-runners`, {
      minSize: size,
      maxSize: size,
      desiredCapacity: size,
      vpcZoneIdentifiers: [args.subnetId],
      // No instance refresh: it would stop runners mid-job. Each runner lives for one job, and its
      // replacement starts from the latest template version (runner release, user data).
      launchTemplate: { id: template.id, version: pulumi.interpolate`${template.latestVersion}` },
      // Instances and volumes get their tags from the template; the group carries the stack's tags too.
      tags: pulumi.output(args.tags).apply((t) => Object.entries({ ...t, Name: `${name}-runners` }).map(([key, value]) => ({ key, value, propagateAtLaunch: false }))),
    }, child);

    this.groupName = group.name;
    this.registerOutputs({ groupName: this.groupName });
  }
}
