/** The plan's text summary on the terminal: the component tree, recovery, zone loss and violations. */
import { formatMinutes, type RecoveryRow } from "../../tiers/recovery";
import type { CapturedResource } from "../../model/resource";
import type { ZoneAnalysis, ZoneOutcome } from "../analyses/zones";
import type { EvaluatedViolation } from "../evaluation/policy-eval";
import { countByType, type PlanDocument } from "./document";

/**
 * The component tree with, under each component, its direct custom children counted by type.
 * Resources whose parent is the root stack and that are not components are listed under it.
 */
export function summarize(document: PlanDocument, durationMs: number): string {
  const resources = document.resources;
  const children = new Map<string | null, CapturedResource[]>();
  for (const r of resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  const subtreeSize = (urn: string): number => (children.get(urn) ?? []).reduce((n, c) => n + 1 + subtreeSize(c.urn), 0);

  const lines: string[] = [];
  const walk = (node: CapturedResource, prefix: string, last: boolean, root: boolean) => {
    const size = subtreeSize(node.urn);
    lines.push(`${root ? "" : `${prefix}${last ? "└─ " : "├─ "}`}${node.type} ${node.name}${size > 0 ? `  (${size})` : ""}`);
    const inner = root ? "" : `${prefix}${last ? "   " : "│  "}`;
    const kids = children.get(node.urn) ?? [];
    const components = kids.filter((k) => !k.custom);
    const custom = countByType(kids.filter((k) => k.custom));
    const entries = Object.entries(custom);
    entries.forEach(([type, n], i) => {
      const isLast = i === entries.length - 1 && components.length === 0;
      lines.push(`${inner}${isLast ? "└─ " : "├─ "}${String(n).padStart(3)} × ${type}`);
    });
    components.forEach((c, i) => walk(c, inner, i === components.length - 1, false));
  };
  for (const root of children.get(null) ?? []) walk(root, "", true, true);

  const custom = resources.filter((r) => r.custom).length;
  lines.push("");
  lines.push(`${resources.length} resources (${custom} custom, ${resources.length - custom} components) for stack ${document.stack} in ${(durationMs / 1000).toFixed(1)} s`);
  if (document.offlinePlaceholders.length > 0) {
    lines.push(`offline placeholders stand in for secure values: ${document.offlinePlaceholders.join(", ")}`);
  }
  return lines.join("\n");
}

const RECOVERY_COLUMNS: [RecoveryRow["objective"], RecoveryRow["fault"], string][] = [
  ["RPO", "single-fault", "RPO fault"],
  ["RPO", "logical-corruption", "RPO corruption"],
  ["RPO", "region-lost", "RPO region"],
  ["RTO", "zone-lost", "RTO zone"],
  ["RTO", "region-lost", "RTO region"],
  ["PITR window", "logical-corruption", "PITR days"],
];

/** One line per tenant: for each objective, achieved against contract, and a mark for shortfalls. */
export function recoveryTable(rows: readonly RecoveryRow[]): string {
  const tenants = [...new Set(rows.map((r) => r.tenant))];
  if (tenants.length === 0) return "recovery: no tenants";
  const header = ["tenant", "tier", ...RECOVERY_COLUMNS.map(([, , label]) => label)];
  const lines = tenants.map((tenant) => {
    const mine = rows.filter((r) => r.tenant === tenant);
    const cells = RECOVERY_COLUMNS.map(([objective, fault]) => {
      const row = mine.find((r) => r.objective === objective && r.fault === fault)!;
      const show = (v: number | null) => (objective === "PITR window" ? String(v ?? 0) : formatMinutes(v));
      return `${show(row.achieved)} / ${show(row.contract)} ${row.meets ? "ok" : row.enforced ? "SHORT" : "relaxed"}`;
    });
    return [tenant, mine[0]!.tier, ...cells];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return ["recovery (achieved / contract):", format(header), ...lines.map(format)].join("\n");
}

/** Violations grouped by tenant (platform first), mandatory before advisory. */
export function violationsByTenant(violations: readonly EvaluatedViolation[]): string {
  if (violations.length === 0) return "policies: no violations";
  const groups = new Map<string, EvaluatedViolation[]>();
  for (const v of violations) {
    const key = v.tenant ?? "(platform)";
    groups.set(key, [...(groups.get(key) ?? []), v]);
  }
  const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory").length;
  const lines = [`policies: ${mandatory} mandatory, ${violations.length - mandatory} advisory violations`];
  for (const key of [...groups.keys()].sort((a, b) => (a === "(platform)" ? -1 : b === "(platform)" ? 1 : a.localeCompare(b)))) {
    lines.push(`  ${key}:`);
    for (const v of groups.get(key)!.sort((a, b) => a.enforcementLevel.localeCompare(b.enforcementLevel) * -1)) {
      lines.push(`    [${v.enforcementLevel}] ${v.policy}: ${v.message}`);
    }
  }
  return lines.join("\n");
}

const gib = (mib: number) => (mib / 1024).toFixed(1);

/** Per zone: how many tenants keep serving, recover or go down; the capacity left; then every shortfall. */
export function zoneTable(analysis: ZoneAnalysis): string {
  if (analysis.zones.length === 0) return "zone loss: no zones";
  const lines = ["zone loss (worst case per zone lost):"];
  const header = ["zone lost", "serving", "recovers", "down", "Traefik left", "pool capacity left (CPU / memory requested of offered)"];
  const rows = analysis.zones.map((zone) => {
    const mine = analysis.results.filter((r) => r.zone === zone);
    const count = (o: ZoneOutcome) => String(mine.filter((r) => r.outcome === o).length);
    const pools = analysis.capacity
      .filter((c) => c.zone === zone && c.needed.cpuMillis > 0)
      .map((c) => `${c.pool} ${c.needed.cpuMillis / 1000}/${Math.floor(c.capacity.cpuMillis / 1000)} vCPU, ${gib(c.needed.memoryMiB)}/${gib(c.capacity.memoryMiB)} GiB ${c.fits ? "ok" : "SHORT"}`)
      .join("; ");
    return [zone, count("serving"), count("recovers"), count("down"), String(analysis.traefikReplicasLeft[zone] ?? 0), pools || "-"];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  lines.push(format(header), ...rows.map(format));
  const short = analysis.results.filter((r) => !r.meets);
  for (const r of short) lines.push(`  ${r.enforced ? "SHORT" : "relaxed"}: ${r.tenant} (${r.tier}, owed ${r.required}) is ${r.outcome} without ${r.zone}: ${r.reasons.join("; ")}`);
  return lines.join("\n");
}

/** The isolation analysis per channel: what each checked and found (findings are listed as violations). */
export function isolationTable(channels: NonNullable<PlanDocument["isolationChannels"]>): string {
  const total = channels.reduce((n, c) => n + c.findings, 0);
  const width = Math.max(...channels.map((c) => c.channel.length), 7);
  return [`isolation: ${total} finding${total === 1 ? "" : "s"} in ${channels.length} channels`, ...channels.map((c) => `  ${c.channel.padEnd(width)}  ${c.checked} checked (${c.unit}), ${c.findings} finding${c.findings === 1 ? "" : "s"}`)].join("\n");
}
