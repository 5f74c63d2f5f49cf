/**
 * Prometheus alert rules generated from the tier catalogue: per tenant (latency and errors by host,
 * workers, restarts, job queue, backups, restore drills, synthetic checks, certificates) and for the
 * platform (nodes). Pure: the Monitoring component turns
 * them into PrometheusRule resources; tests run them through promtool. PostgreSQL and Valkey are watched
 * from CloudWatch instead (aws-alarms.ts): no exporter needs database credentials in the cluster.
 */
import { TIERS, type TierName } from "../../tiers/catalogue";
import { tenantLabels } from "../../model/tags";
import { tenantNamespace } from "../../model/kubernetes";

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: AlertRule[];
}

export type Severity = "page" | "critical" | "warning";

/**
 * Where a tenant's alert pages whom, by its tier's alert routing: a paging tier pages for anything
 * that hurts its users, a 24x7 one pages for outages and alerts on-call for the rest, a
 * business-hours one alerts on-call for outages only. A risk waits for business hours everywhere.
 */
export function tenantSeverity(tier: TierName, impact: "outage" | "degradation" | "risk"): Severity {
  if (impact === "risk") return "warning";
  switch (TIERS[tier].alertRouting) {
    case "24x7-paging":
      return "page";
    case "24x7":
      return impact === "outage" ? "page" : "critical";
    case "business-hours":
      return impact === "outage" ? "critical" : "warning";
  }
}

export function runbookUrl(base: string, alert: string): string {
  return `${base.replace(/\/$/, "")}/${alert}.md`;
}

export interface TenantAlertInput {
  readonly name: string;
  readonly tier: TierName;
  /** Tenants running OCA queue_job get a backlog alert. */
  readonly queueJob: boolean;
}

const hours = (h: number) => `${h * 3600}`;

type Impact = "outage" | "degradation" | "risk";
/** One tenant alert: its severity from the tier and the impact, its runbook from the alert's name. */
type TenantRule = (alert: string, expr: string, forDuration: string, impact: Impact, summary: string, description: string) => AlertRule;

export function tenantRules(tenant: TenantAlertInput, runbooks: string): RuleGroup {
  const ns = tenantNamespace(tenant.name);
  const labels = (impact: Impact) => ({ severity: tenantSeverity(tenant.tier, impact), ...tenantLabels(tenant.name, tenant.tier) });
  const rule: TenantRule = (alert, expr, forDuration, impact, summary, description) => ({
    alert,
    expr,
    for: forDuration,
    labels: labels(impact),
    annotations: { summary, description, runbook_url: runbookUrl(runbooks, alert) },
  });
  const rules: AlertRule[] = [...serviceRules(tenant, rule), ...recoveryRules(tenant, rule)];
  if (tenant.queueJob) {
    rules.push(
      rule(
        "OdooJobQueueBacklog",
        `sum(odoo_queue_job_count{namespace="${ns}",state="pending"}) > 500`,
        "30m", "degradation",
        `Job queue of ${tenant.name} backs up`,
        "More than 500 queue_job jobs pending for 30 minutes (the metric refreshes about every 15 minutes).",
      ),
    );
  }
  return { name: `odoo-tenant-${tenant.name}`, rules };
}

/** Whether the tenant serves its users: latency, errors, workers, pods, synthetic checks, certificates. */
function serviceRules(tenant: TenantAlertInput, rule: TenantRule): AlertRule[] {
  const ns = tenantNamespace(tenant.name);
  const t = TIERS[tenant.tier].alertThresholds;
  // Traefik names a CRD route's service <namespace>-<service>-<port>@kubernetescrd.
  const service = `service=~"${ns}-odoo-.*@kubernetescrd"`;
  return [
    rule(
      "OdooHighLatency",
      `histogram_quantile(0.95, sum by (le) (rate(traefik_service_request_duration_seconds_bucket{${service}}[5m]))) > ${t.p95LatencySeconds}`,
      "10m", "degradation",
      `Odoo of ${tenant.name} answers slowly`,
      `95th percentile of request time over ${t.p95LatencySeconds}s for 10 minutes (${tenant.tier} tier).`,
    ),
    rule(
      "OdooHighErrorRatio",
      `sum(rate(traefik_service_requests_total{${service},code=~"5.."}[5m])) / sum(rate(traefik_service_requests_total{${service}}[5m])) > ${t.errorRatio}`,
      "5m", "outage",
      `Odoo of ${tenant.name} fails requests`,
      `More than ${t.errorRatio * 100}% of requests end in 5xx.`,
    ),
    rule(
      "OdooWorkersSaturated",
      `sum(rate(container_cpu_usage_seconds_total{namespace="${ns}",container="odoo"}[5m])) / sum(kube_pod_container_resource_limits{namespace="${ns}",container="odoo",resource="cpu"}) > 0.9`,
      "15m", "degradation",
      `Odoo workers of ${tenant.name} are saturated`,
      "The web pods use over 90% of their CPU limit: requests queue behind busy workers.",
    ),
    rule(
      "OdooPodRestarting",
      `increase(kube_pod_container_status_restarts_total{namespace="${ns}"}[30m]) > 2`,
      "0m", "degradation",
      `Pods of ${tenant.name} restart`,
      "A container restarted more than twice in 30 minutes (out of memory, failed probes).",
    ),
    rule(
      "OdooPodEvicted",
      `sum(kube_pod_status_reason{namespace="${ns}",reason="Evicted"}) > 0`,
      "0m", "degradation",
      `Pods of ${tenant.name} were evicted`,
      "The kubelet evicted a pod of this tenant (node pressure or priority preemption).",
    ),
    rule(
      "OdooSyntheticCheckFailing",
      `min by (instance) (probe_success{namespace="${ns}"}) == 0`,
      `${t.syntheticCheckFailingMinutes}m`, "outage",
      `Synthetic check of ${tenant.name} fails`,
      "A blackbox probe of /web/health, /web/login or the websocket fails from outside.",
    ),
    rule(
      "OdooCertificateExpiring",
      `min(certmanager_certificate_expiration_timestamp_seconds{namespace="${ns}"}) - time() < 14 * 86400`,
      "1h", "risk",
      `Certificate of ${tenant.name} expires soon`,
      "The TLS certificate expires within 14 days: cert-manager has not renewed it.",
    ),
  ];
}

/** Whether the tenant can be recovered as its tier promises: backups and restore drills, on time and within RTO. */
function recoveryRules(tenant: TenantAlertInput, rule: TenantRule): AlertRule[] {
  const tier = TIERS[tenant.tier];
  // Backups and drills may run late by half their interval before they count as missed.
  const backupMax = Math.round(tier.logicalBackup.everyHours * 1.5);
  const drillMaxDays = tier.restoreDrillEveryDays * 1.5;
  return [
    rule(
      "TenantBackupFailed",
      `max(odoo_fleet_backup_last_failure_timestamp_seconds{tenant="${tenant.name}"}) > max(odoo_fleet_backup_last_success_timestamp_seconds{tenant="${tenant.name}"})`,
      "0m", "degradation",
      `Backup of ${tenant.name} failed`,
      "The latest logical backup failed; the one before is the newest copy.",
    ),
    rule(
      "TenantBackupStale",
      `time() - max(odoo_fleet_backup_last_success_timestamp_seconds{tenant="${tenant.name}"}) > ${hours(backupMax)} or absent(odoo_fleet_backup_last_success_timestamp_seconds{tenant="${tenant.name}"})`,
      "15m", "degradation",
      `Backups of ${tenant.name} are late`,
      `No successful logical backup for ${backupMax} h; the ${tenant.tier} tier backs up every ${tier.logicalBackup.everyHours} h.`,
    ),
    rule(
      "TenantRestoreDrillFailed",
      `max(odoo_fleet_restore_drill_last_failure_timestamp_seconds{tenant="${tenant.name}"}) > max(odoo_fleet_restore_drill_last_success_timestamp_seconds{tenant="${tenant.name}"})`,
      "0m", "degradation",
      `Restore drill of ${tenant.name} failed`,
      "The latest backup could not be restored and verified: treat backups as unproven until fixed.",
    ),
    rule(
      "TenantRestoreDrillStale",
      `time() - max(odoo_fleet_restore_drill_last_success_timestamp_seconds{tenant="${tenant.name}"}) > ${Math.round(drillMaxDays * 86400)} or absent(odoo_fleet_restore_drill_last_success_timestamp_seconds{tenant="${tenant.name}"})`,
      "1h", "risk",
      `Restore drills of ${tenant.name} are late`,
      `No successful restore drill for ${drillMaxDays} days; the ${tenant.tier} tier drills every ${tier.restoreDrillEveryDays} day(s).`,
    ),
    rule(
      "TenantRestoreOverRto",
      `max(odoo_fleet_restore_drill_duration_seconds{tenant="${tenant.name}"}) > max(odoo_fleet_restore_drill_rto_seconds{tenant="${tenant.name}"})`,
      "0m", "risk",
      `Restoring ${tenant.name} takes longer than its RTO`,
      "The last drill's restore took longer than the tier's recovery time objective.",
    ),
  ];
}

export function platformRules(runbooks: string): RuleGroup {
  const rule = (alert: string, expr: string, forDuration: string, severity: Severity, summary: string, description: string): AlertRule => ({
    alert,
    expr,
    for: forDuration,
    labels: { severity, scope: "platform" },
    annotations: { summary, description, runbook_url: runbookUrl(runbooks, alert) },
  });
  return {
    name: "odoo-platform",
    rules: [
      rule("KubeNodePressure", 'max by (node, condition) (kube_node_status_condition{condition=~"MemoryPressure|DiskPressure|PIDPressure",status="true"}) == 1', "5m", "critical", "A node is under pressure", "The kubelet reports memory, disk or PID pressure and will evict pods."),
    ],
  };
}
