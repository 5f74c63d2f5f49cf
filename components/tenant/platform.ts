import { readFileSync } from "node:fs";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster";
import { serviceAccountTrustPolicy } from "../iam";
import { RESTRICTED_NAMESPACE_LABELS } from "../ingress";
import { withName } from "../tagging";
import { createObject } from "./k8s-objects";
import { PRIORITY_CLASSES, type Manifest } from "./manifests";
import { projectFile } from "./project-files";

export const SYSTEM_NAMESPACE = "odoo-fleet-system";
export const PROVISIONER_SERVICE_ACCOUNT = "tenant-provisioner";
export const PROVISIONER_LABELS = { app: "tenant-provisioner" } as const;

export interface TenantPlatformArgs {
  cluster: Pick<Cluster, "oidcProviderArn" | "oidcIssuerUrl">;
  /** The RDS-managed master secret the provisioning jobs read, and the key it is encrypted with. */
  masterSecretArn: pulumi.Input<string>;
  masterSecretKeyArn: pulumi.Input<string>;
  dataCidrs: readonly string[];
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Least privilege for the provisioner: read the one master secret, decrypt it with its key. */
export function provisionerPolicy(secretArn: string, keyArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: secretArn },
      { Effect: "Allow", Action: "kms:Decrypt", Resource: keyArn, Condition: { StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" } } },
    ],
  };
}

/**
 * What every tenant of a cluster shares: the PriorityClasses of the tiers, and the system namespace
 * where the database provisioning jobs run with the master secret (tenants never see it).
 */
export class TenantPlatform extends pulumi.ComponentResource {
  public readonly namespace: string = SYSTEM_NAMESPACE;
  public readonly serviceAccount: string = PROVISIONER_SERVICE_ACCOUNT;
  public readonly scriptsConfigMap = "tenant-scripts";
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: TenantPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:tenants:TenantPlatform", name, {}, opts);
    const child = { parent: this };

    const priorityClasses = Object.values(PRIORITY_CLASSES).map((pc) =>
      createObject(`${name}-${pc.name}`, {
        apiVersion: "scheduling.k8s.io/v1",
        kind: "PriorityClass",
        metadata: { name: pc.name },
        value: pc.value,
        preemptionPolicy: pc.preemption,
        globalDefault: false,
        description: `Odoo tenants of the ${pc.name.replace("odoo-", "")} tier`,
      }, child));

    const namespace = createObject(`${name}-system`, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: SYSTEM_NAMESPACE, labels: { ...RESTRICTED_NAMESPACE_LABELS, "odoo-fleet/role": "platform" } },
    }, child);
    const inNamespace = { parent: this, dependsOn: [namespace] };

    const role = new aws.iam.Role(`${name}-provisioner`, {
      assumeRolePolicy: pulumi
        .all([args.cluster.oidcProviderArn, args.cluster.oidcIssuerUrl])
        .apply(([arn, url]) => JSON.stringify(serviceAccountTrustPolicy(arn, url, SYSTEM_NAMESPACE, PROVISIONER_SERVICE_ACCOUNT))),
      tags: withName(args.tags, `${name}-provisioner`),
    }, child);
    new aws.iam.RolePolicy(`${name}-provisioner`, {
      role: role.id,
      policy: pulumi.all([args.masterSecretArn, args.masterSecretKeyArn]).apply(([secret, key]) => JSON.stringify(provisionerPolicy(secret, key))),
    }, child);

    const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-${PROVISIONER_SERVICE_ACCOUNT}`, {
      metadata: { name: PROVISIONER_SERVICE_ACCOUNT, namespace: SYSTEM_NAMESPACE, annotations: { "eks.amazonaws.com/role-arn": role.arn } },
      automountServiceAccountToken: false,
    }, inNamespace);

    const objects: Manifest[] = [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: this.scriptsConfigMap, namespace: SYSTEM_NAMESPACE },
        data: { "provision-tenant-db.sh": readFileSync(projectFile("scripts/provision-tenant-db.sh"), "utf8") },
      },
      { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "default-deny", namespace: SYSTEM_NAMESPACE }, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "allow-provisioner-egress", namespace: SYSTEM_NAMESPACE },
        spec: {
          podSelector: { matchLabels: PROVISIONER_LABELS },
          policyTypes: ["Egress"],
          egress: [
            {
              to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
              ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
            },
            { to: args.dataCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: 5432 }] },
            // STS and Secrets Manager: regional AWS endpoints on HTTPS.
            { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] },
          ],
        },
      },
    ];
    const created = objects.map((object) => createObject(`${name}-${object.metadata.name}`, object, inNamespace));
    this.ready = [namespace, serviceAccount, ...priorityClasses, ...created];
    this.registerOutputs({ namespace: this.namespace });
  }
}
