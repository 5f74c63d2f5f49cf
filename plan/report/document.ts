/** The plan's outputs: the JSON document of shared/product/plan-format.md and the text summary. */
import { formatMinutes, type RecoveryMechanisms, type RecoveryRow } from "../../tiers/recovery";
import type { CapturedResource } from "../../model/resource";
import type { ResourceChange } from "./changes";
import type { PlanRun } from "../capture/run";
import type { ZoneAnalysis } from "../analyses/zones";
import type { TenantSummary } from "../analyses/index";
import type { NameCollision, NamingRuleBreak, ServiceCreatedName } from "../analyses/names";

export interface PlanViolation {
  policy: string;
  enforcementLevel: "mandatory" | "advisory";
  urn: string | null;
  message: string;
}

export interface PlanDocument {
  project: string;
  stack: string;
  stackFile: string;
  resources: CapturedResource[];
  violations: PlanViolation[];
  summary: { resourceCount: number; byType: Record<string, number> };
  outputs?: Record<string, unknown>;
  errors?: { path: string; message: string }[];
  /** Achieved RPO/RTO per tenant and fault, next to the tier's contract. */
  recovery?: { mechanisms: RecoveryMechanisms; rows: RecoveryRow[] };
  /** Paths between tenants' pods and ways into a tenant other than Traefik (expected: none). */
  isolation?: { kind: string; tenant: string; message: string }[];
  /** Each tenant's tier, shard, sizing and quota, as planned. */
  tenants?: TenantSummary[];
  /** Zone-failure simulation: per zone lost, what each tenant keeps and the capacity left. */
  zones?: ZoneAnalysis;
  /** Physical names checked (where the cloud needs them unique), and those it would refuse (expected: none). */
  names?: { checked: number; autonamed: number; collisions: NameCollision[]; ruleBreaks: NamingRuleBreak[]; duplicateUrns: string[]; createdByService: ServiceCreatedName[] };
  /** With `--against`: what changes relative to the previous plan. */
  changes?: ResourceChange[];
  offlinePlaceholders: string[];
}

export function countByType(resources: readonly CapturedResource[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

export function planDocument(
  run: PlanRun,
  violations: PlanViolation[] = [],
  recovery?: { mechanisms: RecoveryMechanisms; rows: RecoveryRow[] },
): PlanDocument {
  // An invalid configuration plans nothing: `resources` is empty by contract.
  const resources = run.specError ? [] : run.resources;
  return {
    project: run.project,
    stack: run.stack,
    stackFile: run.stackFile,
    resources,
    violations,
    summary: { resourceCount: resources.length, byType: countByType(resources) },
    ...(run.outputs ? { outputs: run.outputs } : {}),
    ...(run.specError ? { errors: run.specError.problems.map((p) => ({ path: p.path, message: p.message })) } : {}),
    ...(recovery && !run.specError ? { recovery } : {}),
    offlinePlaceholders: run.placeholders,
  };
}

/** 0: valid, no mandatory violation; 1: a mandatory violation; 2: invalid configuration. */
export function exitCode(document: PlanDocument): 0 | 1 | 2 {
  if (document.errors) return 2;
  return document.violations.some((v) => v.enforcementLevel === "mandatory") ? 1 : 0;
}

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
export function violationsByTenant(violations: readonly (PlanViolation & { tenant: string | null })[]): string {
  if (violations.length === 0) return "policies: no violations";
  const groups = new Map<string, (PlanViolation & { tenant: string | null })[]>();
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
