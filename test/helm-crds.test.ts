import { describe, expect, test } from "vitest";
import { crdUrls, KUBE_PROMETHEUS_STACK_CRDS, TRAEFIK_CRDS } from "../components/helm-crds";
import { TRAEFIK_CHART } from "../components/ingress";
import { kubePrometheusStackValues, KUBE_PROMETHEUS_STACK } from "../components/observability";

describe("CRDs of the charts, per pinned chart version", () => {
  test("each CRD source belongs to the chart version its release pins", () => {
    expect(TRAEFIK_CRDS.chartVersion).toBe(TRAEFIK_CHART.version);
    expect(KUBE_PROMETHEUS_STACK_CRDS.chartVersion).toBe(KUBE_PROMETHEUS_STACK.version);
  });

  test("files are read at a commit, never a branch or a tag that can move", () => {
    expect(crdUrls(TRAEFIK_CRDS)[0]).toBe("https://raw.githubusercontent.com/traefik/traefik-helm-chart/a8a66d0098703627b2cf352c66b1725c196a734a/traefik/crds/traefik.io_ingressroutes.yaml");
    for (const source of [TRAEFIK_CRDS, KUBE_PROMETHEUS_STACK_CRDS]) {
      expect(source.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(new Set(source.files).size).toBe(source.files.length);
      for (const url of crdUrls(source)) expect(url).toMatch(new RegExp(`^https://raw\\.githubusercontent\\.com/${source.repo}/${source.commit}/${source.dir}/[a-z0-9._-]+\\.yaml$`));
    }
    expect(crdUrls(KUBE_PROMETHEUS_STACK_CRDS)).toHaveLength(10);
    expect(crdUrls(TRAEFIK_CRDS)).toHaveLength(10);
  });

  test("kube-prometheus-stack leaves its CRD subchart off: the platform applies them", () => {
    const values = kubePrometheusStackValues({ environment: "production", zones: 3, systemNodeSelector: { "odoo-fleet/pool": "system" } }, {}, "arn:aws:iam::123456789012:role/am");
    expect(values.crds).toEqual({ enabled: false });
  });
});
