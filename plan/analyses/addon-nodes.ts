/**
 * Add-ons that can become healthy: an EKS add-on whose workload is a Deployment (CoreDNS, the EBS and
 * EFS CSI controllers) stays DEGRADED until a node can run its pods, and its create fails after 20
 * minutes. This reads every planned cluster's add-ons and node groups and names each add-on that no
 * node group starting with a node, whose taints the add-on tolerates, could run.
 */
import type { CapturedResource } from "../../model/resource";

export interface NodeTaint {
  key: string;
  value?: string;
  /** EKS spells effects NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE. */
  effect: string;
}

export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  /** Kubernetes spells effects NoSchedule, NoExecute; none tolerates every effect. */
  effect?: string;
}

export interface ClusterAddonModel {
  cluster: string;
  addons: { name: string; urn: string; tolerations: Toleration[] }[];
  nodeGroups: { name: string; minSize: number; desiredSize: number; taints: NodeTaint[] }[];
}

export interface AddonNodeFinding {
  cluster: string;
  addon: string;
  urn: string;
  message: string;
}

/**
 * Add-ons that run DaemonSets only: with no node they have no pod to wait for and become ACTIVE.
 * https://docs.aws.amazon.com/eks/latest/userguide/workloads-add-ons-available-eks.html
 */
export const DAEMONSET_ONLY_ADDONS: readonly string[] = ["vpc-cni", "kube-proxy", "eks-pod-identity-agent", "eks-node-monitoring-agent"];

/**
 * What every EKS add-on's controllers tolerate out of the box: the CriticalAddonsOnly taint that
 * marks a pool reserved for cluster add-ons. Anything more comes from the add-on's configuration.
 */
export const DEFAULT_ADDON_TOLERATIONS: readonly Toleration[] = [{ key: "CriticalAddonsOnly", operator: "Exists" }];

const EFFECT: Record<string, string> = { NO_SCHEDULE: "NoSchedule", NO_EXECUTE: "NoExecute", PREFER_NO_SCHEDULE: "PreferNoSchedule" };

/** Kubernetes' rule: a toleration matches a taint by key (or any key with Exists and no key), value and effect. */
export function tolerates(toleration: Toleration, taint: NodeTaint): boolean {
  const effect = EFFECT[taint.effect] ?? taint.effect;
  if (toleration.effect !== undefined && toleration.effect !== "" && toleration.effect !== effect) return false;
  if (toleration.key === undefined || toleration.key === "") return toleration.operator === "Exists";
  if (toleration.key !== taint.key) return false;
  return toleration.operator === "Exists" || (toleration.value ?? "") === (taint.value ?? "");
}

/** A group can take an add-on's pods when it starts with a node and every taint that repels is tolerated. */
export function groupRunsAddon(group: ClusterAddonModel["nodeGroups"][number], tolerations: readonly Toleration[]): boolean {
  if (Math.min(group.minSize, group.desiredSize) < 1) return false;
  return group.taints.every((taint) => (EFFECT[taint.effect] ?? taint.effect) === "PreferNoSchedule" || tolerations.some((t) => tolerates(t, taint)));
}

export function addonNodeFindings(models: readonly ClusterAddonModel[]): AddonNodeFinding[] {
  return models.flatMap((model) =>
    model.addons
      .filter((addon) => !DAEMONSET_ONLY_ADDONS.includes(addon.name))
      .filter((addon) => !model.nodeGroups.some((g) => groupRunsAddon(g, addon.tolerations)))
      .map((addon) => ({
        cluster: model.cluster,
        addon: addon.name,
        urn: addon.urn,
        message:
          `EKS cluster ${model.cluster}: add-on ${addon.name} has no node to run on ` +
          `(${describeGroups(model.nodeGroups)}); it would stay DEGRADED and its create fail. ` +
          "Keep a node group of at least one node whose taints it tolerates.",
      })),
  );
}

function describeGroups(groups: ClusterAddonModel["nodeGroups"]): string {
  if (groups.length === 0) return "no node group";
  return groups
    .map((g) => `${g.name}: min ${g.minSize}, desired ${g.desiredSize}${g.taints.length > 0 ? `, tainted ${g.taints.map((t) => `${t.key}=${t.value ?? ""}:${t.effect}`).join(",")}` : ""}`)
    .join("; ");
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (value !== null && typeof value === "object" ? (value as Json) : {});

/** Tolerations an add-on's configuration adds (`tolerations`, or `controller.tolerations` for the CSI drivers). */
export function configuredTolerations(configurationValues: unknown): Toleration[] {
  if (typeof configurationValues !== "string" || configurationValues.trim() === "") return [];
  let config: Json;
  try {
    config = obj(JSON.parse(configurationValues));
  } catch {
    return [];
  }
  return [config.tolerations, obj(config.controller).tolerations].flatMap((list) => (Array.isArray(list) ? list.map((t) => obj(t) as Toleration) : []));
}

/** Every planned EKS cluster with its add-ons and node groups, matched by cluster name. */
export function clusterAddonModels(resources: readonly CapturedResource[]): ClusterAddonModel[] {
  const clusters = resources.filter((r) => r.type === "aws:eks/cluster:Cluster").map((r) => String(r.inputs.name ?? r.name));
  const of = (type: string, cluster: string) => resources.filter((r) => r.type === type && String(r.inputs.clusterName) === cluster);
  return clusters.map((cluster) => ({
    cluster,
    addons: of("aws:eks/addon:Addon", cluster).map((r) => ({
      name: String(r.inputs.addonName),
      urn: r.urn,
      tolerations: [...DEFAULT_ADDON_TOLERATIONS, ...configuredTolerations(r.inputs.configurationValues)],
    })),
    nodeGroups: of("aws:eks/nodeGroup:NodeGroup", cluster).map((r) => {
      const scaling = obj(r.inputs.scalingConfig);
      const minSize = Number(scaling.minSize ?? 0);
      return {
        name: r.name,
        minSize,
        desiredSize: Number(scaling.desiredSize ?? minSize),
        taints: (Array.isArray(r.inputs.taints) ? r.inputs.taints : []).map((t) => obj(t) as unknown as NodeTaint),
      };
    }),
  }));
}
