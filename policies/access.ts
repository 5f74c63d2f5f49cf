/** Who may reach a cluster's API: EKS access entries only, and no administrator for pull-request code. */
import { validateResourceOfType, type ResourceValidationPolicy } from "@pulumi/policy";
import * as aws from "@pulumi/aws";
import { CI_ENVIRONMENTS, ciRoleName } from "../model/ci";

const PREVIEW_ROLES = CI_ENVIRONMENTS.map((env) => ciRoleName("preview", env));

export const eksAccessThroughEntries: ResourceValidationPolicy = {
  name: "eks-access-through-entries",
  description: "EKS clusters authenticate through access entries only (API mode), grant their creator nothing implicit, and never make a CI preview identity cluster admin.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set accessConfig { authenticationMode: API, bootstrapClusterCreatorAdminPermissions: false } and bind preview roles to the odoo-fleet-ci-preview group instead of an access policy.",
  validateResource: [
    validateResourceOfType(aws.eks.Cluster, (cluster, args, reportViolation) => {
      const access = cluster.accessConfig;
      if (access?.authenticationMode !== "API") reportViolation(`EKS ${cluster.name ?? args.name} authenticates in ${access?.authenticationMode ?? "CONFIG_MAP"} mode, not through access entries only`);
      if (access?.bootstrapClusterCreatorAdminPermissions !== false) reportViolation(`EKS ${cluster.name ?? args.name} makes whoever creates it cluster admin, outside any access entry`);
    }),
    validateResourceOfType(aws.eks.AccessPolicyAssociation, (association, args, reportViolation) => {
      const role = String(association.principalArn ?? "").split("/").pop() ?? "";
      if (PREVIEW_ROLES.includes(role) && /\/(AmazonEKSClusterAdminPolicy|AmazonEKSAdminPolicy|AmazonEKSEditPolicy)$/.test(String(association.policyArn))) {
        reportViolation(`access policy association ${args.name} gives the preview role ${role}, which runs pull-request code, ${String(association.policyArn).split("/").pop()}`);
      }
    }),
  ],
};

export const accessPolicies = [eksAccessThroughEntries];
