/**
 * A tenant's namespace and the guard rails inside it: quota, container limits, default-deny network
 * policies with the few flows Odoo needs, and its service accounts.
 */
import { cronPodResources, webPodResources, type Compute } from "../../tiers/sizing";
import { RESTRICTED_NAMESPACE_LABELS, TRAEFIK_NAMESPACE, TRAEFIK_POD_LABELS } from "../ingress";
import { NAMESPACE_ROLE_LABEL, NAMESPACE_ROLES, ODOO_COMPONENT_LABEL, tenantNamespace, WEB_LABELS, IRSA_ROLE_ANNOTATION } from "../../model/kubernetes";
import { ODOO_HTTP_PORT, ODOO_WEBSOCKET_PORT } from "./odoo-conf";
import { quantity } from "./pod-spec";
import { tenantObjectMeta, type Manifest, type TenantManifestInput } from "./manifest-input";
import { tenantLabels } from "../../model/tags";

export function namespaceManifest(input: TenantManifestInput): Manifest {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: tenantNamespace(input.tenant), labels: { ...RESTRICTED_NAMESPACE_LABELS, ...tenantLabels(input.tenant, input.tier), [NAMESPACE_ROLE_LABEL]: NAMESPACE_ROLES.tenant } },
  };
}

/** The tier's quota, and no load balancers or node ports: traffic enters through Traefik only. */
export function resourceQuota(input: TenantManifestInput): Manifest {
  const q = input.quota;
  return {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: tenantObjectMeta(input, "quota"),
    spec: {
      hard: {
        "requests.cpu": quantity.cpu(q.requests.cpuMillis),
        "requests.memory": quantity.memory(q.requests.memoryMiB),
        "limits.cpu": quantity.cpu(q.limits.cpuMillis),
        "limits.memory": quantity.memory(q.limits.memoryMiB),
        "requests.storage": `${q.storageGiB}Gi`,
        persistentvolumeclaims: "2",
        pods: String(q.pods),
        services: "2",
        "services.loadbalancers": "0",
        "services.nodeports": "0",
        configmaps: "10",
        secrets: "20",
      },
    },
  };
}

/** Defaults for containers that set no resources; none may exceed the larger of the web and cron pods. */
export function limitRange(input: TenantManifestInput): Manifest {
  const web = webPodResources(input.sizing);
  const cron = cronPodResources(input.sizing);
  const maxContainer: Compute = { cpuMillis: Math.max(web.limits.cpuMillis, cron.limits.cpuMillis), memoryMiB: Math.max(web.limits.memoryMiB, cron.limits.memoryMiB) };
  return {
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: tenantObjectMeta(input, "limits"),
    spec: {
      limits: [
        {
          type: "Container",
          default: { cpu: "250m", memory: "256Mi" },
          defaultRequest: { cpu: "100m", memory: "128Mi" },
          max: { cpu: quantity.cpu(maxContainer.cpuMillis), memory: quantity.memory(maxContainer.memoryMiB) },
        },
      ],
    },
  };
}

export function networkPolicy(input: TenantManifestInput, name: string, spec: Record<string, unknown>): Manifest {
  return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: tenantObjectMeta(input, name), spec };
}

/** Any address outside the VPC. */
export function internetPeer(input: TenantManifestInput) {
  return { ipBlock: { cidr: "0.0.0.0/0", except: [input.vpcCidr] } };
}

const fromTraefik = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": TRAEFIK_NAMESPACE } }, podSelector: { matchLabels: TRAEFIK_POD_LABELS } };

/**
 * Deny everything, then allow DNS, Traefik to Odoo and to the ACME solver, Odoo to its data stores,
 * and the internet egress the tenant asked for. (The backup job's egress is the backup step's.)
 */
export function tenantNetworkPolicies(input: TenantManifestInput): Manifest[] {
  const odooPods = { matchLabels: { [ODOO_COMPONENT_LABEL]: "odoo" } };
  const internet = internetPeer(input);
  return [
    networkPolicy(input, "default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    networkPolicy(input, "allow-dns", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
          ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
        },
      ],
    }),
    networkPolicy(input, "allow-traefik-to-odoo", {
      podSelector: { matchLabels: WEB_LABELS },
      policyTypes: ["Ingress"],
      ingress: [{ from: [fromTraefik], ports: [{ protocol: "TCP", port: ODOO_HTTP_PORT }, { protocol: "TCP", port: ODOO_WEBSOCKET_PORT }] }],
    }),
    networkPolicy(input, "allow-acme-solver", {
      podSelector: { matchLabels: { "acme.cert-manager.io/http01-solver": "true" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [fromTraefik], ports: [{ protocol: "TCP", port: 8089 }] }],
    }),
    networkPolicy(input, "allow-data-stores", {
      podSelector: odooPods,
      policyTypes: ["Egress"],
      egress: [
        {
          to: input.dataCidrs.map((cidr) => ({ ipBlock: { cidr } })),
          // No NFS (2049): the EFS CSI node plugin mounts the filestore from the node's network
          // (hostNetwork), so no tenant pod needs to reach a mount target itself.
          ports: [{ protocol: "TCP", port: 5432 }, ...(input.redis ? [{ protocol: "TCP", port: input.redis.port }] : [])],
        },
      ],
    }),
    ...(input.egress.https ? [networkPolicy(input, "allow-https", { podSelector: odooPods, policyTypes: ["Egress"], egress: [{ to: [internet], ports: [{ protocol: "TCP", port: 443 }] }] })] : []),
    ...(input.egress.smtp
      ? [networkPolicy(input, "allow-smtp", { podSelector: odooPods, policyTypes: ["Egress"], egress: [{ to: [internet], ports: [{ protocol: "TCP", port: 587 }, { protocol: "TCP", port: 465 }] }] })]
      : []),
  ];
}

/** Odoo's account, and the backup job's (bound to its IAM role) when the tenant has a backup role. */
export function serviceAccounts(input: TenantManifestInput): Manifest[] {
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: tenantObjectMeta(input, "odoo"), automountServiceAccountToken: false },
    ...(input.backupRoleArn
      ? [
          {
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: { ...tenantObjectMeta(input, "odoo-backup"), annotations: { [IRSA_ROLE_ANNOTATION]: input.backupRoleArn } },
            automountServiceAccountToken: false,
          },
        ]
      : []),
  ];
}
