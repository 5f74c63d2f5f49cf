/**
 * How requests reach Odoo: its Service, the TLS certificate of the tenant's domains, Traefik's security
 * headers and rate limit, and one IngressRoute per domain.
 */
import { TIERS } from "../../tiers/catalogue";
import { CLUSTER_ISSUER } from "../ingress";
import { WEB_LABELS } from "../../model/kubernetes";
import { ODOO_HTTP_PORT, ODOO_WEBSOCKET_PORT } from "./odoo-conf";
import { tenantObjectMeta, type Manifest, type TenantManifestInput } from "./manifest-input";
import { DATABASE_MANAGER_PATHS, EDGE_ROUTE_PRIORITY, LOGIN_PATHS, LOGIN_RATE_LIMIT, pathsRule } from "../../model/edge";

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

/**
 * The middlewares: security headers and the tier's rate limit on every route; a stricter per-client
 * limit on the login routes; and a refusal of the database manager. Traefik has no "deny" middleware:
 * an IPAllowList that admits only the loopback answers every client 404 (no client reaches Traefik from
 * its own pod's loopback), https://doc.traefik.io/traefik/middlewares/http/ipallowlist/.
 */
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
    {
      apiVersion: "traefik.io/v1alpha1",
      kind: "Middleware",
      metadata: tenantObjectMeta(input, "login-rate-limit"),
      // No sourceCriterion: Traefik keys the limit on the client address, which the NLB keeps
      // (externalTrafficPolicy Local), https://doc.traefik.io/traefik/middlewares/http/ratelimit/.
      spec: { rateLimit: { ...LOGIN_RATE_LIMIT } },
    },
    {
      apiVersion: "traefik.io/v1alpha1",
      kind: "Middleware",
      metadata: tenantObjectMeta(input, "refuse"),
      spec: { ipAllowList: { sourceRange: ["127.0.0.1/32"], rejectStatusCode: 404 } },
    },
  ];
}

/**
 * One IngressRoute per domain: the database manager refused (a second layer behind `list_db = False`),
 * the login paths under the login limit, websockets to Odoo's websocket port, the rest to its HTTP port.
 * Traefik decodes unreserved %-escapes, removes `..`, `.` and `//` segments before routing and rejects
 * encoded `/`, `\`, `;`, `%`, `?`, `#` (https://doc.traefik.io/traefik/security/request-path), so other
 * spellings of these paths reach the same rule.
 */
export function ingressRoutes(input: TenantManifestInput): Manifest[] {
  return input.domains.map((domain) => {
    const middlewares = [{ name: "security-headers" }, { name: "rate-limit" }];
    const http = [{ name: "odoo", port: ODOO_HTTP_PORT }];
    return {
      apiVersion: "traefik.io/v1alpha1",
      kind: "IngressRoute",
      metadata: tenantObjectMeta(input, domain),
      spec: {
        entryPoints: ["websecure"],
        routes: [
          { kind: "Rule", match: pathsRule(domain, DATABASE_MANAGER_PATHS), priority: EDGE_ROUTE_PRIORITY.databaseManager, middlewares: [{ name: "refuse" }], services: http },
          { kind: "Rule", match: pathsRule(domain, { exact: LOGIN_PATHS }), priority: EDGE_ROUTE_PRIORITY.login, middlewares: [...middlewares, { name: "login-rate-limit" }], services: http },
          { kind: "Rule", match: `Host(\`${domain}\`) && PathPrefix(\`/websocket\`)`, middlewares, services: [{ name: "odoo", port: ODOO_WEBSOCKET_PORT }] },
          { kind: "Rule", match: `Host(\`${domain}\`)`, middlewares, services: http },
        ],
        tls: { secretName: "tls" },
      },
    };
  });
}
