import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { KeyAdministration } from "./keys";
import * as random from "@pulumi/random";
import { withName } from "../tagging";
import { allowFromClients } from "./access";
import { encryptionKey } from "./keys";
import { cacheUserId } from "../../model/naming";
import { sessionRedisPrefix, tenantCacheAccessString } from "../../model/cache-acl";

export const VALKEY_PORT = 6379;
export const VALKEY_ENGINE = "valkey";
export const VALKEY_VERSION = "8.0";

/** The type token the component had as `Redis`: its alias keeps every URN as it was. */
const REDIS_TYPE = "odoo-fleet:data:Redis";

export interface ValkeyArgs {
  /** Replication group id (fixed, at most 40 characters). */
  readonly replicationGroupId: string;
  readonly nodeType: string;
  /** A replica in another zone and automatic failover. */
  readonly multiAz: boolean;
  /** Tenants, each getting its own ACL user limited to its own session keys and the session store's commands. */
  readonly tenants: readonly { readonly name: string; readonly tier: string }[];
  readonly vpcId: pulumi.Input<string>;
  /** Isolated (data) subnets. */
  readonly subnetIds: pulumi.Input<string>[];
  /** Security groups allowed in on 6379: the cluster's nodes and pods. */
  readonly clientSecurityGroupIds: pulumi.Input<string>[];
  /** Daily UTC window for snapshots. */
  readonly snapshotWindow: string;
  readonly maintenanceWindow: string;
  /**
   * Days of daily snapshots kept.
   * @default 7
   */
  readonly snapshotRetentionDays?: number;
  /** Retention of the slow-log group: the stack's choice (spec/defaults.ts), so no second default here. */
  readonly logRetentionDays: number;
  /**
   * SNS topic for the group's events (failovers among them).
   * @default none
   */
  readonly notificationTopicArn?: pulumi.Input<string>;
  /**
   * `protect` the replication group and its key.
   * @default true
   */
  readonly protect?: boolean;
  /** Who administers the component's KMS keys, and the break-glass role that alone may delete them. */
  readonly keyAdministration: KeyAdministration;
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** A tenant's ACL user: what its Odoo connects with. */
export interface TenantCacheUser {
  readonly userName: string;
  readonly password: pulumi.Output<string>;
  /** ODOO_SESSION_REDIS_PREFIX: session_redis writes under `session::<keyPrefix>:`, all the user may touch. */
  readonly keyPrefix: string;
}

/**
 * ACL rules of a tenant's user: its own session keys and channels, and by name only the commands
 * Odoo's session store sends (model/cache-acl.ts says which, and why everything else is refused).
 */
export function tenantAccessString(tenant: string): string {
  return tenantCacheAccessString(tenant);
}

/** The `default` user every user group must hold, switched off. */
export const DISABLED_DEFAULT_ACCESS_STRING = "off -@all";

/** Parameters for HTTP sessions: evict only keys that expire (sessions), never the others. */
export function sessionCacheParameters(): { name: string; value: string }[] {
  return [
    { name: "maxmemory-policy", value: "volatile-lru" },
    // Close clients idle for an hour; Odoo reconnects on demand.
    { name: "timeout", value: "3600" },
  ];
}

/**
 * ElastiCache (Valkey) for Odoo sessions: TLS in transit, KMS at rest, RBAC with the default user
 * disabled and one user per tenant restricted to its own sessions, daily snapshots, and in production a
 * replica in another zone with automatic failover. Its resources keep the `-redis` names they were
 * created with: their physical names and tags carry them, and a new name would replace them.
 */
export class Valkey extends pulumi.ComponentResource {
  public readonly primaryEndpoint: pulumi.Output<string>;
  public readonly port: number = VALKEY_PORT;
  public readonly securityGroupId: pulumi.Output<string>;
  /** Per tenant: its ACL user name and password (a secret). */
  public readonly users: Readonly<Record<string, TenantCacheUser>>;

  constructor(name: string, args: ValkeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:data:Valkey", name, {}, pulumi.mergeOptions(opts, { aliases: [{ type: REDIS_TYPE }] }));
    const protect = args.protect ?? true;
    const id = args.replicationGroupId;
    const key = encryptionKey(`${name}-redis`, {
      description: `At-rest encryption of ElastiCache ${id}`,
      alias: `${id}-redis`,
      tags: args.tags,
      access: { administration: args.keyAdministration, use: { viaServices: ["elasticache"] } },
    }, { parent: this, protect });
    const placement = this.placement(name, args);
    const parameterGroup = new aws.elasticache.ParameterGroup(`${name}-redis`, {
      family: `${VALKEY_ENGINE}${VALKEY_VERSION.split(".")[0]}`,
      description: `Odoo sessions on ${id}`,
      parameters: sessionCacheParameters(),
      tags: withName(args.tags, `${name}-redis`),
    }, { parent: this });
    const { userGroup, users } = this.accessControl(name, args);
    const slowLog = new aws.cloudwatch.LogGroup(`${name}-redis-slow-log`, {
      name: `/aws/elasticache/${id}/slow-log`,
      retentionInDays: args.logRetentionDays,
      tags: withName(args.tags, `${name}-redis-slow-log`),
    }, { parent: this });
    const group = this.replicationGroup(name, args, { protect, key, ...placement, parameterGroup, userGroup, slowLog });

    this.primaryEndpoint = group.primaryEndpointAddress;
    this.securityGroupId = placement.securityGroup.id;
    this.users = users;
    this.registerOutputs({ primaryEndpoint: this.primaryEndpoint });
  }

  /** The subnet group and the security group, open on 6379 to the cluster only. */
  private placement(name: string, args: ValkeyArgs): { subnetGroup: aws.elasticache.SubnetGroup; securityGroup: aws.ec2.SecurityGroup } {
    const child = { parent: this };
    const id = args.replicationGroupId;
    const subnetGroup = new aws.elasticache.SubnetGroup(`${name}-redis`, {
      subnetIds: args.subnetIds,
      description: `Isolated subnets of ${id}`,
      tags: withName(args.tags, `${name}-redis`),
    }, child);
    const securityGroup = new aws.ec2.SecurityGroup(`${name}-redis`, {
      vpcId: args.vpcId,
      description: `ElastiCache ${id}: 6379 from the cluster only`,
      tags: withName(args.tags, `${name}-redis`),
    }, child);
    allowFromClients(`${name}-redis`, { securityGroupId: securityGroup.id, clientSecurityGroupIds: args.clientSecurityGroupIds, port: VALKEY_PORT, description: "Valkey from the EKS cluster" }, child);
    return { subnetGroup, securityGroup };
  }

  /** RBAC: the `default` user switched off, one user per tenant limited to its own sessions, all in one group. */
  private accessControl(name: string, args: ValkeyArgs): { userGroup: aws.elasticache.UserGroup; users: Record<string, TenantCacheUser> } {
    const child = { parent: this };
    const id = args.replicationGroupId;
    const password = (userName: string) =>
      new random.RandomPassword(`${name}-redis-${userName}`, { length: 40, special: false }, child);

    // Every user group must contain a user named "default"; ours is switched off.
    const defaultUser = new aws.elasticache.User(`${name}-redis-default`, {
      userId: cacheUserId(id, "default"),
      userName: "default",
      engine: VALKEY_ENGINE,
      accessString: DISABLED_DEFAULT_ACCESS_STRING,
      authenticationMode: { type: "password", passwords: [password("default").result] },
      tags: withName(args.tags, `${name}-redis-default`),
    }, child);

    const users: Record<string, TenantCacheUser> = {};
    const tenantUsers = args.tenants.map(({ name: tenant, tier }) => {
      const secret = password(tenant);
      users[tenant] = { userName: tenant, password: secret.result, keyPrefix: sessionRedisPrefix(tenant) };
      return new aws.elasticache.User(`${name}-redis-${tenant}`, {
        userId: cacheUserId(id, tenant),
        userName: tenant,
        engine: VALKEY_ENGINE,
        accessString: tenantAccessString(tenant),
        authenticationMode: { type: "password", passwords: [secret.result] },
        tags: pulumi.output(args.tags).apply((t): Record<string, string> => ({ ...t, tenant, tier, Name: `${name}-redis-${tenant}` })),
      }, child);
    });

    const userGroup = new aws.elasticache.UserGroup(`${name}-redis`, {
      userGroupId: `${id}-users`,
      engine: VALKEY_ENGINE,
      userIds: [defaultUser.userId, ...tenantUsers.map((u) => u.userId)],
      tags: withName(args.tags, `${name}-redis`),
    }, child);
    return { userGroup, users };
  }

  /** The replication group: TLS required, KMS at rest, daily snapshots, Multi-AZ failover where asked. */
  private replicationGroup(name: string, args: ValkeyArgs, parts: {
    protect: boolean;
    key: aws.kms.Key;
    subnetGroup: aws.elasticache.SubnetGroup;
    securityGroup: aws.ec2.SecurityGroup;
    parameterGroup: aws.elasticache.ParameterGroup;
    userGroup: aws.elasticache.UserGroup;
    slowLog: aws.cloudwatch.LogGroup;
  }): aws.elasticache.ReplicationGroup {
    const { protect } = parts;
    const id = args.replicationGroupId;
    return new aws.elasticache.ReplicationGroup(`${name}-redis`, {
      replicationGroupId: id,
      // Nothing tenant-dependent here: adding a tenant must not touch the group itself.
      description: `Odoo sessions of ${id}`,
      engine: VALKEY_ENGINE,
      engineVersion: VALKEY_VERSION,
      nodeType: args.nodeType,
      port: VALKEY_PORT,
      numCacheClusters: args.multiAz ? 2 : 1,
      automaticFailoverEnabled: args.multiAz,
      multiAzEnabled: args.multiAz,
      subnetGroupName: parts.subnetGroup.name,
      securityGroupIds: [parts.securityGroup.id],
      parameterGroupName: parts.parameterGroup.name,
      atRestEncryptionEnabled: true,
      kmsKeyId: parts.key.arn,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      userGroupIds: [parts.userGroup.userGroupId],
      snapshotRetentionLimit: args.snapshotRetentionDays ?? 7,
      snapshotWindow: args.snapshotWindow,
      maintenanceWindow: args.maintenanceWindow,
      finalSnapshotIdentifier: `${id}-final`,
      ...(args.notificationTopicArn ? { notificationTopicArn: args.notificationTopicArn } : {}),
      autoMinorVersionUpgrade: true,
      applyImmediately: false,
      logDeliveryConfigurations: [
        { destination: parts.slowLog.name, destinationType: "cloudwatch-logs", logFormat: "json", logType: "slow-log" },
      ],
      tags: withName(args.tags, `${name}-redis`),
    }, { parent: this, protect, retainOnDelete: protect });
  }
}
