/**
 * Keys and trusts: who may administer, use and delete each KMS key; production backups locked in
 * COMPLIANCE mode; every service trust held to this account (the confused-deputy guard).
 */
import { validateResourceOfType, type PolicyResource, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import * as aws from "@pulumi/aws";
import { BREAK_GLASS_ROLE_NAME } from "../model/ci";
import { BUCKET_PURPOSE_TAG } from "../model/tags";
import { SERVICES_WITHOUT_SOURCE_KEYS } from "../model/trust";
import { awsTags, isProduction } from "./common";

type Statement = {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const actionGlob = (pattern: string, action: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i").test(action);
/** Whether a statement's actions cover `action` (Action with wildcards, or NotAction that leaves it out). */
export function coversAction(s: Statement, action: string): boolean {
  if (s.NotAction !== undefined) return !list(s.NotAction).some((a) => actionGlob(a, action));
  return list(s.Action).some((a) => actionGlob(a, action));
}

function parseDocument(value: unknown): { Statement?: Statement | Statement[] } | undefined {
  if (typeof value === "string") {
    try {
      return JSON.parse(value) as { Statement?: Statement[] };
    } catch {
      return undefined;
    }
  }
  return value && typeof value === "object" ? (value as { Statement?: Statement[] }) : undefined;
}

/** The role ARNs an `aws:PrincipalArn` condition of this operator family names (ArnEquals/ArnLike, or their Not forms). */
function principalArnsIn(s: Statement, negated: boolean): string[] | undefined {
  const operators = negated ? ["ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike"] : ["ArnEquals", "ArnLike", "StringEquals", "StringLike"];
  const values = operators.flatMap((op) => list(s.Condition?.[op]?.["aws:PrincipalArn"] as string | string[] | undefined));
  return values.length > 0 ? values.map(String) : undefined;
}

const isBreakGlass = (arn: string) => arn.endsWith(`:role/${BREAK_GLASS_ROLE_NAME}`);
/** Principals a statement names outright: "*" or a list of AWS principals and services. */
const principalsOf = (s: Statement): string[] => (s.Principal === "*" ? ["*"] : Object.values((s.Principal ?? {}) as Record<string, string | string[]>).flatMap((p) => list(p)));

const ADMIN_PROBE = "kms:PutKeyPolicy";
const USE_PROBES = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"];
const DESTRUCTIVE = ["kms:ScheduleKeyDeletion", "kms:DisableKey"];

/** What is wrong with one key policy document, one message each (empty when it holds). */
export function keyPolicyProblems(policy: unknown): string[] {
  const doc = parseDocument(policy);
  if (!doc) return ["has no key policy of its own (AWS's default lets every IAM principal of the account with kms:* administer, use and delete it)"];
  const statements = list(doc.Statement);
  const allows = statements.filter((s) => s.Effect === "Allow");
  const problems: string[] = [];
  if (allows.some((s) => coversAction(s, "kms:ScheduleKeyDeletion") && coversAction(s, ADMIN_PROBE) && coversAction(s, "kms:Decrypt"))) problems.push("grants kms:* (administration, use and deletion in one statement)");
  const admins = allows.filter((s) => coversAction(s, ADMIN_PROBE));
  if (admins.length === 0) problems.push("names no administrator (nobody may change its policy)");
  for (const s of admins) {
    if (USE_PROBES.some((a) => coversAction(s, a))) problems.push(`statement ${s.Sid ?? "(no Sid)"} lets the same principals administer and use the key`);
    const named = principalArnsIn(s, false) ?? principalsOf(s).filter((p) => !p.endsWith(":root") && p !== "*");
    if (named.length === 0) problems.push(`statement ${s.Sid ?? "(no Sid)"} lets the whole account administer the key instead of named roles`);
  }
  if (!allows.some((s) => !coversAction(s, ADMIN_PROBE) && USE_PROBES.some((a) => coversAction(s, a)))) problems.push("names no user apart from its administrators");
  for (const s of allows.filter((x) => DESTRUCTIVE.some((a) => coversAction(x, a)))) {
    const who = principalArnsIn(s, false);
    if (!who || !who.every(isBreakGlass)) problems.push(`statement ${s.Sid ?? "(no Sid)"} lets someone other than the break-glass role delete or disable the key`);
  }
  const guarded = statements.some(
    (s) => s.Effect === "Deny" && principalsOf(s).includes("*") && DESTRUCTIVE.every((a) => coversAction(s, a)) && (principalArnsIn(s, true) ?? []).length > 0 && principalArnsIn(s, true)!.every(isBreakGlass),
  );
  if (!guarded) problems.push(`does not deny ${DESTRUCTIVE.join(" and ")} to everyone but the break-glass role ${BREAK_GLASS_ROLE_NAME}`);
  return problems;
}

export const kmsKeyPolicy: ResourceValidationPolicy = {
  name: "kms-key-policy",
  description: `Every KMS key has a key policy of its own: named administrators who cannot use it, users apart from them, no kms:*, and deletion or disabling denied to everyone but the break-glass role (${BREAK_GLASS_ROLE_NAME}).`,
  enforcementLevel: "mandatory",
  configSchema: { properties: { denyDeletionAlways: { type: "boolean", default: true, description: "Report a key whose policy does not deny deletion and disabling to all but the break-glass role." } } },
  remediationSteps: "Create keys with encryptionKey (components/data/keys.ts) and a KeyAccess naming the deploy role and the break-glass role.",
  validateResource: validateResourceOfType(aws.kms.Key, (key, args, reportViolation) => {
    const { denyDeletionAlways } = args.getConfig<{ denyDeletionAlways: boolean }>();
    for (const problem of keyPolicyProblems(key.policy).filter((p) => denyDeletionAlways || !p.startsWith("does not deny"))) reportViolation(`KMS key ${args.name} ${problem}`);
  }),
};

/** Service principals a trust policy lets assume the role without aws:SourceAccount, where the service sends it. */
export function unguardedServiceTrusts(trustPolicy: unknown, exempt: readonly string[] = SERVICES_WITHOUT_SOURCE_KEYS): string[] {
  const doc = parseDocument(trustPolicy);
  const unguarded: string[] = [];
  for (const s of list(doc?.Statement)) {
    if (s.Effect !== "Allow" || !coversAction(s, "sts:AssumeRole")) continue;
    const services = list((s.Principal as { Service?: string | string[] } | undefined)?.Service);
    const account = ["StringEquals", "StringLike", "ArnEquals", "ArnLike"].some((op) => s.Condition?.[op]?.["aws:SourceAccount"] !== undefined);
    if (!account) unguarded.push(...services.filter((svc) => !exempt.includes(svc)));
  }
  return unguarded;
}

export const serviceTrustSourceAccount: ResourceValidationPolicy = {
  name: "service-trust-source-account",
  description: "A role that trusts an AWS service holds it to this account with aws:SourceAccount, except services that send no source keys (EC2 instance profiles).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      exemptServices: { type: "array", items: { type: "string" }, default: [...SERVICES_WITHOUT_SOURCE_KEYS], description: "Service principals that send no aws:SourceAccount when they assume a role." },
    },
  },
  remediationSteps: "Build the trust with serviceTrustPolicy(service, sourceOf(...)) (components/iam.ts, components/trust.ts).",
  validateResource: validateResourceOfType(aws.iam.Role, (role, args, reportViolation) => {
    const { exemptServices } = args.getConfig<{ exemptServices: string[] }>();
    for (const service of unguardedServiceTrusts(role.assumeRolePolicy, exemptServices)) reportViolation(`role ${args.name} trusts ${service} without aws:SourceAccount: another account could have the service act with it`);
  }),
};

const LOCK_TYPE = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration";

export const productionBackupsCompliance: StackValidationPolicy = {
  name: "production-backups-compliance-lock",
  description: "Production backup buckets lock their objects in COMPLIANCE mode, whatever the tiers they hold: GOVERNANCE lets anyone with s3:BypassGovernanceRetention delete them.",
  enforcementLevel: "mandatory",
  remediationSteps: "Take the lock from dataTierPlan (objectLockModeOf in tiers/catalogue.ts).",
  validateStack: (args, reportViolation) => {
    const buckets = args.resources.filter((r) => r.type === "aws:s3/bucket:Bucket" && awsTags(r.props)[BUCKET_PURPOSE_TAG] === "backups" && isProduction(r.props));
    for (const bucket of buckets) {
      const locks = args.resources.filter((l: PolicyResource) => l.type === LOCK_TYPE && l.dependencies.some((d) => d.urn === bucket.urn));
      const mode = locks[0]?.props.rule?.defaultRetention?.mode as string | undefined;
      if (mode !== "COMPLIANCE") reportViolation(`production backup bucket ${bucket.name} locks in ${mode ?? "no"} mode; production needs COMPLIANCE`, bucket.urn);
    }
  },
};

export const keyPolicies = [kmsKeyPolicy, serviceTrustSourceAccount, productionBackupsCompliance];
