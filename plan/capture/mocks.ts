/**
 * Offline stand-ins for the cloud: Pulumi mocks that answer the invokes this program makes, fail
 * loudly on any other, and give resources the computed outputs the program reads (ids, ARNs, the
 * EKS endpoint and OIDC issuer). Used by the offline plan and by the tests.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

export const MOCK_ACCOUNT_ID = "123456789012";

type State = Record<string, unknown>;

function shortHash(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 17);
}

/** Provider references arrive as `<urn>::<id>`. */
function providerId(reference: string | undefined): string | undefined {
  if (!reference) return undefined;
  const at = reference.lastIndexOf("::");
  return at < 0 ? undefined : reference.slice(at + 2);
}

export class UnknownInvokeError extends Error {
  /** The SDK reports a failed invoke by the gRPC error's `details`, as from a real monitor. */
  readonly details: string;
  constructor(token: string) {
    super(`the offline mocks do not know the invoke ${token}; add an answer for it in plan/capture/mocks.ts`);
    this.name = "UnknownInvokeError";
    this.details = this.message;
  }
}

export class PlatformMocks implements pulumi.runtime.Mocks {
  /** Region of each AWS provider instance, by provider id; `defaultRegion` for the default provider. */
  private readonly providerRegions = new Map<string, string>();
  /** Every invoke answered, in order: tests assert on them. */
  readonly invokes: { token: string; inputs: Record<string, unknown> }[] = [];

  /**
   * @param stackReferences outputs of the stacks the program references, by the name it uses (the
   *   plan fills them from an offline plan of each referenced stack)
   */
  constructor(
    private readonly defaultRegion: string,
    private readonly stackReferences: Readonly<Record<string, Record<string, unknown>>> = {},
  ) {}

  private regionOf(providerRef: string | undefined, inputs?: Record<string, unknown>): string {
    if (typeof inputs?.region === "string") return inputs.region;
    const id = providerId(providerRef);
    return (id && this.providerRegions.get(id)) || this.defaultRegion;
  }

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: State } {
    const { id, outputs, echoInputs } = this.resourceOutputs(args);
    return { id, state: echoInputs ? { ...args.inputs, ...outputs } : outputs };
  }

  /**
   * What a registration gets back: its id, the outputs the provider computes, and whether its inputs
   * come back as outputs too (as the engine returns them for a resource in a preview). The plan's
   * capture answers registrations from this without re-serializing the inputs (plan/capture/capture.ts).
   */
  resourceOutputs(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; outputs: State; echoInputs: boolean } {
    const id = `${args.name}-${shortHash(args.type, args.name).slice(0, 8)}`;
    if (args.type === "pulumi:pulumi:StackReference") {
      const name = String(args.inputs.name);
      const outputs = this.stackReferences[name];
      if (!outputs) throw new Error(`the offline plan has no outputs for stack reference ${name}`);
      return { id: name, outputs: { name, outputs, secretOutputNames: [] }, echoInputs: false };
    }
    if (args.type === "pulumi:providers:aws") {
      this.providerRegions.set(id, String(args.inputs.region ?? this.defaultRegion));
      return { id, outputs: {}, echoInputs: true };
    }
    const region = this.regionOf(args.provider, args.inputs);
    return { id, outputs: this.computedOutputs(args, id, region), echoInputs: true };
  }

  /** Outputs AWS computes on create, for the types whose outputs the program reads. */
  private computedOutputs(args: pulumi.runtime.MockResourceArgs, id: string, region: string): State {
    const inputs = args.inputs;
    const arn = (service: string, resource: string, regional = true) =>
      `arn:aws:${service}:${regional ? region : ""}:${MOCK_ACCOUNT_ID}:${resource}`;
    switch (args.type) {
      case "aws:ec2/vpc:Vpc":
        return { arn: arn("ec2", `vpc/${id}`), defaultSecurityGroupId: `sg-${shortHash(id, "default")}`, mainRouteTableId: `rtb-${shortHash(id)}` };
      case "aws:ec2/subnet:Subnet":
        return { arn: arn("ec2", `subnet/${id}`) };
      case "aws:iam/role:Role": {
        const name = String(inputs.name ?? `${args.name}-${shortHash(id).slice(0, 7)}`);
        return { name, arn: arn("iam", `role/${name}`, false), uniqueId: `AROA${shortHash(id).toUpperCase()}` };
      }
      case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
        return { arn: arn("iam", `oidc-provider/${String(inputs.url).replace(/^https:\/\//, "")}`, false) };
      case "aws:kms/key:Key":
        return { arn: arn("kms", `key/${id}`), keyId: id };
      case "aws:cloudwatch/logGroup:LogGroup": {
        const name = String(inputs.name ?? `${args.name}-${shortHash(id).slice(0, 7)}`);
        return { name, arn: arn("logs", `log-group:${name}`) };
      }
      case "aws:ec2/launchTemplate:LaunchTemplate":
        return { arn: arn("ec2", `launch-template/${id}`), latestVersion: 1, defaultVersion: 1 };
      case "aws:eks/cluster:Cluster": {
        const name = String(inputs.name ?? args.name);
        const oidcId = shortHash(name, "oidc").toUpperCase();
        return {
          name,
          arn: arn("eks", `cluster/${name}`),
          endpoint: `https://${oidcId}.gr7.${region}.eks.amazonaws.com`,
          certificateAuthority: { data: Buffer.from(`mock certificate authority of ${name}`).toString("base64") },
          identities: [{ oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/${oidcId}` }] }],
          vpcConfig: { ...(inputs.vpcConfig as State), clusterSecurityGroupId: `sg-${shortHash(name, "cluster")}`, vpcId: `vpc-${shortHash(name)}` },
          status: "ACTIVE",
        };
      }
      case "aws:eks/nodeGroup:NodeGroup":
        return { arn: arn("eks", `nodegroup/${args.name}`), status: "ACTIVE" };
      case "aws:ec2/securityGroup:SecurityGroup":
        return { arn: arn("ec2", `security-group/${id}`) };
      case "aws:rds/subnetGroup:SubnetGroup":
      case "aws:rds/parameterGroup:ParameterGroup":
      case "aws:elasticache/subnetGroup:SubnetGroup":
      case "aws:elasticache/parameterGroup:ParameterGroup": {
        const name = String(inputs.name ?? `${args.name}-${shortHash(id).slice(0, 7)}`);
        return { name, arn: arn(args.type.startsWith("aws:rds") ? "rds" : "elasticache", `${args.type.includes("subnet") ? "subgrp" : "pg"}:${name}`) };
      }
      case "aws:rds/instance:Instance": {
        const identifier = String(inputs.identifier ?? args.name);
        const address = `${identifier}.${shortHash(MOCK_ACCOUNT_ID, region).slice(0, 12)}.${region}.rds.amazonaws.com`;
        return {
          identifier,
          arn: arn("rds", `db:${identifier}`),
          address,
          endpoint: `${address}:${inputs.port ?? 5432}`,
          resourceId: `db-${shortHash(id).toUpperCase()}`,
          masterUserSecrets: inputs.manageMasterUserPassword
            ? [{ secretArn: arn("secretsmanager", `secret:rds!db-${shortHash(id, "secret")}`), kmsKeyId: inputs.masterUserSecretKmsKeyId, secretStatus: "active" }]
            : [],
        };
      }
      case "aws:elasticache/replicationGroup:ReplicationGroup":
        return {
          arn: arn("elasticache", `replicationgroup:${inputs.replicationGroupId}`),
          primaryEndpointAddress: `master.${inputs.replicationGroupId}.${shortHash(id).slice(0, 6)}.${region}.cache.amazonaws.com`,
          readerEndpointAddress: `replica.${inputs.replicationGroupId}.${shortHash(id).slice(0, 6)}.${region}.cache.amazonaws.com`,
        };
      case "aws:elasticache/user:User":
        return { arn: arn("elasticache", `user:${inputs.userId}`) };
      case "aws:elasticache/userGroup:UserGroup":
        return { arn: arn("elasticache", `usergroup:${inputs.userGroupId}`) };
      case "aws:efs/fileSystem:FileSystem":
        return { arn: arn("elasticfilesystem", `file-system/fs-${shortHash(id)}`), dnsName: `fs-${shortHash(id)}.efs.${region}.amazonaws.com` };
      case "aws:efs/accessPoint:AccessPoint":
        return { arn: arn("elasticfilesystem", `access-point/fsap-${shortHash(id)}`) };
      case "aws:s3/bucket:Bucket": {
        const bucket = String(inputs.bucket ?? `${args.name}-${shortHash(id).slice(0, 12)}`);
        return { bucket, arn: `arn:aws:s3:::${bucket}`, region };
      }
      case "aws:sns/topic:Topic": {
        const name = String(inputs.name ?? `${args.name}-${shortHash(id).slice(0, 7)}`);
        return { name, arn: arn("sns", name) };
      }
      case "aws:backup/vault:Vault":
        return { arn: arn("backup", `backup-vault:${inputs.name}`) };
      case "aws:backup/plan:Plan":
        return { arn: arn("backup", `backup-plan:${id}`), version: "1" };
      case "random:index/randomPassword:RandomPassword":
        // Deterministic stand-in; the SDK marks `result` secret, so it never reaches the plan's output.
        return { result: `mock-password-${shortHash(id)}`, bcryptHash: "mock-bcrypt" };
      default:
        return {};
    }
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    this.invokes.push({ token: args.token, inputs: args.inputs });
    const region = this.regionOf(args.provider);
    switch (args.token) {
      case "aws:index/getRegion:getRegion":
        return { id: region, name: region, region, endpoint: `ec2.${region}.amazonaws.com`, description: region };
      case "aws:index/getPartition:getPartition":
        return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return { id: MOCK_ACCOUNT_ID, accountId: MOCK_ACCOUNT_ID, arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/deployer`, userId: "AROAMOCKDEPLOYER" };
      // Lookups of what another stack made (the bootstrap stack's runner network), found by tags.
      case "aws:ec2/getVpc:getVpc": {
        const id = `vpc-${shortHash("lookup", JSON.stringify(args.inputs.tags ?? {}))}`;
        return { id, arn: `arn:aws:ec2:${region}:${MOCK_ACCOUNT_ID}:vpc/${id}`, tags: args.inputs.tags ?? {} };
      }
      case "aws:ec2/getRouteTable:getRouteTable": {
        const id = `rtb-${shortHash("lookup", String(args.inputs.vpcId), JSON.stringify(args.inputs.tags ?? {}))}`;
        return { id, routeTableId: id, vpcId: args.inputs.vpcId, tags: args.inputs.tags ?? {} };
      }
      default:
        throw new UnknownInvokeError(args.token);
    }
  }
}
