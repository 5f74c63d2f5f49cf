/**
 * What every tenant pod shares: the restricted Pod Security profile, the tier's priority class, and
 * sizes written as Kubernetes quantities.
 */
import type { PodResources } from "../../tiers/sizing";
import { TIER_NAMES, TIERS, type TierName, type TierSpec } from "../../tiers/catalogue";

/** One PriorityClass per tier, in the catalogue's order, named after the tier. */
export const PRIORITY_CLASSES = Object.fromEntries(TIER_NAMES.map((tier) => [tier, { name: `odoo-${tier}`, ...TIERS[tier].priorityClass }])) as Readonly<
  Record<TierName, { readonly name: string } & TierSpec["priorityClass"]>
>;

/** Millicores and MiB as Kubernetes quantities, in whole units where they divide evenly. */
export const quantity = {
  cpu: (millis: number) => (millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`),
  memory: (mib: number) => (mib % 1024 === 0 ? `${mib / 1024}Gi` : `${mib}Mi`),
};

/** A container's `resources` from the sizing rules' requests and limits. */
export function containerResources(r: PodResources) {
  return {
    requests: { cpu: quantity.cpu(r.requests.cpuMillis), memory: quantity.memory(r.requests.memoryMiB) },
    limits: { cpu: quantity.cpu(r.limits.cpuMillis), memory: quantity.memory(r.limits.memoryMiB) },
  };
}

/** Pod Security Standards "restricted", for every container of every tenant pod. */
export const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] as string[] },
  seccompProfile: { type: "RuntimeDefault" },
} as const;

/** Pod Security Standards "restricted" at the pod level: one non-root POSIX identity, runtime seccomp. */
export function restrictedPod(uid: number) {
  return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: "RuntimeDefault" } } as const;
}
