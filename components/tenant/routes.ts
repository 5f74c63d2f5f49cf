/**
 * How requests reach Odoo: its Service, the TLS certificate of the tenant's domains, Traefik's security
 * headers and rate limit, and one IngressRoute per domain.
 */
import { TIERS } from "../../tiers/catalogue";
import { CLUSTER_ISSUER } from "../ingress";
import { WEB_LABELS } from "../../model/kubernetes";
import { ODOO_HTTP_PORT, ODOO_WEBSOCKET_PORT } from "./odoo-conf";
import { tenantObjectMeta, type Manifest, type TenantManifestInput } from "./manifest-input";

export function odooService(input: TenantManifestInput): Manifest {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: tenantObjectMeta(input, "odoo"),
    spec: {
      type: "ClusterIP",
      selector: { ...WEB_LABELS, tenant: input.tenant },
      ports: [
        { name: "http", port: ODOO_HTTP_PORT, targetPort: "http" },
        { name: "websocket", port: ODOO_WEBSOCKET_PORT, targetPort: "websocket" },
      ],
    },
  };
}

export function tlsCertificate(input: TenantManifestInput): Manifest {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: tenantObjectMeta(input, "tls"),
    spec: {
      secretName: "tls",
      dnsNames: [...input.domains],
      issuerRef: { name: CLUSTER_ISSUER, kind: "ClusterIssuer" },
      privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
    },
  };
}

/** The middlewares every route goes through, in this order: security headers, then the tier's rate limit. */
export function routeMiddlewares(input: TenantManifestInput): Manifest[] {
  return [
    {
      apiVersion: "traefik.io/v1alpha1",
      kind: "Middleware",
      metadata: tenantObjectMeta(input, "security-headers"),
      spec: {
        headers: {
          stsSeconds: 31536000,
          stsIncludeSubdomains: true,
          contentTypeNosniff: true,
          browserXssFilter: true,
          // Odoo frames its own pages (website editor, reports): same origin only.
          customFrameOptionsValue: "SAMEORIGIN",
          referrerPolicy: "strict-origin-when-cross-origin",
        },
      },
    },
    {
      apiVersion: "traefik.io/v1alpha1",
      kind: "Middleware",
      metadata: tenantObjectMeta(input, "rate-limit"),
      spec: { rateLimit: { average: TIERS[input.tier].ingressRateLimitPerSecond, burst: TIERS[input.tier].ingressRateLimitPerSecond * 2, period: "1s" } },
    },
  ];
}

/** One route per domain: websockets to Odoo's websocket port, everything else to its HTTP port. */
export function ingressRoutes(input: TenantManifestInput): Manifest[] {
  return input.domains.map((domain) => {
    const middlewares = [{ name: "security-headers" }, { name: "rate-limit" }];
    return {
      apiVersion: "traefik.io/v1alpha1",
      kind: "IngressRoute",
      metadata: tenantObjectMeta(input, domain),
      spec: {
        entryPoints: ["websecure"],
        routes: [
          { kind: "Rule", match: `Host(\`${domain}\`) && PathPrefix(\`/websocket\`)`, middlewares, services: [{ name: "odoo", port: ODOO_WEBSOCKET_PORT }] },
          { kind: "Rule", match: `Host(\`${domain}\`)`, middlewares, services: [{ name: "odoo", port: ODOO_HTTP_PORT }] },
        ],
        tls: { secretName: "tls" },
      },
    };
  });
}
