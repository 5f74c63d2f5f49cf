/**
 * The edge and the platform's own namespaces: each tenant's routes refuse the database manager and
 * slow password guessing; every system namespace is default-deny and runs at the least privileged Pod
 * Security level it can; Pushgateway pushes are authenticated and bound to the pushing tenant.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { DATABASE_MANAGER_PATHS, LOGIN_PATHS, LOGIN_RATE_LIMIT, PUSH_JOBS, ratePerMinute } from "../model/edge";
import { inNamespace, metadataOf, tenantOfK8s } from "./common";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Route {
  match: string;
  priority?: number;
  middlewares?: { name: string; namespace?: string }[];
}

const INGRESS_ROUTE = "kubernetes:traefik.io/v1alpha1:IngressRoute";
const MIDDLEWARE = "kubernetes:traefik.io/v1alpha1:Middleware";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

const hostsOf = (match: string): string[] => [...match.matchAll(/Host\(`([^`]+)`\)/g)].map((m) => m[1]!);
/** Traefik's default priority is the rule's length. */
const priorityOf = (route: Route): number => route.priority ?? route.match.length;

/**
 * Whether `route` matches every one of `paths` on `host` and nothing narrower: besides Host and path
 * matchers the rule may hold only `&&`, `||` and parentheses (a Method or Header term would let the
 * other requests through).
 */
export function ruleCovers(match: string, host: string, paths: { readonly prefixes?: readonly string[]; readonly exact?: readonly string[] }): boolean {
  if (!hostsOf(match).includes(host)) return false;
  const rest = match.replace(/(Host|PathPrefix|Path)\(`[^`]*`\)/g, "").replace(/&&|\|\||[()\s]/g, "");
  if (rest !== "") return false;
  const prefixes = [...match.matchAll(/PathPrefix\(`([^`]*)`\)/g)].map((m) => m[1]!);
  const exact = [...match.matchAll(/(?<!Prefix)Path\(`([^`]*)`\)/g)].map((m) => m[1]!);
  const covered = (path: string, isPrefix: boolean) => prefixes.some((p) => path.startsWith(p)) || (!isPrefix && exact.includes(path));
  return (paths.prefixes ?? []).every((p) => covered(p, true)) && (paths.exact ?? []).every((p) => covered(p, false));
}

/** Whether a request for one of `paths` could match `match` (its path terms; none means every path). */
function mayOverlap(match: string, paths: Parameters<typeof ruleCovers>[2]): boolean {
  const prefixes = [...match.matchAll(/PathPrefix\(`([^`]*)`\)/g)].map((m) => m[1]!);
  const exact = [...match.matchAll(/(?<!Prefix)Path\(`([^`]*)`\)/g)].map((m) => m[1]!);
  if (prefixes.length + exact.length === 0) return true;
  const underPrefix = (paths.prefixes ?? []).some((p) => prefixes.some((q) => p.startsWith(q) || q.startsWith(p)) || exact.some((e) => e.startsWith(p)));
  const onExact = (paths.exact ?? []).some((p) => prefixes.some((q) => p.startsWith(q)) || exact.includes(p));
  return underPrefix || onExact;
}

/**
 * For each host of each tenant IngressRoute: the route that serves `paths` first (it covers them all and
 * outranks every other route that could take one of them), with its middlewares' specs.
 */
function guardingRoutes(resources: readonly PolicyResource[], paths: Parameters<typeof ruleCovers>[2]) {
  const found: { route: PolicyResource; host: string; tenant: string; middlewares?: Props[] }[] = [];
  for (const r of resources) {
    if (r.type !== INGRESS_ROUTE) continue;
    const tenant = tenantOfK8s(r.props);
    if (!tenant) continue;
    const namespace = metadataOf(r.props).namespace!;
    const routes = (r.props.spec?.routes ?? []) as Route[];
    for (const host of new Set(routes.flatMap((route) => hostsOf(route.match)))) {
      const onHost = routes.filter((route) => hostsOf(route.match).includes(host));
      const guard = onHost.find((route) => ruleCovers(route.match, host, paths) && onHost.every((other) => other === route || !mayOverlap(other.match, paths) || priorityOf(other) < priorityOf(route)));
      const middlewares = guard?.middlewares?.map((ref) =>
        ref.namespace !== undefined && ref.namespace !== namespace ? undefined : inNamespace(resources, MIDDLEWARE, namespace).find((m) => metadataOf(m.props).name === ref.name)?.props.spec,
      );
      found.push({ route: r, host, tenant, ...(middlewares ? { middlewares: middlewares.filter((m): m is Props => m !== undefined) } : {}) });
    }
  }
  return found;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+(\/(8|9|[12]\d|3[0-2]))?|::1(\/128)?)$/;

export const tenantDatabaseManagerBlocked: StackValidationPolicy = {
  name: "tenant-database-manager-blocked",
  description:
    "Every tenant host answers Odoo's database manager (/web/database/*, XML-RPC's db service) with a refusal at Traefik, in a route that outranks the host's others: a second layer behind list_db = False.",
  enforcementLevel: "mandatory",
  remediationSteps: "Create the tenant's routes with components/tenant/routes.ts: its first route refuses the database-manager paths through the `refuse` middleware.",
  validateStack: (args, reportViolation) => {
    for (const { route, host, tenant, middlewares } of guardingRoutes(args.resources, DATABASE_MANAGER_PATHS)) {
      const refuses = (middlewares ?? []).some((m) => {
        const range = (m.ipAllowList?.sourceRange ?? []) as string[];
        return m.ipAllowList && m.ipAllowList.ipStrategy === undefined && range.every((cidr) => LOOPBACK.test(cidr));
      });
      if (!middlewares) reportViolation(`tenant ${tenant}: no route of ${host} refuses the database manager ahead of its other routes`, route.urn);
      else if (!refuses) reportViolation(`tenant ${tenant}: the database-manager route of ${host} lets clients through (no IPAllowList admitting only the loopback)`, route.urn);
    }
  },
};

export const tenantLoginRateLimited: StackValidationPolicy = {
  name: "tenant-login-rate-limited",
  description: "Every tenant host sends its login paths through a per-client rate limit no looser than the configured attempts per minute, in a route that outranks the host's others.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: { maxAttemptsPerMinute: { type: "number", default: ratePerMinute(LOGIN_RATE_LIMIT), description: "Login requests one client may make per minute." } },
  },
  remediationSteps: "Create the tenant's routes with components/tenant/routes.ts: its login route adds the `login-rate-limit` middleware.",
  validateStack: (args, reportViolation) => {
    const { maxAttemptsPerMinute } = args.getConfig<{ maxAttemptsPerMinute: number }>();
    for (const { route, host, tenant, middlewares } of guardingRoutes(args.resources, { exact: LOGIN_PATHS })) {
      // Per client: no sourceCriterion (the client address), or an ipStrategy; a host or header key is shared by every client.
      const limited = (middlewares ?? []).some((m) => m.rateLimit && ratePerMinute(m.rateLimit) <= maxAttemptsPerMinute && (m.rateLimit.sourceCriterion === undefined || Object.keys(m.rateLimit.sourceCriterion).every((k) => k === "ipStrategy")));
      if (!middlewares) reportViolation(`tenant ${tenant}: no route of ${host} takes the login paths ahead of its other routes`, route.urn);
      else if (!limited) reportViolation(`tenant ${tenant}: the login route of ${host} has no per-client rate limit of at most ${maxAttemptsPerMinute} a minute`, route.urn);
    }
  },
};

const PSA_ENFORCE = "pod-security.kubernetes.io/enforce";

/** A NetworkPolicy selecting every pod of its namespace and allowing nothing either way. */
export function isDefaultDeny(policy: Props): boolean {
  const spec = policy.spec ?? {};
  const types = (spec.policyTypes ?? []) as string[];
  return Object.keys(spec.podSelector ?? {}).length === 0 && types.includes("Ingress") && types.includes("Egress") && !spec.ingress && !spec.egress;
}

export const systemNamespaceIsolated: StackValidationPolicy = {
  name: "system-namespace-isolated",
  description:
    "Every platform namespace (odoo-fleet/role=platform: ingress, cert-manager, monitoring, the fleet's own) has a default-deny NetworkPolicy and enforces the restricted or baseline Pod Security level; privileged only where the configuration names the need.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      privileged: {
        type: "object",
        default: { "node-exporter": "prometheus-node-exporter reads the host's /proc, /sys and root file system with hostNetwork and hostPID" },
        description: "Namespaces that may enforce privileged, each with the reason.",
      },
    },
  },
  remediationSteps: "Add a default-deny NetworkPolicy and the allows each component needs; label the namespace pod-security.kubernetes.io/enforce=restricted (or baseline), or move the pod that needs host access to a namespace of its own.",
  validateStack: (args, reportViolation) => {
    const { privileged } = args.getConfig<{ privileged: Record<string, string> }>();
    for (const ns of args.resources) {
      if (ns.type !== "kubernetes:core/v1:Namespace" || metadataOf(ns.props).labels?.["odoo-fleet/role"] !== "platform") continue;
      const name = metadataOf(ns.props).name!;
      if (!inNamespace(args.resources, NETWORK_POLICY, name).some((p) => isDefaultDeny(p.props))) reportViolation(`system namespace ${name} has no default-deny NetworkPolicy`, ns.urn);
      const level = metadataOf(ns.props).labels?.[PSA_ENFORCE];
      if (level === "privileged" && privileged[name] === undefined) reportViolation(`system namespace ${name} enforces privileged without a stated need`, ns.urn);
      if (level !== "privileged" && level !== "baseline" && level !== "restricted") reportViolation(`system namespace ${name} enforces no Pod Security level`, ns.urn);
    }
  },
};

/** The `location` blocks of an nginx configuration: modifier, pattern and body. */
function nginxLocations(conf: string): { modifier: string; pattern: string; body: string }[] {
  return [...conf.matchAll(/location\s+(=|~|\^~)?\s*(\S+)\s*\{((?:[^{}]|\{[^{}]*\})*)\}/g)].map((m) => ({ modifier: m[1] ?? "", pattern: m[2]!, body: m[3]! }));
}

/**
 * Why the Pushgateway behind `values` accepts a push that is not bound to its pusher, or undefined.
 * Bound means: the Pushgateway listens on the loopback only, the Service sends to the proxy container,
 * and the proxy's every location that passes writes to the Pushgateway requires a basic-auth user and
 * checks that it is the `<job user>-<tenant>` of the one grouping key the location admits.
 */
export function pushgatewayUnbound(values: Props, configMaps: readonly Props[]): string | undefined {
  const listen = ((values.extraArgs ?? []) as string[]).find((a) => a.startsWith("--web.listen-address="));
  if (!listen || !/=(127\.0\.0\.1|\[::1\]|localhost):\d+$/.test(listen)) return "the Pushgateway listens on the pod network, where pushes skip the authenticating proxy";
  const proxy = ((values.extraContainers ?? []) as Props[]).find((c) => ((c.ports ?? []) as Props[]).some((p) => p.containerPort === values.service?.targetPort || p.name === values.service?.targetPort));
  if (!proxy) return "the Pushgateway's Service does not send to an authenticating proxy container";
  const volumes = new Set(((proxy.volumeMounts ?? []) as Props[]).map((m) => m.name as string));
  const configNames = ((values.extraVolumes ?? []) as Props[]).filter((v) => volumes.has(v.name) && v.configMap).map((v) => v.configMap.name as string);
  const conf = configMaps.filter((c) => configNames.includes(metadataOf(c).name!)).flatMap((c) => Object.values((c.data ?? {}) as Record<string, string>)).join("\n");
  const locations = nginxLocations(conf);
  if (locations.length === 0) return "the proxy in front of the Pushgateway has no configuration the plan can read";
  for (const { modifier, pattern, body } of locations) {
    if (!/proxy_pass/.test(body)) continue;
    const readOnly = /limit_except\s+GET\s*\{\s*deny\s+all;\s*\}/.test(body);
    if (readOnly && modifier === "=" && !pattern.startsWith("/metrics/")) continue;
    const job = /^\^\/metrics\/job\/(\w+)\/tenant\/\(\?<(\w+)>\[a-z0-9-\]\+\)\$$/.exec(pattern);
    const user = job ? PUSH_JOBS[job[1] as keyof typeof PUSH_JOBS] : undefined;
    const bound = job && user && modifier === "~" && /auth_basic\s+"[^"]+";/.test(body) && body.includes(`if ($remote_user != "${user}-$${job[2]}") { return 403; }`);
    if (!bound) return `the proxy passes ${pattern} to the Pushgateway without binding the basic-auth user to the grouping key`;
  }
  return undefined;
}

export const pushgatewayPushesBound: StackValidationPolicy = {
  name: "pushgateway-pushes-bound",
  description:
    "The Pushgateway takes pushes only through a proxy that authenticates each pusher and admits it to its own grouping key (/metrics/job/<job>/tenant/<tenant>), so no pod can fake another tenant's backup or drill result.",
  enforcementLevel: "mandatory",
  remediationSteps: "Deploy the Pushgateway with components/observability's values: bound to the loopback, behind the push-auth proxy and its per-tenant credentials.",
  validateStack: (args, reportViolation) => {
    for (const r of args.resources) {
      if (r.type !== "kubernetes:helm.sh/v3:Release" || r.props.chart !== "prometheus-pushgateway") continue;
      const configMaps = inNamespace(args.resources, "kubernetes:core/v1:ConfigMap", r.props.namespace as string).map((c) => c.props);
      const why = pushgatewayUnbound((r.props.values ?? {}) as Props, configMaps);
      if (why) reportViolation(`Pushgateway ${r.props.name as string}: ${why}`, r.urn);
    }
  },
};

export const edgePolicies = [tenantDatabaseManagerBlocked, tenantLoginRateLimited, systemNamespaceIsolated, pushgatewayPushesBound];
