/** The HTML report and its resource graph, from a real plan; the graph rendered by Graphviz itself (WebAssembly, from npm). */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, test } from "vitest";
import type { CapturedResource } from "../model/resource";
import { componentGraphDot, MAX_TENANT_NODES, renderSvg } from "../plan/report/graph";
import { htmlReport } from "../plan/report/html";
import type { PlanDocument } from "../plan/report/document";
import { stackPlan } from "./plan-cli";

let prod: PlanDocument;
let html: string;
beforeAll(() => {
  const result = stackPlan("shared-prod");
  expect(result.status, result.stderr).toBe(0);
  prod = result.document;
  html = readFileSync(result.html, "utf8");
});

const labels = (dot: string) => [...dot.matchAll(/\[label="([^"]*)"/g)].map((m) => m[1]!.replace(/\\n/g, " / "));
const edges = (dot: string) => {
  const names = new Map([...dot.matchAll(/^ {2}(n\d+) \[label="([^"\\]*)\\n([^"\\]*)/gm)].map((m) => [m[1]!, `${m[2]} ${m[3]}`]));
  return [...dot.matchAll(/^ {2}(n\d+) -> (n\d+)( \[style=dotted)?/gm)].map((m) => `${names.get(m[1]!)} -> ${names.get(m[2]!)}${m[3] ? " (nested)" : ""}`);
};

describe("componentGraphDot", () => {
  test("shared-prod: one node per component with its resource count, edges towards what depends on it", () => {
    const dot = componentGraphDot(prod.resources);
    expect(labels(dot)).toEqual([
      "Network / shared-prod / 37 resources",
      "RunnerLink / shared-prod / 5 resources",
      "Cluster / shared-prod / 31 resources",
      "Filestore / shared-prod / 16 resources",
      "BackupBucket / shared-prod / 31 resources",
      "BackupVault / shared-prod / 15 resources",
      // Registered after the stores declared after them: the SDK resolves their aliases first.
      "PostgresServer / shared-prod / 14 resources",
      "Valkey / shared-prod / 19 resources",
      "ClusterAccess / shared-prod / 4 resources",
      "CiPreviewRbac / shared-prod / 4 resources",
      "Monitoring / shared-prod / 47 resources",
      "Ingress / shared-prod / 9 resources",
      "TenantPlatform / shared-prod / 10 resources",
      // The charts' CRDs, expanded by the Kubernetes provider at deploy time: no children offline.
      "ConfigGroup / shared-prod-kube-prometheus-stack-crds",
      "ConfigGroup / shared-prod-traefik-crds",
      "AwsAlarms / shared-prod / 16 resources",
      "OdooTenant / northwind / 42 resources",
      "OdooTenant / contoso / 41 resources",
      "OdooTenant / fabrikam / 40 resources",
      "OdooTenant / tailspin / 40 resources",
    ]);
    const e = edges(dot);
    expect(e).toContain("Network shared-prod -> Cluster shared-prod");
    expect(e).toContain("PostgresServer shared-prod -> OdooTenant northwind");
    expect(e).toContain("Valkey shared-prod -> OdooTenant tailspin");
    expect(e).not.toContain("OdooTenant northwind -> OdooTenant contoso");
    // Every tenant hangs off the data stores it uses, never off another tenant.
    expect(e.filter((x) => /OdooTenant .* -> OdooTenant/.test(x))).toEqual([]);
  });

  test(`more than ${MAX_TENANT_NODES} tenants fold into one node per tier`, () => {
    const base = prod.resources.filter((r) => r.type !== "odoo-fleet:tenants:OdooTenant" && !r.urn.includes("OdooTenant$"));
    const tenantComponent = prod.resources.find((r) => r.name === "northwind" && r.type === "odoo-fleet:tenants:OdooTenant")!;
    const child = prod.resources.find((r) => r.parent === tenantComponent.urn)!;
    const fleet: CapturedResource[] = [...base];
    for (let i = 0; i < 30; i++) {
      const urn = `${tenantComponent.urn}-${i}`;
      fleet.push({ ...tenantComponent, urn, name: `t${i}` }, { ...child, urn: `${child.urn}-${i}`, parent: urn });
    }
    const dot = componentGraphDot(fleet, (tenant) => (Number(tenant.slice(1)) < 10 ? "business" : "essential"));
    expect(labels(dot).filter((l) => l.startsWith("OdooTenant"))).toEqual(["OdooTenant × 10 / business tier / 10 resources", "OdooTenant × 20 / essential tier / 20 resources"]);
  });

  test("Graphviz renders it to SVG (tred, then dot)", async () => {
    const rendered = await renderSvg(componentGraphDot(prod.resources));
    expect("svg" in rendered ? rendered.svg.slice(0, 4) : rendered.error).toBe("<svg");
    const svg = (rendered as { svg: string }).svg;
    expect(svg.match(/<g id="node\d+" class="node">/g)).toHaveLength(20);
  });

  test("a graph Graphviz cannot read gives the reason instead of a picture", async () => {
    expect(await renderSvg("digraph { a -> ")).toEqual({ error: "Graphviz could not draw the graph: syntax error in line 1" });
  });
});

describe("htmlReport", () => {
  test("a fleet gets a summary by shard and tier, and only its first rows unfolded", () => {
    const doc: PlanDocument = structuredClone(prod);
    doc.tenants = Array.from({ length: 40 }, (_, i) => ({ ...prod.tenants![i % 4]!, name: `t${String(i).padStart(2, "0")}`, shard: i < 30 ? "" : "s01" }));
    const page = htmlReport({ document: doc, violations: [], graph: { svg: "<svg></svg>" }, generatedAt: "2026-11-24T00:00:00Z" });
    expect(page).toContain("<h2>Fleet by shard and tier</h2>");
    // Tenants cycle northwind, contoso (business), fabrikam, tailspin (essential): 0..29 on the first shard, 30..39 on s01.
    expect(page).toContain('<tr><td>first</td><td><span class="badge tier-business">business</span></td><td class="num">16</td>');
    expect(page).toContain('<tr><td>s01</td><td><span class="badge tier-essential">essential</span></td><td class="num">6</td>');
    expect(page).toContain("<details><summary>15 more tenants (troubled ones are listed first above)</summary>");
    expect(htmlReport({ document: prod, violations: [], graph: { svg: "<svg></svg>" }, generatedAt: "x" })).not.toContain("Fleet by shard and tier");
  });

  test("the page of shared-prod: verdict, every tenant with its recovery and zone outcome, the graph inline", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain("<title>odoo-fleet plan: shared-prod</title>");
    expect(html).toContain('<span class="badge ok">no mandatory violation</span>');
    expect(html).not.toMatch(/<script|<link |src="http/);
    for (const tenant of ["northwind", "contoso", "fabrikam", "tailspin"]) expect(html).toContain(`<td><b>${tenant}</b></td>`);
    expect(html).toContain('<td><b>northwind</b></td><td><span class="badge tier-business">business</span></td><td>first</td><td class="num">60</td><td class="num">2 × 5</td>');
    expect(html).toContain('<span class="badge ok">15 min / 1 h</span>');
    expect(html).toContain("<h2>Tenants (4)");
    expect(html).toContain('<td><b>eu-west-1a</b></td><td class="num"><span class="badge ok">2</span></td><td class="num"><span class="badge warn">2</span></td><td class="num"><span class="badge ok">0</span></td>');
    // Every isolation channel checked, none with a finding.
    for (const channel of ["network", "database", "cache", "filesystem", "iam", "jobs", "hostnames", "rbac"]) expect(html).toMatch(new RegExp(`<tr><td><b>${channel}</b></td><td class="num">[1-9]\\d*</td><td>[^<]+</td><td class="num"><span class="badge ok">0</span></td></tr>`));
    // The graph itself, drawn by the CLI: one SVG with a node per component (the 20 above).
    expect(html.match(/<svg/g)).toHaveLength(1);
    expect(html.match(/<g id="node\d+" class="node">/g)).toHaveLength(20);
  });

  test("violations, shortfalls, a data-loss change and untrusted text, escaped", () => {
    const doc: PlanDocument = structuredClone(prod);
    doc.zones!.results[2] = { ...doc.zones!.results[2]!, outcome: "down", meets: false, reasons: ["pool <general> cannot hold"] };
    const page = htmlReport({
      document: doc,
      violations: [{ policy: "tenant-isolation-paths", enforcementLevel: "mandatory", urn: null, message: "a <b>path</b> & more", tenant: "fabrikam" }],
      changes: [
        { urn: "urn:pulumi:s::odoo-fleet::aws:rds/instance:Instance::db", type: "aws:rds/instance:Instance", change: "replace", paths: ["kmsKeyId"], stateful: true, replaceBecause: ["kmsKeyId"] },
        // Additions are folded under the component they join.
        ...prod.resources.filter((r) => r.parent === prod.resources.find((c) => c.name === "tailspin" && !c.custom)!.urn).slice(0, 3).map((r) => ({ urn: r.urn, type: r.type, change: "add" as const, paths: [], stateful: false })),
      ],
      graph: { error: "Graphviz could not draw the graph: syntax error in line 1" },
      generatedAt: "2026-11-24T00:00:00Z",
    });
    expect(page).toContain('<span class="badge bad">1 mandatory violation</span>');
    expect(page).toContain("a &lt;b&gt;path&lt;/b&gt; &amp; more");
    expect(page).not.toContain("<b>path</b>");
    expect(page).toContain("pool &lt;general&gt; cannot hold");
    expect(page).toContain('<div class="callout"><b>1 stateful resource is replaced or removed: the data in it is lost unless restored.</b></div>');
    expect(page).toContain('<span class="badge bad">replace (stateful)</span>');
    expect(page).toContain('<details><summary><span class="badge ok">+3</span> added to OdooTenant tailspin</summary>');
    expect(page).toContain("<h2>Changes against the previous plan: 3 to add, 0 to update, 1 to replace, 0 to remove</h2>");
    expect(page).toContain('<p><span class="badge warn">no graph</span> Graphviz could not draw the graph: syntax error in line 1</p>');
    // The troubled tenant comes first.
    expect(page.indexOf("<td><b>fabrikam</b></td>")).toBeLessThan(page.indexOf("<td><b>contoso</b></td>"));
  });
});
