import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { serviceAccountRole, serviceAccountWithRole } from "../irsa";
import { sizeOdoo, tenantQuota, type OdooSizing, type TenantQuota } from "../../tiers/sizing";
import type { Environment } from "../../model/stack";
import type { TierName } from "../../tiers/catalogue";
import { ODOO_CONF_CONFIGMAP, tenantNamespace } from "../../model/kubernetes";
import { withName } from "../tagging";
import { createObject } from "./k8s-objects";
import { tenantManifests, type TenantManifests } from "./manifests";
import type { Manifest, TenantManifestInput } from "./manifest-input";
import { pushNetrc, tenantBackupPolicy } from "./backup-job";
import { pushUser } from "../../model/edge";
import { cronOdooConf, odooAdminPasswordHash, webOdooConf } from "./odoo-conf";
import { ODOO_ADMIN_SECRET, ODOO_REDIS_SECRET } from "../../model/odoo-secrets";
import { tenantLabels } from "../../model/tags";
import { drillPolicy, drillServiceAccount } from "./platform";
import { EFS_CSI_DRIVER, FILESTORE_MOUNT_OPTIONS } from "../../model/filestore";
import {
  jobScripts,
  provisionDbJob,
  provisionerPasswordSecret,
  drillPushSecret,
  restoreDrillCronJob,
  tenantDatabase,
  type PlatformJobInput,
  type ProvisionerSettings,
} from "./platform-jobs";

export interface OdooTenantArgs {
  readonly tenant: {
    readonly name: string;
    readonly tier: TierName;
    readonly domains: readonly string[];
    readonly odoo: { readonly image: string };
    readonly expectedUsers: number;
    readonly egress: { readonly https: boolean; readonly smtp: boolean };
  };
  readonly environment: Environment;
  /** Shared pool, or the tenant's dedicated pool with the toleration for its taint. */
  readonly scheduling: { readonly nodeSelector: Record<string, string>; readonly tolerations: readonly Record<string, string>[] };
  readonly vpcCidr: string;
  readonly dataCidrs: readonly string[];
  readonly database: { readonly host: pulumi.Input<string>; readonly port: number };
  /** Sessions in Valkey through the tenant's ACL user. @default none: sessions stay in the filestore (review stacks) */
  readonly redis?: {
    readonly host: pulumi.Input<string>;
    readonly port: number;
    readonly userName: string;
    readonly password: pulumi.Input<string>;
    readonly keyPrefix: string;
  };
  readonly filestore: { readonly fileSystemId: pulumi.Input<string>; readonly accessPointId: pulumi.Input<string>; readonly posixId: number };
  /** The backup bucket and the cluster identity its backup role trusts. @default none: no backup role, CronJob or restore drill (review stacks keep no backups) */
  readonly backup?: TenantBackupArgs;
  readonly provisioner: ProvisionerSettings;
  /** AWS tags of the tenant's IAM role. */
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export interface TenantBackupArgs {
  readonly bucketArn: pulumi.Input<string>;
  readonly bucketName: pulumi.Input<string>;
  readonly kmsKeyArn: pulumi.Input<string>;
  readonly oidcProviderArn: pulumi.Input<string>;
  readonly oidcIssuerUrl: pulumi.Input<string>;
  /** Where backup and drill jobs record their results. */
  readonly pushgatewayUrl: string;
  /** The backup job's credential there (Monitoring's `pushPasswords[tenant].odoo_backup`). */
  readonly pushPassword: pulumi.Input<string>;
  /** The restore drill's credential there (`pushPasswords[tenant].odoo_restore_drill`). */
  readonly drillPushPassword: pulumi.Input<string>;
  /**
   * The restore drill runs from the platform namespace as the tenant's own drill account, whose role
   * reads this shard's master secret (to create the drill's role and scratch database) and this
   * tenant's backups only.
   */
  readonly drill: { readonly masterSecret: { readonly secretArn: pulumi.Input<string>; readonly keyArn: pulumi.Input<string> } };
}

/** The input of the tenant's manifests, from the component's args and the sizing derived from them. */
export function tenantManifestInput(args: OdooTenantArgs, sizing: OdooSizing, quota: TenantQuota, backupRoleArn?: pulumi.Input<string>): TenantManifestInput {
  const t = args.tenant;
  const { database, role } = tenantDatabase(t.name);
  return {
    tenant: t.name,
    tier: t.tier,
    domains: t.domains,
    image: t.odoo.image,
    sizing,
    quota,
    posixId: args.filestore.posixId,
    scheduling: args.scheduling,
    dataCidrs: args.dataCidrs,
    vpcCidr: args.vpcCidr,
    egress: t.egress,
    ...(args.redis ? { redis: { host: args.redis.host, port: args.redis.port, keyPrefix: args.redis.keyPrefix } } : {}),
    filestoreVolume: filestoreVolumeName(t.name),
    ...(backupRoleArn ? { backupRoleArn } : {}),
    ...(args.backup
      ? {
          backup: {
            image: args.provisioner.image,
            bucketName: args.backup.bucketName,
            database: { host: args.database.host, port: args.database.port, name: database, role },
            region: args.provisioner.region,
            pushgatewayUrl: args.backup.pushgatewayUrl,
            pushPassword: args.backup.pushPassword,
            scripts: jobScripts("backup-tenant.sh"),
          },
        }
      : {}),
  };
}

/** The cluster-wide PersistentVolume of the tenant's filestore. */
export function filestoreVolumeName(tenant: string): string {
  return `${tenantNamespace(tenant)}-filestore`;
}

/** Resource name of a manifest's object: the component's name, the kind, the object's name. */
function objectName(name: string, manifest: Manifest): string {
  return `${name}-${manifest.kind.toLowerCase()}-${manifest.metadata.name}`;
}

/**
 * One Odoo tenant: its namespace with quota, limits and default-deny network policies; its own
 * database, cache user, filestore access point and backup role; Odoo web and cron Deployments sized
 * from its users within its tier; TLS routes for its domains through Traefik.
 */
export class OdooTenant extends pulumi.ComponentResource {
  public readonly namespace: string;
  public readonly manifests: TenantManifests;

  constructor(name: string, args: OdooTenantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:tenants:OdooTenant", name, {}, opts);
    this.namespace = tenantNamespace(args.tenant.name);
    const sizing = sizeOdoo(args.tenant, args.environment);
    const quota = tenantQuota(args.tenant, args.environment);
    const backupRoleArn = args.backup ? this.createBackupRole(name, args, args.backup) : undefined;
    const m = (this.manifests = tenantManifests(tenantManifestInput(args, sizing, quota, backupRoleArn)));

    const namespace = createObject(`${name}-namespace`, m.namespace, { parent: this });
    const inNamespace = { parent: this, dependsOn: [namespace] };
    const guardRails = this.createGuardRails(name, m, inNamespace);
    const { dbPassword, secrets } = this.createSecrets(name, args, namespace);
    const config = this.createOdooConf(name, args, sizing, inNamespace);
    const claim = this.createFilestore(name, args, quota, m, namespace);
    const provisioning = this.createDatabaseProvisioning(name, args, sizing, dbPassword);

    const workloadDeps = [namespace, ...guardRails, ...secrets, config, claim, provisioning];
    const workloads = this.createWorkloads(name, m, workloadDeps);
    if (m.backupJob) this.createBackupJob(name, m.backupJob, inNamespace, workloadDeps);
    if (args.backup) this.createRestoreDrill(name, args, args.backup, provisioning);
    this.createRoutes(name, m, [namespace, ...workloads]);

    this.registerOutputs({ namespace: this.namespace });
  }

  /** The IAM role of the backup job's service account: its own prefix of the bucket, nothing else. */
  private createBackupRole(name: string, args: OdooTenantArgs, backup: TenantBackupArgs): pulumi.Output<string> {
    const t = args.tenant;
    return serviceAccountRole(`${name}-backup`, {
      oidcProviderArn: backup.oidcProviderArn,
      oidcIssuerUrl: backup.oidcIssuerUrl,
      namespace: this.namespace,
      serviceAccount: "odoo-backup",
      tags: withName(pulumi.output(args.tags).apply((tags) => ({ ...tags, ...tenantLabels(t.name, t.tier) })), `${name}-backup`),
      policy: pulumi.all([backup.bucketArn, backup.kmsKeyArn]).apply(([bucket, key]) => JSON.stringify(tenantBackupPolicy(t.name, bucket, key))),
    }, { parent: this }).arn;
  }

  /** Quota, limit range, network policies and service accounts, in the namespace. */
  private createGuardRails(name: string, m: TenantManifests, inNamespace: pulumi.CustomResourceOptions): pulumi.Resource[] {
    return [m.resourceQuota, m.limitRange, ...m.networkPolicies, ...m.serviceAccounts].map((o) => createObject(objectName(name, o), o, inNamespace));
  }

  /** A Secret with the tenant's labels; in another namespace than the tenant's, its name says "system". */
  private createSecret(name: string, args: OdooTenantArgs, secretName: string, data: Record<string, pulumi.Input<string>>, namespace: string, dependsOn: pulumi.Resource[]): k8s.core.v1.Secret {
    return new k8s.core.v1.Secret(`${name}-secret-${namespace === this.namespace ? "" : "system-"}${secretName}`, {
      metadata: { name: secretName, namespace, labels: tenantLabels(args.tenant.name, args.tenant.tier) },
      type: "Opaque",
      stringData: data,
    }, { parent: this, dependsOn });
  }

  /**
   * The database password, the master password's hash (the password itself stays in the program's
   * state: Odoo needs only the hash), and session_redis's URL with the cache user's password when the
   * tenant has a cache user. Pods read each as a file.
   */
  private createSecrets(name: string, args: OdooTenantArgs, namespace: pulumi.Resource) {
    const password = (purpose: string) => new random.RandomPassword(`${name}-${purpose}`, { length: 40, special: false }, { parent: this });
    const secret = (secretName: string, data: Record<string, pulumi.Input<string>>) => this.createSecret(name, args, secretName, data, this.namespace, [namespace]);
    const dbPassword = password("db");
    const adminHash = pulumi.secret(password("admin").result.apply(odooAdminPasswordHash));
    const secrets = [
      secret("odoo-db", { password: dbPassword.result }),
      secret(ODOO_ADMIN_SECRET.name, { [ODOO_ADMIN_SECRET.key]: adminHash }),
      ...(args.redis
        ? [secret(ODOO_REDIS_SECRET.name, { [ODOO_REDIS_SECRET.key]: pulumi.secret(pulumi.interpolate`rediss://${args.redis.userName}:${args.redis.password}@${args.redis.host}:${args.redis.port}/0`) })]
        : []),
    ];
    return { dbPassword, secrets };
  }

  /** odoo.conf of the web and cron pods, without secrets (the pods add the passwords at start). */
  private createOdooConf(name: string, args: OdooTenantArgs, sizing: OdooSizing, inNamespace: pulumi.CustomResourceOptions): pulumi.Resource {
    const { database, role } = tenantDatabase(args.tenant.name);
    const confInput = pulumi.output(args.database.host).apply((dbHost) => ({ database, dbUser: role, dbHost, dbPort: args.database.port, sizing }));
    return createObject(`${name}-configmap-odoo-conf`, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: ODOO_CONF_CONFIGMAP, namespace: this.namespace, labels: tenantLabels(args.tenant.name, args.tenant.tier) },
      data: { "web.conf": confInput.apply(webOdooConf), "cron.conf": confInput.apply(cronOdooConf) },
    }, inNamespace);
  }

  /** The filestore: an EFS access point, bound to this tenant's claim alone through claimRef. */
  private createFilestore(name: string, args: OdooTenantArgs, quota: TenantQuota, m: TenantManifests, namespace: pulumi.Resource): pulumi.Resource {
    const volume = new k8s.core.v1.PersistentVolume(`${name}-filestore`, {
      metadata: { name: filestoreVolumeName(args.tenant.name), labels: tenantLabels(args.tenant.name, args.tenant.tier) },
      spec: {
        capacity: { storage: `${quota.storageGiB}Gi` },
        volumeMode: "Filesystem",
        accessModes: ["ReadWriteMany"],
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: "",
        // `iam`: efs-utils signs the mount, so the file system policy can name who mounts; `tls` (the
        // driver's default too); the access point comes from the volume handle (the driver adds
        // `accesspoint=`), which pins this tenant's root directory and POSIX owner.
        mountOptions: [...FILESTORE_MOUNT_OPTIONS],
        csi: { driver: EFS_CSI_DRIVER, volumeHandle: pulumi.interpolate`${args.filestore.fileSystemId}::${args.filestore.accessPointId}` },
        claimRef: { namespace: this.namespace, name: "filestore" },
      },
    }, { parent: this });
    return createObject(`${name}-pvc-filestore`, m.persistentVolumeClaim, { parent: this, dependsOn: [namespace, volume] });
  }

  /** The database and role, created in the cluster by a Job that alone sees the master secret. */
  private createDatabaseProvisioning(name: string, args: OdooTenantArgs, sizing: OdooSizing, dbPassword: random.RandomPassword): k8s.batch.v1.Job {
    const passwordSecret = this.createSecret(name, args, provisionerPasswordSecret(args.tenant.name), { password: dbPassword.result }, args.provisioner.namespace, []);
    return new k8s.batch.v1.Job(`${name}-provision-db`, provisionDbJob(platformJobInput(args), sizing.peakConnections), { parent: this, dependsOn: [passwordSecret] });
  }

  /** Web and cron Deployments, the Service, and the disruption budget and autoscaler when the tier has them. */
  private createWorkloads(name: string, m: TenantManifests, dependsOn: pulumi.Resource[]): pulumi.Resource[] {
    const optional = [m.podDisruptionBudget, m.horizontalPodAutoscaler].filter((o): o is Manifest => o !== undefined);
    return [m.web, m.cron, m.service, ...optional].map((o) => createObject(objectName(name, o), o, { parent: this, dependsOn }));
  }

  /** The backup CronJob, after its scripts' ConfigMap and everything the workloads wait for. */
  private createBackupJob(name: string, backupJob: NonNullable<TenantManifests["backupJob"]>, inNamespace: pulumi.CustomResourceOptions, workloadDeps: pulumi.Resource[]): void {
    const scripts = createObject(`${name}-configmap-odoo-scripts`, backupJob.scripts, inNamespace);
    const credentials = createObject(`${name}-secret-pushgateway-credentials`, backupJob.pushCredentials, inNamespace);
    createObject(`${name}-cronjob-odoo-backup`, backupJob.cronJob, { parent: this, dependsOn: [...workloadDeps, scripts, credentials] });
  }

  /** The restore drill's CronJob in the platform namespace, once the database exists. */
  private createRestoreDrill(name: string, args: OdooTenantArgs, backup: TenantBackupArgs, provisioning: pulumi.Resource): void {
    const netrc = pushNetrc(backup.pushgatewayUrl, pushUser("odoo_restore_drill", args.tenant.name), backup.drillPushPassword);
    const pushSecret = this.createSecret(name, args, drillPushSecret(args.tenant.name), { netrc }, args.provisioner.namespace, []);
    const account = this.createDrillAccount(name, args, backup);
    const settings = { ...backup, drill: { serviceAccount: drillServiceAccount(args.tenant.name) } };
    new k8s.batch.v1.CronJob(`${name}-restore-drill`, restoreDrillCronJob(platformJobInput(args), args.tenant.odoo.image, settings), { parent: this, dependsOn: [provisioning, pushSecret, account] });
  }

  /** The tenant's drill account in the platform namespace and its role: this tenant's backups, its shard's master secret. */
  private createDrillAccount(name: string, args: OdooTenantArgs, backup: TenantBackupArgs): k8s.core.v1.ServiceAccount {
    const t = args.tenant;
    const account = drillServiceAccount(t.name);
    return serviceAccountWithRole(`${name}-restore-drill`, {
      oidcProviderArn: backup.oidcProviderArn,
      oidcIssuerUrl: backup.oidcIssuerUrl,
      namespace: args.provisioner.namespace,
      serviceAccount: account,
      labels: tenantLabels(t.name, t.tier),
      // A platform role acting for the tenant (it reads the shard's master secret), not the tenant's own.
      tags: withName(args.tags, `${name}-restore-drill`),
      policy: pulumi
        .all([backup.drill.masterSecret.secretArn, backup.drill.masterSecret.keyArn, backup.bucketArn, backup.kmsKeyArn])
        .apply(([secretArn, keyArn, bucket, key]) => JSON.stringify(drillPolicy(t.name, { secretArn, keyArn }, bucket, key))),
    }, { role: { parent: this }, accountName: `${name}-${account}`, account: { parent: this } });
  }

  /** The certificate, middlewares and routes: traffic arrives once the workloads exist. */
  private createRoutes(name: string, m: TenantManifests, dependsOn: pulumi.Resource[]): void {
    const edge: Manifest[] = [m.certificate, ...m.middlewares, ...m.ingressRoutes];
    edge.forEach((o) => createObject(objectName(name, o), o, { parent: this, dependsOn }));
  }
}

function platformJobInput(args: OdooTenantArgs): PlatformJobInput {
  return { tenant: args.tenant.name, tier: args.tenant.tier, database: args.database, provisioner: args.provisioner };
}
