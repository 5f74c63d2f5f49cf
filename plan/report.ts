/** The plan's outputs: the JSON document of shared/product/plan-format.md and the text summary. */
import type { CapturedResource } from "./capture";
import type { PlanRun } from "./run";

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
  offlinePlaceholders: string[];
}

export function countByType(resources: readonly CapturedResource[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

export function planDocument(run: PlanRun, violations: PlanViolation[] = []): PlanDocument {
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
