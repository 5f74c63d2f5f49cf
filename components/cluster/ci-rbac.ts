import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CI_PREVIEW_GROUP } from "./access";

/**
 * API groups whose objects this program declares (directly or through its charts): previews dry-run
 * writes to them. `admissionregistration.k8s.io` is left out on purpose: the preview identity must
 * never be able to loosen the policy below that confines it to dry-run.
 */
export const PREVIEW_WRITE_API_GROUPS = [
  "",
  "apps",
  "batch",
  "autoscaling",
  "policy",
  "networking.k8s.io",
  "storage.k8s.io",
  "scheduling.k8s.io",
  "rbac.authorization.k8s.io",
  "apiextensions.k8s.io",
  "traefik.io",
  "cert-manager.io",
  "monitoring.coreos.com",
] as const;

/** What `pulumi preview --refresh` does in a cluster, as RBAC rules. */
export function previewRules(): k8s.types.input.rbac.v1.PolicyRule[] {
  return [
    // Refresh reads every object it manages, Secrets included.
    { apiGroups: ["*"], resources: ["*"], verbs: ["get", "list", "watch"] },
    // Server-side apply previews are dry-run PATCHes; the API server authorizes a dry-run exactly as
    // the real request, and an apply that would create an object as `create` too.
    // https://kubernetes.io/docs/reference/using-api/api-concepts/#dry-run
    { apiGroups: [...PREVIEW_WRITE_API_GROUPS], resources: ["*"], verbs: ["create", "patch"] },
  ];
}

/** CEL: requests of the preview group pass only as dry-runs. */
export const DRY_RUN_ONLY = "request.dryRun == true";
export const IS_PREVIEW_GROUP = `'${CI_PREVIEW_GROUP}' in request.userInfo.groups`;

/** Nothing to choose: the group is CI_PREVIEW_GROUP, the rules previewRules(). */
export type CiPreviewRbacArgs = Record<string, never>;

/**
 * The Kubernetes side of the preview/drift identity: a ClusterRole with what previews and refreshes
 * need, bound to its EKS access-entry group, and a ValidatingAdmissionPolicy that denies that group
 * every request that is not a dry-run. RBAC cannot tell a dry-run from a real write; admission can.
 */
export class CiPreviewRbac extends pulumi.ComponentResource {
  constructor(name: string, _args: CiPreviewRbacArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:compute:CiPreviewRbac", name, {}, opts);
    const child = { parent: this };

    // The guard first: the group gets its permissions only once its writes are confined to dry-runs.
    const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(`${name}-ci-preview-dry-run`, {
      metadata: { name: "odoo-fleet-ci-preview-dry-run-only" },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          // `*/*`: every resource and subresource (`*` alone leaves out pods/exec, serviceaccounts/token...).
          resourceRules: [{ apiGroups: ["*"], apiVersions: ["*"], resources: ["*/*"], operations: ["CREATE", "UPDATE", "DELETE", "CONNECT"] }],
        },
        matchConditions: [{ name: "ci-preview-group", expression: IS_PREVIEW_GROUP }],
        validations: [{ expression: DRY_RUN_ONLY, message: `${CI_PREVIEW_GROUP} may only make dry-run requests (pulumi preview)`, reason: "Forbidden" }],
      },
    }, child);
    const binding = new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(`${name}-ci-preview-dry-run`, {
      metadata: { name: "odoo-fleet-ci-preview-dry-run-only" },
      spec: { policyName: policy.metadata.name, validationActions: ["Deny"] },
    }, child);

    const role = new k8s.rbac.v1.ClusterRole(`${name}-ci-preview`, {
      metadata: { name: CI_PREVIEW_GROUP },
      rules: previewRules(),
    }, { parent: this, dependsOn: [binding] });
    new k8s.rbac.v1.ClusterRoleBinding(`${name}-ci-preview`, {
      metadata: { name: CI_PREVIEW_GROUP },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: CI_PREVIEW_GROUP }],
    }, { parent: this, dependsOn: [binding] });

    this.registerOutputs({});
  }
}
