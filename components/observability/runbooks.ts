/** The runbook behind every alert: one page each in docs/runbooks/, written from this table. */

export interface Runbook {
  meaning: string;
  impact: string;
  firstChecks: string[];
  safeActions: string[];
  escalation: string;
}

const tenantNs = "`odoo-<tenant>`";

export const RUNBOOKS: Readonly<Record<string, Runbook>> = {
  OdooHighLatency: {
    meaning: "The 95th percentile of request time through Traefik for this tenant's hosts is over its tier's threshold.",
    impact: "Users wait on every screen; order entry and invoicing slow down; long requests may hit `limit_time_real` and fail.",
    firstChecks: [
      `Worker saturation: \`kubectl -n ${tenantNs} top pods\` against the web pods' CPU limits (see OdooWorkersSaturated).`,
      "Database: Performance Insights top SQL for the tenant's database; locks (PostgresLockContention).",
      "A heavy cron or report: the cron pod's logs, `ir_cron` last calls.",
    ],
    safeActions: ["Scale the web Deployment within the quota (`kubectl scale`), or raise `expectedUsers` in the stack file and deploy.", "Cancel a runaway query with `pg_cancel_backend` (never terminate the master's sessions)."],
    escalation: "Business-hours tenants: next working hour. Business and critical: on-call platform engineer; database owner if the cause is SQL.",
  },
  OdooHighErrorRatio: {
    meaning: "More than the tier's share of requests to this tenant end in HTTP 5xx.",
    impact: "Users see errors; the tenant is partly or fully down.",
    firstChecks: [`\`kubectl -n ${tenantNs} get pods\` and the odoo containers' logs.`, "Readiness of the web pods; the database and Valkey reachable from the namespace.", "A recent deploy of the image (rollout history)."],
    safeActions: ["Roll back the Deployment (`kubectl rollout undo`) if the errors began with a deploy.", "Restart a single stuck pod; never delete the namespace or the PVC."],
    escalation: "Pages for business and critical tenants; escalate to the application team when the trace points to a module.",
  },
  OdooWorkersSaturated: {
    meaning: "The tenant's web pods use over 90% of their CPU limit for 15 minutes.",
    impact: "Requests queue behind busy workers; latency rises for every user of the tenant.",
    firstChecks: ["Which requests are slow (Traefik access logs, by path).", "Whether users grew beyond `expectedUsers`."],
    safeActions: ["Raise `expectedUsers` in the stack file (the sizing adds workers and pods within the tier's caps) and deploy."],
    escalation: "Account manager when the tenant has outgrown its tier.",
  },
  OdooPodRestarting: {
    meaning: "A container of the tenant restarted more than twice in 30 minutes.",
    impact: "Requests in flight fail at each restart; with one replica the tenant is briefly down.",
    firstChecks: ["`kubectl describe pod`: OOMKilled, failed probes, or an error at start.", "`limit_memory_hard` hits in the Odoo log."],
    safeActions: ["Raise the tenant's sizing if it runs out of memory; roll back a bad image."],
    escalation: "Platform on-call for business and critical tenants.",
  },
  OdooPodEvicted: {
    meaning: "The kubelet evicted a pod of this tenant.",
    impact: "A replica was lost and rescheduled; single-replica tenants were briefly down.",
    firstChecks: ["Node conditions (KubeNodePressure).", "Preemption by a higher PriorityClass."],
    safeActions: ["Let the node pool scale; check the pool's capacity against the tenants' quotas (the plan's quotas-fit-capacity policy)."],
    escalation: "Platform on-call.",
  },
  OdooSyntheticCheckFailing: {
    meaning: "A blackbox probe of `/web/health`, `/web/login` or the websocket fails from outside the cluster.",
    impact: "Users cannot reach the tenant, or cannot log in (the database path fails).",
    firstChecks: ["Which probe fails: health only (Odoo down), login only (database), websocket only (port 8072 route).", "DNS of the domain still points at the NLB; the certificate is valid."],
    safeActions: ["Follow OdooHighErrorRatio; for the websocket, check the IngressRoute's `/websocket` rule."],
    escalation: "Pages for business and critical tenants.",
  },
  OdooCertificateExpiring: {
    meaning: "The tenant's certificate expires within 14 days and cert-manager has not renewed it.",
    impact: "Browsers will refuse the site when it expires.",
    firstChecks: [`\`kubectl -n ${tenantNs} describe certificate tls\` and its CertificateRequest and Challenge.`, "The domain still resolves to the NLB (HTTP-01 needs it)."],
    safeActions: ["Fix DNS with the customer; delete a failed Challenge to retry."],
    escalation: "Customer success when the customer's DNS moved away.",
  },
  OdooJobQueueBacklog: {
    meaning: "More than 500 queue_job jobs wait for 30 minutes.",
    impact: "Deferred work (mail, imports, invoicing batches) runs late.",
    firstChecks: ["The cron pod runs and its job runner channels are configured.", "A failing job retried in a loop."],
    safeActions: ["Restart the cron Deployment; requeue or cancel the failing job from Odoo."],
    escalation: "Application team for the module that floods the queue.",
  },
  TenantBackupFailed: {
    meaning: "The tenant's latest logical backup failed.",
    impact: "The newest off-site copy is older than the tier allows once the next one also fails.",
    firstChecks: ["The backup CronJob's last Job logs (`kubectl -n odoo-<tenant> logs job/...`).", "The backup role may write its prefix; the bucket's KMS key is usable."],
    safeActions: ["Start a backup by hand: `kubectl create job --from=cronjob/odoo-backup manual-<date>`."],
    escalation: "Platform on-call; data protection owner if it fails twice.",
  },
  TenantBackupStale: {
    meaning: "No successful logical backup within 1.5 times the tier's interval.",
    impact: "The region-loss RPO of the tenant's logical copies is not met.",
    firstChecks: ["The CronJob is not suspended and its schedule is right.", "TenantBackupFailed fired too."],
    safeActions: ["Run a manual backup (see TenantBackupFailed)."],
    escalation: "Platform on-call.",
  },
  TenantRestoreDrillFailed: {
    meaning: "The latest restore drill could not restore and verify the tenant's newest backup.",
    impact: "The backups are unproven: a real restore may fail the same way.",
    firstChecks: ["The drill Job's log: checksums (exit 4), empty tables (5), slower than RTO (6), or the registry failing to load."],
    safeActions: ["Keep the failing backup (Object Lock does); run the drill again against the previous backup."],
    escalation: "Data protection owner, same day.",
  },
  TenantRestoreDrillStale: {
    meaning: "No successful restore drill within 1.5 times the tier's drill interval.",
    impact: "Recovery is not proven as often as the tier promises.",
    firstChecks: ["The drill CronJob's schedule and last Jobs."],
    safeActions: ["Run the drill by hand from its CronJob."],
    escalation: "Data protection owner.",
  },
  TenantRestoreOverRto: {
    meaning: "The last drill's restore took longer than the tier's RTO.",
    impact: "A real restore would break the recovery-time contract.",
    firstChecks: ["Database size growth; the drill pod's CPU limit; the instance class of the server."],
    safeActions: ["Move the tenant to a larger tier or a dedicated stack; shorten the restore (parallel pg_restore jobs)."],
    escalation: "Service owner: the contract is at stake.",
  },
  KubeNodePressure: {
    meaning: "A node reports memory, disk or PID pressure.",
    impact: "The kubelet evicts pods, lowest priority first (essential tenants before business and critical).",
    firstChecks: ["`kubectl describe node`; which pods use the resource."],
    safeActions: ["Cordon and drain the node; the managed node group replaces it."],
    escalation: "Platform on-call.",
  },
};

export function runbookMarkdown(alert: string, book: Runbook): string {
  return [
    `# ${alert}`,
    "",
    "## What it means",
    book.meaning,
    "",
    "## Business impact",
    book.impact,
    "",
    "## First checks",
    ...book.firstChecks.map((c) => `- ${c}`),
    "",
    "## Safe actions",
    ...book.safeActions.map((a) => `- ${a}`),
    "",
    "## Escalation",
    book.escalation,
    "",
  ].join("\n");
}
