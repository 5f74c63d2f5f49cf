/**
 * The restore drill runs a tenant's own image (to load Odoo's registry on the restored database) in a
 * pod whose other containers hold the database master's secret and an IAM role that reads backups:
 * the tenant's image must get none of it.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { IRSA_SKIP_CONTAINERS, RESTORE_DRILL_LABELS } from "../model/kubernetes";
import { containersOf, metadataOf, podSpecOf, WORKLOAD_TYPES } from "./common";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Environment that carries a credential or says where one is: the master secret, passwords, AWS keys and tokens. */
const CREDENTIAL_ENV = /^(MASTER_SECRET_ARN|PGPASSWORD(_FILE)?|PGPASSFILE|AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|WEB_IDENTITY_TOKEN_FILE|ROLE_ARN|CONTAINER_CREDENTIALS_FULL_URI|CONTAINER_AUTHORIZATION_TOKEN_FILE))$/;

/** Why a container holds credentials, one line each; empty when it holds none. */
export function credentialsOf(container: Props, pod: Props, skipped: readonly string[]): string[] {
  const found: string[] = [];
  // The pod identity webhook mounts the role's token into every container it is not told to skip.
  if (!skipped.includes(container.name as string)) found.push(`gets the pod's IAM role token (not named in ${IRSA_SKIP_CONTAINERS})`);
  for (const e of (container.env ?? []) as Props[]) {
    if (CREDENTIAL_ENV.test(e.name as string)) found.push(`has credential variable ${e.name}`);
    else if (e.valueFrom?.secretKeyRef) found.push(`reads Secret ${e.valueFrom.secretKeyRef.name} into ${e.name}`);
  }
  for (const from of (container.envFrom ?? []) as Props[]) if (from.secretRef) found.push(`reads Secret ${from.secretRef.name} into its environment`);
  const volumes = new Map(((pod.volumes ?? []) as Props[]).map((v) => [v.name as string, v]));
  for (const mount of (container.volumeMounts ?? []) as Props[]) {
    const volume = volumes.get(mount.name as string);
    if (volume?.secret || volume?.projected) found.push(`mounts ${volume.secret ? "Secret" : "projected"} volume ${mount.name}`);
  }
  return found;
}

/**
 * The violations of one restore-drill pod: the platform's image is the one that reads the master
 * secret; every container running another image (the tenant's) must hold no credential at all.
 */
export function drillCredentialViolations(where: string, pod: Props, annotations: Record<string, string>): string[] {
  const containers = containersOf(pod);
  const skipped = (annotations[IRSA_SKIP_CONTAINERS] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const platformImages = new Set(containers.filter((c) => ((c.env ?? []) as Props[]).some((e) => e.name === "MASTER_SECRET_ARN")).map((c) => c.image as string));
  if (platformImages.size > 1) return [`${where}: containers running ${platformImages.size} different images read the master secret; only the platform's image may`];
  return containers
    .filter((c) => !platformImages.has(c.image as string))
    .flatMap((c) => credentialsOf(c, pod, skipped).map((why) => `${where}: container ${c.name} runs ${c.image}, not the platform's image, and ${why}`));
}

export const restoreDrillCredentialsApart: ResourceValidationPolicy = {
  name: "restore-drill-credentials-apart",
  description: "A restore drill's container that runs the tenant's image holds no credential: no IAM role token, no master secret, no password, no Secret volume.",
  enforcementLevel: "mandatory",
  remediationSteps: `Name the tenant-image container in the pod annotation ${IRSA_SKIP_CONTAINERS}; give it only the drill role's password through the drill folder; keep the master secret and the IAM role in the platform image's phases.`,
  validateResource: (args, reportViolation) => {
    if (!(WORKLOAD_TYPES as readonly string[]).includes(args.type)) args.notApplicable("not a workload");
    const template = args.type === "kubernetes:batch/v1:CronJob" ? args.props.spec?.jobTemplate?.spec?.template : args.props.spec?.template;
    const pod = podSpecOf(args.type, args.props);
    if (!pod || template?.metadata?.labels?.app !== RESTORE_DRILL_LABELS.app) return;
    const where = `${args.type.split(":").pop()} ${metadataOf(args.props).namespace}/${metadataOf(args.props).name}`;
    for (const violation of drillCredentialViolations(where, pod, (template.metadata.annotations ?? {}) as Record<string, string>)) reportViolation(violation);
  },
};

export const restoreDrillPolicies = [restoreDrillCredentialsApart];
