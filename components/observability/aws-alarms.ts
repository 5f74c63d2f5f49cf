import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { KeyAdministration } from "../data/keys";
import type { Severity } from "./alerts";
import { encryptionKey } from "../data/keys";
import { ALERT_KEY_USE } from "./index";
import { withName } from "../tagging";
import { tenantLabels } from "../../model/tags";

export interface AwsAlarmsArgs {
  /** SNS topic per severity (the Monitoring component's). */
  readonly topics: Readonly<Record<Severity, pulumi.Input<string>>>;
  /** Namespace of the metrics read from PostgreSQL's log (lock waits, idle transactions ended). */
  readonly metricNamespace: string;
  /** Each data shard's PostgreSQL server and Valkey group; the first (no `shard`) keeps unprefixed alarm names. */
  readonly dataStores: readonly DataStoreAlarmsArgs[];
  /**
   * The warm standby's read replica in the DR region: its lag is the region-loss RPO. Alarms act on
   * topics of their own region, so the DR region gets its own topic.
   * @default none: no DR-region topic and no replica-lag alarm
   */
  readonly dr?: { readonly provider: aws.Provider; readonly replicaIdentifier: string; readonly maxLagSeconds: number };
  /**
   * Route 53 health checks of tenants whose tier checks from more than one region: AWS probes them
   * from several regions. Their metrics live in us-east-1, so the alarms and their topic live there.
   * @default none: no health checks (nor their topic), as with an empty `tenants`
   */
  readonly multiRegionChecks?: {
    readonly provider: aws.Provider;
    readonly tenants: readonly { readonly name: string; readonly tier: string; readonly domains: readonly string[] }[];
  };
  /**
   * Backup bucket replication, watched for failures and for latency beyond RTC's 15 minutes.
   * @default none: no replication alarms
   */
  readonly replication?: { readonly sourceBucket: pulumi.Input<string>; readonly destinationBucket: pulumi.Input<string>; readonly ruleId: string };
  /** Who administers the component's KMS keys, and the break-glass role that alone may delete them. */
  readonly keyAdministration: KeyAdministration;
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export interface DataStoreAlarmsArgs {
  /**
   * The shard's name.
   * @default none: the stack's first shard, whose alarms and metrics keep unprefixed names
   */
  readonly shard?: string;
  readonly postgres: { readonly identifier: string; readonly maxConnections: number; readonly storageGiB: number };
  readonly cache: { readonly replicationGroupId: string; readonly multiAz: boolean };
}

export interface AlarmSpec {
  name: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, pulumi.Input<string>>;
  statistic: "Average" | "Maximum" | "Minimum" | "Sum";
  comparison: "GreaterThanThreshold" | "LessThanThreshold";
  threshold: number;
  periodSeconds: number;
  evaluationPeriods: number;
  severity: Severity;
  description: string;
}

/** The CloudWatch alarms of a stack's data stores. Thresholds come from the sizing (connections, storage). */
export function alarmSpecs(args: Pick<DataStoreAlarmsArgs, "postgres" | "cache"> & Pick<AwsAlarmsArgs, "replication">): AlarmSpec[] {
  const db = { DBInstanceIdentifier: args.postgres.identifier };
  const cache = { ReplicationGroupId: args.cache.replicationGroupId };
  const specs: AlarmSpec[] = [
    { name: "rds-cpu", namespace: "AWS/RDS", metricName: "CPUUtilization", dimensions: db, statistic: "Average", comparison: "GreaterThanThreshold", threshold: 80, periodSeconds: 300, evaluationPeriods: 3, severity: "critical", description: "PostgreSQL CPU over 80% for 15 minutes: every tenant on the server slows down." },
    { name: "rds-free-storage", namespace: "AWS/RDS", metricName: "FreeStorageSpace", dimensions: db, statistic: "Minimum", comparison: "LessThanThreshold", threshold: Math.round(args.postgres.storageGiB * 0.1 * 1024 ** 3), periodSeconds: 300, evaluationPeriods: 1, severity: "critical", description: "Less than 10% of the allocated storage is free (autoscaling may be at its limit)." },
    { name: "rds-connections", namespace: "AWS/RDS", metricName: "DatabaseConnections", dimensions: db, statistic: "Maximum", comparison: "GreaterThanThreshold", threshold: Math.floor(args.postgres.maxConnections * 0.85), periodSeconds: 60, evaluationPeriods: 5, severity: "critical", description: "Connections over 85% of max_connections, the budget the tenants were sized against." },
    { name: "cache-memory", namespace: "AWS/ElastiCache", metricName: "DatabaseMemoryUsagePercentage", dimensions: cache, statistic: "Maximum", comparison: "GreaterThanThreshold", threshold: 85, periodSeconds: 300, evaluationPeriods: 2, severity: "warning", description: "The session cache uses over 85% of its memory." },
    { name: "cache-evictions", namespace: "AWS/ElastiCache", metricName: "Evictions", dimensions: cache, statistic: "Sum", comparison: "GreaterThanThreshold", threshold: 0, periodSeconds: 300, evaluationPeriods: 1, severity: "critical", description: "The session cache evicts keys: users lose their sessions." },
  ];
  if (args.cache.multiAz) {
    specs.push({ name: "cache-replication-lag", namespace: "AWS/ElastiCache", metricName: "ReplicationLag", dimensions: cache, statistic: "Maximum", comparison: "GreaterThanThreshold", threshold: 30, periodSeconds: 60, evaluationPeriods: 5, severity: "warning", description: "The cache replica lags: a failover now would lose recent sessions." });
  }
  if (args.replication) {
    const s3 = { SourceBucket: args.replication.sourceBucket, DestinationBucket: args.replication.destinationBucket, RuleId: args.replication.ruleId };
    specs.push(
      { name: "s3-replication-failed", namespace: "AWS/S3", metricName: "OperationsFailedReplication", dimensions: s3, statistic: "Sum", comparison: "GreaterThanThreshold", threshold: 0, periodSeconds: 300, evaluationPeriods: 1, severity: "critical", description: "Backups failed to replicate to the DR region." },
      { name: "s3-replication-latency", namespace: "AWS/S3", metricName: "ReplicationLatency", dimensions: s3, statistic: "Maximum", comparison: "GreaterThanThreshold", threshold: 900, periodSeconds: 300, evaluationPeriods: 3, severity: "critical", description: "Backups take longer than RTC's 15 minutes to reach the DR region." },
    );
  }
  return specs;
}

/**
 * Metrics read from PostgreSQL's own log in CloudWatch Logs: `log_lock_waits` writes "still waiting
 * for" past deadlock_timeout, and idle_in_transaction_session_timeout ends sessions with a FATAL line.
 */
export const LOG_METRICS = [
  { name: "lock-waits", metricName: "LockWaits", pattern: '"still waiting for"', threshold: 20, severity: "warning" as Severity, description: "More than 20 lock waits over a second in 5 minutes: requests queue behind a long transaction." },
  { name: "idle-transactions-ended", metricName: "IdleInTransactionTimeouts", pattern: '"idle-in-transaction timeout"', threshold: 0, severity: "warning" as Severity, description: "PostgreSQL ended a session idle in a transaction for 10 minutes: it held its locks all that time." },
] as const;

/** Route 53 checker regions (AWS asks for at least three): Europe, North America, Asia. */
export const HEALTH_CHECK_REGIONS = ["eu-west-1", "us-east-1", "ap-southeast-1"];

/** Failed or aborted AWS Backup jobs, and RDS failovers, as EventBridge events. */
export const EVENT_RULES = {
  "backup-job-failed": { source: ["aws.backup"], "detail-type": ["Backup Job State Change", "Copy Job State Change"], detail: { state: ["FAILED", "ABORTED", "EXPIRED"] } },
  "rds-failover": { source: ["aws.rds"], "detail-type": ["RDS DB Instance Event"], detail: { EventCategories: ["failover"] } },
} as const;

/**
 * AWS-side alarms of a stack's data stores, to the SNS topics of the severities: RDS (CPU, storage,
 * connections against the budget; lock waits and ended idle transactions from its log), ElastiCache (memory, evictions, replication lag), S3 replication
 * (failures, latency beyond 15 minutes), and AWS Backup job failures and RDS failovers (EventBridge).
 */
export class AwsAlarms extends pulumi.ComponentResource {
  constructor(name: string, args: AwsAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:observability:AwsAlarms", name, {}, opts);
    const child = { parent: this };
    args.dataStores.forEach((store, i) => {
      const prefix = store.shard === undefined ? name : `${name}-${store.shard}`;
      // The shards' log metrics must not add up: each counts in a namespace of its own.
      const metricNamespace = store.shard === undefined ? args.metricNamespace : `${args.metricNamespace}/${store.shard}`;
      // Bucket replication is the stack's, not a shard's: watched once.
      this.dataStoreAlarms(prefix, metricNamespace, { ...store, ...(i === 0 && args.replication ? { replication: args.replication } : {}) }, args, child);
    });
    if (args.dr) this.drReplicaLagAlarm(name, args.dr, args.tags, args.keyAdministration);
    if (args.multiRegionChecks && args.multiRegionChecks.tenants.length > 0) this.multiRegionHealthChecks(name, args.multiRegionChecks, args.tags, args.keyAdministration);
    for (const [ruleName, pattern] of Object.entries(EVENT_RULES)) {
      const rule = new aws.cloudwatch.EventRule(`${name}-${ruleName}`, {
        description: `odoo-fleet: ${ruleName.replace(/-/g, " ")}`,
        eventPattern: JSON.stringify(pattern),
        tags: withName(args.tags, `${name}-${ruleName}`),
      }, child);
      new aws.cloudwatch.EventTarget(`${name}-${ruleName}`, { rule: rule.name, arn: args.topics.critical }, child);
    }
    this.registerOutputs({});
  }

  /** The DR read replica's lag against the region-loss RPO, alarmed to a topic of the DR region (alarms act on topics of their own region). */
  private drReplicaLagAlarm(name: string, dr: NonNullable<AwsAlarmsArgs["dr"]>, tags: AwsAlarmsArgs["tags"], administration: KeyAdministration): void {
    const drOpts = { parent: this, provider: dr.provider };
    const key = encryptionKey(`${name}-alerts-dr`, { description: `DR-region alert topic of ${name}`, alias: `${name}-alerts-dr`, tags, access: { administration, use: ALERT_KEY_USE } }, { ...drOpts, protect: true });
    const topic = new aws.sns.Topic(`${name}-alerts-dr`, { kmsMasterKeyId: key.arn, tags: withName(tags, `${name}-alerts-dr`) }, drOpts);
    new aws.cloudwatch.MetricAlarm(`${name}-replica-lag-dr`, {
      alarmDescription: `The DR read replica lags more than ${dr.maxLagSeconds} s: the region-loss RPO is at risk.`,
      namespace: "AWS/RDS",
      metricName: "ReplicaLag",
      dimensions: { DBInstanceIdentifier: dr.replicaIdentifier },
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: dr.maxLagSeconds,
      period: 60,
      evaluationPeriods: 5,
      treatMissingData: "breaching",
      alarmActions: [topic.arn],
      okActions: [topic.arn],
      tags: withName(tags, `${name}-replica-lag-dr`),
    }, drOpts);
  }

  /** Route 53 health checks of each domain from AWS's checker regions, alarmed in us-east-1 where their metrics live. */
  private multiRegionHealthChecks(name: string, checks: NonNullable<AwsAlarmsArgs["multiRegionChecks"]>, tags: AwsAlarmsArgs["tags"], administration: KeyAdministration): void {
    const usEast = { parent: this, provider: checks.provider };
    const key = encryptionKey(`${name}-alerts-us-east-1`, { description: `Health-check alert topic of ${name}`, alias: `${name}-alerts-us-east-1`, tags, access: { administration, use: ALERT_KEY_USE } }, { ...usEast, protect: true });
    const topic = new aws.sns.Topic(`${name}-alerts-us-east-1`, { kmsMasterKeyId: key.arn, tags: withName(tags, `${name}-alerts-us-east-1`) }, usEast);
    for (const tenant of checks.tenants) {
      for (const domain of tenant.domains) {
        const check = new aws.route53.HealthCheck(`${name}-${tenant.name}-${domain}`, {
          type: "HTTPS",
          fqdn: domain,
          port: 443,
          resourcePath: "/web/health",
          enableSni: true,
          requestInterval: 30,
          failureThreshold: 2,
          measureLatency: true,
          regions: HEALTH_CHECK_REGIONS,
          tags: pulumi.output(tags).apply((t): Record<string, string> => ({ ...t, ...tenantLabels(tenant.name, tenant.tier), Name: `${tenant.name} ${domain}` })),
        }, usEast);
        new aws.cloudwatch.MetricAlarm(`${name}-${tenant.name}-${domain}`, {
          alarmDescription: `${domain} (${tenant.name}) fails its health check from AWS's checkers in several regions.`,
          namespace: "AWS/Route53",
          metricName: "HealthCheckStatus",
          dimensions: { HealthCheckId: check.id },
          statistic: "Minimum",
          comparisonOperator: "LessThanThreshold",
          threshold: 1,
          period: 60,
          evaluationPeriods: 2,
          alarmActions: [topic.arn],
          okActions: [topic.arn],
          tags: pulumi.output(tags).apply((t): Record<string, string> => ({ ...t, ...tenantLabels(tenant.name, tenant.tier), Name: `${tenant.name} ${domain}` })),
        }, usEast);
      }
    }
  }

  /** CloudWatch alarms of one shard's PostgreSQL server and Valkey group, and metrics from PostgreSQL's log. */
  private dataStoreAlarms(
    prefix: string,
    metricNamespace: string,
    store: DataStoreAlarmsArgs & Pick<AwsAlarmsArgs, "replication">,
    args: AwsAlarmsArgs,
    child: pulumi.CustomResourceOptions,
  ): void {
    for (const spec of alarmSpecs(store)) {
      new aws.cloudwatch.MetricAlarm(`${prefix}-${spec.name}`, {
        alarmDescription: spec.description,
        namespace: spec.namespace,
        metricName: spec.metricName,
        dimensions: spec.dimensions,
        statistic: spec.statistic,
        comparisonOperator: spec.comparison,
        threshold: spec.threshold,
        period: spec.periodSeconds,
        evaluationPeriods: spec.evaluationPeriods,
        treatMissingData: spec.metricName === "ReplicationLatency" || spec.metricName === "OperationsFailedReplication" ? "notBreaching" : "missing",
        alarmActions: [args.topics[spec.severity]],
        okActions: [args.topics[spec.severity]],
        tags: withName(args.tags, `${prefix}-${spec.name}`),
      }, child);
    }
    const postgresLog = `/aws/rds/instance/${store.postgres.identifier}/postgresql`;
    for (const metric of LOG_METRICS) {
      new aws.cloudwatch.LogMetricFilter(`${prefix}-${metric.name}`, {
        logGroupName: postgresLog,
        pattern: metric.pattern,
        metricTransformation: { name: metric.metricName, namespace: metricNamespace, value: "1", defaultValue: "0" },
      }, child);
      new aws.cloudwatch.MetricAlarm(`${prefix}-${metric.name}`, {
        alarmDescription: metric.description,
        namespace: metricNamespace,
        metricName: metric.metricName,
        statistic: "Sum",
        comparisonOperator: "GreaterThanThreshold",
        threshold: metric.threshold,
        period: 300,
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
        alarmActions: [args.topics[metric.severity]],
        okActions: [args.topics[metric.severity]],
        tags: withName(args.tags, `${prefix}-${metric.name}`),
      }, child);
    }
  }
}
