import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KeyAdministration, KeyUse } from "../data/keys";
import { serviceAccountRole } from "../irsa";
import * as random from "@pulumi/random";
import type { Environment } from "../../model/stack";
import { TIERS, type TierName } from "../../tiers/catalogue";
import { chartCrds, KUBE_PROMETHEUS_STACK_CRDS } from "../helm-crds";
import { encryptionKey } from "../data/keys";
import { withName } from "../tagging";
import { platformRules, tenantRules, type RuleGroup, type Severity } from "./alerts";
import { tenantLabels } from "../../model/tags";
import { createHash } from "node:crypto";
import { PUSH_JOBS, PUSH_PROXY_PORT, pushUser, type PushJob } from "../../model/edge";
import { IRSA_ROLE_ANNOTATION } from "../../model/kubernetes";

export const MONITORING_NAMESPACE = "monitoring";
export const KUBE_PROMETHEUS_STACK = { chart: "kube-prometheus-stack", version: "88.5.3", repo: "https://prometheus-community.github.io/helm-charts" } as const;
export const BLACKBOX_EXPORTER = { chart: "prometheus-blackbox-exporter", version: "11.4.0", repo: "https://prometheus-community.github.io/helm-charts" } as const;
export const PUSHGATEWAY = { chart: "prometheus-pushgateway", version: "3.6.1", repo: "https://prometheus-community.github.io/helm-charts" } as const;
/** Where backup and restore-drill jobs push their results. */
export const PUSHGATEWAY_URL = `http://prometheus-pushgateway.${MONITORING_NAMESPACE}.svc:9091`;
const BLACKBOX_URL = `prometheus-blackbox-exporter.${MONITORING_NAMESPACE}.svc:9115`;
const ALERTMANAGER_SERVICE_ACCOUNT = "kube-prometheus-stack-alertmanager";
/**
 * prometheus-node-exporter needs hostNetwork, hostPID and hostPath mounts (/proc, /sys, /): the one
 * component that cannot run under baseline. It gets a privileged namespace of its own, so monitoring
 * enforces baseline (warning on restricted).
 */
export const NODE_EXPORTER_NAMESPACE = "node-exporter";
/** The proxy in front of the Pushgateway; nginx as its unprivileged image runs it (uid 101). */
export const PUSH_PROXY_IMAGE = "docker.io/nginxinc/nginx-unprivileged:1.28-alpine";
const PUSHGATEWAY_LOOPBACK = "127.0.0.1:9091";
const PUSH_AUTH = { configMap: "pushgateway-auth", secret: "pushgateway-htpasswd" } as const;

export interface MonitoringArgs {
  readonly environment: Environment;
  readonly zones: number;
  readonly systemNodeSelector: Readonly<Record<string, string>>;
  /** Tenants, each getting its alert rules and synthetic probes. */
  readonly tenants: readonly { readonly name: string; readonly tier: TierName; readonly domains: readonly string[]; readonly queueJob: boolean }[];
  readonly runbookBaseUrl: string;
  /** Time zone of the business-hours route. */
  readonly businessHoursTimeZone: string;
  readonly cluster: { readonly oidcProviderArn: pulumi.Input<string>; readonly oidcIssuerUrl: pulumi.Input<string> };
  readonly region: string;
  /**
   * `protect` the alert topics' KMS key.
   * @default true
   */
  readonly protect?: boolean;
  /** Who administers the component's KMS keys, and the break-glass role that alone may delete them. */
  readonly keyAdministration: KeyAdministration;
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * How the alert topics' keys are used: through SNS (Alertmanager publishes), and by CloudWatch alarms
 * and EventBridge, which publish to encrypted topics only where the key policy lets their service
 * principals use the key (SNS developer guide, "Enabling compatibility between event sources from
 * AWS services and encrypted topics").
 */
export const ALERT_KEY_USE = { viaServices: ["sns"], servicePrincipals: ["cloudwatch.amazonaws.com", "events.amazonaws.com"] } satisfies KeyUse;

/**
 * Alertmanager's role: publish to the alert topics, and use their KMS key as SNS needs from a
 * publisher to an encrypted topic (GenerateDataKey* and Decrypt: "Enabling compatibility between
 * event sources from AWS services and encrypted topics", SNS developer guide,
 * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html). That key and those topics only.
 */
export function alertmanagerPolicy(topicArns: readonly string[], keyArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "PublishAlerts", Effect: "Allow", Action: "sns:Publish", Resource: [...topicArns] },
      {
        Sid: "EncryptedTopics",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
        Resource: keyArn,
        Condition: { StringLike: { "kms:ViaService": "sns.*.amazonaws.com" } },
      },
    ],
  };
}

/** Who may publish to an alert topic: this account's CloudWatch alarms and EventBridge rules. */
export function alertTopicPolicy(topicArn: string, accountId: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "EventBridge", Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sns:Publish", Resource: topicArn, Condition: { StringEquals: { "aws:SourceAccount": accountId } } },
      { Sid: "CloudWatchAlarms", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Resource: topicArn, Condition: { StringEquals: { "aws:SourceAccount": accountId } } },
      { Sid: "DenyWithoutTls", Effect: "Deny", Principal: { AWS: "*" }, Action: "sns:Publish", Resource: topicArn, Condition: { Bool: { "aws:SecureTransport": "false" } } },
    ],
  };
}

/** Prometheus keeps more history in production, where incidents are investigated after the fact. */
export function retentionFor(environment: Environment): { time: string; storage: string } {
  return environment === "production" ? { time: "30d", storage: "100Gi" } : { time: "7d", storage: "20Gi" };
}

/** Routes by severity: pages go to the pager, critical to the 24x7 channel, warnings in business hours only. */
export function alertmanagerConfig(topics: Record<Severity, string>, region: string, timeZone: string) {
  const receiver = (name: string, topic: string) => ({ name, sns_configs: [{ topic_arn: topic, sigv4: { region }, send_resolved: true }] });
  return {
    route: {
      receiver: "business-hours",
      group_by: ["alertname", "tenant"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [
        { matchers: ['severity="page"'], receiver: "pager", repeat_interval: "1h" },
        { matchers: ['severity="critical"'], receiver: "on-call-24x7" },
        { matchers: ['severity="warning"'], receiver: "business-hours", active_time_intervals: ["business-hours"] },
      ],
    },
    receivers: [receiver("pager", topics.page), receiver("on-call-24x7", topics.critical), receiver("business-hours", topics.warning)],
    time_intervals: [{ name: "business-hours", time_intervals: [{ weekdays: ["monday:friday"], times: [{ start_time: "08:00", end_time: "18:00" }], location: timeZone }] }],
  };
}

export function kubePrometheusStackValues(args: Pick<MonitoringArgs, "environment" | "zones" | "systemNodeSelector">, config: unknown, alertmanagerRoleArn: string) {
  const retention = retentionFor(args.environment);
  const spread = (app: string) => [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: { "app.kubernetes.io/name": app } } }];
  return {
    // The platform applies the CRDs itself (components/helm-crds.ts), so a chart bump upgrades them.
    crds: { enabled: false },
    prometheus: {
      prometheusSpec: {
        replicas: 2,
        retention: retention.time,
        nodeSelector: args.systemNodeSelector,
        topologySpreadConstraints: spread("prometheus"),
        // Select every rule, monitor and probe in the cluster, not only the chart's own.
        ruleSelectorNilUsesHelmValues: false,
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        storageSpec: { volumeClaimTemplate: { spec: { storageClassName: "gp3", accessModes: ["ReadWriteOnce"], resources: { requests: { storage: retention.storage } } } } },
      },
    },
    alertmanager: {
      // Alertmanager publishes to SNS with its own IAM role (IRSA).
      serviceAccount: { name: ALERTMANAGER_SERVICE_ACCOUNT, annotations: { [IRSA_ROLE_ANNOTATION]: alertmanagerRoleArn } },
      alertmanagerSpec: { replicas: 3, nodeSelector: args.systemNodeSelector, topologySpreadConstraints: spread("alertmanager") },
      config,
    },
    grafana: { enabled: true, admin: { existingSecret: "grafana-admin", userKey: "user", passwordKey: "password" }, nodeSelector: args.systemNodeSelector },
    // The subchart's pods and ServiceMonitor go to that namespace (prometheus-node-exporter's
    // `namespaceOverride`, read by kube-prometheus-stack's templates); Prometheus selects monitors in every namespace.
    "prometheus-node-exporter": { namespaceOverride: NODE_EXPORTER_NAMESPACE },
  };
}

/** Where the proxy listens, forwards, finds its users and keeps its run-time files. */
export interface PushProxyPlaces {
  readonly listen: string;
  readonly upstream: string;
  readonly usersFile: string;
  readonly runtimeDir: string;
}
/** In the Pushgateway's pod: the Service's target port, the Pushgateway on the loopback, the mounted Secret, an emptyDir. */
const PUSH_PROXY_PLACES: PushProxyPlaces = { listen: String(PUSH_PROXY_PORT), upstream: PUSHGATEWAY_LOOPBACK, usersFile: "/etc/nginx/auth/htpasswd", runtimeDir: "/tmp" };

/**
 * The proxy's nginx.conf. Scrapes and health checks read; a push is admitted only to
 * /metrics/job/<job>/tenant/<tenant> (no further grouping labels), by the basic-auth user
 * `<job user>-<tenant>` of that same tenant, and forwarded under the path rebuilt from the checked
 * capture. nginx matches locations on the decoded, normalised URI
 * (https://nginx.org/en/docs/http/ngx_http_core_module.html#location), and `{SSHA}` entries are
 * checked by nginx itself (https://nginx.org/en/docs/http/ngx_http_auth_basic_module.html).
 */
export function pushProxyConfig(where: PushProxyPlaces = PUSH_PROXY_PLACES): string {
  const upstream = `http://${where.upstream}`;
  const read = (path: string) => `    location = ${path} { limit_except GET { deny all; } proxy_pass ${upstream}; }`;
  const push = (job: PushJob) => [
    `    location ~ ^/metrics/job/${job}/tenant/(?<tenant>[a-z0-9-]+)$ {`,
    `      auth_basic "pushgateway";`,
    `      auth_basic_user_file ${where.usersFile};`,
    `      if ($remote_user != "${PUSH_JOBS[job]}-$tenant") { return 403; }`,
    `      limit_except PUT POST { deny all; }`,
    `      proxy_pass ${upstream}/metrics/job/${job}/tenant/$tenant;`,
    `    }`,
  ];
  return [
    "worker_processes 1;",
    `pid ${where.runtimeDir}/nginx.pid;`,
    "error_log stderr warn;",
    "events { worker_connections 256; }",
    "http {",
    "  access_log /dev/stdout;",
    "  server_tokens off;",
    "  client_max_body_size 1m;",
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `  ${kind}_temp_path ${where.runtimeDir}/${kind};`),
    "  server {",
    `    listen ${where.listen};`,
    read("/metrics"),
    read("/-/healthy"),
    read("/-/ready"),
    ...(Object.keys(PUSH_JOBS) as PushJob[]).flatMap(push),
    "    location / { return 403; }",
    "  }",
    "}",
    "",
  ].join("\n");
}

/** An htpasswd line nginx checks itself: `{SSHA}` is base64(SHA-1(password + salt) + salt). */
export function sshaEntry(user: string, password: string): string {
  // A per-user salt; the passwords are 32 random characters, so the salt guards only against reuse.
  const salt = createHash("sha256").update(`pushgateway:${user}`).digest().subarray(0, 8);
  const digest = createHash("sha1").update(password).update(salt).digest();
  return `${user}:{SSHA}${Buffer.concat([digest, salt]).toString("base64")}`;
}

const RESTRICTED = { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } };

/**
 * The Pushgateway accepts any push under any grouping key (it has no authorisation of its own), so it
 * listens on the pod's loopback only and an nginx sidecar, the Service's target, admits each push by
 * the pusher's credential to its own grouping key.
 */
export function pushgatewayValues(systemNodeSelector: Record<string, string>): Record<string, unknown> {
  const probe = { httpGet: { path: "/-/ready", port: PUSH_PROXY_PORT }, initialDelaySeconds: 10, timeoutSeconds: 10 };
  return {
    nodeSelector: systemNodeSelector,
    serviceMonitor: { enabled: true, honorLabels: true },
    extraArgs: [`--web.listen-address=${PUSHGATEWAY_LOOPBACK}`],
    service: { port: 9091, targetPort: PUSH_PROXY_PORT },
    liveness: { enabled: true, probe: { ...probe, httpGet: { path: "/-/healthy", port: PUSH_PROXY_PORT } } },
    readiness: { enabled: true, probe },
    securityContext: { runAsNonRoot: true, runAsUser: 65534, fsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
    containerSecurityContext: RESTRICTED,
    extraContainers: [
      {
        name: "push-auth",
        image: PUSH_PROXY_IMAGE,
        ports: [{ name: "push", containerPort: PUSH_PROXY_PORT, protocol: "TCP" }],
        securityContext: { ...RESTRICTED, runAsUser: 101 },
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
        volumeMounts: [
          { name: "push-auth-config", mountPath: "/etc/nginx/nginx.conf", subPath: "nginx.conf", readOnly: true },
          { name: "push-auth-users", mountPath: "/etc/nginx/auth", readOnly: true },
          { name: "push-auth-tmp", mountPath: "/tmp" },
        ],
      },
    ],
    extraVolumes: [
      { name: "push-auth-config", configMap: { name: PUSH_AUTH.configMap } },
      { name: "push-auth-users", secret: { secretName: PUSH_AUTH.secret, defaultMode: 0o440 } },
      { name: "push-auth-tmp", emptyDir: { sizeLimit: "64Mi" } },
    ],
  };
}

/** Synthetic checks of one tenant: health, login (exercises the database) and the websocket route. */
export function tenantProbe(tenant: { name: string; tier: TierName; domains: readonly string[] }) {
  const every = TIERS[tenant.tier].syntheticCheck.everyMinutes;
  const labels = { ...tenantLabels(tenant.name, tenant.tier), namespace: `odoo-${tenant.name}` };
  const probe = (name: string, module: string, paths: string[]) => ({
    apiVersion: "monitoring.coreos.com/v1",
    kind: "Probe",
    metadata: { name: `${tenant.name}-${name}`, namespace: MONITORING_NAMESPACE, labels: { ...tenantLabels(tenant.name, tenant.tier) } },
    spec: {
      jobName: "blackbox",
      interval: `${every * 60}s`,
      module,
      prober: { url: BLACKBOX_URL },
      targets: { staticConfig: { static: tenant.domains.flatMap((d) => paths.map((p) => `https://${d}${p}`)), labels } },
    },
  });
  return [probe("http", "http_2xx", ["/web/health", "/web/login"]), probe("websocket", "odoo_websocket", ["/websocket"])];
}

export function blackboxValues(systemNodeSelector: Record<string, string>) {
  return {
    nodeSelector: systemNodeSelector,
    config: {
      modules: {
        http_2xx: { prober: "http", timeout: "10s", http: { valid_status_codes: [200], fail_if_not_ssl: true, preferred_ip_protocol: "ip4" } },
        // Without an upgrade, Odoo's websocket endpoint answers 400: proof the route reaches port 8072.
        odoo_websocket: { prober: "http", timeout: "10s", http: { valid_status_codes: [400, 426], fail_if_not_ssl: true, preferred_ip_protocol: "ip4" } },
      },
    },
  };
}

/**
 * Observability of a cluster: kube-prometheus-stack (Prometheus x2, Alertmanager x3 across zones,
 * Grafana), the blackbox exporter with a probe set per tenant, a Pushgateway for backup and drill
 * results, the alert rules of every tenant and of the platform, and Alertmanager routing per severity
 * to one SNS topic each.
 */
export class Monitoring extends pulumi.ComponentResource {
  public readonly topics: Record<Severity, pulumi.Output<string>>;
  public readonly ruleGroups: RuleGroup[];
  /** The kube-prometheus-stack release: charts that create ServiceMonitors must wait for its CRDs. */
  public readonly crds: pulumi.Resource;
  /** Each tenant's Pushgateway password per pushing job: the backup job's and the restore drill's. */
  public readonly pushPasswords: Record<string, Record<PushJob, pulumi.Output<string>>>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:observability:Monitoring", name, {}, opts);
    const child = { parent: this };

    const alerts = alertTopics(name, args, this);
    this.topics = alerts.topics;
    const alertmanagerRole = serviceAccountRole(`${name}-alertmanager`, {
      oidcProviderArn: args.cluster.oidcProviderArn,
      oidcIssuerUrl: args.cluster.oidcIssuerUrl,
      namespace: MONITORING_NAMESPACE,
      serviceAccount: ALERTMANAGER_SERVICE_ACCOUNT,
      tags: withName(args.tags, `${name}-alertmanager`),
      policy: pulumi.all([pulumi.all(Object.values(alerts.topics)), alerts.key.arn]).apply(([arns, keyArn]) => JSON.stringify(alertmanagerPolicy(arns, keyArn))),
    }, child);

    const [namespace, nodeExporterNamespace] = monitoringNamespaces(name, this);
    storageAndGrafanaAdmin(name, namespace, this);
    const pushAuth = pushAuthObjects(name, args.tenants, namespace, this);
    this.pushPasswords = pushAuth.passwords;

    const stack = kubePrometheusStack(name, args, { topics: alerts.topics, alertmanagerRoleArn: alertmanagerRole.arn, namespace: [namespace, nodeExporterNamespace] }, this);
    this.crds = stack;
    exporterReleases(name, args, { parent: this, dependsOn: [namespace, stack, ...pushAuth.objects] });

    this.ruleGroups = [...args.tenants.map((t) => tenantRules(t, args.runbookBaseUrl)), platformRules(args.runbookBaseUrl)];
    rulesAndProbes(name, this.ruleGroups, args.tenants, { parent: this, dependsOn: [namespace, stack] });
    this.registerOutputs({ topics: this.topics });
  }
}

/**
 * The alert topics, one per severity, under a KMS key of their own: CloudWatch alarms and
 * EventBridge cannot publish to topics under the AWS-managed SNS key.
 */
function alertTopics(name: string, args: MonitoringArgs, parent: pulumi.Resource) {
  const child = { parent };
  const account = aws.getCallerIdentityOutput({}, child).accountId;
  const key = encryptionKey(`${name}-alerts`, {
    description: `Alert topics of ${name}`,
    alias: `${name}-alerts`,
    tags: args.tags,
    access: { administration: args.keyAdministration, use: ALERT_KEY_USE },
  }, { parent, protect: args.protect ?? true });
  const topics = {} as Record<Severity, pulumi.Output<string>>;
  for (const severity of ["page", "critical", "warning"] as const) {
    const topic = new aws.sns.Topic(`${name}-alerts-${severity}`, {
      kmsMasterKeyId: key.arn,
      tags: withName(args.tags, `${name}-alerts-${severity}`),
    }, child);
    new aws.sns.TopicPolicy(`${name}-alerts-${severity}`, {
      arn: topic.arn,
      policy: pulumi.all([topic.arn, account]).apply(([arn, id]) => JSON.stringify(alertTopicPolicy(arn, id))),
    }, child);
    topics[severity] = topic.arn;
  }
  return { key, topics };
}

/**
 * The monitoring namespace at baseline (restricted only warned: the charts' pods do not all set every
 * restricted field) and node-exporter's own privileged namespace, each default-deny with the traffic
 * its components need.
 */
function monitoringNamespaces(name: string, parent: pulumi.Resource): [k8s.core.v1.Namespace, k8s.core.v1.Namespace] {
  const labels = (enforce: string) => ({ "pod-security.kubernetes.io/enforce": enforce, "pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/warn": "restricted", "odoo-fleet/role": "platform" });
  const monitoring = new k8s.core.v1.Namespace(`${name}-monitoring`, { metadata: { name: MONITORING_NAMESPACE, labels: labels("baseline") } }, { parent });
  const nodeExporter = new k8s.core.v1.Namespace(`${name}-node-exporter`, { metadata: { name: NODE_EXPORTER_NAMESPACE, labels: labels("privileged") } }, { parent });
  for (const policy of monitoringNetworkPolicies()) {
    new k8s.networking.v1.NetworkPolicy(`${name}-${policy.metadata.namespace}-${policy.metadata.name}`, policy, { parent, dependsOn: [monitoring, nodeExporter] });
  }
  return [monitoring, nodeExporter];
}

type NetworkPolicyArgs = { metadata: { name: string; namespace: string }; spec: k8s.types.input.networking.v1.NetworkPolicySpec };

/**
 * Monitoring's NetworkPolicies. Prometheus scrapes every namespace and node (kubelets, node-exporter on
 * the host network), so its egress is open; the rest talk among themselves, to DNS and on HTTPS (the
 * API server, SNS, the blackbox probes of tenants' hosts). From outside: pushes to the proxy, from
 * tenants' backup jobs and the platform's drills, and the operator's admission webhook from the API server.
 * node-exporter's pods use the host network, which NetworkPolicies do not govern: its default deny
 * states the intent for anything else placed there.
 */
export function monitoringNetworkPolicies(): NetworkPolicyArgs[] {
  const policy = (namespace: string, policyName: string, spec: NetworkPolicyArgs["spec"]) => ({ metadata: { name: policyName, namespace }, spec });
  const sameNamespace = [{ podSelector: {} }];
  return [
    policy(MONITORING_NAMESPACE, "default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    policy(MONITORING_NAMESPACE, "allow-within-namespace", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: sameNamespace }],
      egress: [
        { to: sameNamespace },
        { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] },
        { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] },
      ],
    }),
    policy(MONITORING_NAMESPACE, "allow-prometheus-scrape", { podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } }, policyTypes: ["Egress"], egress: [{}] }),
    policy(MONITORING_NAMESPACE, "allow-pushes", {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus-pushgateway" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { "odoo-fleet/role": "tenant" } }, podSelector: { matchLabels: { app: "odoo-backup" } } },
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "odoo-fleet-system" } }, podSelector: { matchLabels: { app: "restore-drill" } } },
          ],
          ports: [{ protocol: "TCP", port: PUSH_PROXY_PORT }],
        },
      ],
    }),
    policy(MONITORING_NAMESPACE, "allow-operator-webhook", {
      podSelector: { matchLabels: { app: "kube-prometheus-stack-operator" } },
      policyTypes: ["Ingress"],
      ingress: [{ ports: [{ protocol: "TCP", port: 10250 }] }],
    }),
    policy(NODE_EXPORTER_NAMESPACE, "default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
  ];
}

/**
 * Per tenant and pushing job a random password: its {SSHA} entry goes to the proxy's htpasswd Secret,
 * the password itself to the pusher (see `pushPasswords`). Plus the proxy's configuration.
 */
function pushAuthObjects(name: string, tenants: MonitoringArgs["tenants"], namespace: k8s.core.v1.Namespace, parent: pulumi.Resource) {
  const passwords: Record<string, Record<PushJob, pulumi.Output<string>>> = {};
  const entries: pulumi.Output<string>[] = [];
  for (const tenant of tenants) {
    const perJob = {} as Record<PushJob, pulumi.Output<string>>;
    for (const job of Object.keys(PUSH_JOBS) as PushJob[]) {
      const password = new random.RandomPassword(`${name}-push-${PUSH_JOBS[job]}-${tenant.name}`, { length: 32, special: false }, { parent }).result;
      perJob[job] = password;
      entries.push(password.apply((p) => sshaEntry(pushUser(job, tenant.name), p)));
    }
    passwords[tenant.name] = perJob;
  }
  const inNamespace = { parent, dependsOn: [namespace] };
  const objects = [
    new k8s.core.v1.ConfigMap(`${name}-${PUSH_AUTH.configMap}`, { metadata: { name: PUSH_AUTH.configMap, namespace: MONITORING_NAMESPACE }, data: { "nginx.conf": pushProxyConfig() } }, inNamespace),
    new k8s.core.v1.Secret(`${name}-${PUSH_AUTH.secret}`, {
      metadata: { name: PUSH_AUTH.secret, namespace: MONITORING_NAMESPACE },
      type: "Opaque",
      stringData: { htpasswd: pulumi.secret(pulumi.all(entries).apply((lines) => lines.map((l) => `${l}\n`).join(""))) },
    }, inNamespace),
  ];
  return { passwords, objects };
}

/** The gp3 storage class Prometheus's volumes use, and Grafana's admin credentials. */
function storageAndGrafanaAdmin(name: string, namespace: k8s.core.v1.Namespace, parent: pulumi.Resource): void {
  const child = { parent };
  new k8s.storage.v1.StorageClass(`${name}-gp3`, {
    metadata: { name: "gp3" },
    provisioner: "ebs.csi.aws.com",
    parameters: { type: "gp3", encrypted: "true" },
    reclaimPolicy: "Retain",
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: true,
  }, child);

  const grafanaPassword = new random.RandomPassword(`${name}-grafana-admin`, { length: 32, special: false }, child);
  new k8s.core.v1.Secret(`${name}-grafana-admin`, {
    metadata: { name: "grafana-admin", namespace: MONITORING_NAMESPACE },
    stringData: { user: "admin", password: grafanaPassword.result },
  }, { parent, dependsOn: [namespace] });
}

/** kube-prometheus-stack, after its CRDs: Helm would install them once and never upgrade them. */
function kubePrometheusStack(
  name: string,
  args: MonitoringArgs,
  deps: { topics: Record<Severity, pulumi.Output<string>>; alertmanagerRoleArn: pulumi.Output<string>; namespace: k8s.core.v1.Namespace[] },
  parent: pulumi.Resource,
): k8s.helm.v3.Release {
  const values = pulumi
    .all([pulumi.all(deps.topics), deps.alertmanagerRoleArn])
    .apply(([topics, role]) => kubePrometheusStackValues(args, alertmanagerConfig(topics as Record<Severity, string>, args.region, args.businessHoursTimeZone), role));
  const crds = chartCrds(`${name}-kube-prometheus-stack-crds`, KUBE_PROMETHEUS_STACK_CRDS, { parent });
  return new k8s.helm.v3.Release(`${name}-kube-prometheus-stack`, {
    name: "kube-prometheus-stack",
    chart: KUBE_PROMETHEUS_STACK.chart,
    version: KUBE_PROMETHEUS_STACK.version,
    repositoryOpts: { repo: KUBE_PROMETHEUS_STACK.repo },
    namespace: MONITORING_NAMESPACE,
    values,
    skipCrds: true,
    atomic: true,
    timeout: 900,
    maxHistory: 5,
  }, { parent, dependsOn: [...deps.namespace, crds] });
}

/** The blackbox exporter (synthetic probes) and the Pushgateway (backup and drill results). */
function exporterReleases(name: string, args: MonitoringArgs, afterStack: pulumi.CustomResourceOptions): void {
  for (const [release, chart, chartValues] of [
    ["blackbox", BLACKBOX_EXPORTER, blackboxValues(args.systemNodeSelector)],
    ["pushgateway", PUSHGATEWAY, pushgatewayValues(args.systemNodeSelector)],
  ] as const) {
    new k8s.helm.v3.Release(`${name}-${release}`, {
      name: chart.chart,
      chart: chart.chart,
      version: chart.version,
      repositoryOpts: { repo: chart.repo },
      namespace: MONITORING_NAMESPACE,
      values: chartValues,
      atomic: true,
      timeout: 600,
      maxHistory: 5,
    }, afterStack);
  }
}

/** A PrometheusRule per rule group and the synthetic probes of every tenant (they need the stack's CRDs). */
function rulesAndProbes(name: string, ruleGroups: readonly RuleGroup[], tenants: MonitoringArgs["tenants"], afterCrds: pulumi.CustomResourceOptions): void {
  for (const group of ruleGroups) {
    new k8s.apiextensions.CustomResource(`${name}-rules-${group.name}`, {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: group.name, namespace: MONITORING_NAMESPACE },
      spec: { groups: [group] },
    }, afterCrds);
  }
  for (const tenant of tenants) {
    for (const probe of tenantProbe(tenant)) {
      const { apiVersion, kind, metadata, spec } = probe;
      new k8s.apiextensions.CustomResource(`${name}-probe-${metadata.name}`, { apiVersion, kind, metadata, spec }, afterCrds);
    }
  }
}
