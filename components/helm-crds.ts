/**
 * CRDs of the charts that ship them in `crds/`: Helm 3 installs that folder on the first install
 * and never upgrades it, so a chart bump would leave the old CRDs behind. The platform applies them
 * itself, from the chart's source at the pinned chart version, before the release (which skips
 * `crds/`); a chart bump moves both.
 *
 * Applied with server-side apply (the Kubernetes provider's `enableServerSideApply`): several of these
 * CRDs are larger than the 262,144 bytes a client-side apply's last-applied annotation may hold
 * (kube-prometheus-stack's prometheuses CRD is about 830 kB).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** CRD files of one chart version, at the commit its release was tagged from (a tag can move, a commit cannot). */
export interface ChartCrdSource {
  /** The chart version these CRDs belong to: the release must pin the same. */
  readonly chartVersion: string;
  /** GitHub repository of the chart's source. */
  readonly repo: string;
  /** Commit of the chart version's release tag. */
  readonly commit: string;
  /** The chart's CRD folder in that repository. */
  readonly dir: string;
  readonly files: readonly string[];
}

/**
 * Traefik chart 41.3.0 (tag v41.3.0): its traefik.io CRDs. The hub.traefik.io ones serve Traefik Hub,
 * which the platform does not run. Licence: Apache-2.0.
 */
export const TRAEFIK_CRDS: ChartCrdSource = {
  chartVersion: "41.3.0",
  repo: "traefik/traefik-helm-chart",
  commit: "a8a66d0098703627b2cf352c66b1725c196a734a",
  dir: "traefik/crds",
  files: [
    "traefik.io_ingressroutes.yaml",
    "traefik.io_ingressroutetcps.yaml",
    "traefik.io_ingressrouteudps.yaml",
    "traefik.io_middlewares.yaml",
    "traefik.io_middlewaretcps.yaml",
    "traefik.io_serverstransports.yaml",
    "traefik.io_serverstransporttcps.yaml",
    "traefik.io_tlsoptions.yaml",
    "traefik.io_tlsstores.yaml",
    "traefik.io_traefikservices.yaml",
  ],
};

/**
 * kube-prometheus-stack 88.5.3 (tag kube-prometheus-stack-88.5.3, Prometheus Operator v0.93.1): every
 * CRD of its `crds` subchart. Licence: Apache-2.0.
 */
export const KUBE_PROMETHEUS_STACK_CRDS: ChartCrdSource = {
  chartVersion: "88.5.3",
  repo: "prometheus-community/helm-charts",
  commit: "ea930baeebeba39f56d6b44e351f23b2a072a600",
  dir: "charts/kube-prometheus-stack/charts/crds/crds",
  files: [
    "crd-alertmanagerconfigs.yaml",
    "crd-alertmanagers.yaml",
    "crd-podmonitors.yaml",
    "crd-probes.yaml",
    "crd-prometheusagents.yaml",
    "crd-prometheuses.yaml",
    "crd-prometheusrules.yaml",
    "crd-scrapeconfigs.yaml",
    "crd-servicemonitors.yaml",
    "crd-thanosrulers.yaml",
  ],
};

/** Where each CRD file of `source` is read from at deploy time, as Helm reads the chart itself. */
export function crdUrls(source: ChartCrdSource): string[] {
  return source.files.map((file) => `https://raw.githubusercontent.com/${source.repo}/${source.commit}/${source.dir}/${file}`);
}

/**
 * A chart's CRDs as one ConfigGroup; the chart's release depends on it and sets `skipCrds: true`.
 * Dropping a file from a source deletes that CRD and every object of its kind: a preview shows it.
 */
export function chartCrds(name: string, source: ChartCrdSource, opts: pulumi.ComponentResourceOptions): k8s.yaml.v2.ConfigGroup {
  return new k8s.yaml.v2.ConfigGroup(name, { files: crdUrls(source) }, opts);
}
