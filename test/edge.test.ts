/**
 * The edge and the platform's namespaces against a hostile tenant (issue 14): each weakness re-created
 * on the planned shared-prod stack and caught by its policy; and an attack on the Pushgateway's
 * authenticating proxy, the real nginx in front of a real Pushgateway, configured as in production.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { monitoringNetworkPolicies, pushgatewayValues, pushProxyConfig, sshaEntry } from "../components/observability";
import { edgeNetworkPolicies } from "../components/ingress";
import { DATABASE_MANAGER_PATHS, LOGIN_PATHS, ratePerMinute } from "../model/edge";
import type { CapturedResource } from "../model/resource";
import { evaluatePolicies } from "../plan/evaluation/policy-eval";
import type { PlanDocument } from "../plan/report/document";
import { ALL_POLICIES } from "../policies/all";
import { tenantOfResource } from "../policies/common";
import { pushgatewayUnbound, ruleCovers } from "../policies/edge";
import { stackPlan } from "./plan-cli";
import { missingTools } from "./tools";

type R = CapturedResource & { inputs: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
const ROUTE = "kubernetes:traefik.io/v1alpha1:IngressRoute";
const MIDDLEWARE = "kubernetes:traefik.io/v1alpha1:Middleware";

let shared: PlanDocument;
beforeAll(() => {
  shared = stackPlan("shared-prod").document;
});

const find = (resources: R[], type: string, namespace: string | undefined, name: string): R => {
  const found = resources.find((r) => r.type === type && r.inputs.metadata?.namespace === namespace && r.inputs.metadata?.name === name);
  if (!found) throw new Error(`no ${type} ${namespace}/${name}`);
  return found;
};
const northwindRoute = (r: R[]) => find(r, ROUTE, "odoo-northwind", "erp.northwind.example").inputs.spec.routes as { match: string; priority?: number; middlewares: { name: string }[] }[];
const pushgateway = (r: R[]) => r.find((x) => x.type === "kubernetes:helm.sh/v3:Release" && x.inputs.chart === "prometheus-pushgateway")!;

async function run(policyName: string, mutate: (resources: R[]) => void = () => undefined): Promise<string[]> {
  const policy = ALL_POLICIES.find((p) => p.name === policyName);
  if (!policy) throw new Error(`no policy ${policyName}`);
  const resources = structuredClone(shared.resources) as R[];
  mutate(resources);
  const { violations } = await evaluatePolicies([policy], resources.map((resource) => ({ resource })), { tenantOf: tenantOfResource });
  return violations.map((v) => `${v.enforcementLevel}: ${v.message}`);
}

describe("tenant routes: the database manager refused, login rate-limited", () => {
  test("the planned routes pass both policies", async () => {
    expect(await run("tenant-database-manager-blocked")).toEqual([]);
    expect(await run("tenant-login-rate-limited")).toEqual([]);
  });

  test("the planned login limit is 10 a minute per client, and the refusal admits only the loopback", () => {
    const resources = shared.resources as R[];
    expect(find(resources, MIDDLEWARE, "odoo-northwind", "login-rate-limit").inputs.spec).toEqual({ rateLimit: { average: 10, period: "1m", burst: 10 } });
    expect(ratePerMinute({ average: 10, period: "1m" })).toBe(10);
    expect(ratePerMinute({ average: 50, period: "1s" })).toBe(3000);
    expect(find(resources, MIDDLEWARE, "odoo-northwind", "refuse").inputs.spec).toEqual({ ipAllowList: { sourceRange: ["127.0.0.1/32"], rejectStatusCode: 404 } });
    expect(northwindRoute(resources)[0]).toEqual({
      kind: "Rule",
      match: "Host(`erp.northwind.example`) && (PathPrefix(`/web/database`) || Path(`/xmlrpc/db`) || Path(`/xmlrpc/2/db`))",
      priority: 10000,
      middlewares: [{ name: "refuse" }],
      services: [{ name: "odoo", port: 8069 }],
    });
  });

  const noDbBlock = "mandatory: tenant northwind: no route of erp.northwind.example refuses the database manager ahead of its other routes";
  test.each<[string, (r: R[]) => void, string[]]>([
    ["without the refusing route", (r) => void northwindRoute(r).shift(), [noDbBlock]],
    ["with the refusing route below the catch-all (Traefik's default: the rule's length)", (r) => void (northwindRoute(r)[0]!.priority = 10), [noDbBlock]],
    ["with the refusal narrowed to POST", (r) => void (northwindRoute(r)[0]!.match += " && Method(`POST`)"), [noDbBlock]],
    ["missing the XML-RPC db service", (r) => void (northwindRoute(r)[0]!.match = "Host(`erp.northwind.example`) && PathPrefix(`/web/database`)"), [noDbBlock]],
    [
      "with a refusal that admits everyone",
      (r) => void (find(r, MIDDLEWARE, "odoo-northwind", "refuse").inputs.spec.ipAllowList.sourceRange = ["0.0.0.0/0"]),
      [
        "mandatory: tenant northwind: the database-manager route of erp.northwind.example lets clients through (no IPAllowList admitting only the loopback)",
        "mandatory: tenant northwind: the database-manager route of northwind.odoo-fleet.example lets clients through (no IPAllowList admitting only the loopback)",
      ],
    ],
  ])("a tenant %s is caught", async (_what, mutate, expected) => {
    expect(await run("tenant-database-manager-blocked", mutate)).toEqual(expected);
  });

  const noLoginRoute = "mandatory: tenant northwind: no route of erp.northwind.example takes the login paths ahead of its other routes";
  const tooLoose = (host: string) => `mandatory: tenant northwind: the login route of ${host} has no per-client rate limit of at most 10 a minute`;
  test.each<[string, (r: R[]) => void, string[]]>([
    ["without the login route (only the general per-client limit)", (r) => void northwindRoute(r).splice(1, 1), [noLoginRoute]],
    ["whose login route misses the JSON login", (r) => void (northwindRoute(r)[1]!.match = "Host(`erp.northwind.example`) && Path(`/web/login`)"), [noLoginRoute]],
    ["whose login route lacks the login limit", (r) => void northwindRoute(r)[1]!.middlewares.pop(), [tooLoose("erp.northwind.example")]],
    [
      "whose login limit allows 100 a minute",
      (r) => void (find(r, MIDDLEWARE, "odoo-northwind", "login-rate-limit").inputs.spec.rateLimit.average = 100),
      [tooLoose("erp.northwind.example"), tooLoose("northwind.odoo-fleet.example")],
    ],
    [
      "whose login limit is shared by every client (keyed on the host)",
      (r) => void (find(r, MIDDLEWARE, "odoo-northwind", "login-rate-limit").inputs.spec.rateLimit.sourceCriterion = { requestHost: true }),
      [tooLoose("erp.northwind.example"), tooLoose("northwind.odoo-fleet.example")],
    ],
  ])("a tenant %s is caught", async (_what, mutate, expected) => {
    expect(await run("tenant-login-rate-limited", mutate)).toEqual(expected);
  });

  test("a rule covers paths only with nothing narrower than Host and path terms", () => {
    const rule = "Host(`a.example`) && (PathPrefix(`/web/database`) || Path(`/xmlrpc/db`) || Path(`/xmlrpc/2/db`))";
    expect(ruleCovers(rule, "a.example", DATABASE_MANAGER_PATHS)).toBe(true);
    expect(ruleCovers(rule, "b.example", DATABASE_MANAGER_PATHS)).toBe(false);
    expect(ruleCovers(rule.replace("PathPrefix(`/web/database`)", "Path(`/web/database/manager`)"), "a.example", DATABASE_MANAGER_PATHS)).toBe(false);
    expect(ruleCovers(`${rule} && ClientIP(\`10.0.0.0/8\`)`, "a.example", DATABASE_MANAGER_PATHS)).toBe(false);
    expect(ruleCovers("Host(`a.example`) && PathPrefix(`/`)", "a.example", { exact: LOGIN_PATHS })).toBe(true);
  });
});

describe("system namespaces: default deny, least privileged Pod Security level", () => {
  test("the planned namespaces pass; monitoring is baseline, only node-exporter privileged", async () => {
    expect(await run("system-namespace-isolated")).toEqual([]);
    const levels = (shared.resources as R[])
      .filter((r) => r.type === "kubernetes:core/v1:Namespace" && r.inputs.metadata.labels?.["odoo-fleet/role"] === "platform")
      .map((r) => [r.inputs.metadata.name, r.inputs.metadata.labels["pod-security.kubernetes.io/enforce"]])
      .sort();
    expect(levels).toEqual([["cert-manager", "restricted"], ["monitoring", "baseline"], ["node-exporter", "privileged"], ["odoo-fleet-system", "restricted"], ["traefik", "restricted"]]);
  });

  test.each<[string, (r: R[]) => void, string[]]>([
    [
      "monitoring labelled privileged (as before)",
      (r) => void (find(r, "kubernetes:core/v1:Namespace", undefined, "monitoring").inputs.metadata.labels["pod-security.kubernetes.io/enforce"] = "privileged"),
      ["mandatory: system namespace monitoring enforces privileged without a stated need"],
    ],
    [
      "cert-manager without its default deny (as before)",
      (r) => r.splice(r.indexOf(find(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "cert-manager", "default-deny")), 1),
      ["mandatory: system namespace cert-manager has no default-deny NetworkPolicy"],
    ],
    [
      "traefik whose default deny allows ingress",
      (r) => void (find(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "traefik", "default-deny").inputs.spec.ingress = [{}]),
      ["mandatory: system namespace traefik has no default-deny NetworkPolicy"],
    ],
    [
      "odoo-fleet-system without a Pod Security label",
      (r) => void delete find(r, "kubernetes:core/v1:Namespace", undefined, "odoo-fleet-system").inputs.metadata.labels["pod-security.kubernetes.io/enforce"],
      ["mandatory: system namespace odoo-fleet-system enforces no Pod Security level"],
    ],
  ])("%s is caught", async (_what, mutate, expected) => {
    expect(await run("system-namespace-isolated", mutate)).toEqual(expected);
  });

  test("Traefik takes web and websecure from anywhere and reaches only tenants, DNS and HTTPS; pushes reach the proxy port only from backup and drill pods", () => {
    const traefik = edgeNetworkPolicies().find((p) => p.metadata.name === "allow-traefik")!.spec as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(traefik.ingress[0].ports).toEqual([{ protocol: "TCP", port: 8000 }, { protocol: "TCP", port: 8443 }]);
    expect(traefik.egress.map((e: { ports?: { port: number }[] }) => (e.ports ?? []).map((p) => p.port))).toEqual([[53, 53], [443], []]);
    expect(traefik.egress[2].to).toEqual([{ namespaceSelector: { matchLabels: { "odoo-fleet/role": "tenant" } } }]);
    const pushes = monitoringNetworkPolicies().find((p) => p.metadata.name === "allow-pushes")!.spec as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(pushes.ingress).toEqual([
      {
        from: [
          { namespaceSelector: { matchLabels: { "odoo-fleet/role": "tenant" } }, podSelector: { matchLabels: { app: "odoo-backup" } } },
          { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "odoo-fleet-system" } }, podSelector: { matchLabels: { app: "restore-drill" } } },
        ],
        ports: [{ protocol: "TCP", port: 9093 }],
      },
    ]);
  });
});

describe("Pushgateway: pushes authenticated and bound to the pushing tenant", () => {
  test("the planned Pushgateway passes", async () => {
    expect(await run("pushgateway-pushes-bound")).toEqual([]);
  });

  const configMaps = [{ metadata: { name: "pushgateway-auth", namespace: "monitoring" }, data: { "nginx.conf": pushProxyConfig() } }];
  test.each<[string, (values: Record<string, any>, conf: string) => string, string]>([ // eslint-disable-line @typescript-eslint/no-explicit-any
    ["listening on the pod network (the chart's default)", (v, c) => ((v.extraArgs = []), c), "the Pushgateway listens on the pod network, where pushes skip the authenticating proxy"],
    ["served straight by its Service", (v, c) => ((v.service.targetPort = 9091), c), "the Pushgateway's Service does not send to an authenticating proxy container"],
    [
      "behind a proxy that authenticates but does not bind the user to the tenant",
      (_v, c) => c.replace('      if ($remote_user != "backup-$tenant") { return 403; }\n', ""),
      "the proxy passes ^/metrics/job/odoo_backup/tenant/(?<tenant>[a-z0-9-]+)$ to the Pushgateway without binding the basic-auth user to the grouping key",
    ],
    [
      "behind a proxy that admits extra grouping labels",
      (_v, c) => c.replace("(?<tenant>[a-z0-9-]+)$ {", "(?<tenant>[a-z0-9-]+)(/.*)?$ {"),
      "the proxy passes ^/metrics/job/odoo_backup/tenant/(?<tenant>[a-z0-9-]+)(/.*)?$ to the Pushgateway without binding the basic-auth user to the grouping key",
    ],
    [
      "behind a proxy that lets any write through its read path",
      (_v, c) => c.replace("location = /metrics { limit_except GET { deny all; }", "location /metrics {"),
      "the proxy passes /metrics to the Pushgateway without binding the basic-auth user to the grouping key",
    ],
  ])("a Pushgateway %s is caught", async (_what, breakIt, expected) => {
    const values = structuredClone(pushgatewayValues({ pool: "system" }));
    const conf = breakIt(values, pushProxyConfig());
    expect(pushgatewayUnbound(values, [{ ...configMaps[0]!, data: { "nginx.conf": conf } }])).toBe(expected);
    const message = await run("pushgateway-pushes-bound", (r) => {
      pushgateway(r).inputs.values = values;
      find(r, "kubernetes:core/v1:ConfigMap", "monitoring", "pushgateway-auth").inputs.data["nginx.conf"] = conf;
    });
    expect(message).toEqual([`mandatory: Pushgateway prometheus-pushgateway: ${expected}`]);
  });
});

describe("pushers carry their own tenant's credential", () => {
  test("every backup and drill CronJob reads a netrc Secret of its tenant, never one on the command line", () => {
    const resources = shared.resources as R[];
    const jobs = resources.filter((r) => r.type === "kubernetes:batch/v1:CronJob" && ["odoo-backup", "restore-drill"].includes(r.inputs.metadata.labels?.app));
    expect(jobs.length).toBe(8);
    for (const job of jobs) {
      const pod = job.inputs.spec.jobTemplate.spec.template.spec;
      const tenant = job.inputs.metadata.labels.tenant as string;
      const secretName = job.inputs.metadata.labels.app === "odoo-backup" ? "pushgateway-credentials" : `${tenant}-push`;
      const volume = (pod.volumes as { name: string; secret?: { secretName: string } }[]).find((v) => v.secret?.secretName === secretName);
      expect(volume, `${job.name} mounts ${secretName}`).toBeDefined();
      const secret = find(resources, "kubernetes:core/v1:Secret", job.inputs.metadata.namespace, secretName);
      expect(secret.inputs.stringData).toBe("[secret]");
      // Every container that pushes: in a drill, the tools image's phases; the tenant image's container gets no credential.
      const pushers = [...(pod.initContainers ?? []), ...pod.containers].filter((c: { name: string }) => c.name !== "registry");
      expect(pushers.length).toBe(job.inputs.metadata.labels.app === "odoo-backup" ? 1 : 2);
      for (const container of pushers) {
        expect(container.env).toContainEqual({ name: "PUSHGATEWAY_NETRC", value: "/secrets/push/netrc" });
        expect(container.volumeMounts).toContainEqual({ name: volume!.name, mountPath: "/secrets/push", readOnly: true });
      }
    }
  });
});

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });

describe.skipIf(missingTools("Pushgateway proxy attack (nginx, prometheus-pushgateway)", "nginx", "prometheus-pushgateway", "curl").length > 0)("attack: a tenant's pod pushes to the Pushgateway through the production proxy", () => {
  const passwords = { "backup-acme": "acme-backup-password-0123456789ab", "backup-globex": "globex-backup-password-0123456789", "drill-acme": "acme-drill-password-0123456789abc" };
  const children: ChildProcess[] = [];
  let proxy = "";
  let dir = "";

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-push-"));
    chmodSync(dir, 0o755); // nginx's workers drop to nobody when the master runs as root
    const [gatewayPort, proxyPort] = [await freePort(), await freePort()];
    proxy = `http://127.0.0.1:${proxyPort}`;
    writeFileSync(path.join(dir, "htpasswd"), Object.entries(passwords).map(([user, password]) => `${sshaEntry(user, password)}\n`).join(""), { mode: 0o644 });
    writeFileSync(path.join(dir, "nginx.conf"), pushProxyConfig({ listen: `127.0.0.1:${proxyPort}`, upstream: `127.0.0.1:${gatewayPort}`, usersFile: path.join(dir, "htpasswd"), runtimeDir: dir }));
    // In memory, as the chart runs it (Debian's build defaults to a persistence file).
    children.push(spawn("prometheus-pushgateway", [`--web.listen-address=127.0.0.1:${gatewayPort}`, "--persistence.file="], { stdio: "ignore" }));
    children.push(spawn("nginx", ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: "ignore" }));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if ((await fetch(`${proxy}/-/ready`).then((r) => r.status).catch(() => 0)) === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("nginx and the Pushgateway did not come up");
  });
  afterAll(() => {
    for (const child of children) child.kill("SIGTERM");
  });

  /** A request as a pod would send it: curl, the path as written (no client-side clean-up), `user` as user:password or a known user. */
  const push = (pathName: string, user?: string, body = "odoo_fleet_backup_last_success_timestamp_seconds 1700000000\n", method = "POST") => {
    const credential = user === undefined ? [] : ["-u", user.includes(":") ? user : `${user}:${passwords[user as keyof typeof passwords]}`];
    const data = method === "DELETE" ? [] : ["--data-binary", "@-"];
    const curl = spawnSync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--path-as-is", "--max-time", "10", "-X", method, ...credential, ...data, `${proxy}${pathName}`], { input: body, encoding: "utf8" });
    return Number(curl.stdout);
  };
  const stored = () => fetch(`${proxy}/metrics`).then((r) => r.text()).then((t) => t.split("\n").filter((l) => l.startsWith("odoo_fleet_")).sort());

  test("tenant A pushes its own backup result, with the netrc file curl reads in backup-tenant.sh", async () => {
    writeFileSync(path.join(dir, "netrc"), `machine 127.0.0.1 login backup-acme password ${passwords["backup-acme"]}\n`, { mode: 0o600 });
    const curl = spawnSync("curl", ["-fsS", "--max-time", "10", "--netrc-file", path.join(dir, "netrc"), "--data-binary", "@-", `${proxy}/metrics/job/odoo_backup/tenant/acme`], { input: "odoo_fleet_backup_last_success_timestamp_seconds 1700000000\n" });
    expect(curl.status).toBe(0);
    expect(await stored()).toContain('odoo_fleet_backup_last_success_timestamp_seconds{instance="",job="odoo_backup",tenant="acme"} 1.7e+09');
  });

  test.each<[string, string, string | undefined, number, string?]>([
    ["without credentials", "/metrics/job/odoo_backup/tenant/globex", undefined, 403],
    ["with a guessed password as B", "/metrics/job/odoo_backup/tenant/globex", "backup-globex:guess", 401],
    ["with its own credential on B's grouping key", "/metrics/job/odoo_backup/tenant/globex", "backup-acme", 403],
    ["its backup credential on its own drill key", "/metrics/job/odoo_restore_drill/tenant/acme", "backup-acme", 403],
    ["with an extra grouping label", "/metrics/job/odoo_backup/tenant/globex/instance/x", "backup-acme", 403],
    ["through a dot-dot path", "/metrics/job/odoo_backup/tenant/acme/../globex", "backup-acme", 403],
    ["through a percent-encoded tenant", "/metrics/job/odoo_backup/tenant/glob%65x", "backup-acme", 403],
    ["through a base64 grouping key", "/metrics/job@base64/b2Rvb19iYWNrdXA/tenant/globex", "backup-acme", 403],
    ["by a PUT to the read path", "/metrics", "backup-acme", 403, "PUT"],
    ["by deleting B's group", "/metrics/job/odoo_backup/tenant/globex", "backup-globex", 403, "DELETE"],
    ["through the admin API", "/api/v1/admin/wipe", "backup-acme", 403, "PUT"],
  ])("tenant A pushing %s is refused", async (_what, pathName, user, status, method) => {
    expect(push(pathName, user, "odoo_fleet_backup_last_success_timestamp_seconds 1800000000\n", method)).toBe(status);
    expect((await stored()).filter((l) => l.includes('tenant="globex"') || l.includes("1.8e+09"))).toEqual([]);
  });

  test("a label for B inside A's push becomes A's: the grouping key's labels win", async () => {
    expect(push("/metrics/job/odoo_backup/tenant/acme", "backup-acme", 'odoo_fleet_backup_last_success_timestamp_seconds{tenant="globex"} 1900000000\n')).toBe(200);
    expect((await stored()).filter((l) => l.includes("1.9e+09") || l.includes('tenant="globex"'))).toEqual(['odoo_fleet_backup_last_success_timestamp_seconds{instance="",job="odoo_backup",tenant="acme"} 1.9e+09']);
  });

  test("A's, B's and the drill's own credentials each push to their own key", async () => {
    expect(push("/metrics/job/odoo_backup/tenant/acme", "backup-acme")).toBe(200);
    expect(push("/metrics/job/odoo_backup/tenant/globex", "backup-globex")).toBe(200);
    expect(push("/metrics/job/odoo_restore_drill/tenant/acme", "drill-acme", "odoo_fleet_restore_drill_last_success_timestamp_seconds 1700000000\n")).toBe(200);
    expect((await stored()).filter((l) => l.includes("last_success"))).toEqual([
      'odoo_fleet_backup_last_success_timestamp_seconds{instance="",job="odoo_backup",tenant="acme"} 1.7e+09',
      'odoo_fleet_backup_last_success_timestamp_seconds{instance="",job="odoo_backup",tenant="globex"} 1.7e+09',
      'odoo_fleet_restore_drill_last_success_timestamp_seconds{instance="",job="odoo_restore_drill",tenant="acme"} 1.7e+09',
    ]);
  });
});
