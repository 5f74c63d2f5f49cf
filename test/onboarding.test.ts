import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { parse, stringify } from "yaml";
import { restrictedViolations } from "../model/pod-security";
import type { PlanDocument } from "../plan/report/document";
import { ROOT, runPlanCli, stackPlan } from "./plan-cli";

type StackDoc = { config: Record<string, unknown> };
const prodFile = () => parse(readFileSync(path.join(ROOT, "stacks", "Pulumi.shared-prod.yaml"), "utf8")) as StackDoc;
const tenantsOf = (doc: StackDoc) => doc.config["odoo-fleet:tenants"] as Record<string, unknown>[];

/** Plans a variant of shared-prod under the same stack name, so URNs compare. */
function planVariant(mutate: (doc: StackDoc) => void): PlanDocument {
  const doc = prodFile();
  mutate(doc);
  const file = path.join(mkdtempSync(path.join(tmpdir(), "odoo-fleet-variant-")), "Pulumi.shared-prod.yaml");
  writeFileSync(file, stringify(doc));
  const result = runPlanCli(["--stack-file", file]);
  expect(result.status, result.stderr).toBe(0);
  return result.document;
}

const urns = (d: PlanDocument) => new Set(d.resources.map((r) => r.urn));
/** URNs that belong to one tenant: its component and children, or data-tier children named after it. */
const ownedBy = (tenant: string) => (urn: string) => {
  const name = urn.split("::").pop()!;
  return urn.includes(`OdooTenant::${tenant}`) || (urn.includes("OdooTenant$") && name.startsWith(`${tenant}-`)) || new RegExp(`-${tenant}(-[a-z]+)?$`).test(name);
};

let base: PlanDocument;
beforeAll(() => {
  // The stack's own plan: variants keep its stack name, so their URNs compare with it.
  const result = stackPlan("shared-prod");
  expect(result.status, result.stderr).toBe(0);
  base = result.document;
});

describe("onboarding is config: adding, removing or reordering tenants touches only theirs", () => {
  // One variant does all three (a plan is a process of its own): contoso removed, the rest reversed,
  // globex added. What disappears must be contoso's alone, and what appears globex's alone.
  let changed: PlanDocument;
  beforeAll(() => {
    changed = planVariant((doc) => {
      const kept = tenantsOf(doc).filter((t) => t.name !== "contoso").reverse();
      doc.config["odoo-fleet:tenants"] = [...kept, { ...tenantsOf(doc)[2], name: "globex", domains: ["globex.odoo-fleet.example"] }];
    });
  });

  test("adding a tenant adds only its resources", () => {
    const before = urns(base);
    const added = [...urns(changed)].filter((u) => !before.has(u));
    expect(added.length).toBeGreaterThan(30);
    expect(added.filter((u) => !ownedBy("globex")(u))).toEqual([]);
  });

  test("removing one tenant and reordering the rest removes only that tenant's URNs: no other URN changes", () => {
    const after = urns(changed);
    const removed = [...urns(base)].filter((u) => !after.has(u));
    expect(removed.length).toBeGreaterThan(30);
    expect(removed.filter((u) => !ownedBy("contoso")(u))).toEqual([]);
  });
});

describe("shared-prod tenants, as the Odoo issue's done-when states it", () => {
  const deployments = () => base.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment");

  test("every tenant has its namespace, quota, limits, default-deny policy, secrets, workloads and routes", () => {
    for (const tenant of ["northwind", "contoso", "fabrikam", "tailspin"]) {
      const mine = base.resources.filter((r) => r.parent?.endsWith(`OdooTenant::${tenant}`));
      const kinds = new Set(mine.map((r) => r.type.split(":").pop()));
      for (const kind of ["Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "Secret", "Deployment", "Service", "IngressRoute", "Certificate", "Middleware", "Job", "PersistentVolumeClaim"]) {
        expect(kinds.has(kind), `${tenant} ${kind}`).toBe(true);
      }
      const defaultDeny = mine.find((r) => r.type.endsWith("NetworkPolicy") && (r.inputs.metadata as { name: string }).name === "default-deny");
      expect(defaultDeny?.inputs.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    }
  });

  test("every Deployment passes the Pod Security Standards restricted profile", () => {
    expect(deployments()).toHaveLength(8);
    for (const d of deployments()) {
      const pod = (d.inputs.spec as { template: { spec: Record<string, unknown> } }).template.spec;
      expect(restrictedViolations(pod), d.urn).toEqual([]);
    }
  });

  test("business tenants: 2 replicas spread over 2+ zones, and a PDB", () => {
    for (const tenant of ["northwind", "contoso"]) {
      const web = deployments().find((d) => d.name === `${tenant}-deployment-odoo-web`)!;
      const spec = web.inputs.spec as { replicas: number; template: { spec: { topologySpreadConstraints: { topologyKey: string; whenUnsatisfiable: string; maxSkew: number }[] } } };
      expect(spec.replicas).toBe(2);
      expect(spec.template.spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", maxSkew: 1 });
      expect(base.resources.some((r) => r.name === `${tenant}-poddisruptionbudget-odoo-web`)).toBe(true);
    }
  });

  test("each tenant has a backup CronJob in its namespace and a restore drill in the platform namespace, with its tier's RTO", () => {
    for (const [tenant, rtoMinutes] of [["northwind", 480], ["fabrikam", 1440]] as const) {
      expect(base.resources.some((r) => r.type === "kubernetes:batch/v1:CronJob" && r.name === `${tenant}-cronjob-odoo-backup`)).toBe(true);
      const drill = base.resources.find((r) => r.type === "kubernetes:batch/v1:CronJob" && r.name === `${tenant}-restore-drill`)!;
      const spec = drill.inputs.spec as { jobTemplate: { spec: { template: { spec: { serviceAccountName: string; containers: { env: { name: string; value: string }[] }[] } } } } };
      const pod = spec.jobTemplate.spec.template.spec;
      expect((drill.inputs.metadata as { namespace: string }).namespace).toBe("odoo-fleet-system");
      expect(pod.serviceAccountName).toBe(`restore-drill-${tenant}`);
      expect(pod.containers[0]!.env).toContainEqual({ name: "RTO_SECONDS", value: String(rtoMinutes * 60) });
      // Fetched and restored by the tools image, loaded by the tenant's own Odoo image, dropped by the tools image.
      const full = pod as unknown as { initContainers: { name: string; image: string }[]; containers: { name: string; image: string; env: { name: string; value: string }[] }[] };
      expect(full.initContainers.map((c) => c.name)).toEqual(["prepare"]);
      expect(full.containers.map((c) => c.name)).toEqual(["registry", "finish"]);
      expect(full.containers[0]!.image).toMatch(/\/odoo:1[78]\.0-20261101@sha256:/);
      expect(full.containers[1]!.env).toContainEqual({ name: "REGISTRY_CHECK", value: "odoo" });
      expect(restrictedViolations(pod as unknown as Record<string, unknown>)).toEqual([]);
    }
  });

  test("tenant secrets never appear in plain text", () => {
    const secrets = base.resources.filter((r) => r.type === "kubernetes:core/v1:Secret");
    // 6 per tenant (database, admin, cache, the provisioner's copy, the backup's and the drill's push
    // credentials), Grafana's admin and the Pushgateway proxy's htpasswd.
    expect(secrets).toHaveLength(26);
    for (const s of secrets) expect(s.inputs.stringData).toBe("[secret]");
    const text = JSON.stringify(base);
    expect(text).not.toMatch(/mock-password|rediss:\/\/[^"]*:[^"@]+@|\{SSHA\}|machine [^"]* password/);
  });
});
