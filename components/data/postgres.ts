import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AUDIT_PARAMETERS, PGAUDIT_LIBRARY } from "../../model/postgres-audit";
import type { KeyAdministration } from "./keys";
import { RDS_MAX_CONNECTIONS_FORMULA } from "../../tiers/sizing";
import { serviceTrustPolicy } from "../iam";
import { sourceOf } from "../trust";
import { withName } from "../tagging";
import { allowFromClients } from "./access";
import { encryptionKey } from "./keys";

export const POSTGRES_PORT = 5432;
/** Custom master user (Security Hub RDS.24/.25): never `postgres`. */
export const MASTER_USERNAME = "fleet_admin";
/** The logs RDS exports to CloudWatch, each into a log group of ours. */
const POSTGRES_LOG_EXPORTS = ["postgresql", "upgrade"] as const;
/** Certificate authority of the instances' server certificates. */
const RDS_CA = "rds-ca-rsa2048-g1";

export interface PostgresDrArgs {
  /** Provider of the DR region: every DR resource is created through it. */
  readonly provider: aws.Provider;
  /** Copy automated backups and transaction logs to the DR region. */
  readonly replicateAutomatedBackups: boolean;
  /**
   * A cross-region read replica (warm standby) in the DR network.
   * @default none
   */
  readonly readReplica?: PostgresPlacement;
}

/** Where a PostgreSQL instance lives and who may reach it. */
export interface PostgresPlacement {
  readonly vpcId: pulumi.Input<string>;
  /** Isolated (data) subnets, one per zone. */
  readonly subnetIds: pulumi.Input<string>[];
  /** Security groups allowed in on 5432: the (DR) cluster's nodes and pods. */
  readonly clientSecurityGroupIds: pulumi.Input<string>[];
}

export interface PostgresServerArgs extends PostgresPlacement {
  /** RDS instance identifier (fixed: log groups and snapshots are named after it). */
  readonly identifier: string;
  /** Major version, e.g. "16"; RDS applies minor versions in the maintenance window. */
  readonly version: string;
  readonly instanceClass: string;
  readonly storageGiB: number;
  /** Storage autoscaling limit. */
  readonly maxStorageGiB: number;
  readonly multiAz: boolean;
  /** Automated-backup retention in days: the PITR window. */
  readonly backupRetentionDays: number;
  readonly backupWindow: string;
  readonly maintenanceWindow: string;
  /** Retention of the PostgreSQL log groups: the stack's choice (spec/defaults.ts), so no second default here. */
  readonly logRetentionDays: number;
  /**
   * `protect` the instance and its keys, and turn on deletion protection.
   * @default true
   */
  readonly protect?: boolean;
  /**
   * Cross-region disaster recovery.
   * @default none
   */
  readonly dr?: PostgresDrArgs;
  /** Who administers the component's KMS keys, and the break-glass role that alone may delete them. */
  readonly keyAdministration: KeyAdministration;
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export interface DbParameter {
  name: string;
  value: string;
  applyMethod: "immediate" | "pending-reboot";
}

/** Parameter family of an RDS PostgreSQL major version. */
export function postgresFamily(version: string): string {
  return `postgres${version.split(".")[0]}`;
}

/**
 * Parameters tuned for Odoo: TLS only, query statistics, slow queries and lock waits in the log,
 * connections and pgAudit's DDL and role audit in the log (model/postgres-audit.ts; RDS exports the
 * `postgresql` log, where both land, to CloudWatch), idle transactions ended before they hold locks
 * for long, and max_connections by the instance class:
 * RDS's own formula, so the group never changes with the tenants (the spec checks their budget
 * against what the class yields) and a class change carries its value with it.
 */
export function odooPostgresParameters(): DbParameter[] {
  return [
    { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
    // Static on RDS (pending-reboot): a server that exists already loads pgaudit at its next reboot.
    { name: "shared_preload_libraries", value: `pg_stat_statements,${PGAUDIT_LIBRARY}`, applyMethod: "pending-reboot" },
    { name: "pg_stat_statements.track", value: "top", applyMethod: "immediate" },
    { name: "max_connections", value: RDS_MAX_CONNECTIONS_FORMULA, applyMethod: "pending-reboot" },
    // Statements over one second, lock waits over deadlock_timeout, and long autovacuum runs.
    { name: "log_min_duration_statement", value: "1000", applyMethod: "immediate" },
    { name: "log_lock_waits", value: "1", applyMethod: "immediate" },
    { name: "deadlock_timeout", value: "1000", applyMethod: "immediate" },
    { name: "log_autovacuum_min_duration", value: "10000", applyMethod: "immediate" },
    { name: "log_temp_files", value: "10240", applyMethod: "immediate" },
    // A worker killed mid-request can leave a transaction open holding row locks on sale orders.
    { name: "idle_in_transaction_session_timeout", value: "600000", applyMethod: "immediate" },
    ...AUDIT_PARAMETERS,
  ];
}

/** What the server's instances are monitored through: enhanced monitoring's role, once attached. */
interface EnhancedMonitoring {
  readonly role: aws.iam.Role;
  readonly policy: aws.iam.RolePolicyAttachment;
}

/** The type token the component had as `PostgresCluster`: its alias keeps every URN as it was. */
const POSTGRES_CLUSTER_TYPE = "odoo-fleet:data:PostgresCluster";

/**
 * RDS PostgreSQL for Odoo: one instance hosting the tenants' databases (or one tenant's on a dedicated
 * stack), encrypted with its own KMS key, its master password kept by RDS in Secrets Manager, only
 * reachable from the cluster on 5432, Multi-AZ in production, with PITR, Performance Insights,
 * enhanced monitoring and logs in CloudWatch; DR by backup replication and, for warm standbys, a
 * cross-region read replica.
 */
export class PostgresServer extends pulumi.ComponentResource {
  public readonly instanceArn: pulumi.Output<string>;
  public readonly identifier: pulumi.Output<string>;
  public readonly address: pulumi.Output<string>;
  public readonly port: number = POSTGRES_PORT;
  public readonly securityGroupId: pulumi.Output<string>;
  /** Secrets Manager secret RDS keeps the master credentials in. */
  public readonly masterUserSecretArn: pulumi.Output<string>;
  public readonly kmsKeyArn: pulumi.Output<string>;
  public readonly replicaAddress?: pulumi.Output<string>;

  constructor(name: string, args: PostgresServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:data:PostgresServer", name, {}, pulumi.mergeOptions(opts, { aliases: [{ type: POSTGRES_CLUSTER_TYPE }] }));
    const protect = args.protect ?? true;
    const key = encryptionKey(`${name}-postgres`, {
      description: `Storage, Performance Insights and master secret of RDS ${args.identifier}`,
      alias: `${args.identifier}-postgres`,
      tags: args.tags,
      // RDS (storage, Performance Insights, snapshots) and Secrets Manager (the master secret).
      access: { administration: args.keyAdministration, use: { viaServices: ["rds", "secretsmanager"] } },
    }, { parent: this, protect });
    const placement = this.placement(`${name}-postgres`, args, {
      subnets: `Isolated subnets of ${args.identifier}`,
      securityGroup: `PostgreSQL ${args.identifier}: 5432 from the cluster only`,
      clients: "PostgreSQL from the EKS cluster",
    }, { parent: this });
    const parameterGroup = this.parameterGroup(`${name}-postgres`, args, `Odoo settings for ${args.identifier}`, { parent: this });
    const logGroups = this.logGroups(name, args);
    const monitoring = this.enhancedMonitoring(name, args);
    const instance = this.primaryInstance(name, args, { protect, key, ...placement, parameterGroup, logGroups, monitoring });
    if (args.dr) {
      const replica = this.disasterRecovery(name, args, { protect, dr: args.dr, primary: instance, monitoring });
      if (replica) this.replicaAddress = replica.address;
    }

    this.instanceArn = instance.arn;
    this.identifier = instance.identifier;
    this.address = instance.address;
    this.securityGroupId = placement.securityGroup.id;
    this.kmsKeyArn = key.arn;
    this.masterUserSecretArn = instance.masterUserSecrets.apply((secrets) => {
      const arn = secrets?.[0]?.secretArn;
      if (!arn) throw new Error(`RDS ${args.identifier} reported no managed master secret`);
      return arn;
    });
    this.registerOutputs({
      instanceArn: this.instanceArn,
      address: this.address,
      masterUserSecretArn: this.masterUserSecretArn,
      replicaAddress: this.replicaAddress,
    });
  }

  /** The subnet group and the security group of an instance, open on 5432 to its clients only. */
  private placement(
    resourceName: string,
    where: PostgresPlacement & Pick<PostgresServerArgs, "tags">,
    descriptions: { subnets: string; securityGroup: string; clients: string },
    opts: pulumi.CustomResourceOptions,
  ): { subnetGroup: aws.rds.SubnetGroup; securityGroup: aws.ec2.SecurityGroup } {
    const subnetGroup = new aws.rds.SubnetGroup(resourceName, {
      subnetIds: where.subnetIds,
      description: descriptions.subnets,
      tags: withName(where.tags, resourceName),
    }, opts);
    const securityGroup = new aws.ec2.SecurityGroup(resourceName, {
      vpcId: where.vpcId,
      description: descriptions.securityGroup,
      tags: withName(where.tags, resourceName),
    }, opts);
    allowFromClients(resourceName, { securityGroupId: securityGroup.id, clientSecurityGroupIds: where.clientSecurityGroupIds, port: POSTGRES_PORT, description: descriptions.clients }, opts);
    return { subnetGroup, securityGroup };
  }

  /** The Odoo parameters (odooPostgresParameters) for the server's major version. */
  private parameterGroup(resourceName: string, args: PostgresServerArgs, description: string, opts: pulumi.CustomResourceOptions): aws.rds.ParameterGroup {
    return new aws.rds.ParameterGroup(resourceName, {
      family: postgresFamily(args.version),
      description,
      parameters: odooPostgresParameters(),
      tags: withName(args.tags, resourceName),
    }, opts);
  }

  /** The log groups RDS exports to, created first so that they carry our retention and tags. */
  private logGroups(name: string, args: PostgresServerArgs): aws.cloudwatch.LogGroup[] {
    return POSTGRES_LOG_EXPORTS.map((log) =>
      new aws.cloudwatch.LogGroup(`${name}-postgres-${log}`, {
        name: `/aws/rds/instance/${args.identifier}/${log}`,
        retentionInDays: args.logRetentionDays,
        tags: withName(args.tags, `${name}-postgres-${log}`),
      }, { parent: this }));
  }

  /** The role enhanced monitoring publishes OS metrics with, for the primary and the replica. */
  private enhancedMonitoring(name: string, args: PostgresServerArgs): EnhancedMonitoring {
    const child = { parent: this };
    const role = new aws.iam.Role(`${name}-postgres-monitoring`, {
      // RDS of this account, for its DB instances only, primary and replica regions alike (RDS user
      // guide, "Protecting against the confused deputy problem" under Enhanced Monitoring).
      assumeRolePolicy: sourceOf(child, (p, account) => `arn:${p}:rds:*:${account}:db:*`).apply((source) => JSON.stringify(serviceTrustPolicy("monitoring.rds.amazonaws.com", source))),
      tags: withName(args.tags, `${name}-postgres-monitoring`),
    }, child);
    const partition = aws.getPartitionOutput({}, child).partition;
    const policy = new aws.iam.RolePolicyAttachment(`${name}-postgres-monitoring`, {
      role: role.name,
      policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole`,
    }, child);
    return { role, policy };
  }

  /** The primary instance: encrypted, private, TLS-only, backed up, its deletion guarded when protected. */
  private primaryInstance(name: string, args: PostgresServerArgs, parts: {
    protect: boolean;
    key: aws.kms.Key;
    subnetGroup: aws.rds.SubnetGroup;
    securityGroup: aws.ec2.SecurityGroup;
    parameterGroup: aws.rds.ParameterGroup;
    logGroups: aws.cloudwatch.LogGroup[];
    monitoring: EnhancedMonitoring;
  }): aws.rds.Instance {
    const protect = parts.protect;
    return new aws.rds.Instance(`${name}-postgres`, {
      identifier: args.identifier,
      engine: "postgres",
      engineVersion: args.version,
      instanceClass: args.instanceClass,
      allocatedStorage: args.storageGiB,
      maxAllocatedStorage: args.maxStorageGiB,
      storageType: "gp3",
      storageEncrypted: true,
      kmsKeyId: parts.key.arn,
      username: MASTER_USERNAME,
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: parts.key.arn,
      dbSubnetGroupName: parts.subnetGroup.name,
      vpcSecurityGroupIds: [parts.securityGroup.id],
      publiclyAccessible: false,
      port: POSTGRES_PORT,
      multiAz: args.multiAz,
      parameterGroupName: parts.parameterGroup.name,
      backupRetentionPeriod: args.backupRetentionDays,
      backupWindow: args.backupWindow,
      maintenanceWindow: args.maintenanceWindow,
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: false,
      deletionProtection: protect,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: `${args.identifier}-final`,
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      caCertIdentifier: RDS_CA,
      iamDatabaseAuthenticationEnabled: true,
      ...observed(parts),
      tags: withName(args.tags, `${name}-postgres`),
    }, { parent: this, protect, retainOnDelete: protect, dependsOn: [...parts.logGroups, parts.monitoring.policy] });
  }

  /**
   * Everything in the DR region, through its provider: a key of its own, the replicated automated
   * backups, and the warm standby's read replica. Returns the replica, where there is one.
   */
  private disasterRecovery(name: string, args: PostgresServerArgs, parts: {
    protect: boolean;
    dr: PostgresDrArgs;
    primary: aws.rds.Instance;
    monitoring: EnhancedMonitoring;
  }): aws.rds.Instance | undefined {
    const { protect, dr, primary } = parts;
    const inDr = { parent: this, provider: dr.provider };
    const drKey = encryptionKey(`${name}-postgres-dr`, {
      description: `DR copies of RDS ${args.identifier} (backups, read replica)`,
      alias: `${args.identifier}-postgres-dr`,
      tags: args.tags,
      access: { administration: args.keyAdministration, use: { viaServices: ["rds"] } },
    }, { ...inDr, protect });
    if (dr.replicateAutomatedBackups) {
      new aws.rds.InstanceAutomatedBackupsReplication(`${name}-postgres-backups-dr`, {
        sourceDbInstanceArn: primary.arn,
        kmsKeyId: drKey.arn,
        retentionPeriod: args.backupRetentionDays,
      }, { ...inDr, protect });
    }
    if (!dr.readReplica) return undefined;
    const placement = this.placement(`${name}-postgres-dr`, { ...dr.readReplica, tags: args.tags }, {
      subnets: `Isolated DR subnets of ${args.identifier}`,
      securityGroup: `PostgreSQL ${args.identifier} DR replica: 5432 from the DR cluster only`,
      clients: "PostgreSQL from the DR EKS cluster",
    }, inDr);
    // Parameter groups are regional: the replica needs the same settings in the DR region.
    const parameterGroup = this.parameterGroup(`${name}-postgres-dr`, args, `Odoo settings for ${args.identifier} DR replica`, inDr);
    return this.readReplica(name, args, { ...parts, key: drKey, ...placement, parameterGroup });
  }

  /** The cross-region read replica of the primary, ready to be promoted in the DR region. */
  private readReplica(name: string, args: PostgresServerArgs, parts: {
    protect: boolean;
    dr: PostgresDrArgs;
    primary: aws.rds.Instance;
    key: aws.kms.Key;
    subnetGroup: aws.rds.SubnetGroup;
    securityGroup: aws.ec2.SecurityGroup;
    parameterGroup: aws.rds.ParameterGroup;
    monitoring: EnhancedMonitoring;
  }): aws.rds.Instance {
    const protect = parts.protect;
    return new aws.rds.Instance(`${name}-postgres-replica-dr`, {
      identifier: `${args.identifier}-dr`,
      replicateSourceDb: parts.primary.arn,
      instanceClass: args.instanceClass,
      storageType: "gp3",
      maxAllocatedStorage: args.maxStorageGiB,
      storageEncrypted: true,
      kmsKeyId: parts.key.arn,
      dbSubnetGroupName: parts.subnetGroup.name,
      vpcSecurityGroupIds: [parts.securityGroup.id],
      parameterGroupName: parts.parameterGroup.name,
      publiclyAccessible: false,
      port: POSTGRES_PORT,
      // Backups on the replica, so that once promoted it is protected from its first minute.
      backupRetentionPeriod: args.backupRetentionDays,
      backupWindow: args.backupWindow,
      maintenanceWindow: args.maintenanceWindow,
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      deletionProtection: protect,
      // RDS takes no final snapshot of a read replica; its data lives on in the primary.
      skipFinalSnapshot: true,
      caCertIdentifier: RDS_CA,
      ...observed(parts),
      tags: withName(args.tags, `${name}-postgres-replica-dr`),
    }, { parent: this, provider: parts.dr.provider, protect, retainOnDelete: protect, dependsOn: [parts.monitoring.policy] });
  }
}

/**
 * What the primary and its DR replica share to be watched: Performance Insights under the stack's key,
 * Enhanced Monitoring every minute, the PostgreSQL and upgrade logs in CloudWatch; changes wait for the
 * maintenance window.
 */
function observed(parts: { readonly key: aws.kms.Key; readonly monitoring: { readonly role: aws.iam.Role } }) {
  return {
    performanceInsightsEnabled: true,
    performanceInsightsKmsKeyId: parts.key.arn,
    performanceInsightsRetentionPeriod: 7,
    monitoringInterval: 60,
    monitoringRoleArn: parts.monitoring.role.arn,
    enabledCloudwatchLogsExports: [...POSTGRES_LOG_EXPORTS],
    applyImmediately: false,
  };
}
