/** Workload hygiene for every pod template: restricted profile, resources, pinned images, probes. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { restrictedViolations } from "../model/pod-security";
import { containersOf, metadataOf, podSpecOf, WORKLOAD_TYPES } from "./common";

const workloadOnly = (type: string, notApplicable: (reason?: string) => never) => {
  if (!(WORKLOAD_TYPES as readonly string[]).includes(type)) notApplicable("not a workload");
};
/** `Kind namespace/name`; auto-named objects (Jobs) fall back to their Pulumi name. */
const label = (args: { type: string; name: string; props: Record<string, unknown> }) =>
  `${args.type.split(":").pop()} ${metadataOf(args.props).namespace ?? ""}/${metadataOf(args.props).name ?? args.name}`;

export const podSecurityRestricted: ResourceValidationPolicy = {
  name: "pod-security-restricted",
  description: "Every pod template meets the Pod Security Standards restricted profile.",
  enforcementLevel: "mandatory",
  remediationSteps: "runAsNonRoot, allowPrivilegeEscalation: false, drop ALL capabilities, seccompProfile RuntimeDefault, only restricted volume types.",
  validateResource: (args, reportViolation) => {
    workloadOnly(args.type, args.notApplicable);
    const pod = podSpecOf(args.type, args.props);
    if (!pod) return;
    for (const problem of restrictedViolations(pod)) reportViolation(`${label(args)}: ${problem}`);
  },
};

export const containersHaveResources: ResourceValidationPolicy = {
  name: "containers-have-resources",
  description: "Every container, init containers included, requests and limits CPU and memory.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set resources.requests and resources.limits for cpu and memory.",
  validateResource: (args, reportViolation) => {
    workloadOnly(args.type, args.notApplicable);
    const pod = podSpecOf(args.type, args.props);
    if (!pod) return;
    for (const c of containersOf(pod)) {
      for (const kind of ["requests", "limits"]) {
        for (const resource of ["cpu", "memory"]) {
          if (c.resources?.[kind]?.[resource] === undefined) reportViolation(`${label(args)}: container ${c.name} has no ${kind}.${resource}`);
        }
      }
    }
  },
};

export const imagesPinnedByDigest: ResourceValidationPolicy = {
  name: "images-pinned-by-digest",
  description: "Every image comes from an allowed registry and is pinned by digest.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowedRegistries: {
        type: "array",
        items: { type: "string" },
        default: ["^\\d{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com/"],
        description: "Regular expressions an image reference must match one of.",
      },
    },
  },
  remediationSteps: "Push the image to the provider's ECR registry and reference it as <registry>/<name>@sha256:<digest>.",
  validateResource: (args, reportViolation) => {
    workloadOnly(args.type, args.notApplicable);
    const pod = podSpecOf(args.type, args.props);
    if (!pod) return;
    const allowed = args.getConfig<{ allowedRegistries: string[] }>().allowedRegistries.map((r) => new RegExp(r));
    for (const c of containersOf(pod)) {
      const image = String(c.image ?? "");
      if (!/@sha256:[a-f0-9]{64}$/.test(image)) reportViolation(`${label(args)}: container ${c.name} image ${image} is not pinned by digest`);
      if (!allowed.some((r) => r.test(image))) reportViolation(`${label(args)}: container ${c.name} image ${image} is not from an allowed registry`);
    }
  },
};

export const servingContainersHaveProbes: ResourceValidationPolicy = {
  name: "serving-containers-have-probes",
  description: "Long-running containers (Deployments, StatefulSets, DaemonSets) have readiness and liveness probes.",
  enforcementLevel: "mandatory",
  remediationSteps: "Add readinessProbe and livenessProbe (Odoo: GET /web/health on 8069).",
  validateResource: (args, reportViolation) => {
    if (!["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet"].includes(args.type)) args.notApplicable("not a long-running workload");
    const pod = podSpecOf(args.type, args.props);
    if (!pod) return;
    for (const c of (pod.containers ?? []) as Record<string, unknown>[]) {
      if (!c.readinessProbe) reportViolation(`${label(args)}: container ${String(c.name)} has no readinessProbe`);
      if (!c.livenessProbe) reportViolation(`${label(args)}: container ${String(c.name)} has no livenessProbe`);
    }
  },
};

export const workloadPolicies = [podSecurityRestricted, containersHaveResources, imagesPinnedByDigest, servingContainersHaveProbes];
