/**
 * The resource graph of a plan as Graphviz DOT: one node per component (with how many resources it
 * holds) and an edge from each component to those whose resources depend on it, so the stack reads
 * from the network on the left to the tenants on the right. Components nested in another (not in
 * the root stack) hang from it with a dotted edge. Fleets are drawn with their tenants folded into
 * one node per tier, so the picture stays readable (and `dot` fast) at a thousand tenants.
 * Rendering uses Graphviz compiled to WebAssembly (`@hpcc-js/wasm-graphviz`, from npm): `tred`
 * (transitive reduction) then `dot`, so every machine that ran `npm ci` draws the same picture.
 */
import type { CapturedResource } from "../../model/resource";

/** More tenants than this and they are drawn as one node per tier. */
export const MAX_TENANT_NODES = 24;

const AREA_COLOURS: Record<string, string> = {
  network: "#dbeafe",
  compute: "#e0e7ff",
  data: "#fde68a",
  ingress: "#d1fae5",
  tenants: "#fce7f3",
  observability: "#ede9fe",
};

const quote = (text: string) => `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;

/** `odoo-fleet:data:PostgresServer` -> `PostgresServer`; `pulumi:pulumi:Stack` -> `Stack`. */
const shortType = (type: string) => type.split(":").pop()!;

export function componentGraphDot(resources: readonly CapturedResource[], tierOf: (tenant: string) => string | undefined = () => undefined): string {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  // The root stack parents everything: drawing it would only add a star of edges.
  const components = resources.filter((r) => !r.custom && r.type !== "pulumi:pulumi:Stack");
  const tenants = components.filter((c) => c.type === "odoo-fleet:tenants:OdooTenant");
  const fold = tenants.length > MAX_TENANT_NODES;
  // The node a component is drawn as: itself, or its tier's folded tenant node.
  const nodeOf = new Map<string, string>();
  for (const c of components) nodeOf.set(c.urn, fold && c.type === "odoo-fleet:tenants:OdooTenant" ? `tenants:${tierOf(c.name) ?? "tenants"}` : c.urn);

  // The component that owns each resource: its nearest component ancestor.
  const ownerCache = new Map<string, string | undefined>();
  const ownerOf = (r: CapturedResource): string | undefined => {
    if (!r.custom) return nodeOf.get(r.urn);
    if (ownerCache.has(r.urn)) return ownerCache.get(r.urn);
    let parent = r.parent ? byUrn.get(r.parent) : undefined;
    while (parent && parent.custom) parent = parent.parent ? byUrn.get(parent.parent) : undefined;
    const owner = parent ? nodeOf.get(parent.urn) : undefined;
    ownerCache.set(r.urn, owner);
    return owner;
  };

  const nodes = new Map<string, { label: string; area: string; count: number; members: number }>();
  for (const c of components) {
    const id = nodeOf.get(c.urn)!;
    const node = nodes.get(id) ?? { label: id.startsWith("tenants:") ? "" : `${shortType(c.type)}\n${c.name}`, area: c.type.split(":")[1] ?? "", count: 0, members: 0 };
    node.members++;
    nodes.set(id, node);
  }
  for (const r of resources) {
    if (!r.custom) continue;
    const owner = ownerOf(r);
    if (owner) nodes.get(owner)!.count++;
  }
  for (const [id, node] of nodes) {
    if (id.startsWith("tenants:")) node.label = `OdooTenant × ${node.members}\n${id.slice("tenants:".length)} tier`;
  }

  const tree = new Set<string>();
  const uses = new Set<string>();
  for (const c of components) {
    const parent = c.parent ? nodeOf.get(c.parent) : undefined;
    const self = nodeOf.get(c.urn)!;
    if (parent && parent !== self) tree.add(`${parent}\u0000${self}`);
  }
  for (const r of resources) {
    const from = ownerOf(r);
    if (!from) continue;
    for (const d of r.dependsOn) {
      const target = byUrn.get(d);
      const to = target ? ownerOf(target) : undefined;
      // Drawn from what is depended on to what depends on it.
      if (to && to !== from && !tree.has(`${from}\u0000${to}`) && !tree.has(`${to}\u0000${from}`)) uses.add(`${to}\u0000${from}`);
    }
  }

  const ids = new Map([...nodes.keys()].map((urn, i) => [urn, `n${i}`]));
  const lines = [
    "digraph plan {",
    '  graph [rankdir=LR, fontname="Helvetica", nodesep=0.25, ranksep=0.6, bgcolor="transparent"];',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, color="#64748b"];',
    '  edge [color="#94a3b8", arrowsize=0.6];',
  ];
  for (const [urn, node] of nodes) {
    const label = node.count > 0 ? `${node.label}\n${node.count} resources` : node.label;
    lines.push(`  ${ids.get(urn)} [label=${quote(label)}, fillcolor=${quote(AREA_COLOURS[node.area] ?? "#f1f5f9")}];`);
  }
  for (const edge of [...tree].sort()) {
    const [from, to] = edge.split("\u0000") as [string, string];
    lines.push(`  ${ids.get(from)} -> ${ids.get(to)} [style=dotted, arrowhead=none];`);
  }
  for (const edge of [...uses].sort()) {
    const [from, to] = edge.split("\u0000") as [string, string];
    lines.push(`  ${ids.get(from)} -> ${ids.get(to)};`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** SVG of a DOT graph from Graphviz (`tred`, then `dot`), or why Graphviz could not make one. */
export async function renderSvg(dot: string): Promise<{ svg: string } | { error: string }> {
  // An ES module: node16 CommonJS output keeps `import()` as a real dynamic import.
  const { Graphviz } = await import("@hpcc-js/wasm-graphviz");
  const graphviz = await Graphviz.load();
  try {
    // Transitive reduction keeps "A feeds C" out when A feeds B and B feeds C.
    const reduced = graphviz.tred(dot).out || dot;
    const svg = graphviz.dot(reduced, "svg");
    // The XML prologue and doctype are not wanted inside an HTML page.
    return { svg: svg.slice(svg.indexOf("<svg")) };
  } catch (error) {
    return { error: `Graphviz could not draw the graph: ${(error instanceof Error ? error.message : String(error)).trim()}` };
  }
}
