/**
 * Secrets reach containers as files, never through the environment (a Secret in `env` is readable in
 * the pod spec by anyone who may read pods, and lands in crash dumps and `/proc/<pid>/environ` of
 * every child); Odoo's master password exists in a tenant namespace only as its passlib hash.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ODOO_ADMIN_SECRET, PASSLIB_PBKDF2_SHA512 } from "../model/odoo-secrets";
import { containersOf, metadataOf, podSpecOf, tenantOfK8s, WORKLOAD_TYPES } from "./common";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const noSecretsInContainerEnv: ResourceValidationPolicy = {
  name: "no-secrets-in-container-env",
  description: "No container takes a Secret through its environment (env valueFrom.secretKeyRef, envFrom secretRef); Secrets are mounted as files.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  remediationSteps: "Mount the Secret as a volume and read the file; where a program reads only its environment, export the file's content in the container's start script.",
  validateResource: (args, reportViolation) => {
    if (!(WORKLOAD_TYPES as readonly string[]).includes(args.type)) args.notApplicable("not a workload");
    const pod = podSpecOf(args.type, args.props);
    if (!pod) return;
    const where = `${args.type.split(":").pop()} ${metadataOf(args.props).namespace ?? ""}/${metadataOf(args.props).name ?? args.name}`;
    for (const c of containersOf(pod)) {
      for (const e of (c.env ?? []) as Props[]) {
        const ref = e.valueFrom?.secretKeyRef as { name?: string; key?: string } | undefined;
        if (ref) reportViolation(`${where}: container ${c.name} takes Secret ${ref.name}/${ref.key} in env ${e.name}`);
      }
      for (const e of (c.envFrom ?? []) as Props[]) if (e.secretRef) reportViolation(`${where}: container ${c.name} takes every key of Secret ${e.secretRef.name} into its environment`);
    }
  },
};

/** The `admin_passwd = <value>` lines of an odoo.conf text. */
function adminPasswdValues(text: string): string[] {
  return [...text.matchAll(/^\s*admin_passwd\s*[=:]\s*(.*?)\s*$/gm)].map((m) => m[1]!);
}

export const odooAdminPasswordHashed: ResourceValidationPolicy = {
  name: "odoo-admin-password-hashed",
  description: "In tenant namespaces Odoo's admin_passwd is only ever a passlib pbkdf2-sha512 hash: in the odoo-admin Secret and in any odoo.conf a ConfigMap holds.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  remediationSteps: "Store odooAdminPasswordHash(password) (components/tenant/odoo-conf.ts) under the odoo-admin Secret's `hash` key; keep the password itself out of the cluster.",
  validateResource: (args, reportViolation) => {
    if (args.type !== "kubernetes:core/v1:Secret" && args.type !== "kubernetes:core/v1:ConfigMap") args.notApplicable("neither a Secret nor a ConfigMap");
    const tenant = tenantOfK8s(args.props);
    if (!tenant) return;
    const name = metadataOf(args.props).name;
    // A whole map the plan redacts ("[secret]") shows nothing to check; Pulumi's policy server shows the values.
    const visible = (v: unknown) => (v !== null && typeof v === "object" ? (v as Record<string, string>) : {});
    const data = { ...visible(args.props.data), ...visible(args.props.stringData) };
    if (args.type === "kubernetes:core/v1:Secret" && name === ODOO_ADMIN_SECRET.name) {
      const keys = Object.keys(data);
      if (keys.length === 0) return;
      if (keys.length !== 1 || keys[0] !== ODOO_ADMIN_SECRET.key) reportViolation(`Secret ${name} of tenant ${tenant} holds ${keys.join(", ") || "nothing"}; it must hold only ${ODOO_ADMIN_SECRET.key}`);
      const value = data[ODOO_ADMIN_SECRET.key];
      // `data` is base64; `stringData` plain.
      const plain = visible(args.props.stringData)[ODOO_ADMIN_SECRET.key] ?? (value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8"));
      if (plain !== undefined && !PASSLIB_PBKDF2_SHA512.test(plain)) reportViolation(`Secret ${name} of tenant ${tenant} holds admin_passwd in plain text, not as a passlib pbkdf2-sha512 hash`);
      return;
    }
    for (const [key, text] of Object.entries(data)) {
      if (typeof text !== "string") continue;
      for (const v of adminPasswdValues(text)) if (!PASSLIB_PBKDF2_SHA512.test(v)) reportViolation(`${args.type === "kubernetes:core/v1:Secret" ? "Secret" : "ConfigMap"} ${name}/${key} of tenant ${tenant} sets admin_passwd in plain text`);
    }
  },
};

export const odooSecretsPolicies = [noSecretsInContainerEnv, odooAdminPasswordHashed];
