import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartCrds, TRAEFIK_CRDS } from "../helm-crds";

export const TRAEFIK_CHART = { chart: "traefik", version: "41.3.0", repo: "https://traefik.github.io/charts" } as const;
export const CERT_MANAGER_CHART = { chart: "cert-manager", version: "v1.21.1", repo: "https://charts.jetstack.io" } as const;
export const TRAEFIK_NAMESPACE = "traefik";
export const CERT_MANAGER_NAMESPACE = "cert-manager";
export const INGRESS_CLASS = "traefik";
export const CLUSTER_ISSUER = "letsencrypt";
/** Labels of the Traefik pods, for tenants' NetworkPolicies. */
export const TRAEFIK_POD_LABELS = { "app.kubernetes.io/name": "traefik" } as const;

export const RESTRICTED_NAMESPACE_LABELS = {
  "pod-security.kubernetes.io/enforce": "restricted",
  "pod-security.kubernetes.io/audit": "restricted",
  "pod-security.kubernetes.io/warn": "restricted",
} as const;

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;
const networkPolicy = (name: string, namespace: string, spec: NetworkPolicySpec) => ({ metadata: { name, namespace }, spec });
const DNS_EGRESS = {
  to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
  ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
};
const ANYWHERE = [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }];
const FROM_PROMETHEUS = [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } }];

/**
 * The edge namespaces' NetworkPolicies: default deny, then what each component needs. Traffic from
 * the node (kubelet probes) is always allowed (https://kubernetes.io/docs/concepts/services-networking/network-policies/),
 * and the API server reaches webhooks from the control plane's addresses in the VPC.
 */
export function edgeNetworkPolicies(): { name: string; metadata: { name: string; namespace: string }; spec: NetworkPolicySpec }[] {
  const denyAll = (ns: string) => ({ name: `${ns}-default-deny`, ...networkPolicy("default-deny", ns, { podSelector: {}, policyTypes: ["Ingress", "Egress"] }) });
  return [
    denyAll(TRAEFIK_NAMESPACE),
    {
      name: "traefik-allow",
      ...networkPolicy("allow-traefik", TRAEFIK_NAMESPACE, {
        podSelector: { matchLabels: { ...TRAEFIK_POD_LABELS } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          // The NLB keeps the client's address (externalTrafficPolicy Local): web and websecure from anywhere.
          { from: ANYWHERE, ports: [{ protocol: "TCP", port: 8000 }, { protocol: "TCP", port: 8443 }] },
          { from: FROM_PROMETHEUS, ports: [{ protocol: "TCP", port: 9100 }] },
        ],
        egress: [
          DNS_EGRESS,
          // The API server (routes, services, endpoints are watched there).
          { to: ANYWHERE, ports: [{ protocol: "TCP", port: 443 }] },
          // Tenants' Odoo and cert-manager's HTTP-01 solvers; each tenant's own policy admits what it serves.
          { to: [{ namespaceSelector: { matchLabels: { "odoo-fleet/role": "tenant" } } }] },
        ],
      }),
    },
    denyAll(CERT_MANAGER_NAMESPACE),
    {
      name: "cert-manager-allow",
      ...networkPolicy("allow-cert-manager", CERT_MANAGER_NAMESPACE, {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          // The webhook, called by the API server; the controller's metrics, scraped by Prometheus.
          { from: ANYWHERE, ports: [{ protocol: "TCP", port: 10250 }] },
          { from: FROM_PROMETHEUS, ports: [{ protocol: "TCP", port: 9402 }] },
        ],
        egress: [
          DNS_EGRESS,
          // The API server and the ACME directory on HTTPS; the HTTP-01 self-check on port 80 of each domain.
          { to: ANYWHERE, ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 80 }] },
        ],
      }),
    },
  ];
}

export interface IngressArgs {
  /**
   * Resources the charts wait for: the ServiceMonitor CRD comes with the monitoring stack.
   * @default []
   */
  readonly after?: readonly pulumi.Resource[];
  /** Traefik replicas, spread one per zone. */
  readonly replicas: number;
  readonly acmeEmail: string;
  readonly acmeServer: string;
  /** Node selector of the pool the platform's own pods run on. */
  readonly systemNodeSelector: Readonly<Record<string, string>>;
}

const zoneSpread = (labels: Record<string, string>) => [
  { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: labels } },
];

/**
 * Values of the Traefik chart: replicas spread over zones with a PDB, an AWS Network Load Balancer
 * that keeps client addresses (rate limits are per client), HTTP redirected to HTTPS, JSON logs,
 * Prometheus metrics per router, only same-namespace references from IngressRoutes.
 */
export function traefikValues(args: Pick<IngressArgs, "replicas" | "systemNodeSelector">): Record<string, unknown> {
  return {
    deployment: { replicas: args.replicas },
    podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
    topologySpreadConstraints: zoneSpread({ ...TRAEFIK_POD_LABELS }),
    nodeSelector: args.systemNodeSelector,
    priorityClassName: "system-cluster-critical",
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    ports: {
      web: { http: { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } } },
      websecure: { http: { tls: { enabled: true } } },
    },
    service: {
      annotations: {
        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
        "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
      },
      // Keep the client's address: rate limits and access logs are per client.
      spec: { externalTrafficPolicy: "Local" },
    },
    log: { format: "json", level: "INFO" },
    accessLog: { enabled: true, format: "json", fields: { headers: { defaultMode: "drop" } } },
    // Scraped through a ServiceMonitor: the per-tenant latency and 5xx alerts read these series.
    metrics: { prometheus: { entryPoint: "metrics", addEntryPointsLabels: true, addRoutersLabels: true, addServicesLabels: true, serviceMonitor: { enabled: true, interval: "30s" } } },
    providers: {
      kubernetesCRD: { enabled: true, allowCrossNamespace: false, allowExternalNameServices: false },
      // cert-manager's HTTP-01 solver answers through a plain Ingress.
      kubernetesIngress: { enabled: true, allowExternalNameServices: false },
    },
    ingressClass: { enabled: true, isDefaultClass: true, name: INGRESS_CLASS },
    ingressRoute: { dashboard: { enabled: false } },
  };
}

export function certManagerValues(args: Pick<IngressArgs, "systemNodeSelector">): Record<string, unknown> {
  return {
    crds: { enabled: true, keep: true },
    replicaCount: 2,
    podDisruptionBudget: { enabled: true, minAvailable: 1 },
    nodeSelector: args.systemNodeSelector,
    // Certificate expiry series for the OdooCertificateExpiring alert.
    prometheus: { enabled: true, servicemonitor: { enabled: true } },
    webhook: { replicaCount: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 }, nodeSelector: args.systemNodeSelector },
    cainjector: { nodeSelector: args.systemNodeSelector },
  };
}

/**
 * The cluster's edge: Traefik behind an AWS NLB across all zones, and cert-manager issuing and
 * renewing each tenant's certificate from Let's Encrypt over HTTP-01. (cert-manager rather than ACM:
 * TLS ends at Traefik, per tenant, and HTTP-01 works for any customer domain pointed at the NLB
 * without access to the customer's DNS.)
 */
export class Ingress extends pulumi.ComponentResource {
  public readonly namespace: string = TRAEFIK_NAMESPACE;
  public readonly clusterIssuer: string = CLUSTER_ISSUER;
  public readonly traefik: k8s.helm.v3.Release;
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: IngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:ingress:Ingress", name, {}, opts);
    const child = { parent: this };

    const namespace = (ns: string) =>
      new k8s.core.v1.Namespace(`${name}-${ns}`, { metadata: { name: ns, labels: { ...RESTRICTED_NAMESPACE_LABELS, "odoo-fleet/role": "platform" } } }, child);
    const certManagerNs = namespace(CERT_MANAGER_NAMESPACE);
    const traefikNs = namespace(TRAEFIK_NAMESPACE);
    for (const policy of edgeNetworkPolicies()) {
      new k8s.networking.v1.NetworkPolicy(`${name}-${policy.name}`, { metadata: policy.metadata, spec: policy.spec }, { parent: this, dependsOn: [certManagerNs, traefikNs] });
    }

    const certManager = new k8s.helm.v3.Release(`${name}-cert-manager`, {
      name: "cert-manager",
      chart: CERT_MANAGER_CHART.chart,
      version: CERT_MANAGER_CHART.version,
      repositoryOpts: { repo: CERT_MANAGER_CHART.repo },
      namespace: CERT_MANAGER_NAMESPACE,
      values: certManagerValues(args),
      atomic: true,
      timeout: 600,
      maxHistory: 5,
    }, { parent: this, dependsOn: [certManagerNs, ...(args.after ?? [])] });

    const issuer = new k8s.apiextensions.CustomResource(`${name}-cluster-issuer`, {
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: CLUSTER_ISSUER },
      spec: {
        acme: {
          email: args.acmeEmail,
          server: args.acmeServer,
          privateKeySecretRef: { name: `${CLUSTER_ISSUER}-account-key` },
          solvers: [{ http01: { ingress: { ingressClassName: INGRESS_CLASS } } }],
        },
      },
    }, { parent: this, dependsOn: [certManager] });

    // The chart's CRDs, applied (and upgraded) before it: Helm would install them once and never again.
    const traefikCrds = chartCrds(`${name}-traefik-crds`, TRAEFIK_CRDS, child);
    this.traefik = new k8s.helm.v3.Release(`${name}-traefik`, {
      name: "traefik",
      chart: TRAEFIK_CHART.chart,
      version: TRAEFIK_CHART.version,
      repositoryOpts: { repo: TRAEFIK_CHART.repo },
      namespace: TRAEFIK_NAMESPACE,
      values: traefikValues(args),
      skipCrds: true,
      atomic: true,
      timeout: 600,
      maxHistory: 5,
    }, { parent: this, dependsOn: [traefikNs, traefikCrds, ...(args.after ?? [])] });

    this.ready = [this.traefik, issuer];
    this.registerOutputs({ namespace: this.namespace, clusterIssuer: this.clusterIssuer });
  }
}
