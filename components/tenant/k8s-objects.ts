import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Manifest } from "./manifest-input";

type Constructor = new (name: string, args: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** Typed classes for the built-in kinds, so plans and policies see their real type tokens. */
const KINDS: Record<string, Constructor> = {
  "v1/Namespace": k8s.core.v1.Namespace as unknown as Constructor,
  "v1/ResourceQuota": k8s.core.v1.ResourceQuota as unknown as Constructor,
  "v1/LimitRange": k8s.core.v1.LimitRange as unknown as Constructor,
  "v1/ServiceAccount": k8s.core.v1.ServiceAccount as unknown as Constructor,
  "v1/PersistentVolume": k8s.core.v1.PersistentVolume as unknown as Constructor,
  "v1/PersistentVolumeClaim": k8s.core.v1.PersistentVolumeClaim as unknown as Constructor,
  "v1/Service": k8s.core.v1.Service as unknown as Constructor,
  "v1/ConfigMap": k8s.core.v1.ConfigMap as unknown as Constructor,
  "v1/Secret": k8s.core.v1.Secret as unknown as Constructor,
  "networking.k8s.io/v1/NetworkPolicy": k8s.networking.v1.NetworkPolicy as unknown as Constructor,
  "apps/v1/Deployment": k8s.apps.v1.Deployment as unknown as Constructor,
  "batch/v1/Job": k8s.batch.v1.Job as unknown as Constructor,
  "batch/v1/CronJob": k8s.batch.v1.CronJob as unknown as Constructor,
  "policy/v1/PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget as unknown as Constructor,
  "autoscaling/v2/HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler as unknown as Constructor,
  "scheduling.k8s.io/v1/PriorityClass": k8s.scheduling.v1.PriorityClass as unknown as Constructor,
};

/**
 * Creates the resource a manifest describes: the typed class for built-in kinds, a CustomResource
 * for CRDs (cert-manager, Traefik).
 */
export function createObject(name: string, manifest: Manifest, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
  const { apiVersion, kind, ...rest } = manifest;
  const Kind = KINDS[`${apiVersion}/${kind}`];
  if (Kind) return new Kind(name, rest, opts);
  return new k8s.apiextensions.CustomResource(name, { apiVersion, kind, ...rest }, opts);
}
