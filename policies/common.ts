/** Helpers the policies share: where a resource belongs (tenant, tier, environment) and pod access. */
import type { PolicyResource } from "@pulumi/policy";
import { NAMESPACE_ROLE_LABEL, NAMESPACE_ROLES, tenantOfNamespace } from "../model/kubernetes";
import { TENANT_TAG } from "../model/tags";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const WORKLOAD_TYPES = [
  "kubernetes:apps/v1:Deployment",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:apps/v1:DaemonSet",
  "kubernetes:batch/v1:Job",
  "kubernetes:batch/v1:CronJob",
] as const;

export function metadataOf(props: Props): { name?: string; namespace?: string; labels?: Record<string, string> } {
  return (props.metadata ?? {}) as { name?: string; namespace?: string; labels?: Record<string, string> };
}

const namespaceIndexes = new WeakMap<readonly PolicyResource[], Map<string, PolicyResource[]>>();

/**
 * The Kubernetes resources of one type in one namespace. Stack policies ask this for every tenant:
 * the index is built once per resource list, so a check over all tenants stays linear.
 */
export function inNamespace(resources: readonly PolicyResource[], type: string, namespace: string): PolicyResource[] {
  let index = namespaceIndexes.get(resources);
  if (!index) {
    index = new Map();
    for (const r of resources) {
      if (!r.type.startsWith("kubernetes:")) continue;
      const ns = metadataOf(r.props).namespace;
      if (ns === undefined) continue;
      const key = `${r.type}\u0000${ns}`;
      const list = index.get(key);
      if (list) list.push(r);
      else index.set(key, [r]);
    }
    namespaceIndexes.set(resources, index);
  }
  return index.get(`${type}\u0000${namespace}`) ?? [];
}

export function awsTags(props: Props): Record<string, string> {
  // Auto Scaling groups list their tags as { key, value, propagateAtLaunch }.
  if (Array.isArray(props.tags)) return Object.fromEntries((props.tags as { key: string; value: string }[]).map((t) => [t.key, t.value]));
  return (props.tags ?? {}) as Record<string, string>;
}

/** Tenant namespaces carry the label odoo-fleet/role=tenant; their objects carry tenant and tier labels. */
export function isTenantNamespaceObject(props: Props): boolean {
  return metadataOf(props).labels?.[NAMESPACE_ROLE_LABEL] === NAMESPACE_ROLES.tenant;
}

/** The tenant whose namespace holds this object (platform namespaces hold none). */
export function tenantOfK8s(props: Props): string | undefined {
  return tenantOfNamespace(metadataOf(props).namespace);
}

export function isProduction(props: Props): boolean {
  return awsTags(props).environment === "production";
}

/** The pod spec inside a workload (CronJobs nest it one level deeper). */
export function podSpecOf(type: string, props: Props): Props | undefined {
  const spec = props.spec as Props | undefined;
  if (!spec) return undefined;
  if (type === "kubernetes:batch/v1:CronJob") return spec.jobTemplate?.spec?.template?.spec as Props | undefined;
  return spec.template?.spec as Props | undefined;
}

export function containersOf(pod: Props): Props[] {
  return [...((pod.initContainers ?? []) as Props[]), ...((pod.containers ?? []) as Props[])];
}

/** Reads a violation's tenant for grouping: tags for AWS, labels or namespace for Kubernetes. */
export function tenantOfResource(resource: Pick<PolicyResource, "props">): string | undefined {
  return awsTags(resource.props)[TENANT_TAG] ?? metadataOf(resource.props).labels?.[TENANT_TAG] ?? tenantOfK8s(resource.props);
}
