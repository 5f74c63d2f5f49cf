import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { parse, stringify } from "yaml";
import { planNodeGroups, standbyNodePools, zoneMinimum } from "../model/node-pools";
import { addonNodeFindings, clusterAddonModels, configuredTolerations, tolerates, type ClusterAddonModel } from "../plan/analyses/addon-nodes";
import type { CapturedResource } from "../model/resource";
import { ROOT, runPlanCli } from "./plan-cli";

const DEDICATED = { key: "odoo-fleet/dedicated", value: "acme", effect: "NO_SCHEDULE" };

describe("tolerates: Kubernetes' matching of a toleration to a taint", () => {
  test.each([
    [{ key: "odoo-fleet/dedicated", operator: "Equal", value: "acme", effect: "NoSchedule" }, true],
    [{ key: "odoo-fleet/dedicated", operator: "Equal", value: "acme" }, true],
    [{ key: "odoo-fleet/dedicated", operator: "Equal", value: "other", effect: "NoSchedule" }, false],
    [{ key: "odoo-fleet/dedicated", operator: "Exists" }, true],
    [{ key: "odoo-fleet/dedicated", operator: "Exists", effect: "NoExecute" }, false],
    [{ operator: "Exists" }, true],
    [{ key: "CriticalAddonsOnly", operator: "Exists" }, false],
  ] as const)("%j tolerates the dedicated taint: %s", (toleration, expected) => {
    expect(tolerates(toleration, DEDICATED)).toBe(expected);
  });
});

describe("configuredTolerations", () => {
  test("reads top-level and controller tolerations; anything else adds none", () => {
    expect(configuredTolerations(JSON.stringify({ tolerations: [{ key: "a", operator: "Exists" }] }))).toEqual([{ key: "a", operator: "Exists" }]);
    expect(configuredTolerations(JSON.stringify({ controller: { tolerations: [{ key: "b", operator: "Exists" }] } }))).toEqual([{ key: "b", operator: "Exists" }]);
    expect(configuredTolerations(JSON.stringify({ enableNetworkPolicy: "true" }))).toEqual([]);
    expect(configuredTolerations("not json")).toEqual([]);
    expect(configuredTolerations(undefined)).toEqual([]);
  });
});

const addon = (name: string, tolerations = [{ key: "CriticalAddonsOnly", operator: "Exists" as const }]) => ({ name, urn: `urn:${name}`, tolerations });
const model = (groups: ClusterAddonModel["nodeGroups"]): ClusterAddonModel => ({
  cluster: "c",
  addons: [addon("vpc-cni"), addon("kube-proxy"), addon("coredns"), addon("aws-ebs-csi-driver")],
  nodeGroups: groups,
});

describe("addonNodeFindings", () => {
  test("every group at zero: each Deployment add-on is named, the DaemonSet ones are not", () => {
    const findings = addonNodeFindings([model([{ name: "system-a", minSize: 0, desiredSize: 0, taints: [] }])]);
    expect(findings.map((f) => f.addon)).toEqual(["coredns", "aws-ebs-csi-driver"]);
    expect(findings[0]!.message).toBe(
      "EKS cluster c: add-on coredns has no node to run on (system-a: min 0, desired 0); it would stay DEGRADED and its create fail. " +
        "Keep a node group of at least one node whose taints it tolerates.",
    );
  });

  test("only a tenant's tainted nodes: still nowhere to run", () => {
    const findings = addonNodeFindings([model([{ name: "acme-a", minSize: 1, desiredSize: 1, taints: [DEDICATED] }])]);
    expect(findings.map((f) => `${f.addon}: ${f.message.split("(")[1]!.split(")")[0]}`)).toEqual([
      "coredns: acme-a: min 1, desired 1, tainted odoo-fleet/dedicated=acme:NO_SCHEDULE",
      "aws-ebs-csi-driver: acme-a: min 1, desired 1, tainted odoo-fleet/dedicated=acme:NO_SCHEDULE",
    ]);
  });

  test("no node group at all", () => {
    expect(addonNodeFindings([model([])]).map((f) => f.message.split("(")[1]!.split(")")[0])).toEqual(["no node group", "no node group"]);
  });

  test.each([
    ["one untainted node", [{ name: "s", minSize: 1, desiredSize: 1, taints: [] }]],
    ["a tainted group and an untainted one", [{ name: "acme", minSize: 1, desiredSize: 1, taints: [DEDICATED] }, { name: "s", minSize: 1, desiredSize: 1, taints: [] }]],
    ["a CriticalAddonsOnly pool", [{ name: "s", minSize: 1, desiredSize: 1, taints: [{ key: "CriticalAddonsOnly", effect: "NO_SCHEDULE" }] }]],
    ["a PreferNoSchedule taint", [{ name: "s", minSize: 2, desiredSize: 2, taints: [{ key: "x", value: "y", effect: "PREFER_NO_SCHEDULE" }] }]],
  ])("%s is enough", (_, groups) => {
    expect(addonNodeFindings([model(groups)])).toEqual([]);
  });

  test("a group the autoscaler may empty (min 0) does not count, even if it starts with a node", () => {
    expect(addonNodeFindings([model([{ name: "s", minSize: 0, desiredSize: 1, taints: [] }])])).toHaveLength(2);
  });

  test("an add-on configured to tolerate the tenant's taint may run on its nodes; the other may not", () => {
    const m: ClusterAddonModel = {
      cluster: "c",
      addons: [addon("coredns", [{ key: "odoo-fleet/dedicated", operator: "Exists" }]), addon("aws-efs-csi-driver")],
      nodeGroups: [{ name: "acme", minSize: 1, desiredSize: 1, taints: [DEDICATED] }],
    };
    expect(addonNodeFindings([m]).map((f) => f.addon)).toEqual(["aws-efs-csi-driver"]);
  });
});

describe("clusterAddonModels: read from captured resources", () => {
  const res = (type: string, name: string, inputs: Record<string, unknown>): CapturedResource => ({
    urn: `urn:pulumi:s::p::${type}::${name}`, type, name, custom: true, parent: null, provider: null, protect: false, retainOnDelete: false, dependsOn: [], ignoreChanges: [], inputs,
  });
  test("add-ons and groups go to the cluster they name; configured tolerations join the default", () => {
    const models = clusterAddonModels([
      res("aws:eks/cluster:Cluster", "a-eks", { name: "a" }),
      res("aws:eks/cluster:Cluster", "b-eks", { name: "b" }),
      res("aws:eks/addon:Addon", "a-coredns", { clusterName: "a", addonName: "coredns", configurationValues: JSON.stringify({ tolerations: [{ key: "k", operator: "Exists" }] }) }),
      res("aws:eks/addon:Addon", "b-coredns", { clusterName: "b", addonName: "coredns" }),
      res("aws:eks/nodeGroup:NodeGroup", "a-s", { clusterName: "a", scalingConfig: { minSize: 1, maxSize: 2, desiredSize: 1 }, taints: [] }),
      res("aws:eks/nodeGroup:NodeGroup", "b-s", { clusterName: "b", scalingConfig: { minSize: 0, maxSize: 2, desiredSize: 0 } }),
    ]);
    expect(models).toEqual([
      {
        cluster: "a",
        addons: [{ name: "coredns", urn: "urn:pulumi:s::p::aws:eks/addon:Addon::a-coredns", tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }, { key: "k", operator: "Exists" }] }],
        nodeGroups: [{ name: "a-s", minSize: 1, desiredSize: 1, taints: [] }],
      },
      {
        cluster: "b",
        addons: [{ name: "coredns", urn: "urn:pulumi:s::p::aws:eks/addon:Addon::b-coredns", tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }] }],
        nodeGroups: [{ name: "b-s", minSize: 0, desiredSize: 0, taints: [] }],
      },
    ]);
    expect(addonNodeFindings(models).map((f) => `${f.cluster} ${f.addon} ${f.urn}`)).toEqual(["b coredns urn:pulumi:s::p::aws:eks/addon:Addon::b-coredns"]);
  });
});

describe("the DR cluster's pools", () => {
  const POOLS = [
    { name: "system", instanceTypes: ["m7i.large"], minPerZone: 1, maxPerZone: 2 },
    { name: "acme", instanceTypes: ["m7i.4xlarge"], minPerZone: 1, maxPerZone: 4, dedicatedTo: "acme" },
  ];
  test("every pool idles at zero but the add-ons' pool, which keeps one node in the first zone", () => {
    const groups = planNodeGroups(standbyNodePools(POOLS, "system"), ["z-a", "z-b", "z-c"]);
    expect(groups.map((g) => `${g.key} ${g.minSize}`)).toEqual(["system-z-a 1", "system-z-b 0", "system-z-c 0", "acme-z-a 0", "acme-z-b 0", "acme-z-c 0"]);
  });
  test("a dedicated or unknown pool cannot hold the add-ons", () => {
    expect(() => standbyNodePools(POOLS, "acme")).toThrow("the add-ons' pool acme must be a pool of the cluster not dedicated to a tenant");
    expect(() => standbyNodePools(POOLS, "nope")).toThrow("the add-ons' pool nope must be a pool of the cluster not dedicated to a tenant");
  });
  test.each([
    // minNodes, zones, per zone
    [1, 3, [1, 0, 0]],
    [2, 3, [1, 1, 0]],
    [4, 3, [2, 1, 1]],
    [3, 3, [1, 1, 1]],
  ])("%i nodes over %i zones: %j", (minNodes, zones, expected) => {
    const pool = { name: "p", minPerZone: 0, minNodes, maxPerZone: 2 };
    expect(Array.from({ length: zones }, (_, i) => zoneMinimum(pool, i, zones))).toEqual(expected);
  });
  test("without minNodes each zone gets minPerZone; a floor beyond maxPerZone is refused", () => {
    expect([0, 1, 2].map((i) => zoneMinimum({ name: "p", minPerZone: 2, maxPerZone: 3 }, i, 3))).toEqual([2, 2, 2]);
    expect(() => zoneMinimum({ name: "p", minPerZone: 0, minNodes: 7, maxPerZone: 2 }, 0, 3)).toThrow("node pool p: 7 nodes over 3 zones exceed maxPerZone 2");
  });
});

test("a stack whose only pool idles at zero: exit 1, each Deployment add-on named with its resource", () => {
  const doc = parse(readFileSync(path.join(ROOT, "stacks", "Pulumi.shared-dev.yaml"), "utf8")) as { config: Record<string, { nodePools: Record<string, unknown>[] }> };
  doc.config["odoo-fleet:cluster"]!.nodePools[0]!.minPerZone = 0;
  const file = path.join(mkdtempSync(path.join(tmpdir(), "odoo-fleet-addons-")), "Pulumi.shared-dev.yaml");
  writeFileSync(file, stringify(doc));
  const { status, document } = runPlanCli(["--stack-file", file]);
  expect(status).toBe(1);
  const violations = document.violations.filter((v) => v.policy === "addons-have-nodes");
  expect(violations.map((v) => [v.enforcementLevel, v.urn])).toEqual(
    ["coredns", "aws-ebs-csi-driver", "aws-efs-csi-driver"].map((a) => ["mandatory", `urn:pulumi:shared-dev::odoo-fleet::odoo-fleet:compute:Cluster$aws:eks/addon:Addon::shared-dev-${a}`]),
  );
  expect(violations[0]!.message).toBe(
    "EKS cluster odoo-shared-dev: add-on coredns has no node to run on (shared-dev-general-eu-west-1a: min 0, desired 0; shared-dev-general-eu-west-1b: min 0, desired 0); " +
      "it would stay DEGRADED and its create fail. Keep a node group of at least one node whose taints it tolerates.",
  );
  expect(document.violations.filter((v) => v.policy !== "addons-have-nodes")).toEqual([]);
});
