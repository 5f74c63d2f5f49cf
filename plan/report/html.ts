/**
 * The plan as one self-contained HTML page (no scripts, no fetched assets): the verdict, tenants
 * with tier, achieved RPO/RTO, quotas and capacity, isolation and zone-loss results, violations,
 * the change list and the resource graph (an inline SVG drawn by Graphviz).
 */
import { formatMinutes, type RecoveryRow } from "../../tiers/recovery";
import { dataLossRisks } from "./changes";
import type { EvaluatedViolation } from "../evaluation/policy-eval";
import type { PlanDocument, ResourceChange } from "./document";
import type { TenantZoneResult, ZoneOutcome } from "../analyses/zones";

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const STYLE = `
  :root { --ok: #15803d; --ok-bg: #dcfce7; --bad: #b91c1c; --bad-bg: #fee2e2; --warn: #a16207; --warn-bg: #fef9c3; --muted: #64748b; --line: #e2e8f0; }
  * { box-sizing: border-box; }
  body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #0f172a; margin: 0; background: #f8fafc; }
  header { background: #0f172a; color: #f8fafc; padding: 20px 32px; }
  header h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; }
  header .sub { color: #cbd5e1; }
  main { padding: 16px 32px 48px; max-width: 1500px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
  h2 { font-size: 16px; margin: 0 0 12px; }
  .cards { display: flex; gap: 12px; flex-wrap: wrap; margin-top: 16px; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 150px; }
  .card .n { font-size: 24px; font-weight: 600; }
  .card .l { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 5px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--muted); font-weight: 600; font-size: 12px; white-space: nowrap; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
  .ok { color: var(--ok); background: var(--ok-bg); }
  .bad { color: var(--bad); background: var(--bad-bg); }
  .warn { color: var(--warn); background: var(--warn-bg); }
  .tier-essential { background: #e2e8f0; color: #334155; }
  .tier-business { background: #dbeafe; color: #1d4ed8; }
  .tier-critical { background: #fae8ff; color: #a21caf; }
  .muted { color: var(--muted); }
  .callout { border-left: 4px solid var(--bad); background: var(--bad-bg); padding: 10px 14px; border-radius: 4px; margin: 8px 0; }
  .graph, .wide { overflow-x: auto; }
  .graph svg { max-width: 100%; height: auto; }
  code { font-size: 12px; background: #f1f5f9; padding: 0 4px; border-radius: 3px; }
  details summary { cursor: pointer; color: var(--muted); margin: 6px 0; }
`;

/** Tenant rows shown before the rest fold away (troubled tenants first; a fleet of 1,000 stays a page). */
export const TENANT_ROWS_SHOWN = 25;

export interface HtmlReportInput {
  document: PlanDocument;
  violations: readonly EvaluatedViolation[];
  changes?: readonly ResourceChange[];
  /** The resource graph as inline SVG, or why there is none. */
  graph: { svg: string } | { error: string };
  generatedAt: string;
}

const badge = (text: string, kind: string) => `<span class="badge ${kind}">${escape(text)}</span>`;
const tierBadge = (tier: string) => badge(tier, `tier-${tier}`);
const card = (n: string | number, label: string, kind = "") => `<div class="card"><div class="n ${kind}">${escape(String(n))}</div><div class="l">${escape(label)}</div></div>`;
const cores = (millis: number) => `${+(millis / 1000).toFixed(2)}`;
const gib = (mib: number) => `${+(mib / 1024).toFixed(1)} GiB`;

function recoveryCell(rows: readonly RecoveryRow[], objective: RecoveryRow["objective"], fault: RecoveryRow["fault"]): string {
  const row = rows.find((r) => r.objective === objective && r.fault === fault);
  if (!row) return "<td>-</td>";
  const show = (v: number | null) => (objective === "PITR window" ? `${v ?? 0} d` : formatMinutes(v));
  const kind = row.meets ? "ok" : row.enforced ? "bad" : "warn";
  return `<td title="${escape(row.via)}">${badge(`${show(row.achieved)} / ${show(row.contract)}`, kind)}</td>`;
}

const RANK: Record<ZoneOutcome, number> = { serving: 2, recovers: 1, down: 0 };

function zoneCell(results: readonly TenantZoneResult[]): string {
  if (results.length === 0) return "<td>-</td>";
  const worst = results.reduce((a, b) => (RANK[b.outcome] < RANK[a.outcome] ? b : a));
  const kind = results.every((r) => r.meets) ? "ok" : worst.enforced ? "bad" : "warn";
  return `<td title="${escape(worst.reasons.join("; ") || "keeps serving")}">${badge(worst.outcome, kind)}</td>`;
}

export function htmlReport(input: HtmlReportInput): string {
  const { document: doc, violations } = input;
  const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory");
  const verdict = doc.errors ? ["invalid configuration", "bad"] : mandatory.length > 0 ? [`${mandatory.length} mandatory violation${mandatory.length === 1 ? "" : "s"}`, "bad"] : ["no mandatory violation", "ok"];
  const parts: string[] = [];
  parts.push(`<header><h1>odoo-fleet plan: ${escape(doc.stack)}</h1><div class="sub">${escape(doc.stackFile)} · ${escape(input.generatedAt)} · ${badge(verdict[0]!, verdict[1]!)}</div></header><main>`);

  if (doc.errors) {
    parts.push(`<section><h2>Invalid configuration</h2><ul>${doc.errors.map((e) => `<li><code>${escape(e.path)}</code>: ${escape(e.message)}</li>`).join("")}</ul></section></main>`);
    return page(doc.stack, parts);
  }

  const tenants = doc.tenants ?? [];
  const isolation = doc.isolation ?? [];
  const zoneResults = doc.zones?.results ?? [];
  const recoveryRows = doc.recovery?.rows ?? [];
  const recoveryShort = recoveryRows.filter((r) => !r.meets).length;
  const zoneShort = zoneResults.filter((r) => !r.meets).length;
  parts.push(
    `<div class="cards">${[
      card(doc.summary.resourceCount, "resources"),
      card(tenants.length, "tenants"),
      card(mandatory.length, "mandatory violations", mandatory.length > 0 ? "bad" : ""),
      card(violations.length - mandatory.length, "advisory"),
      card(isolation.length, "isolation findings", isolation.length > 0 ? "bad" : ""),
      card(zoneShort, "zone-loss shortfalls", zoneShort > 0 ? "bad" : ""),
      card(recoveryShort, "recovery shortfalls", recoveryShort > 0 ? "bad" : ""),
      ...(input.changes ? [card(input.changes.length, "changes"), card(dataLossRisks(input.changes).length, "data-loss risks", dataLossRisks(input.changes).length > 0 ? "bad" : "")] : []),
    ].join("")}</div>`,
  );

  if (input.changes) parts.push(changesSection(input.changes, doc));

  // Tenants: tier, shard, size, quota, recovery against contract, worst zone-loss outcome.
  const rowsOf = new Map<string, RecoveryRow[]>();
  for (const r of recoveryRows) rowsOf.set(r.tenant, [...(rowsOf.get(r.tenant) ?? []), r]);
  const zonesOf = new Map<string, TenantZoneResult[]>();
  for (const r of zoneResults) zonesOf.set(r.tenant, [...(zonesOf.get(r.tenant) ?? []), r]);
  const violationsOf = new Map<string, number>();
  for (const v of violations) if (v.tenant) violationsOf.set(v.tenant, (violationsOf.get(v.tenant) ?? 0) + 1);
  const tenantRow = (t: (typeof tenants)[number]) => {
    const rows = rowsOf.get(t.name) ?? [];
    const count = violationsOf.get(t.name) ?? 0;
    return `<tr><td><b>${escape(t.name)}</b></td><td>${tierBadge(t.tier)}</td><td>${escape(t.shard || "first")}</td><td class="num">${t.expectedUsers}</td>` +
      `<td class="num">${t.webReplicas}${t.maxWebReplicas > t.webReplicas ? `–${t.maxWebReplicas}` : ""} × ${t.workersPerPod}</td>` +
      `<td class="num">${cores(t.quota.requests.cpuMillis)} / ${cores(t.quota.limits.cpuMillis)}</td><td class="num">${gib(t.quota.requests.memoryMiB)} / ${gib(t.quota.limits.memoryMiB)}</td><td class="num">${t.peakConnections}</td>` +
      recoveryCell(rows, "RPO", "region-lost") + recoveryCell(rows, "RTO", "zone-lost") + recoveryCell(rows, "RTO", "region-lost") + recoveryCell(rows, "PITR window", "logical-corruption") +
      zoneCell(zonesOf.get(t.name) ?? []) + `<td>${count > 0 ? badge(String(count), "bad") : badge("0", "ok")}</td></tr>`;
  };
  const header = `<tr><th>tenant</th><th>tier</th><th>shard</th><th>users</th><th>web pods × workers</th><th>CPU req / lim</th><th>memory req / lim</th><th>DB conns</th><th>RPO region</th><th>RTO zone</th><th>RTO region</th><th>PITR</th><th>zone loss</th><th>violations</th></tr>`;
  // Tenants with a problem first, then by name.
  const troubled = (name: string) => (violationsOf.get(name) ?? 0) > 0 || (zonesOf.get(name) ?? []).some((r) => !r.meets) || (rowsOf.get(name) ?? []).some((r) => !r.meets);
  const ordered = [...tenants].sort((a, b) => Number(troubled(b.name)) - Number(troubled(a.name)) || a.name.localeCompare(b.name));
  const shown = ordered.slice(0, TENANT_ROWS_SHOWN);
  const folded = ordered.slice(TENANT_ROWS_SHOWN);
  if (tenants.length > TENANT_ROWS_SHOWN) parts.push(fleetSummary(tenants, zonesOf, rowsOf));
  parts.push(
    `<section><h2>Tenants (${tenants.length}) <span class="muted">achieved / contract; hover a cell for how</span></h2><div class="wide"><table>${header}${shown.map(tenantRow).join("")}</table></div>` +
      (folded.length > 0 ? `<details><summary>${folded.length} more tenants (troubled ones are listed first above)</summary><div class="wide"><table>${header}${folded.map(tenantRow).join("")}</table></div></details>` : "") +
      `</section>`,
  );

  if (doc.zones) {
    const z = doc.zones;
    const zoneRows = z.zones.map((zone) => {
      const mine = z.results.filter((r) => r.zone === zone);
      const count = (o: ZoneOutcome) => mine.filter((r) => r.outcome === o).length;
      const pools = z.capacity.filter((c) => c.zone === zone && c.needed.cpuMillis > 0);
      return `<tr><td><b>${escape(zone)}</b></td><td class="num">${badge(String(count("serving")), "ok")}</td><td class="num">${badge(String(count("recovers")), count("recovers") > 0 ? "warn" : "ok")}</td><td class="num">${badge(String(count("down")), count("down") > 0 ? "bad" : "ok")}</td><td class="num">${z.traefikReplicasLeft[zone] ?? 0}</td>` +
        `<td>${pools.map((c) => `${escape(c.pool)}: ${cores(c.needed.cpuMillis)} of ${cores(c.capacity.cpuMillis)} vCPU, ${gib(c.needed.memoryMiB)} of ${gib(c.capacity.memoryMiB)} ${badge(c.fits ? "fits" : "short", c.fits ? "ok" : "bad")}`).join("<br>") || "-"}</td></tr>`;
    });
    const short = z.results.filter((r) => !r.meets);
    parts.push(
      `<section><h2>Zone loss <span class="muted">worst case for each zone taken away</span></h2><table><tr><th>zone lost</th><th>serving</th><th>recover</th><th>down</th><th>Traefik left</th><th>pool capacity left (quota requests of what the other zones offer)</th></tr>${zoneRows.join("")}</table>` +
        (short.length > 0 ? `<ul>${short.slice(0, 200).map((r) => `<li>${badge(r.enforced ? "short" : "relaxed", r.enforced ? "bad" : "warn")} <b>${escape(r.tenant)}</b> (${escape(r.tier)}, owed ${r.required}) is ${r.outcome} without ${escape(r.zone)}: ${escape(r.reasons.join("; "))}</li>`).join("")}</ul>` : `<p>${badge("every tenant gets what its tier promises", "ok")}</p>`) +
        `</section>`,
    );
  }

  parts.push(isolationSection(doc));

  parts.push(`<section><h2>Policy violations</h2>${violations.length === 0 ? `<p>${badge("none", "ok")}</p>` : `<table><tr><th>tenant</th><th>level</th><th>policy</th><th>message</th></tr>${[...violations]
    .sort((a, b) => a.enforcementLevel.localeCompare(b.enforcementLevel) * -1 || (a.tenant ?? "").localeCompare(b.tenant ?? ""))
    .slice(0, 500)
    .map((v) => `<tr><td>${escape(v.tenant ?? "(platform)")}</td><td>${badge(v.enforcementLevel, v.enforcementLevel === "mandatory" ? "bad" : "warn")}</td><td><code>${escape(v.policy)}</code></td><td>${escape(v.message)}</td></tr>`)
    .join("")}</table>${violations.length > 500 ? `<p class="muted">and ${violations.length - 500} more (see the JSON)</p>` : ""}`}</section>`);

  parts.push(`<section><h2>Resource graph <span class="muted">components and their resource counts; an arrow points at what depends on its source</span></h2>${"svg" in input.graph ? `<div class="graph">${input.graph.svg}</div>` : `<p>${badge("no graph", "warn")} ${escape(input.graph.error)}</p>`}</section>`);

  parts.push(`<section><h2>Resources by type (${doc.summary.resourceCount})</h2><details><summary>show</summary><table><tr><th>type</th><th>count</th></tr>${Object.entries(doc.summary.byType).map(([t, n]) => `<tr><td><code>${escape(t)}</code></td><td class="num">${n}</td></tr>`).join("")}</table></details></section>`);
  parts.push("</main>");
  return page(doc.stack, parts);
}

/** A fleet at a glance: tenants per shard and tier, their users, quota requests, connections and outcomes. */
function fleetSummary(tenants: NonNullable<PlanDocument["tenants"]>, zonesOf: Map<string, TenantZoneResult[]>, rowsOf: Map<string, RecoveryRow[]>): string {
  const groups = new Map<string, typeof tenants>();
  for (const t of tenants) groups.set(`${t.shard}\u0000${t.tier}`, [...(groups.get(`${t.shard}\u0000${t.tier}`) ?? []), t]);
  const rows = [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([key, list]) => {
    const [shard, tier] = key.split("\u0000") as [string, string];
    const sum = (pick: (t: (typeof tenants)[number]) => number) => list.reduce((n, t) => n + pick(t), 0);
    const short = list.filter((t) => (zonesOf.get(t.name) ?? []).some((r) => !r.meets) || (rowsOf.get(t.name) ?? []).some((r) => !r.meets)).length;
    return `<tr><td>${escape(shard || "first")}</td><td>${tierBadge(tier)}</td><td class="num">${list.length}</td><td class="num">${sum((t) => t.expectedUsers)}</td>` +
      `<td class="num">${cores(sum((t) => t.quota.requests.cpuMillis))}</td><td class="num">${gib(sum((t) => t.quota.requests.memoryMiB))}</td><td class="num">${sum((t) => t.peakConnections)}</td>` +
      `<td>${badge(short === 0 ? "all meet their tier" : `${short} short`, short === 0 ? "ok" : "bad")}</td></tr>`;
  });
  return `<section><h2>Fleet by shard and tier</h2><table><tr><th>shard</th><th>tier</th><th>tenants</th><th>users</th><th>CPU requests</th><th>memory requests</th><th>DB conns at peak</th><th>recovery and zone loss</th></tr>${rows.join("")}</table></section>`;
}

function changesSection(changes: readonly ResourceChange[], doc: PlanDocument): string {
  const count = (kind: ResourceChange["change"]) => changes.filter((c) => c.change === kind).length;
  const lossy = dataLossRisks(changes);
  const row = (c: ResourceChange) => {
    const kind = c.stateful && (c.change === "replace" || c.change === "remove") ? "bad" : c.change === "add" ? "ok" : "warn";
    return `<tr><td>${badge(c.change + (c.stateful ? " (stateful)" : ""), kind)}</td><td><code>${escape(c.urn.split("::").slice(2).join("::"))}</code></td><td>${escape((c.replaceBecause ? [`forced by ${c.replaceBecause.join(", ")}`] : c.paths.slice(0, 8)).join(", "))}</td></tr>`;
  };
  // Removals, replacements and updates in full (data at risk first); additions by the component they join.
  const risky = changes.filter((c) => c.change !== "add").sort((a, b) => Number(b.stateful) - Number(a.stateful));
  const byUrn = new Map(doc.resources.map((r) => [r.urn, r]));
  const added = new Map<string, ResourceChange[]>();
  for (const c of changes.filter((x) => x.change === "add")) {
    const parent = byUrn.get(byUrn.get(c.urn)?.parent ?? "");
    const key = parent && parent.type !== "pulumi:pulumi:Stack" ? `${parent.type.split(":").pop()} ${parent.name}` : "the stack";
    added.set(key, [...(added.get(key) ?? []), c]);
  }
  const header = "<tr><th>change</th><th>resource</th><th>inputs</th></tr>";
  return `<section><h2>Changes against the previous plan: ${count("add")} to add, ${count("update")} to update, ${count("replace")} to replace, ${count("remove")} to remove</h2>` +
    (lossy.length > 0 ? `<div class="callout"><b>${lossy.length} stateful resource${lossy.length === 1 ? " is" : "s are"} replaced or removed: the data in ${lossy.length === 1 ? "it" : "them"} is lost unless restored.</b></div>` : "") +
    (risky.length > 0 ? `<table>${header}${risky.slice(0, 500).map(row).join("")}</table>` : "") +
    [...added].map(([owner, list]) => `<details><summary>${badge(`+${list.length}`, "ok")} added to ${escape(owner)}</summary><table>${header}${list.slice(0, 500).map(row).join("")}</table></details>`).join("") +
    (changes.length === 0 ? `<p class="muted">no change</p>` : "") +
    `</section>`;
}

function page(stack: string, parts: readonly string[]): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>odoo-fleet plan: ${escape(stack)}</title><style>${STYLE}</style></head><body>${parts.join("\n")}</body></html>\n`;
}

/** The isolation section: one row per channel (what it checked, how many findings), then each finding. */
function isolationSection(doc: PlanDocument): string {
  const isolation = doc.isolation ?? [];
  const channels = doc.isolationChannels ?? [];
  const rows = channels.map((c) => `<tr><td><b>${escape(c.channel)}</b></td><td class="num">${c.checked}</td><td>${escape(c.unit)}</td><td class="num">${badge(String(c.findings), c.findings > 0 ? "bad" : "ok")}</td></tr>`);
  return (
    `<section><h2>Isolation <span class="muted">every channel a tenant has</span></h2>` +
    (rows.length > 0 ? `<table><tr><th>channel</th><th>checked</th><th>what</th><th>findings</th></tr>${rows.join("")}</table>` : "") +
    (isolation.length > 0
      ? `<ul>${isolation.map((f) => `<li>${badge(f.channel, "bad")} <b>${escape(f.tenant)}</b>: ${escape(f.message)}</li>`).join("")}</ul>`
      : `<p class="muted">Network reachability from the planned NetworkPolicies (a path needs the source's egress and the target's ingress); database roles and who holds the master's credentials; cache users' key and channel patterns and commands; file system access points, policy and NFS egress; IAM roles' trust and reach into other tenants' backups; jobs acting for a tenant; hostnames routed from two namespaces; role bindings reaching beyond a tenant's namespace.</p>`) +
    `</section>`
  );
}
