import { beforeAll, describe, expect, test } from "vitest";
import { ALERT_KEY_USE, alertmanagerConfig, alertTopicPolicy, KUBE_PROMETHEUS_STACK, kubePrometheusStackValues, Monitoring, retentionFor, tenantProbe } from "../components/observability";
import { alarmSpecs, EVENT_RULES, LOG_METRICS } from "../components/observability/aws-alarms";
import type { CapturedResource } from "../model/resource";
import { KEY_ADMINISTRATION, named, ofType, startHarness } from "./harness";
import { keyPolicy } from "../components/data/keys";
import { crdValidator } from "./schemas";

const TOPICS = { page: "arn:aws:sns:eu-west-1:1:page", critical: "arn:aws:sns:eu-west-1:1:critical", warning: "arn:aws:sns:eu-west-1:1:warning" };

describe("Monitoring component", () => {
  let resources: CapturedResource[];
  beforeAll(async () => {
    const harness = await startHarness();
    new Monitoring("prod", {
      environment: "production",
      zones: 3,
      systemNodeSelector: { "odoo-fleet/pool": "system" },
      tenants: [
        { name: "northwind", tier: "business", domains: ["erp.northwind.example"], queueJob: true },
        { name: "acme", tier: "critical", domains: ["erp.acme.example"], queueJob: false },
      ],
      runbookBaseUrl: "https://runbooks.example/odoo",
      businessHoursTimeZone: "Europe/Brussels",
      cluster: { oidcProviderArn: "arn:aws:iam::1:oidc-provider/x", oidcIssuerUrl: "https://oidc.example/id/X" },
      region: "eu-west-1",
      keyAdministration: KEY_ADMINISTRATION,
      tags: { project: "odoo-fleet" },
    });
    resources = await harness.settle();
  });

  test("kube-prometheus-stack, blackbox exporter and Pushgateway from pinned charts; Prometheus x2, Alertmanager x3 across zones", () => {
    const releases = ofType(resources, "kubernetes:helm.sh/v3:Release").map((r) => [r.inputs.chart, r.inputs.version]).sort();
    expect(releases).toEqual([["kube-prometheus-stack", "88.5.3"], ["prometheus-blackbox-exporter", "11.4.0"], ["prometheus-pushgateway", "3.6.1"]]);
    const values = named(resources, "prod-kube-prometheus-stack").inputs.values as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(values.prometheus.prometheusSpec).toMatchObject({ replicas: 2, retention: "30d", ruleSelectorNilUsesHelmValues: false, probeSelectorNilUsesHelmValues: false });
    expect(values.alertmanager.alertmanagerSpec).toMatchObject({ replicas: 3, topologySpreadConstraints: [{ topologyKey: "topology.kubernetes.io/zone" }] });
    expect(values.alertmanager.serviceAccount.annotations["eks.amazonaws.com/role-arn"]).toMatch(/^arn:aws:iam::123456789012:role\/prod-alertmanager-/);
    expect(values.grafana.admin).toEqual({ existingSecret: "grafana-admin", userKey: "user", passwordKey: "password" });
  });

  test("one SNS topic per severity, and Alertmanager may publish only to them, with their key only", () => {
    expect(ofType(resources, "aws:sns/topic:Topic").map((t) => t.name).sort()).toEqual(["prod-alerts-critical", "prod-alerts-page", "prod-alerts-warning"]);
    const policy = JSON.parse(named(resources, "prod-alertmanager", "aws:iam/rolePolicy:RolePolicy").inputs.policy as string);
    expect(policy.Statement).toHaveLength(2);
    expect(policy.Statement[0]).toMatchObject({ Effect: "Allow", Action: "sns:Publish" });
    const key = named(resources, "prod-alerts", "aws:kms/key:Key");
    expect(ofType(resources, "aws:sns/topic:Topic").every((t) => t.inputs.kmsMasterKeyId === `arn:aws:kms:eu-west-1:123456789012:key/${key.id}`)).toBe(true);
    expect(policy.Statement[1]).toEqual({
      Sid: "EncryptedTopics",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
      Resource: `arn:aws:kms:eu-west-1:123456789012:key/${key.id}`,
      Condition: { StringLike: { "kms:ViaService": "sns.*.amazonaws.com" } },
    });
    expect((policy.Statement[0].Resource as string[]).map((arn) => arn.replace(/^arn:aws:sns:eu-west-1:123456789012:/, "").replace(/-[0-9a-f]{7}$/, "")).sort()).toEqual(["prod-alerts-critical", "prod-alerts-page", "prod-alerts-warning"]);
  });

  test("a PrometheusRule per tenant and one for the platform; probes per tenant", () => {
    expect(ofType(resources, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").map((r) => (r.inputs.metadata as { name: string }).name).sort()).toEqual(["odoo-platform", "odoo-tenant-acme", "odoo-tenant-northwind"]);
    expect(ofType(resources, "kubernetes:monitoring.coreos.com/v1:Probe").map((r) => (r.inputs.metadata as { name: string }).name).sort()).toEqual(["acme-http", "acme-websocket", "northwind-http", "northwind-websocket"]);
  });

  test("rules and probes pass their CRD schemas", () => {
    const rule = crdValidator(KUBE_PROMETHEUS_STACK, "monitoring.coreos.com_prometheusrules.yaml");
    const probe = crdValidator(KUBE_PROMETHEUS_STACK, "monitoring.coreos.com_probes.yaml");
    for (const r of ofType(resources, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")) expect(rule(r.inputs as never)).toEqual([]);
    for (const p of ofType(resources, "kubernetes:monitoring.coreos.com/v1:Probe")) expect(probe(p.inputs as never)).toEqual([]);
  });
});

describe("pure pieces", () => {
  test("synthetic checks at the tier's interval on health, login and the websocket", () => {
    const [http, ws] = tenantProbe({ name: "fabrikam", tier: "essential", domains: ["a.example", "b.example"] });
    expect(http!.spec).toMatchObject({ interval: "300s", module: "http_2xx", targets: { staticConfig: { static: ["https://a.example/web/health", "https://a.example/web/login", "https://b.example/web/health", "https://b.example/web/login"], labels: { tenant: "fabrikam", tier: "essential", namespace: "odoo-fabrikam" } } } });
    expect(ws!.spec).toMatchObject({ module: "odoo_websocket", targets: { staticConfig: { static: ["https://a.example/websocket", "https://b.example/websocket"] } } });
    expect(tenantProbe({ name: "x", tier: "business", domains: ["x.example"] })[0]!.spec.interval).toBe("60s");
  });

  test("routing: pages to the pager, critical 24x7, warnings in business hours only", () => {
    const config = alertmanagerConfig(TOPICS, "eu-west-1", "Europe/Brussels");
    expect(config.route.routes).toEqual([
      { matchers: ['severity="page"'], receiver: "pager", repeat_interval: "1h" },
      { matchers: ['severity="critical"'], receiver: "on-call-24x7" },
      { matchers: ['severity="warning"'], receiver: "business-hours", active_time_intervals: ["business-hours"] },
    ]);
    expect(config.receivers.map((r) => [r.name, r.sns_configs[0]!.topic_arn])).toEqual([["pager", TOPICS.page], ["on-call-24x7", TOPICS.critical], ["business-hours", TOPICS.warning]]);
  });

  test("retention per environment", () => {
    expect([retentionFor("production"), retentionFor("development")]).toEqual([{ time: "30d", storage: "100Gi" }, { time: "7d", storage: "20Gi" }]);
    expect(kubePrometheusStackValues({ environment: "development", zones: 2, systemNodeSelector: {} }, {}, "arn").prometheus.prometheusSpec.retention).toBe("7d");
  });
});

describe("AWS-side alarms", () => {
  test("thresholds from the sizing: connections at 85% of max_connections, storage at 10% free; replication beyond 15 minutes", () => {
    const specs = alarmSpecs({
      postgres: { identifier: "odoo-shared-prod", maxConnections: 360, storageGiB: 50 },
      cache: { replicationGroupId: "odoo-shared-prod", multiAz: true },
      replication: { sourceBucket: "src", destinationBucket: "dst", ruleId: "backups-to-dr-region" },
    });
    expect(specs.map((s) => [s.name, s.metricName, s.comparison, s.threshold, s.severity])).toEqual([
      ["rds-cpu", "CPUUtilization", "GreaterThanThreshold", 80, "critical"],
      ["rds-free-storage", "FreeStorageSpace", "LessThanThreshold", 5368709120, "critical"],
      ["rds-connections", "DatabaseConnections", "GreaterThanThreshold", 306, "critical"],
      ["cache-memory", "DatabaseMemoryUsagePercentage", "GreaterThanThreshold", 85, "warning"],
      ["cache-evictions", "Evictions", "GreaterThanThreshold", 0, "critical"],
      ["cache-replication-lag", "ReplicationLag", "GreaterThanThreshold", 30, "warning"],
      ["s3-replication-failed", "OperationsFailedReplication", "GreaterThanThreshold", 0, "critical"],
      ["s3-replication-latency", "ReplicationLatency", "GreaterThanThreshold", 900, "critical"],
    ]);
    expect(alarmSpecs({ postgres: { identifier: "x", maxConnections: 70, storageGiB: 50 }, cache: { replicationGroupId: "x", multiAz: false } }).map((s) => s.name)).not.toContain("cache-replication-lag");
  });

  test("lock waits and ended idle transactions are counted from PostgreSQL's own log", () => {
    expect(LOG_METRICS.map((m) => [m.metricName, m.pattern, m.threshold])).toEqual([
      ["LockWaits", '"still waiting for"', 20],
      ["IdleInTransactionTimeouts", '"idle-in-transaction timeout"', 0],
    ]);
  });

  test("backup job failures and RDS failovers reach the critical topic through EventBridge", () => {
    expect(EVENT_RULES["backup-job-failed"]).toEqual({ source: ["aws.backup"], "detail-type": ["Backup Job State Change", "Copy Job State Change"], detail: { state: ["FAILED", "ABORTED", "EXPIRED"] } });
  });

  test("alert topics use a key CloudWatch and EventBridge may use, and a policy letting them publish", () => {
    expect(keyPolicy({ partition: "aws", accountId: "123", region: "eu-west-1", access: { administration: KEY_ADMINISTRATION, use: ALERT_KEY_USE } }).Statement.find((s) => s.Sid === "ServicePublishers")).toMatchObject({
      Principal: { Service: ["cloudwatch.amazonaws.com", "events.amazonaws.com"] },
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
      Condition: { StringEquals: { "aws:SourceAccount": "123" } },
    });
    expect(alertTopicPolicy("arn:t", "123").Statement.map((s) => s.Sid)).toEqual(["EventBridge", "CloudWatchAlarms", "DenyWithoutTls"]);
  });
});
