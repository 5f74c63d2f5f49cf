import { beforeAll, describe, expect, test } from "vitest";
import { certManagerValues, Ingress, traefikValues } from "../components/ingress";
import type { CapturedResource } from "../plan/capture";
import { named, ofType, startHarness } from "./harness";
import { chartValuesValidator, crdValidator, referenceAvailable } from "./schemas";

const SYSTEM = { "odoo-fleet/pool": "system" };

describe.skipIf(!referenceAvailable())("Helm values pass the charts' own schemas", () => {
  test("Traefik 41.3.0", () => {
    const validate = chartValuesValidator("traefik-41.3.0.values.schema.json");
    expect(validate(traefikValues({ replicas: 3, systemNodeSelector: SYSTEM }))).toEqual([]);
    // The schema forbids unknown top-level keys: a misspelt one fails, as it would at deploy time.
    expect(validate({ ...traefikValues({ replicas: 3, systemNodeSelector: SYSTEM }), deploymnet: {} }).length).toBeGreaterThan(0);
  });

  test("cert-manager v1.21.1", () => {
    const validate = chartValuesValidator("cert-manager-v1.21.1.values.schema.json");
    expect(validate(certManagerValues({ systemNodeSelector: SYSTEM }))).toEqual([]);
    expect(validate({ ...certManagerValues({ systemNodeSelector: SYSTEM }), installCRD: true }).length).toBeGreaterThan(0);
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

  test.skipIf(!referenceAvailable())("the ClusterIssuer passes its CRD schema and solves HTTP-01 through Traefik", () => {
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
    expect(crdValidator("cert-manager.io_clusterissuers.yaml")({ apiVersion, kind, metadata, spec } as never)).toEqual([]);
  });
});
