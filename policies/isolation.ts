/** Isolation between tenants: namespaces, quotas, network policies, host access, nodes and RBAC. */
import { validateResourceOfType, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import * as k8s from "@pulumi/kubernetes";
import { DEDICATED_KEY, POOL_LABEL } from "../model/node-pools";
import { tenantOfNamespace } from "../model/kubernetes";
import { TIERS, type TierName } from "../tiers/catalogue";
import { containersOf, inNamespace, isTenantNamespaceObject, metadataOf, podSpecOf, tenantOfK8s, WORKLOAD_TYPES } from "./common";
import { STACK_KIND_TAG, TENANT_TAG, TIER_TAG } from "../model/tags";

export const tenantNamespaceRestricted: ResourceValidationPolicy = {
  name: "tenant-namespace-restricted",
  description: "Tenant namespaces enforce the Pod Security Standards restricted profile and carry tenant and tier labels.",
  enforcementLevel: "mandatory",
  remediationSteps: "Label the namespace pod-security.kubernetes.io/enforce=restricted, tenant=<name> and tier=<tier>.",
  validateResource: validateResourceOfType(k8s.core.v1.Namespace, (_ns, args, reportViolation) => {
    if (!isTenantNamespaceObject(args.props)) return;
    const labels = metadataOf(args.props).labels ?? {};
    if (labels["pod-security.kubernetes.io/enforce"] !== "restricted") reportViolation(`namespace ${metadataOf(args.props).name} does not enforce the restricted profile`);
    if (!labels[TENANT_TAG] || !labels[TIER_TAG]) reportViolation(`namespace ${metadataOf(args.props).name} lacks its tenant and tier labels`);
  }),
};

export const noExternalServicesInTenants: ResourceValidationPolicy = {
  name: "no-external-services-in-tenants",
  description: "Tenant namespaces expose nothing directly: no NodePort or LoadBalancer Service; traffic enters through Traefik.",
  enforcementLevel: "mandatory",
  remediationSteps: "Use a ClusterIP Service and an IngressRoute.",
  validateResource: validateResourceOfType(k8s.core.v1.Service, (_svc, args, reportViolation) => {
    const type = (args.props.spec?.type as string | undefined) ?? "ClusterIP";
    if (tenantOfK8s(args.props) && (type === "NodePort" || type === "LoadBalancer")) {
      reportViolation(`Service ${metadataOf(args.props).name} in tenant ${tenantOfK8s(args.props)} is of type ${type}`);
    }
  }),
};

export const noHostAccessInTenants: ResourceValidationPolicy = {
  name: "no-host-access-in-tenants",
  description: "Tenant workloads use no hostPath volume, host namespace, host port, privileged or escalating container.",
  enforcementLevel: "mandatory",
  remediationSteps: "Remove hostPath, hostNetwork/hostPID/hostIPC, hostPort and privileged; set allowPrivilegeEscalation: false.",
  validateResource: (args, reportViolation) => {
    if (!(WORKLOAD_TYPES as readonly string[]).includes(args.type)) args.notApplicable("not a workload");
    const tenant = tenantOfK8s(args.props);
    const pod = podSpecOf(args.type, args.props);
    if (!tenant || !pod) return;
    const where = `${args.type.split(":").pop()} ${metadataOf(args.props).name} of tenant ${tenant}`;
    for (const flag of ["hostNetwork", "hostPID", "hostIPC"]) if (pod[flag] === true) reportViolation(`${where} sets ${flag}`);
    for (const volume of (pod.volumes ?? []) as { name: string; hostPath?: unknown }[]) if (volume.hostPath) reportViolation(`${where} mounts hostPath volume ${volume.name}`);
    for (const c of containersOf(pod)) {
      if (c.securityContext?.privileged === true) reportViolation(`${where}: container ${c.name} is privileged`);
      if (c.securityContext?.allowPrivilegeEscalation !== false) reportViolation(`${where}: container ${c.name} may escalate privileges`);
      for (const port of (c.ports ?? []) as { hostPort?: number }[]) if (port.hostPort) reportViolation(`${where}: container ${c.name} binds host port ${port.hostPort}`);
    }
  },
};

export const noWorkloadOnOtherTenantsNodes: ResourceValidationPolicy = {
  name: "no-workload-on-other-tenants-nodes",
  description: "A tenant's pods never select or tolerate another tenant's dedicated nodes.",
  enforcementLevel: "mandatory",
  remediationSteps: `Only tolerate ${DEDICATED_KEY}=<own tenant>; select only the shared pool or the tenant's own pool.`,
  validateResource: (args, reportViolation) => {
    if (!(WORKLOAD_TYPES as readonly string[]).includes(args.type)) args.notApplicable("not a workload");
    const tenant = tenantOfK8s(args.props);
    const pod = podSpecOf(args.type, args.props);
    if (!tenant || !pod) return;
    for (const t of (pod.tolerations ?? []) as { key?: string; value?: string; operator?: string }[]) {
      if (t.key === DEDICATED_KEY && (t.value !== tenant || t.operator === "Exists")) reportViolation(`tenant ${tenant} tolerates nodes dedicated to ${t.value ?? "any tenant"}`);
      if (t.key === undefined && t.operator === "Exists") reportViolation(`tenant ${tenant} tolerates every taint`);
    }
    const selected = (pod.nodeSelector ?? {}) as Record<string, string>;
    if (selected[DEDICATED_KEY] !== undefined && selected[DEDICATED_KEY] !== tenant) reportViolation(`tenant ${tenant} selects nodes dedicated to ${selected[DEDICATED_KEY]}`);
    if (selected[POOL_LABEL] === undefined) reportViolation(`tenant ${tenant} pods do not select a node pool`);
  },
};

export const tenantRbacInOwnNamespace: StackValidationPolicy = {
  name: "tenant-rbac-in-own-namespace",
  description: "Tenant service accounts are bound only by RoleBindings of their own namespace, never cluster-wide.",
  enforcementLevel: "mandatory",
  remediationSteps: "Bind tenant service accounts with a RoleBinding in the tenant's namespace.",
  validateStack: (args, reportViolation) => {
    for (const r of args.resources) {
      if (r.type !== "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding" && r.type !== "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding") continue;
      const bindingNs = metadataOf(r.props).namespace;
      for (const subject of (r.props.subjects ?? []) as { kind: string; namespace?: string; name: string }[]) {
        if (tenantOfNamespace(subject.namespace) === undefined) continue;
        if (r.type.endsWith("ClusterRoleBinding") || bindingNs !== subject.namespace) {
          reportViolation(`${r.type.split(":").pop()} ${metadataOf(r.props).name} binds ${subject.kind} ${subject.namespace}/${subject.name} outside its namespace`, r.urn);
        }
      }
    }
  },
};

const capsDefault = Object.fromEntries(
  Object.values(TIERS)
    .filter((t) => t.quotaCaps)
    .map((t) => [t.name, t.quotaCaps]),
);

/** Kubernetes quantities to numbers: cores, GiB. */
export function cores(quantity: string): number {
  return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}
export function gibibytes(quantity: string): number {
  const units: Record<string, number> = { Ki: 1 / 1024 ** 2, Mi: 1 / 1024, Gi: 1, Ti: 1024 };
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (!match) return Number.NaN;
  return Number(match[1]) * (match[2] ? units[match[2]]! : 1 / 1024 ** 3);
}

export const tenantIsolationComplete: StackValidationPolicy = {
  name: "tenant-isolation-complete",
  description:
    "Every tenant namespace has a ResourceQuota within its tier's caps (with no LoadBalancer or NodePort services), a LimitRange, and a default-deny NetworkPolicy for ingress and egress.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      caps: { type: "object", default: capsDefault, description: "Quota caps (limits) per tier: cpu cores, memoryGiB, storageGiB, pods." },
    },
  },
  remediationSteps: "Create the tenant through the OdooTenant component, which creates all of them.",
  validateStack: (args, reportViolation) => {
    const caps = args.getConfig<{ caps: Record<string, { cpu: number; memoryGiB: number; storageGiB: number; pods: number }> }>().caps;
    const inNs = (type: string, ns: string) => inNamespace(args.resources, type, ns);
    for (const ns of args.resources.filter((r) => r.type === "kubernetes:core/v1:Namespace" && isTenantNamespaceObject(r.props))) {
      const name = metadataOf(ns.props).name!;
      const tier = metadataOf(ns.props).labels?.[TIER_TAG] as TierName | undefined;
      const quotas = inNs("kubernetes:core/v1:ResourceQuota", name);
      if (quotas.length === 0) reportViolation(`namespace ${name} has no ResourceQuota`, ns.urn);
      for (const q of quotas) {
        const hard = (q.props.spec?.hard ?? {}) as Record<string, string>;
        for (const key of ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "requests.storage", "pods"]) {
          if (hard[key] === undefined) reportViolation(`ResourceQuota of ${name} does not limit ${key}`, q.urn);
        }
        if (hard["services.loadbalancers"] !== "0" || hard["services.nodeports"] !== "0") reportViolation(`ResourceQuota of ${name} allows LoadBalancer or NodePort services`, q.urn);
        const cap = tier ? caps[tier] : undefined;
        if (cap) {
          if (cores(hard["limits.cpu"] ?? "0") > cap.cpu) reportViolation(`ResourceQuota of ${name} allows ${hard["limits.cpu"]} CPU; the ${tier} tier caps it at ${cap.cpu}`, q.urn);
          if (gibibytes(hard["limits.memory"] ?? "0") > cap.memoryGiB) reportViolation(`ResourceQuota of ${name} allows ${hard["limits.memory"]} memory; the ${tier} tier caps it at ${cap.memoryGiB}Gi`, q.urn);
          if (gibibytes(hard["requests.storage"] ?? "0") > cap.storageGiB) reportViolation(`ResourceQuota of ${name} allows ${hard["requests.storage"]} storage; the ${tier} tier caps it at ${cap.storageGiB}Gi`, q.urn);
          if (Number(hard.pods ?? 0) > cap.pods) reportViolation(`ResourceQuota of ${name} allows ${hard.pods} pods; the ${tier} tier caps it at ${cap.pods}`, q.urn);
        }
      }
      if (inNs("kubernetes:core/v1:LimitRange", name).length === 0) reportViolation(`namespace ${name} has no LimitRange`, ns.urn);
      const defaultDeny = inNs("kubernetes:networking.k8s.io/v1:NetworkPolicy", name).some((p) => {
        const spec = p.props.spec ?? {};
        const types = (spec.policyTypes ?? []) as string[];
        return Object.keys(spec.podSelector ?? {}).length === 0 && types.includes("Ingress") && types.includes("Egress") && !spec.ingress && !spec.egress;
      });
      if (!defaultDeny) reportViolation(`namespace ${name} has no default-deny NetworkPolicy for ingress and egress`, ns.urn);
    }
  },
};

export const criticalOnlyOnDedicated: StackValidationPolicy = {
  name: "critical-only-on-dedicated",
  description: "Tenants run only on the stack kinds their tier allows (critical: dedicated only; essential: shared only).",
  enforcementLevel: "mandatory",
  remediationSteps: "Move the tenant to a dedicated stack, or change its tier.",
  validateStack: (args, reportViolation) => {
    const kinds = new Set(args.resources.map((r) => (r.props.tags as Record<string, string> | undefined)?.[STACK_KIND_TAG]).filter((kind): kind is string => Boolean(kind)));
    for (const ns of args.resources.filter((r) => r.type === "kubernetes:core/v1:Namespace" && isTenantNamespaceObject(r.props))) {
      const tier = metadataOf(ns.props).labels?.[TIER_TAG] as TierName | undefined;
      // The catalogue says where each tier may live (TierSpec.stackKinds), as the spec checks it.
      const refused = tier && TIERS[tier] ? [...kinds].filter((kind) => !(TIERS[tier].stackKinds as readonly string[]).includes(kind)) : [];
      if (refused.length > 0) reportViolation(`tenant ${metadataOf(ns.props).labels?.[TENANT_TAG]} is ${tier} but this is a ${refused.join(", ")} stack`, ns.urn);
    }
  },
};

export const isolationPolicies = [tenantNamespaceRestricted, noExternalServicesInTenants, noHostAccessInTenants, noWorkloadOnOtherTenantsNodes, tenantRbacInOwnNamespace, tenantIsolationComplete, criticalOnlyOnDedicated];
