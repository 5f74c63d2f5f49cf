/**
 * What every step of a tenant's manifests reads: the shape of a manifest, the one input they all take,
 * and the metadata every namespaced tenant object carries.
 */
import type { Input } from "@pulumi/pulumi";
import type { OdooSizing, TenantQuota } from "../../tiers/sizing";
import type { TierName } from "../../tiers/catalogue";
import { tenantNamespace } from "../../model/kubernetes";
import { tenantLabels } from "../../model/tags";

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, Input<string>> };
} & Record<string, unknown>;

export interface TenantManifestInput {
  readonly tenant: string;
  readonly tier: TierName;
  readonly domains: readonly string[];
  readonly image: string;
  readonly sizing: OdooSizing;
  readonly quota: TenantQuota;
  readonly posixId: number;
  /** Where the pods may run: the shared pool, or the tenant's dedicated pool (with its toleration). */
  readonly scheduling: { readonly nodeSelector: Record<string, string>; readonly tolerations: readonly Record<string, string>[] };
  /** CIDRs of the isolated subnets (PostgreSQL, Valkey, EFS). */
  readonly dataCidrs: readonly string[];
  /** The VPC block, excluded from internet egress. */
  readonly vpcCidr: string;
  readonly egress: { readonly https: boolean; readonly smtp: boolean };
  /** The cache endpoint (an Output in the program, a string in tests). @default none: sessions stay in the filestore */
  readonly redis?: { readonly host: Input<string>; readonly port: number; readonly keyPrefix: string };
  /** Name of the PersistentVolume holding the tenant's EFS access point. */
  readonly filestoreVolume: string;
  /** IAM role of the tenant's backup service account. @default none: no backup service account */
  readonly backupRoleArn?: Input<string>;
  /** The logical backup CronJob (with `backupRoleArn`). @default none: no backup CronJob */
  readonly backup?: BackupJobInput;
}

export interface BackupJobInput {
  /** The platform's tools image: sh, pg_dump, tar, sha256sum, curl, the AWS CLI. */
  readonly image: string;
  readonly bucketName: Input<string>;
  readonly database: { readonly host: Input<string>; readonly port: number; readonly name: string; readonly role: string };
  readonly region: Input<string>;
  readonly pushgatewayUrl: string;
  /** The tenant's backup credential at the Pushgateway's proxy (user `backup-<tenant>`). */
  readonly pushPassword: Input<string>;
  /** Contents of backup-tenant.sh and credentials.sh (scripts/), for the job's ConfigMap. */
  readonly scripts: Readonly<Record<string, string>>;
}

/** Name, namespace and the tenant's labels (plus `extra`) of an object in the tenant's namespace. */
export function tenantObjectMeta(input: TenantManifestInput, name: string, extra: Record<string, string> = {}) {
  return { name, namespace: tenantNamespace(input.tenant), labels: { ...tenantLabels(input.tenant, input.tier), ...extra } };
}
