/**
 * Odoo's workloads: the filestore claim, the web and cron Deployments, and the web tier's disruption
 * budget and autoscaler.
 */
import { cronPodResources, webMaxSurge, webPodResources, type OdooSizing } from "../../tiers/sizing";
import { TIERS } from "../../tiers/catalogue";
import { CRON_DEPLOYMENT, CRON_LABELS, WEB_DEPLOYMENT, WEB_LABELS } from "../../model/kubernetes";
import { odooPod } from "./odoo-pod";
import { tenantObjectMeta, type Manifest, type TenantManifestInput } from "./manifest-input";

/** The claim on the tenant's own PersistentVolume (its EFS access point), shared by web, cron and backup. */
export function filestoreClaim(input: TenantManifestInput): Manifest {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: tenantObjectMeta(input, "filestore"),
    spec: { accessModes: ["ReadWriteMany"], storageClassName: "", volumeName: input.filestoreVolume, resources: { requests: { storage: `${input.quota.storageGiB}Gi` } } },
  };
}

/** Whether the web Deployment scales between its replica count and a higher maximum. */
export function webAutoscales(sizing: OdooSizing): boolean {
  return sizing.maxWebReplicas > sizing.webReplicas;
}

export function webDeployment(input: TenantManifestInput): Manifest {
  const surge = webMaxSurge(input.tier);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: tenantObjectMeta(input, WEB_DEPLOYMENT, WEB_LABELS),
    spec: {
      // With an autoscaler, the replica count is its to set; a fixed one here would fight it.
      ...(webAutoscales(input.sizing) ? {} : { replicas: input.sizing.webReplicas }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: { ...WEB_LABELS, tenant: input.tenant } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: surge, maxUnavailable: surge === 0 ? 1 : 0 } },
      template: odooPod(input, "web", webPodResources(input.sizing)),
    },
  };
}

export function cronDeployment(input: TenantManifestInput): Manifest {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: tenantObjectMeta(input, CRON_DEPLOYMENT, CRON_LABELS),
    spec: {
      replicas: 1,
      revisionHistoryLimit: 5,
      selector: { matchLabels: { ...CRON_LABELS, tenant: input.tenant } },
      // Never two cron pods at once.
      strategy: { type: "Recreate" },
      template: odooPod(input, "cron", cronPodResources(input.sizing)),
    },
  };
}

/** The tier's disruption budget for the web pods. @returns undefined for tiers without one */
export function webDisruptionBudget(input: TenantManifestInput): Manifest | undefined {
  const budget = TIERS[input.tier].podDisruptionBudget;
  if (budget.kind === "none") return undefined;
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: tenantObjectMeta(input, "odoo-web"),
    spec: { selector: { matchLabels: { ...WEB_LABELS, tenant: input.tenant } }, [budget.kind]: budget.value },
  };
}

/** Scales the web pods on CPU between the sized count and the maximum. @returns undefined when they do not autoscale */
export function webAutoscaler(input: TenantManifestInput): Manifest | undefined {
  if (!webAutoscales(input.sizing)) return undefined;
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: tenantObjectMeta(input, "odoo-web"),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: WEB_DEPLOYMENT },
      minReplicas: input.sizing.webReplicas,
      maxReplicas: input.sizing.maxWebReplicas,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
    },
  };
}
