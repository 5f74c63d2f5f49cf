import { beforeAll, describe, expect, test } from "vitest";
import { CERT_MANAGER_CHART, certManagerValues, Ingress, TRAEFIK_CHART, traefikValues } from "../components/ingress";
import type { CapturedResource } from "../model/resource";
import { named, ofType, startHarness } from "./harness";
import { chartValuesValidator, crdValidator } from "./schemas";

const SYSTEM = { "odoo-fleet/pool": "system" };

describe("Helm values pass the charts' own schemas", () => {
  test(`Traefik ${TRAEFIK_CHART.version}`, () => {
    const validate = chartValuesValidator(TRAEFIK_CHART);
    expect(validate(traefikValues({ replicas: 3, systemNodeSelector: SYSTEM }))).toEqual([]);
    // The schema forbids unknown top-level keys: a misspelt one fails, as it would at deploy time.
    expect(validate({ ...traefikValues({ replicas: 3, systemNodeSelector: SYSTEM }), deploymnet: {} }).length).toBeGreaterThan(0);
  });

  test(`cert-manager ${CERT_MANAGER_CHART.version}`, () => {
    const validate = chartValuesValidator(CERT_MANAGER_CHART);
    expect(validate(certManagerValues({ systemNodeSelector: SYSTEM }))).toEqual([]);
    expect(validate({ ...certManagerValues({ systemNodeSelector: SYSTEM }), installCRD: true }).length).toBeGreaterThan(0);
  });

  test("a chart bumped without its vendored schemas fails, naming the missing file", () => {
    expect(() => chartValuesValidator({ ...TRAEFIK_CHART, version: "99.0.0" })).toThrow(
      "test/fixtures/schemas/traefik-99.0.0/values.schema.json is not vendored: a chart bump brings its schemas (see test/fixtures/schemas/README.md)",
    );
  });
});

describe("Ingress component", () => {
  let resources: CapturedResource[];
  beforeAll(async () => {
    const harness = await startHarness();
    new Ingress("prod", { replicas: 3, acmeEmail: "ops@example.com", acmeServer: "https://acme-v02.api.letsencrypt.org/directory", systemNodeSelector: SYSTEM });
    resources = await harness.settle();
  });

  test("Traefik and cert-manager from their charts, pinned, in restricted namespaces", () => {
    const releases = ofType(resources, "kubernetes:helm.sh/v3:Release");
    expect(releases.map((r) => [r.inputs.chart, r.inputs.version, (r.inputs.repositoryOpts as { repo: string }).repo, r.inputs.namespace])).toEqual([
      ["cert-manager", "v1.21.1", "https://charts.jetstack.io", "cert-manager"],
      ["traefik", "41.3.0", "https://traefik.github.io/charts", "traefik"],
    ]);
    const traefik = named(resources, "prod-traefik", "kubernetes:helm.sh/v3:Release");
    expect(traefik.inputs.values).toMatchObject({
      deployment: { replicas: 3 },
      podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
      topologySpreadConstraints: [{ topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule" }],
      ports: { web: { http: { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } } } },
      service: { annotations: { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" }, spec: { externalTrafficPolicy: "Local" } },
      accessLog: { enabled: true, format: "json" },
      metrics: { prometheus: { entryPoint: "metrics", addRoutersLabels: true, serviceMonitor: { enabled: true } } },
    });
    for (const ns of ofType(resources, "kubernetes:core/v1:Namespace")) {
      expect((ns.inputs.metadata as { labels: Record<string, string> }).labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    }
  });

  test("the ClusterIssuer passes its CRD schema and solves HTTP-01 through Traefik", () => {
    const issuer = named(resources, "prod-cluster-issuer");
    expect(issuer.inputs.spec).toEqual({
      acme: {
        email: "ops@example.com",
        server: "https://acme-v02.api.letsencrypt.org/directory",
        privateKeySecretRef: { name: "letsencrypt-account-key" },
        solvers: [{ http01: { ingress: { ingressClassName: "traefik" } } }],
      },
    });
    const { apiVersion, kind, metadata, spec } = issuer.inputs as { apiVersion: string; kind: string; metadata: unknown; spec: unknown };
    expect(crdValidator(CERT_MANAGER_CHART, "cert-manager.io_clusterissuers.yaml")({ apiVersion, kind, metadata, spec } as never)).toEqual([]);
  });
});
