/**
 * Alert rules: generated from the tier catalogue, every one with a severity, a runbook page that
 * exists, and a tenant label where it concerns one tenant; checked and unit-tested with promtool
 * (Debian's prometheus package, which npm does not ship: `.ci/install-tools` installs it).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { stringify } from "yaml";
import { platformRules, tenantRules, type RuleGroup } from "../components/observability/alerts";
import { RUNBOOKS, runbookMarkdown } from "../components/observability/runbooks";
import { ROOT } from "./plan-cli";
import { missingTools } from "./tools";

const RUNBOOK_BASE = "https://github.com/odoo-fleet/odoo-fleet/blob/main/docs/runbooks";

const groups: RuleGroup[] = [
  tenantRules({ name: "northwind", tier: "business", queueJob: true }, RUNBOOK_BASE),
  tenantRules({ name: "fabrikam", tier: "essential", queueJob: false }, RUNBOOK_BASE),
  tenantRules({ name: "acme", tier: "critical", queueJob: false }, RUNBOOK_BASE),
  platformRules(RUNBOOK_BASE),
];

describe("alert rules", () => {
  test("every rule has a severity and a runbook page in docs/runbooks; tenant rules carry tenant and tier", () => {
    for (const group of groups) {
      for (const rule of group.rules) {
        expect(["page", "critical", "warning"]).toContain(rule.labels.severity);
        expect(rule.annotations.runbook_url).toBe(`${RUNBOOK_BASE}/${rule.alert}.md`);
        expect(existsSync(path.join(ROOT, "docs", "runbooks", `${rule.alert}.md`)), rule.alert).toBe(true);
        if (group.name.startsWith("odoo-tenant-")) expect(rule.labels).toMatchObject({ tenant: group.name.replace("odoo-tenant-", "") });
      }
    }
  });

  test("the runbook pages are the ones the table writes (npm run runbooks), one per alert", () => {
    const alerts = new Set(groups.flatMap((g) => g.rules.map((r) => r.alert)));
    expect(new Set(Object.keys(RUNBOOKS))).toEqual(alerts);
    for (const [alert, book] of Object.entries(RUNBOOKS)) {
      expect(readFileSync(path.join(ROOT, "docs", "runbooks", `${alert}.md`), "utf8")).toBe(runbookMarkdown(alert, book));
    }
  });

  test("thresholds and routing follow the tier", () => {
    const latency = (g: RuleGroup) => g.rules.find((r) => r.alert === "OdooHighLatency")!;
    expect(latency(groups[0]!).expr).toMatch(/> 2$/);
    expect(latency(groups[2]!).expr).toMatch(/> 1$/);
    const errors = (g: RuleGroup) => g.rules.find((r) => r.alert === "OdooHighErrorRatio")!.labels.severity;
    expect([errors(groups[1]!), errors(groups[0]!), errors(groups[2]!)]).toEqual(["critical", "page", "page"]);
    expect(groups[0]!.rules.find((r) => r.alert === "TenantBackupStale")!.expr).toContain("> 32400");
    expect(groups[1]!.rules.some((r) => r.alert === "OdooJobQueueBacklog")).toBe(false);
    // How long a failing synthetic check waits before it fires: the tier catalogue's minutes.
    expect(groups.slice(0, 3).map((g) => g.rules.find((r) => r.alert === "OdooSyntheticCheckFailing")!.for)).toEqual(["3m", "10m", "2m"]);
  });
});

describe.skipIf(missingTools("promtool checks of the alert rules", "promtool").length > 0)("promtool", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-rules-"));
  const rulesFile = path.join(dir, "rules.yml");
  writeFileSync(rulesFile, stringify({ groups }));

  test("promtool check rules accepts every generated rule", () => {
    const result = spawnSync("promtool", ["check", "rules", rulesFile], { encoding: "utf8" });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`SUCCESS: ${groups.reduce((n, g) => n + g.rules.length, 0)} rules found`);
  });

  test("a broken rule fails the check (so a bad rule cannot land)", () => {
    const broken = path.join(dir, "broken.yml");
    writeFileSync(broken, stringify({ groups: [{ name: "broken", rules: [{ alert: "Broken", expr: "sum(rate(x[5m]) >", for: "1m", labels: { severity: "warning" } }] }] }));
    const result = spawnSync("promtool", ["check", "rules", broken], { encoding: "utf8" });
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toContain("FAILED");
  });

  test("promtool test rules: stale and failed backups, a failing probe and 5xx fire with their labels; healthy series stay quiet", () => {
    const tests = {
      rule_files: [rulesFile],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            // northwind's last backup at t=0 never renews; fabrikam's renews every minute.
            { series: 'odoo_fleet_backup_last_success_timestamp_seconds{tenant="northwind"}', values: "0+0x700" },
            { series: 'odoo_fleet_backup_last_success_timestamp_seconds{tenant="fabrikam"}', values: "0+60x700" },
            { series: 'odoo_fleet_backup_last_failure_timestamp_seconds{tenant="acme"}', values: "100+0x10" },
            { series: 'odoo_fleet_backup_last_success_timestamp_seconds{tenant="acme"}', values: "50+0x10" },
            { series: 'probe_success{namespace="odoo-acme",instance="https://erp.acme.example/web/login"}', values: "0x10" },
            { series: 'traefik_service_requests_total{service="odoo-northwind-odoo-8069@kubernetescrd",code="200"}', values: "0+90x20" },
            { series: 'traefik_service_requests_total{service="odoo-northwind-odoo-8069@kubernetescrd",code="502"}', values: "0+10x20" },
          ],
          alert_rule_test: [
            {
              eval_time: "10h",
              alertname: "TenantBackupStale",
              exp_alerts: [
                {
                  exp_labels: { severity: "critical", tenant: "northwind", tier: "business" },
                  exp_annotations: {
                    summary: "Backups of northwind are late",
                    description: "No successful logical backup for 9 h; the business tier backs up every 6 h.",
                    runbook_url: `${RUNBOOK_BASE}/TenantBackupStale.md`,
                  },
                },
                {
                  // acme's series stop after 10 minutes: at 10h its backups are absent altogether.
                  exp_labels: { severity: "page", tenant: "acme", tier: "critical" },
                  exp_annotations: {
                    summary: "Backups of acme are late",
                    description: "No successful logical backup for 2 h; the critical tier backs up every 1 h.",
                    runbook_url: `${RUNBOOK_BASE}/TenantBackupStale.md`,
                  },
                },
              ],
            },
            {
              eval_time: "5m",
              alertname: "TenantBackupFailed",
              exp_alerts: [{ exp_labels: { severity: "page", tenant: "acme", tier: "critical" }, exp_annotations: { summary: "Backup of acme failed", description: "The latest logical backup failed; the one before is the newest copy.", runbook_url: `${RUNBOOK_BASE}/TenantBackupFailed.md` } }],
            },
            {
              eval_time: "5m",
              alertname: "OdooSyntheticCheckFailing",
              exp_alerts: [
                {
                  exp_labels: { severity: "page", tenant: "acme", tier: "critical", instance: "https://erp.acme.example/web/login" },
                  exp_annotations: { summary: "Synthetic check of acme fails", description: "A blackbox probe of /web/health, /web/login or the websocket fails from outside.", runbook_url: `${RUNBOOK_BASE}/OdooSyntheticCheckFailing.md` },
                },
              ],
            },
            {
              eval_time: "15m",
              alertname: "OdooHighErrorRatio",
              exp_alerts: [{ exp_labels: { severity: "page", tenant: "northwind", tier: "business" }, exp_annotations: { summary: "Odoo of northwind fails requests", description: "More than 2% of requests end in 5xx.", runbook_url: `${RUNBOOK_BASE}/OdooHighErrorRatio.md` } }],
            },
            { eval_time: "15m", alertname: "OdooHighLatency", exp_alerts: [] },
          ],
        },
      ],
    };
    const testFile = path.join(dir, "tests.yml");
    writeFileSync(testFile, stringify(tests));
    const result = spawnSync("promtool", ["test", "rules", testFile], { encoding: "utf8" });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("SUCCESS");
  });
});
