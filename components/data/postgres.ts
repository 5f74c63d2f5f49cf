import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RDS_MAX_CONNECTIONS_FORMULA } from "../../tiers/sizing";
import { serviceTrustPolicy } from "../iam";
import { withName } from "../tagging";
import { allowFromClients } from "./access";
import { encryptionKey } from "./keys";

export const POSTGRES_PORT = 5432;
/** Custom master user (Security Hub RDS.24/.25): never `postgres`. */
export const MASTER_USERNAME = "fleet_admin";

export interface PostgresDrArgs {
  /** Provider of the DR region: every DR resource is created through it. */
  provider: aws.Provider;
  /** Copy automated backups and transaction logs to the DR region. */
  replicateAutomatedBackups: boolean;
  /** A cross-region read replica (warm standby) in the DR network. */
  readReplica?: {
    vpcId: pulumi.Input<string>;
    subnetIds: pulumi.Input<string>[];
    clientSecurityGroupIds: pulumi.Input<string>[];
  };
}

export interface PostgresClusterArgs {
  /** RDS instance identifier (fixed: log groups and snapshots are named after it). */
  identifier: string;
  /** Major version, e.g. "16"; RDS applies minor versions in the maintenance window. */
  version: string;
  instanceClass: string;
  storageGiB: number;
  /** Storage autoscaling limit. */
  maxStorageGiB: number;
  multiAz: boolean;
  /** Automated-backup retention in days: the PITR window. */
  backupRetentionDays: number;
  backupWindow: string;
  maintenanceWindow: string;
  vpcId: pulumi.Input<string>;
  /** Isolated (data) subnets, one per zone. */
  subnetIds: pulumi.Input<string>[];
  /** Security groups allowed in on 5432: the cluster's nodes and pods. */
  clientSecurityGroupIds: pulumi.Input<string>[];
  /**
   * Retention of the PostgreSQL log groups.
   * @default 365
   */
  logRetentionDays?: number;
  /**
   * `protect` the instance and its keys, and turn on deletion protection.
   * @default true
   */
  protect?: boolean;
  /** Cross-region disaster recovery. @default none */
  dr?: PostgresDrArgs;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
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
 * idle transactions ended before they hold locks for long, and max_connections by the instance class:
 * RDS's own formula, so the group never changes with the tenants (the spec checks their budget
 * against what the class yields) and a class change carries its value with it.
 */
export function odooPostgresParameters(): DbParameter[] {
  return [
    { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
    { name: "shared_preload_libraries", value: "pg_stat_statements", applyMethod: "pending-reboot" },
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
  ];
}

/**
 * RDS PostgreSQL for Odoo: one instance hosting the tenants' databases (or one tenant's on a dedicated
 * stack), encrypted with its own KMS key, its master password kept by RDS in Secrets Manager, only
 * reachable from the cluster on 5432, Multi-AZ in production, with PITR, Performance Insights,
 * enhanced monitoring and logs in CloudWatch; DR by backup replication and, for warm standbys, a
 * cross-region read replica.
 */
export class PostgresCluster extends pulumi.ComponentResource {
  public readonly instanceArn: pulumi.Output<string>;
  public readonly identifier: pulumi.Output<string>;
  public readonly address: pulumi.Output<string>;
  public readonly port: number = POSTGRES_PORT;
  public readonly securityGroupId: pulumi.Output<string>;
  /** Secrets Manager secret RDS keeps the master credentials in. */
  public readonly masterUserSecretArn: pulumi.Output<string>;
  public readonly kmsKeyArn: pulumi.Output<string>;
  public readonly replicaAddress?: pulumi.Output<string>;

  constructor(name: string, args: PostgresClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:data:PostgresCluster", name, {}, opts);
    const protect = args.protect ?? true;
    const child = { parent: this };
    const stateful = { parent: this, protect };
    const tagsFor = (resourceName: string) => withName(args.tags, resourceName);
    const family = postgresFamily(args.version);

    const key = encryptionKey(`${name}-postgres`, {
      description: `Storage, Performance Insights and master secret of RDS ${args.identifier}`,
      alias: `${args.identifier}-postgres`,
      tags: args.tags,
    }, stateful);

    const subnetGroup = new aws.rds.SubnetGroup(`${name}-postgres`, {
      subnetIds: args.subnetIds,
      description: `Isolated subnets of ${args.identifier}`,
      tags: tagsFor(`${name}-postgres`),
    }, child);

    const securityGroup = new aws.ec2.SecurityGroup(`${name}-postgres`, {
      vpcId: args.vpcId,
      description: `PostgreSQL ${args.identifier}: 5432 from the cluster only`,
      tags: tagsFor(`${name}-postgres`),
    }, child);
    allowFromClients(`${name}-postgres`, { securityGroupId: securityGroup.id, clientSecurityGroupIds: args.clientSecurityGroupIds, port: POSTGRES_PORT, description: "PostgreSQL from the EKS cluster" }, child);

    const parameterGroup = new aws.rds.ParameterGroup(`${name}-postgres`, {
      family,
      description: `Odoo settings for ${args.identifier}`,
      parameters: odooPostgresParameters(),
      tags: tagsFor(`${name}-postgres`),
    }, child);

    const logGroups = ["postgresql", "upgrade"].map((log) =>
      new aws.cloudwatch.LogGroup(`${name}-postgres-${log}`, {
        name: `/aws/rds/instance/${args.identifier}/${log}`,
        retentionInDays: args.logRetentionDays ?? 365,
        tags: tagsFor(`${name}-postgres-${log}`),
      }, child));

    const monitoringRole = new aws.iam.Role(`${name}-postgres-monitoring`, {
      assumeRolePolicy: JSON.stringify(serviceTrustPolicy("monitoring.rds.amazonaws.com")),
      tags: tagsFor(`${name}-postgres-monitoring`),
    }, child);
    const partition = aws.getPartitionOutput({}, child).partition;
    const monitoringPolicy = new aws.iam.RolePolicyAttachment(`${name}-postgres-monitoring`, {
      role: monitoringRole.name,
      policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole`,
    }, child);

    const instance = new aws.rds.Instance(`${name}-postgres`, {
      identifier: args.identifier,
      engine: "postgres",
      engineVersion: args.version,
      instanceClass: args.instanceClass,
      allocatedStorage: args.storageGiB,
      maxAllocatedStorage: args.maxStorageGiB,
      storageType: "gp3",
      storageEncrypted: true,
      kmsKeyId: key.arn,
      username: MASTER_USERNAME,
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: key.arn,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [securityGroup.id],
      publiclyAccessible: false,
      port: POSTGRES_PORT,
      multiAz: args.multiAz,
      parameterGroupName: parameterGroup.name,
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
      caCertIdentifier: "rds-ca-rsa2048-g1",
      iamDatabaseAuthenticationEnabled: true,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: key.arn,
      performanceInsightsRetentionPeriod: 7,
      monitoringInterval: 60,
      monitoringRoleArn: monitoringRole.arn,
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      applyImmediately: false,
      tags: tagsFor(`${name}-postgres`),
    }, { parent: this, protect, retainOnDelete: protect, dependsOn: [...logGroups, monitoringPolicy] });

    if (args.dr) {
      const dr = { parent: this, provider: args.dr.provider };
      const drKey = encryptionKey(`${name}-postgres-dr`, {
        description: `DR copies of RDS ${args.identifier} (backups, read replica)`,
        alias: `${args.identifier}-postgres-dr`,
        tags: args.tags,
      }, { ...dr, protect });

      if (args.dr.replicateAutomatedBackups) {
        new aws.rds.InstanceAutomatedBackupsReplication(`${name}-postgres-backups-dr`, {
          sourceDbInstanceArn: instance.arn,
          kmsKeyId: drKey.arn,
          retentionPeriod: args.backupRetentionDays,
        }, { ...dr, protect });
      }

      const replicaArgs = args.dr.readReplica;
      if (replicaArgs) {
        const drSubnets = new aws.rds.SubnetGroup(`${name}-postgres-dr`, {
          subnetIds: replicaArgs.subnetIds,
          description: `Isolated DR subnets of ${args.identifier}`,
          tags: tagsFor(`${name}-postgres-dr`),
        }, dr);
        const drSecurityGroup = new aws.ec2.SecurityGroup(`${name}-postgres-dr`, {
          vpcId: replicaArgs.vpcId,
          description: `PostgreSQL ${args.identifier} DR replica: 5432 from the DR cluster only`,
          tags: tagsFor(`${name}-postgres-dr`),
        }, dr);
        allowFromClients(`${name}-postgres-dr`, { securityGroupId: drSecurityGroup.id, clientSecurityGroupIds: replicaArgs.clientSecurityGroupIds, port: POSTGRES_PORT, description: "PostgreSQL from the DR EKS cluster" }, dr);
        // Parameter groups are regional: the replica needs the same settings in the DR region.
        const drParameters = new aws.rds.ParameterGroup(`${name}-postgres-dr`, {
          family,
          description: `Odoo settings for ${args.identifier} DR replica`,
          parameters: odooPostgresParameters(),
          tags: tagsFor(`${name}-postgres-dr`),
        }, dr);
        const replica = new aws.rds.Instance(`${name}-postgres-replica-dr`, {
          identifier: `${args.identifier}-dr`,
          replicateSourceDb: instance.arn,
          instanceClass: args.instanceClass,
          storageType: "gp3",
          maxAllocatedStorage: args.maxStorageGiB,
          storageEncrypted: true,
          kmsKeyId: drKey.arn,
          dbSubnetGroupName: drSubnets.name,
          vpcSecurityGroupIds: [drSecurityGroup.id],
          parameterGroupName: drParameters.name,
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
          caCertIdentifier: "rds-ca-rsa2048-g1",
          performanceInsightsEnabled: true,
          performanceInsightsKmsKeyId: drKey.arn,
          performanceInsightsRetentionPeriod: 7,
          monitoringInterval: 60,
          monitoringRoleArn: monitoringRole.arn,
          enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
          applyImmediately: false,
          tags: tagsFor(`${name}-postgres-replica-dr`),
        }, { ...dr, protect, retainOnDelete: protect, dependsOn: [monitoringPolicy] });
        this.replicaAddress = replica.address;
      }
    }

    this.instanceArn = instance.arn;
    this.identifier = instance.identifier;
    this.address = instance.address;
    this.securityGroupId = securityGroup.id;
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
}
