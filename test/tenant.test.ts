import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { LimitRange } from "kubernetes-models/v1/LimitRange";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { ResourceQuota } from "kubernetes-models/v1/ResourceQuota";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Job } from "kubernetes-models/batch/v1/Job";
import { CronJob } from "kubernetes-models/batch/v1/CronJob";
import { describe, expect, test } from "vitest";
import { CERT_MANAGER_CHART, TRAEFIK_CHART } from "../components/ingress";
import { provisionerPod } from "../components/tenant/platform-jobs";
import { tenantManifests } from "../components/tenant/manifests";
import { backupSchedule, drillSchedule, jobMinute } from "../components/tenant/backup-job";
import { CONFIG_INIT_SCRIPT, SESSION_REDIS_START_SCRIPT } from "../components/tenant/odoo-pod";
import type { Manifest, TenantManifestInput } from "../components/tenant/manifest-input";
import { cronOdooConf, webOdooConf } from "../components/tenant/odoo-conf";
import { restrictedViolations } from "../model/pod-security";
import { sizeOdoo, tenantQuota } from "../tiers/sizing";
import type { TierName } from "../tiers/catalogue";
import { crdValidator } from "./schemas";

function input(tier: TierName, expectedUsers: number, extra: Partial<TenantManifestInput> = {}): TenantManifestInput {
  const tenant = { tier, expectedUsers };
  return {
    tenant: "northwind",
    tier,
    domains: ["erp.northwind.example", "northwind.odoo-fleet.example"],
    image: `registry.example.com/odoo:18.0@sha256:${"a".repeat(64)}`,
    sizing: sizeOdoo(tenant, "production"),
    quota: tenantQuota(tenant, "production"),
    posixId: 123456,
    scheduling: { nodeSelector: { "odoo-fleet/pool": "general" }, tolerations: [] },
    dataCidrs: ["10.20.160.0/21", "10.20.168.0/21", "10.20.176.0/21"],
    vpcCidr: "10.20.0.0/16",
    egress: { https: false, smtp: false },
    redis: { host: "master.odoo.cache.amazonaws.com", port: 6379, keyPrefix: "northwind" },
    filestoreVolume: "odoo-northwind-filestore",
    backupRoleArn: "arn:aws:iam::123456789012:role/northwind-backup",
    ...extra,
  };
}

const business = tenantManifests(input("business", 60));
const podOf = (m: Manifest) => ((m.spec as Record<string, unknown>).template as { spec: Record<string, unknown> }).spec;

describe("every object passes the Kubernetes schema", () => {
  const builtIn: [string, (m: Manifest) => { validate(): void }][] = [
    ["Namespace", (m) => new Namespace(m as never)],
    ["ResourceQuota", (m) => new ResourceQuota(m as never)],
    ["LimitRange", (m) => new LimitRange(m as never)],
    ["NetworkPolicy", (m) => new NetworkPolicy(m as never)],
    ["ServiceAccount", (m) => new ServiceAccount(m as never)],
    ["PersistentVolumeClaim", (m) => new PersistentVolumeClaim(m as never)],
    ["Deployment", (m) => new Deployment(m as never)],
    ["Service", (m) => new Service(m as never)],
    ["PodDisruptionBudget", (m) => new PodDisruptionBudget(m as never)],
    ["HorizontalPodAutoscaler", (m) => new HorizontalPodAutoscaler(m as never)],
  ];
  const critical = tenantManifests(input("critical", 250));
  const all = [business, critical].flatMap((t) => [
    t.namespace, t.resourceQuota, t.limitRange, ...t.networkPolicies, ...t.serviceAccounts, t.persistentVolumeClaim, t.web, t.cron, t.service,
    ...(t.podDisruptionBudget ? [t.podDisruptionBudget] : []), ...(t.horizontalPodAutoscaler ? [t.horizontalPodAutoscaler] : []),
  ]);
  test.each(all.map((m) => [`${m.kind} ${m.metadata.name}`, m] as const))("%s", (_, manifest) => {
    const model = builtIn.find(([kind]) => kind === manifest.kind);
    expect(model, manifest.kind).toBeDefined();
    expect(() => model![1](manifest).validate()).not.toThrow();
  });

  test("a malformed object is caught (the validator can fail)", () => {
    const broken = { ...business.web, spec: { ...(business.web.spec as object), replicas: "two" } };
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas/);
  });

  test("the provisioning Job passes the schema and the restricted profile", () => {
    const pod = provisionerPod({ image: "tools@sha256:x", serviceAccount: "tenant-provisioner", scriptsConfigMap: "tenant-scripts", passwordSecret: "northwind-db", nodeSelector: { "odoo-fleet/pool": "system" }, env: { PGHOST: "db" } });
    expect(() => new Job({ metadata: { name: "x" }, spec: { template: { spec: pod } } } as never).validate()).not.toThrow();
    expect(restrictedViolations(pod)).toEqual([]);
  });
});

describe("custom resources pass their CRD schemas", () => {
  const validators = {
    Certificate: crdValidator(CERT_MANAGER_CHART, "cert-manager.io_certificates.yaml"),
    Middleware: crdValidator(TRAEFIK_CHART, "traefik.io_middlewares.yaml"),
    IngressRoute: crdValidator(TRAEFIK_CHART, "traefik.io_ingressroutes.yaml"),
  };
  const custom = [business.certificate, ...business.middlewares, ...business.ingressRoutes];
  test.each(custom.map((m) => [`${m.kind} ${m.metadata.name}`, m] as const))("%s", (_, manifest) => {
    expect(validators[manifest.kind as keyof typeof validators](manifest)).toEqual([]);
  });
  test("an IngressRoute with a misspelt field is rejected", () => {
    const route = business.ingressRoutes[0]!;
    const broken = { ...route, spec: { ...(route.spec as object), routes: [{ kind: "Rule", match: "Host(`x`)", servics: [] }] } };
    expect(validators.IngressRoute(broken).length).toBeGreaterThan(0);
  });
});

describe("isolation objects", () => {
  test("namespace labelled with tenant, tier and the restricted profile", () => {
    expect(business.namespace.metadata).toEqual({
      name: "odoo-northwind",
      labels: {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        tenant: "northwind",
        tier: "business",
        "odoo-fleet/role": "tenant",
      },
    });
  });

  test("quota from the sizing, within the business caps, no load balancers or node ports", () => {
    expect((business.resourceQuota.spec as { hard: Record<string, string> }).hard).toEqual({
      // 2 web pods + 1 surge of 1750m/2400Mi, cron 250m/768Mi, jobs 250m/512Mi.
      "requests.cpu": "3",
      "requests.memory": "8704Mi",
      "limits.cpu": "6",
      "limits.memory": "8704Mi",
      "requests.storage": "100Gi",
      persistentvolumeclaims: "2",
      pods: "7",
      services: "2",
      "services.loadbalancers": "0",
      "services.nodeports": "0",
      configmaps: "10",
      secrets: "20",
    });
  });

  test("network policies: default deny, DNS, Traefik in, data stores out; nothing else without opt-in", () => {
    expect(business.networkPolicies.map((p) => p.metadata.name)).toEqual(["default-deny", "allow-dns", "allow-traefik-to-odoo", "allow-acme-solver", "allow-data-stores"]);
    expect(business.networkPolicies[0]!.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    expect(business.networkPolicies[2]!.spec).toEqual({
      podSelector: { matchLabels: { app: "odoo-web" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "traefik" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "traefik" } } }],
          ports: [{ protocol: "TCP", port: 8069 }, { protocol: "TCP", port: 8072 }],
        },
      ],
    });
    expect(business.networkPolicies[4]!.spec).toMatchObject({
      egress: [{ to: [{ ipBlock: { cidr: "10.20.160.0/21" } }, { ipBlock: { cidr: "10.20.168.0/21" } }, { ipBlock: { cidr: "10.20.176.0/21" } }], ports: [{ protocol: "TCP", port: 5432 }, { protocol: "TCP", port: 6379 }] }],
    });
    const open = tenantManifests(input("business", 60, { egress: { https: true, smtp: true } }));
    expect(open.networkPolicies.slice(5).map((p) => [p.metadata.name, (p.spec as { egress: { to: unknown; ports: unknown }[] }).egress[0]])).toEqual([
      ["allow-https", { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.20.0.0/16"] } }], ports: [{ protocol: "TCP", port: 443 }] }],
      ["allow-smtp", { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.20.0.0/16"] } }], ports: [{ protocol: "TCP", port: 587 }, { protocol: "TCP", port: 465 }] }],
    ]);
  });
});

describe("Odoo workloads", () => {
  test("web and cron pods pass the restricted profile; a privileged one does not", () => {
    for (const m of [business.web, business.cron]) expect(restrictedViolations(podOf(m))).toEqual([]);
    const pod = podOf(business.web);
    const containers = pod.containers as Record<string, unknown>[];
    const bad = { ...pod, hostNetwork: true, containers: [{ ...containers[0], securityContext: { privileged: true } }] };
    expect(restrictedViolations(bad)).toEqual([
      "hostNetwork is not allowed",
      "container odoo is privileged",
      "container odoo must set allowPrivilegeEscalation: false",
      "container odoo must drop ALL capabilities",
    ]);
  });

  test("the web container: image by digest, ports, probes on /web/health, resources, read-only root, filestore", () => {
    const pod = podOf(business.web);
    const [odoo] = pod.containers as Record<string, unknown>[];
    expect(odoo).toMatchObject({
      image: `registry.example.com/odoo:18.0@sha256:${"a".repeat(64)}`,
      command: ["/bin/sh", "-c", SESSION_REDIS_START_SCRIPT],
      ports: [{ name: "http", containerPort: 8069 }, { name: "websocket", containerPort: 8072 }],
      resources: { requests: { cpu: "875m", memory: "2400Mi" }, limits: { cpu: "1750m", memory: "2400Mi" } },
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
      readinessProbe: { httpGet: { path: "/web/health", port: 8069 } },
      livenessProbe: { httpGet: { path: "/web/health", port: 8069 } },
      startupProbe: { httpGet: { path: "/web/health", port: 8069 } },
      volumeMounts: [
        { name: "run", mountPath: "/run/odoo", readOnly: true },
        { name: "tmp", mountPath: "/tmp" },
        { name: "filestore", mountPath: "/var/lib/odoo" },
        { name: "redis-url", mountPath: "/secrets/redis", readOnly: true },
      ],
    });
    // Passwords reach odoo.conf from files at start, never through the environment.
    const env = (odoo!.env as { name: string; value?: string }[]).map((e) => e.name);
    expect(env).not.toContain("PGPASSWORD");
    expect(pod.initContainers).toMatchObject([{ command: ["/bin/sh", "-c", CONFIG_INIT_SCRIPT] }]);
    expect(pod).toMatchObject({ securityContext: { runAsUser: 123456, runAsGroup: 123456, fsGroup: 123456, runAsNonRoot: true }, automountServiceAccountToken: false, priorityClassName: "odoo-business" });
  });

  test.each<[TierName, number, number | undefined, string, Record<string, unknown> | undefined, boolean]>([
    ["essential", 12, 1, "ScheduleAnyway", undefined, false],
    ["business", 60, 2, "DoNotSchedule", { minAvailable: 1 }, false],
    ["critical", 250, undefined, "DoNotSchedule", { maxUnavailable: 1 }, true],
  ])("%s: replicas, zone spread, PDB and autoscaling as the tier says", (tier, users, replicas, spread, pdb, hpa) => {
    const m = tenantManifests(input(tier, users));
    expect((m.web.spec as { replicas?: number }).replicas).toBe(replicas);
    const constraints = podOf(m.web).topologySpreadConstraints as { topologyKey: string; whenUnsatisfiable: string }[];
    expect(constraints[0]).toMatchObject({ topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: spread });
    if (pdb) expect(m.podDisruptionBudget!.spec).toEqual({ selector: { matchLabels: { app: "odoo-web", tenant: "northwind" } }, ...pdb });
    else expect(m.podDisruptionBudget).toBeUndefined();
    expect(m.horizontalPodAutoscaler !== undefined).toBe(hpa);
    if (hpa) expect(m.horizontalPodAutoscaler!.spec).toMatchObject({ minReplicas: 6, maxReplicas: 12 });
  });

  test("the cron Deployment runs one pod, recreated, never two at once", () => {
    expect(business.cron.spec).toMatchObject({ replicas: 1, strategy: { type: "Recreate" } });
    expect((podOf(business.cron).volumes as { name: string; configMap?: { items: unknown } }[])[0]!.configMap!.items).toEqual([{ key: "cron.conf", path: "odoo.conf" }]);
  });

  test("a dedicated tenant tolerates its pool's taint and selects it", () => {
    const m = tenantManifests(input("critical", 250, { scheduling: { nodeSelector: { "odoo-fleet/pool": "acme" }, tolerations: [{ key: "odoo-fleet/dedicated", operator: "Equal", value: "acme", effect: "NoSchedule" }] } }));
    expect(podOf(m.web)).toMatchObject({ nodeSelector: { "odoo-fleet/pool": "acme" }, tolerations: [{ key: "odoo-fleet/dedicated", value: "acme" }], priorityClassName: "odoo-critical" });
  });
});

describe("odoo.conf", () => {
  const conf = { database: "odoo_northwind", dbUser: "odoo_northwind", dbHost: "db.example", dbPort: 5432, sizing: sizeOdoo({ tier: "business", expectedUsers: 60 }, "production") };
  test("web: workers from the sizing, no cron, proxy mode, no database list, a filter pinning its database", () => {
    expect(webOdooConf(conf)).toBe(
      [
        "[options]",
        "db_host = db.example",
        "db_port = 5432",
        "db_user = odoo_northwind",
        "db_name = odoo_northwind",
        "db_sslmode = require",
        "db_maxconn = 8",
        "list_db = False",
        "proxy_mode = True",
        "data_dir = /var/lib/odoo",
        "http_port = 8069",
        "gevent_port = 8072",
        "server_wide_modules = base,web,session_redis",
        "limit_memory_soft = 671088640",
        "limit_memory_hard = 1744830464",
        "limit_time_cpu = 600",
        "limit_time_real = 1200",
        "limit_request = 8192",
        "without_demo = all",
        "unaccent = True",
        "log_level = info",
        "workers = 5",
        "max_cron_threads = 0",
        "",
      ].join("\n"),
    );
    expect(webOdooConf(conf)).not.toMatch(/password/);
  });
  test("cron: threaded, with the tier's cron threads", () => {
    expect(cronOdooConf(conf).split("\n").slice(-3)).toEqual(["workers = 0", "max_cron_threads = 1", ""]);
  });
});

describe("routes", () => {
  test("per domain: /websocket to 8072, the rest to 8069, TLS, both middlewares", () => {
    expect(business.ingressRoutes.map((r) => r.metadata.name)).toEqual(["erp.northwind.example", "northwind.odoo-fleet.example"]);
    expect(business.ingressRoutes[0]!.spec).toEqual({
      entryPoints: ["websecure"],
      routes: [
        {
          kind: "Rule",
          match: "Host(`erp.northwind.example`) && (PathPrefix(`/web/database`) || Path(`/xmlrpc/db`) || Path(`/xmlrpc/2/db`))",
          priority: 10000,
          middlewares: [{ name: "refuse" }],
          services: [{ name: "odoo", port: 8069 }],
        },
        {
          kind: "Rule",
          match: "Host(`erp.northwind.example`) && (Path(`/web/login`) || Path(`/web/session/authenticate`) || Path(`/xmlrpc/common`) || Path(`/xmlrpc/2/common`))",
          priority: 9000,
          middlewares: [{ name: "security-headers" }, { name: "rate-limit" }, { name: "login-rate-limit" }],
          services: [{ name: "odoo", port: 8069 }],
        },
        { kind: "Rule", match: "Host(`erp.northwind.example`) && PathPrefix(`/websocket`)", middlewares: [{ name: "security-headers" }, { name: "rate-limit" }], services: [{ name: "odoo", port: 8072 }] },
        { kind: "Rule", match: "Host(`erp.northwind.example`)", middlewares: [{ name: "security-headers" }, { name: "rate-limit" }], services: [{ name: "odoo", port: 8069 }] },
      ],
      tls: { secretName: "tls" },
    });
    expect(business.certificate.spec).toMatchObject({ secretName: "tls", dnsNames: ["erp.northwind.example", "northwind.odoo-fleet.example"], issuerRef: { name: "letsencrypt", kind: "ClusterIssuer" } });
    expect(business.middlewares[1]!.spec).toEqual({ rateLimit: { average: 50, burst: 100, period: "1s" } });
  });
});

describe("backup CronJob", () => {
  const withBackup = (tier: TierName, users: number) =>
    tenantManifests(
      input(tier, users, {
        backup: {
          image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/fleet-tools@sha256:${"b".repeat(64)}`,
          bucketName: "shared-prod-backup-abc",
          database: { host: "db.example", port: 5432, name: "odoo_northwind", role: "odoo_northwind" },
          region: "eu-west-1",
          pushgatewayUrl: "http://prometheus-pushgateway.monitoring.svc:9091",
          pushPassword: "push-secret",
          scripts: { "backup-tenant.sh": "#!/bin/sh", "credentials.sh": "" },
        },
      }),
    );

  test("on the tier's schedule, restricted, as the tenant's backup account, filestore read-only", () => {
    const m = withBackup("business", 60);
    const cron = m.backupJob!.cronJob;
    expect(() => new CronJob(cron as never).validate()).not.toThrow();
    expect((cron.spec as { schedule: string }).schedule).toBe(`${jobMinute("northwind")} */6 * * *`);
    const pod = (cron.spec as { jobTemplate: { spec: { template: { spec: Record<string, any> } } } }).jobTemplate.spec.template.spec; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(restrictedViolations(pod)).toEqual([]);
    expect(pod.serviceAccountName).toBe("odoo-backup");
    expect(pod.containers[0].env).toContainEqual({ name: "BACKUP_PREFIX", value: "tenants/northwind/" });
    expect(pod.containers[0].env).toContainEqual({ name: "PGPASSWORD_FILE", value: "/secrets/db/password" });
    expect(pod.volumes).toContainEqual({ name: "filestore", persistentVolumeClaim: { claimName: "filestore", readOnly: true } });
    expect(m.networkPolicies.map((p) => p.metadata.name)).toContain("allow-backup-egress");
  });

  test.each([
    ["essential", 24, "2 * * *"],
    ["business", 6, "*/6 * * *"],
    ["critical", 1, "* * * *"],
  ] as const)("%s: every %i h", (_tier, hours, rest) => {
    expect(backupSchedule("northwind", hours)).toBe(`${jobMinute("northwind")} ${rest}`);
  });

  test.each([
    [30, "4 1 * *"],
    [7, "4 * * 0"],
    [1, "4 * * *"],
  ] as const)("drills every %i days", (days, rest) => {
    expect(drillSchedule("northwind", days)).toBe(`${jobMinute("northwind")} ${rest}`);
  });
});
