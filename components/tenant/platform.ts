import { readFileSync } from "node:fs";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { serviceAccountWithRole } from "../irsa";
import type { Cluster } from "../cluster";
import { RESTRICTED_NAMESPACE_LABELS } from "../ingress";
import { withName } from "../tagging";
import { createObject } from "./k8s-objects";
import { PRIORITY_CLASSES } from "./pod-spec";
import type { Manifest } from "./manifest-input";
import { NAMESPACE_ROLE_LABEL, NAMESPACE_ROLES, RESTORE_DRILL_LABELS, SYSTEM_NAMESPACE } from "../../model/kubernetes";
import { projectFile } from "./project-files";
import { PUSH_PROXY_PORT } from "../../model/edge";

export const PROVISIONER_SERVICE_ACCOUNT = "tenant-provisioner";
export const PROVISIONER_LABELS = { app: "tenant-provisioner" } as const;

export interface TenantPlatformArgs {
  readonly cluster: Pick<Cluster, "oidcProviderArn" | "oidcIssuerUrl">;
  /** Each data shard's RDS-managed master secret the provisioning jobs read, and the key it is encrypted with. */
  readonly masterSecrets: readonly { readonly secretArn: pulumi.Input<string>; readonly keyArn: pulumi.Input<string> }[];
  readonly dataCidrs: readonly string[];
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Each tenant's restore drill runs as its own account of the system namespace, with its own role. */
export function drillServiceAccount(tenant: string): string {
  return `restore-drill-${tenant}`;
}

/**
 * One tenant's drill: its shard's master secret (to create the scratch database and the drill role) and
 * that tenant's backups only, so a drill acting for one tenant never reads another's dumps.
 */
export function drillPolicy(tenant: string, secret: MasterSecret, bucketArn: string, bucketKeyArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      ...provisionerPolicy([secret]).Statement,
      // restore-drill.sh's fetch: `aws s3 ls` of the tenant's prefix and `aws s3 cp` of its newest backup.
      { Effect: "Allow", Action: "s3:GetObject", Resource: `${bucketArn}/tenants/${tenant}/*` },
      { Effect: "Allow", Action: "s3:ListBucket", Resource: bucketArn, Condition: { StringLike: { "s3:prefix": [`tenants/${tenant}/*`] } } },
      { Effect: "Allow", Action: "kms:Decrypt", Resource: bucketKeyArn, Condition: { StringLike: { "kms:ViaService": "s3.*.amazonaws.com" } } },
    ],
  };
}

export interface MasterSecret {
  secretArn: string;
  keyArn: string;
}

/** Least privilege for the provisioner: read the master secrets (one per data shard), decrypt them with their keys. */
export function provisionerPolicy(secrets: readonly MasterSecret[]) {
  // One shard keeps the single-ARN form: stacks from before shards see no change.
  const one = (arns: string[]) => (arns.length === 1 ? arns[0]! : arns);
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: one(secrets.map((s) => s.secretArn)) },
      { Effect: "Allow", Action: "kms:Decrypt", Resource: one(secrets.map((s) => s.keyArn)), Condition: { StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" } } },
    ],
  };
}

/** One PriorityClass per tier: the tiers' pods preempt (or not) in their order. */
export function priorityClassManifests(): Manifest[] {
  return Object.values(PRIORITY_CLASSES).map((pc) => ({
    apiVersion: "scheduling.k8s.io/v1",
    kind: "PriorityClass",
    metadata: { name: pc.name },
    value: pc.value,
    preemptionPolicy: pc.preemption,
    globalDefault: false,
    description: `Odoo tenants of the ${pc.name.replace("odoo-", "")} tier`,
  }));
}

/**
 * What the system namespace holds besides its accounts: the jobs' scripts, and default-deny with the
 * egress the provisioning jobs and restore drills need.
 */
export function systemNamespaceObjects(scriptsConfigMap: string, dataCidrs: readonly string[]): Manifest[] {
  return [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: scriptsConfigMap, namespace: SYSTEM_NAMESPACE },
      data: Object.fromEntries(["provision-tenant-db.sh", "restore-drill.sh", "credentials.sh"].map((f) => [f, readFileSync(projectFile(`scripts/${f}`), "utf8")])),
    },
    { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "default-deny", namespace: SYSTEM_NAMESPACE }, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-provisioner-egress", namespace: SYSTEM_NAMESPACE },
      spec: {
        // Provisioning jobs and restore drills: DNS, PostgreSQL, AWS APIs on HTTPS, the Pushgateway.
        podSelector: { matchExpressions: [{ key: "app", operator: "In", values: [PROVISIONER_LABELS.app, RESTORE_DRILL_LABELS.app] }] },
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
            ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
          },
          { to: dataCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: 5432 }] },
          // STS, Secrets Manager and S3: regional AWS endpoints on HTTPS.
          { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] },
          { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus-pushgateway" } } }], ports: [{ protocol: "TCP", port: PUSH_PROXY_PORT }] },
        ],
      },
    },
  ];
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
    const priorityClasses = priorityClassManifests().map((pc) => createObject(`${name}-${pc.metadata.name}`, pc, { parent: this }));
    const namespace = createObject(`${name}-system`, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: SYSTEM_NAMESPACE, labels: { ...RESTRICTED_NAMESPACE_LABELS, [NAMESPACE_ROLE_LABEL]: NAMESPACE_ROLES.platform } },
    }, { parent: this });
    const inNamespace = { parent: this, dependsOn: [namespace] };

    const provisionerPolicyJson = pulumi.output(args.masterSecrets).apply((secrets) => JSON.stringify(provisionerPolicy(secrets)));
    const serviceAccount = this.createAccountWithRole(name, args, "provisioner", PROVISIONER_SERVICE_ACCOUNT, provisionerPolicyJson, inNamespace);

    const created = systemNamespaceObjects(this.scriptsConfigMap, args.dataCidrs).map((object) => createObject(`${name}-${object.metadata.name}`, object, inNamespace));
    this.ready = [namespace, serviceAccount, ...priorityClasses, ...created];
    this.registerOutputs({ namespace: this.namespace });
  }

  /** An IAM role trusted by one service account of the system namespace, and that account. */
  private createAccountWithRole(
    name: string,
    args: TenantPlatformArgs,
    roleSuffix: string,
    account: string,
    policy: pulumi.Input<string>,
    inNamespace: pulumi.CustomResourceOptions,
  ): k8s.core.v1.ServiceAccount {
    return serviceAccountWithRole(`${name}-${roleSuffix}`, {
      oidcProviderArn: args.cluster.oidcProviderArn,
      oidcIssuerUrl: args.cluster.oidcIssuerUrl,
      namespace: SYSTEM_NAMESPACE,
      serviceAccount: account,
      tags: withName(args.tags, `${name}-${roleSuffix}`),
      policy,
    }, { role: { parent: this }, accountName: `${name}-${account}`, account: inNamespace });
  }
}
