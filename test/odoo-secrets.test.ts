/**
 * Odoo's secrets (issue 14, item 7): session_redis's URL reaches Odoo from a file through a start
 * script, never a Secret in the environment; `admin_passwd` is a passlib hash made at deploy time.
 * The checks `no-secrets-in-container-env` and `odoo-admin-password-hashed` catch each weakness.
 */
import { spawnSync } from "node:child_process";
import { pbkdf2Sync } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { tenantManifests } from "../components/tenant/manifests";
import type { TenantManifestInput } from "../components/tenant/manifest-input";
import { ODOO_ADMIN_HASH_ROUNDS, odooAdminPasswordHash, passlibPbkdf2Sha512 } from "../components/tenant/odoo-conf";
import { CONFIG_INIT_SCRIPT, SESSION_REDIS_START_SCRIPT } from "../components/tenant/odoo-pod";
import { PASSLIB_PBKDF2_SHA512 } from "../model/odoo-secrets";
import type { CapturedResource } from "../model/resource";
import { evaluatePolicies } from "../plan/evaluation/policy-eval";
import { ALL_POLICIES } from "../policies/all";
import { tenantOfResource } from "../policies/common";
import { sizeOdoo, tenantQuota } from "../tiers/sizing";
import { stackPlan } from "./plan-cli";

/** passlib's own test vectors for pbkdf2_sha512 (passlib/tests/test_handlers_pbkdf2.py). */
const PASSLIB_VECTOR = {
  password: "password",
  hash: "$pbkdf2-sha512$1212$RHY0Fr3IDMSVO/RSZyb5ow$eNLfBK.eVozomMr.1gYa17k9B7KIK25NOEshvhrSX.esqY3s.FvWZViXz4KoLlQI.BzY/YTNJOiKc5gBYFYGww",
};
const ab64Decode = (text: string) => Buffer.from(text.replace(/\./g, "+"), "base64");

/** passlib's verify for this scheme, as Odoo's verify_admin_password runs it. */
function passlibVerify(password: string, hash: string): boolean {
  const [, ident, rounds, salt, checksum] = hash.split("$");
  if (ident !== "pbkdf2-sha512") return false;
  return pbkdf2Sync(password, ab64Decode(salt!), Number(rounds), 64, "sha512").equals(ab64Decode(checksum!));
}

function input(): TenantManifestInput {
  const tenant = { tier: "business" as const, expectedUsers: 60 };
  return {
    tenant: "northwind",
    tier: "business",
    domains: ["erp.northwind.example"],
    image: `registry.example.com/odoo:18.0@sha256:${"a".repeat(64)}`,
    sizing: sizeOdoo(tenant, "production"),
    quota: tenantQuota(tenant, "production"),
    posixId: 123456,
    scheduling: { nodeSelector: { "odoo-fleet/pool": "general" }, tolerations: [] },
    dataCidrs: ["10.20.160.0/21"],
    vpcCidr: "10.20.0.0/16",
    egress: { https: false, smtp: false },
    redis: { host: "master.odoo.cache.amazonaws.com", port: 6379, keyPrefix: "northwind" },
    filestoreVolume: "odoo-northwind-filestore",
  };
}
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const podOf = (m: unknown) => (m as Obj).spec.template.spec as Obj;

describe("admin_passwd: a passlib pbkdf2-sha512 hash made at deploy time", () => {
  test("the hash function reproduces passlib's published vector", async () => {
    const [, , rounds, salt] = PASSLIB_VECTOR.hash.split("$");
    expect(await passlibPbkdf2Sha512(PASSLIB_VECTOR.password, ab64Decode(salt!), Number(rounds))).toBe(PASSLIB_VECTOR.hash);
    expect(PASSLIB_PBKDF2_SHA512.test(PASSLIB_VECTOR.hash)).toBe(true);
  });

  test("a tenant's hash: Odoo's rounds, verifies with the password only, stable per password, distinct per tenant", async () => {
    const hash = await odooAdminPasswordHash("Qx7pL2mW9vR4tY8sK3nB6cF1hJ5gD0aZeUoIiPlM");
    expect(hash).toMatch(PASSLIB_PBKDF2_SHA512);
    expect(hash.split("$").slice(1, 3)).toEqual(["pbkdf2-sha512", String(ODOO_ADMIN_HASH_ROUNDS)]);
    expect(ODOO_ADMIN_HASH_ROUNDS).toBe(600_000);
    expect(hash).not.toContain("Qx7pL2mW9vR4tY8sK3nB6cF1hJ5gD0aZeUoIiPlM");
    expect(passlibVerify("Qx7pL2mW9vR4tY8sK3nB6cF1hJ5gD0aZeUoIiPlM", hash)).toBe(true);
    expect(passlibVerify("Qx7pL2mW9vR4tY8sK3nB6cF1hJ5gD0aZeUoIiPlN", hash)).toBe(false);
    expect(await odooAdminPasswordHash("Qx7pL2mW9vR4tY8sK3nB6cF1hJ5gD0aZeUoIiPlM")).toBe(hash);
    const other = await odooAdminPasswordHash("another-random-password-of-forty-chars-x");
    expect(other.split("$")[3]).not.toBe(hash.split("$")[3]);
  });

  test("the init script writes the hash, not a password, into odoo.conf", () => {
    const root = mkdtempSync(path.join(tmpdir(), "odoo-conf-"));
    for (const dir of ["etc", "run", "secrets/db", "secrets/admin"]) mkdirSync(path.join(root, dir), { recursive: true });
    writeFileSync(path.join(root, "etc/odoo.conf"), "[options]\nlist_db = False\n");
    writeFileSync(path.join(root, "secrets/db/password"), "db-secret");
    writeFileSync(path.join(root, "secrets/admin/hash"), PASSLIB_VECTOR.hash);
    const script = CONFIG_INIT_SCRIPT.replaceAll("/etc/odoo/", `${root}/etc/`).replaceAll("/run/odoo/", `${root}/run/`).replaceAll("/secrets/", `${root}/secrets/`);
    expect(spawnSync("sh", ["-c", script]).status).toBe(0);
    expect(readFileSync(path.join(root, "run/odoo.conf"), "utf8")).toBe(`[options]\nlist_db = False\ndb_password = db-secret\nadmin_passwd = ${PASSLIB_VECTOR.hash}\n`);
  });
});

describe("session_redis's URL: a file, exported by the start script", () => {
  const pod = podOf(tenantManifests(input()).web);
  const odoo = pod.containers[0] as Obj;

  test("no env entry of the Odoo container comes from a Secret; the URL's Secret is a read-only file", () => {
    expect(odoo.env.filter((e: Obj) => e.valueFrom !== undefined)).toEqual([]);
    expect(odoo.env.map((e: Obj) => e.name)).toEqual(["ODOO_SESSION_REDIS", "ODOO_SESSION_REDIS_HOST", "ODOO_SESSION_REDIS_PORT", "ODOO_SESSION_REDIS_PREFIX", "ODOO_SESSION_REDIS_EXPIRATION"]);
    expect(odoo.env.find((e: Obj) => e.name === "ODOO_SESSION_REDIS_PREFIX").value).toBe("northwind");
    expect(odoo.command).toEqual(["/bin/sh", "-c", SESSION_REDIS_START_SCRIPT]);
    expect(pod.volumes.find((v: Obj) => v.name === "redis-url")).toEqual({ name: "redis-url", secret: { secretName: "odoo-redis", items: [{ key: "url", path: "url" }], defaultMode: 0o440 } });
    expect(pod.volumes.find((v: Obj) => v.name === "admin-password").secret.items).toEqual([{ key: "hash", path: "hash" }]);
    // Only Odoo reads the URL; the init container composing odoo.conf does not mount it.
    expect(pod.initContainers[0].volumeMounts.map((m: Obj) => m.name)).not.toContain("redis-url");
  });

  test("the start script hands Odoo the URL in its environment and its config, and stops when the file is missing", () => {
    const root = mkdtempSync(path.join(tmpdir(), "odoo-start-"));
    mkdirSync(path.join(root, "bin"));
    mkdirSync(path.join(root, "secrets/redis"), { recursive: true });
    // A stand-in `odoo` that shows what session_redis would read: os.getenv("ODOO_SESSION_REDIS_URL").
    writeFileSync(path.join(root, "bin/odoo"), '#!/bin/sh\nprintf "%s|%s\\n" "$ODOO_SESSION_REDIS_URL" "$*"\n');
    chmodSync(path.join(root, "bin/odoo"), 0o755);
    const script = SESSION_REDIS_START_SCRIPT.replaceAll("/secrets/", `${root}/secrets/`);
    const env = { PATH: `${root}/bin:/usr/bin:/bin` };
    expect(spawnSync("sh", ["-c", script], { env, encoding: "utf8" }).status).not.toBe(0);
    writeFileSync(path.join(root, "secrets/redis/url"), "rediss://northwind:pw@master.odoo.cache.amazonaws.com:6379/0");
    const run = spawnSync("sh", ["-c", script], { env, encoding: "utf8" });
    expect([run.status, run.stdout]).toEqual([0, "rediss://northwind:pw@master.odoo.cache.amazonaws.com:6379/0|--config=/run/odoo/odoo.conf\n"]);
  });
});

type R = CapturedResource & { inputs: Obj };
async function violations(policyName: string, mutate: (resources: R[]) => void): Promise<string[]> {
  const policy = ALL_POLICIES.find((p) => p.name === policyName)!;
  const resources = structuredClone(stackPlan("shared-prod").document.resources) as R[];
  mutate(resources);
  const { violations: found } = await evaluatePolicies([policy], resources.map((resource) => ({ resource })), { tenantOf: tenantOfResource });
  // Tenants register concurrently: their messages in a fixed order.
  return found.map((v) => v.message).sort();
}
const named = (r: R[], name: string, type: string) => r.find((x) => x.name === name && x.type === type)!;
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

describe("the checks", () => {
  test("every planned stack passes both (the CLI evaluates the hashes themselves, unredacted)", () => {
    for (const stack of ["shared-prod", "dedicated-acme-prod", "shared-dev", "pr"]) {
      const plan = stackPlan(stack);
      expect([stack, plan.stdout.match(/no-secrets-in-container-env|odoo-admin-password-hashed/g)]).toEqual([stack, null]);
    }
  });

  test("no-secrets-in-container-env: the earlier env entries, and envFrom, fail", async () => {
    expect(await violations("no-secrets-in-container-env", () => undefined)).toEqual([]);
    expect(
      await violations("no-secrets-in-container-env", (r) => {
        const pod = named(r, "northwind-deployment-odoo-web", DEPLOYMENT).inputs.spec.template.spec;
        pod.containers[0].env.push(
          { name: "ODOO_SESSION_REDIS_URL", valueFrom: { secretKeyRef: { name: "odoo-redis", key: "url" } } },
          { name: "ODOO_SESSION_REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "odoo-redis", key: "password" } } },
        );
        named(r, "contoso-deployment-odoo-cron", DEPLOYMENT).inputs.spec.template.spec.initContainers[0].envFrom = [{ secretRef: { name: "odoo-db" } }];
      }),
    ).toEqual([
      "Deployment odoo-contoso/odoo-cron: container config takes every key of Secret odoo-db into its environment",
      "Deployment odoo-northwind/odoo-web: container odoo takes Secret odoo-redis/password in env ODOO_SESSION_REDIS_PASSWORD",
      "Deployment odoo-northwind/odoo-web: container odoo takes Secret odoo-redis/url in env ODOO_SESSION_REDIS_URL",
    ]);
  });

  test("odoo-admin-password-hashed: a plain password in the Secret or in an odoo.conf fails; a hash passes", async () => {
    const hash = await odooAdminPasswordHash("Qx7pL2mW9vR4tY8sK3nB6cF1hJ5gD0aZeUoIiPlM");
    expect(await violations("odoo-admin-password-hashed", (r) => void (named(r, "northwind-secret-odoo-admin", "kubernetes:core/v1:Secret").inputs.stringData = { hash }))).toEqual([]);
    expect(
      await violations("odoo-admin-password-hashed", (r) => {
        named(r, "northwind-secret-odoo-admin", "kubernetes:core/v1:Secret").inputs.stringData = { password: "Qx7pL2mW9vR4tY8sK3nB6cF1hJ5gD0aZeUoIiPlM" };
        named(r, "contoso-secret-odoo-admin", "kubernetes:core/v1:Secret").inputs.stringData = { hash: "Qx7pL2mW9vR4tY8sK3nB6cF1hJ5gD0aZeUoIiPlM" };
        const conf = named(r, "fabrikam-configmap-odoo-conf", "kubernetes:core/v1:ConfigMap").inputs.data;
        conf["web.conf"] += "admin_passwd = Qx7pL2mW9vR4tY8sK3nB6cF1hJ5gD0aZeUoIiPlM\n";
        conf["cron.conf"] += `admin_passwd = ${hash}\n`;
      }),
    ).toEqual([
      "ConfigMap odoo-conf/web.conf of tenant fabrikam sets admin_passwd in plain text",
      "Secret odoo-admin of tenant contoso holds admin_passwd in plain text, not as a passlib pbkdf2-sha512 hash",
      "Secret odoo-admin of tenant northwind holds password; it must hold only hash",
    ]);
  });
});
