import { beforeAll, describe, expect, test } from "vitest";
import type { CapturedResource } from "../model/resource";
import { channelResults } from "../plan/analyses/channels";
import { isolationFindings, matches } from "../plan/analyses/isolation";
import { policyResources } from "../plan/capture/policy-view";
import type { PlanDocument } from "../plan/report/document";
import { stackPlan } from "./plan-cli";

let shared: PlanDocument;
beforeAll(() => {
  shared = stackPlan("shared-prod").document;
});

const netpol = (namespace: string, name: string, spec: Record<string, unknown>): CapturedResource => ({
  urn: `urn:pulumi:shared-prod::odoo-fleet::kubernetes:networking.k8s.io/v1:NetworkPolicy::${namespace}-${name}`,
  type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  name: `${namespace}-${name}`,
  custom: true,
  parent: null,
  provider: null,
  protect: false,
  retainOnDelete: false,
  dependsOn: [],
  ignoreChanges: [],
  inputs: { metadata: { name, namespace }, spec },
});
const findings = (mutate: (r: CapturedResource[]) => void = () => undefined) => {
  const resources = structuredClone(shared.resources);
  mutate(resources);
  return isolationFindings(policyResources(resources.map((resource) => ({ resource })))).map((f) => `${f.kind}: ${f.message}`).sort();
};

describe("isolation analysis", () => {
  test("shared-prod: no path between tenants, no way in but Traefik", () => {
    expect(findings()).toEqual([]);
    expect(shared.isolation).toEqual([]);
  });

  test("a deliberately opened path between two tenants is found, in both of its halves", () => {
    const opened = findings((r) => {
      r.push(netpol("odoo-northwind", "allow-contoso", { podSelector: { matchLabels: { app: "odoo-web" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "odoo-contoso" } } }] }] }));
      r.push(netpol("odoo-contoso", "to-northwind", { podSelector: { matchLabels: { app: "odoo-cron" } }, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: { matchLabels: { tenant: "northwind" } } }] }] }));
    });
    expect(opened).toEqual([
      "cross-tenant-path: Deployment odoo-contoso/odoo-cron (tenant contoso) can reach Deployment odoo-northwind/odoo-web (tenant northwind)",
      "outside-ingress: Deployment odoo-northwind/odoo-web admits traffic from namespace odoo-contoso",
    ]);
  });

  test("ingress opened without the matching egress is a way in, not yet a path", () => {
    expect(
      findings((r) => r.push(netpol("odoo-northwind", "allow-contoso", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { tenant: "contoso" } } }] }] }))),
    ).toEqual([
      "outside-ingress: CronJob odoo-northwind/odoo-backup admits traffic from namespace odoo-contoso",
      "outside-ingress: Deployment odoo-northwind/odoo-cron admits traffic from namespace odoo-contoso",
      "outside-ingress: Deployment odoo-northwind/odoo-web admits traffic from namespace odoo-contoso",
    ]);
  });

  test("dropping a tenant's default-deny opens its other pods to anything; the others' egress still blocks a path", () => {
    const open = findings((r) => r.splice(r.findIndex((x) => x.name === "fabrikam-networkpolicy-default-deny"), 1));
    expect(open).toEqual([
      "outside-ingress: CronJob odoo-fabrikam/odoo-backup admits traffic from anywhere",
      "outside-ingress: Deployment odoo-fabrikam/odoo-cron admits traffic from anywhere",
    ]);
  });

  test("once a neighbour may send anywhere (HTTPS to the internet is not enough), the open pods are reachable", () => {
    const open = findings((r) => {
      r.splice(r.findIndex((x) => x.name === "fabrikam-networkpolicy-default-deny"), 1);
      r.push(netpol("odoo-tailspin", "egress-anywhere", { podSelector: { matchLabels: { app: "odoo-web" } }, policyTypes: ["Egress"], egress: [{}] }));
    });
    expect(open).toEqual([
      "cross-tenant-path: Deployment odoo-tailspin/odoo-web (tenant tailspin) can reach CronJob odoo-fabrikam/odoo-backup (tenant fabrikam)",
      "cross-tenant-path: Deployment odoo-tailspin/odoo-web (tenant tailspin) can reach Deployment odoo-fabrikam/odoo-cron (tenant fabrikam)",
      "outside-ingress: CronJob odoo-fabrikam/odoo-backup admits traffic from anywhere",
      "outside-ingress: Deployment odoo-fabrikam/odoo-cron admits traffic from anywhere",
    ]);
  });

  test("credentials one tenant could use on another's data: a widened backup policy, cache user or access point is found (channels.ts)", () => {
    const credentials = (mutate: (r: CapturedResource[]) => void = () => undefined) => {
      const resources = structuredClone(shared.resources);
      mutate(resources);
      return channelResults(resources).flatMap((c) => c.findings.map((f) => f.message));
    };
    const before = new Set(credentials());
    const byName = (r: CapturedResource[], name: string, type: string) => r.find((x) => x.name === name && x.type === type)!;
    const found = credentials((r) => {
      const policy = byName(r, "northwind-backup", "aws:iam/rolePolicy:RolePolicy");
      policy.inputs.policy = String(policy.inputs.policy).replace("tenants/northwind/*", "tenants/contoso/*");
      byName(r, "shared-prod-redis-fabrikam", "aws:elasticache/user:User").inputs.accessString = "on ~* -@all +@read";
      (byName(r, "shared-prod-filestore-tailspin", "aws:efs/accessPoint:AccessPoint").inputs.rootDirectory as { path: string }).path = "/tenants/fabrikam";
    }).filter((m) => !before.has(m));
    const others = shared.resources.filter((x) => x.type === "aws:elasticache/user:User" && (x.inputs.tags as Record<string, string>).tenant && x.name !== "shared-prod-redis-fabrikam");
    expect(others.length).toBeGreaterThan(1);
    expect(found.filter((m) => !m.startsWith("cache users "))).toEqual([
      "cache user shared-prod-redis-fabrikam of tenant fabrikam reaches keys beyond its own prefix (~*)",
      "cache user shared-prod-redis-fabrikam of tenant fabrikam may run SCAN, KEYS, RANDOMKEY: key patterns do not limit what these list or change",
      "access points shared-prod-filestore-fabrikam (/tenants/fabrikam) and shared-prod-filestore-tailspin (/tenants/fabrikam) of tenants fabrikam and tailspin share a directory tree",
      "access point shared-prod-filestore-tailspin of tenant tailspin is rooted at /tenants/fabrikam",
      "IAM role northwind-backup of tenant northwind reaches the backups of contoso",
    ]);
    // ~* overlaps every other tenant's key patterns.
    expect(found.filter((m) => m.startsWith("cache users ") && m.includes("shared-prod-redis-fabrikam (tenant fabrikam)") && m.includes("overlapping keys patterns"))).toHaveLength(others.length);
  });

  test.each([
    [{ matchLabels: { a: "1" } }, { a: "1", b: "2" }, true],
    [{ matchLabels: { a: "1" } }, { a: "2" }, false],
    [{ matchExpressions: [{ key: "app", operator: "In", values: ["x", "y"] }] }, { app: "y" }, true],
    [{ matchExpressions: [{ key: "app", operator: "NotIn", values: ["x"] }] }, { app: "x" }, false],
    [{ matchExpressions: [{ key: "app", operator: "Exists" }] }, {}, false],
    [{ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, {}, true],
    [{}, { any: "thing" }, true],
  ])("matches(%j, %j) = %s", (selector, labels, expected) => {
    expect(matches(selector as never, labels)).toBe(expected);
  });
});
