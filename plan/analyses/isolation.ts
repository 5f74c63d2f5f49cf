/**
 * Isolation analysis of a planned cluster: from the NetworkPolicies, namespaces and pod templates it
 * computes which pods may reach which (a path needs the source's egress and the target's ingress to
 * allow it, as Kubernetes decides), and reports any path between two tenants' pods and any way into a
 * tenant other than through Traefik. Sources are looked up from each target's admitted namespaces, so
 * the work grows with the number of pods, not with its square, while policies stay namespace-specific.
 * This is the network channel; channels.ts checks the others (database, cache, file system, IAM, jobs,
 * hostnames, RBAC).
 */
import type { PolicyResource } from "@pulumi/policy";
import { contains, overlaps, parseCidr, type Cidr } from "../../model/cidr";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };

export interface PodGroup {
  /** `Kind namespace/name` of the workload whose pods these are. */
  workload: string;
  namespace: string;
  labels: Record<string, string>;
  /** The tenant owning the namespace, if it is a tenant's. */
  tenant?: string;
}

export interface IsolationFinding {
  /** What was found within its channel: `cross-tenant-path`, `outside-ingress`, `cache-acl`, `hostname`… */
  kind: string;
  /** The channel the finding is in (channels.ts lists them). */
  channel: string;
  tenant: string;
  message: string;
}

const WORKLOADS: Record<string, (spec: Obj) => Obj | undefined> = {
  "kubernetes:apps/v1:Deployment": (s) => s.template,
  "kubernetes:apps/v1:StatefulSet": (s) => s.template,
  "kubernetes:apps/v1:DaemonSet": (s) => s.template,
  "kubernetes:batch/v1:Job": (s) => s.template,
  "kubernetes:batch/v1:CronJob": (s) => s.jobTemplate?.spec?.template,
};

export function matches(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = k(labels, e.key);
    const value = labels[e.key];
    if (e.operator === "In" && !(has && (e.values ?? []).includes(value!))) return false;
    if (e.operator === "NotIn" && has && (e.values ?? []).includes(value!)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}
const k = (labels: Record<string, string>, key: string) => Object.prototype.hasOwnProperty.call(labels, key);

interface Model {
  groups: PodGroup[];
  namespaceLabels: Map<string, Record<string, string>>;
  /** NetworkPolicies by namespace: a pod is only ever selected by its own namespace's. */
  policiesByNamespace: Map<string, Obj[]>;
  podCidrs: Cidr[];
  /** Namespaces a namespaceSelector picks, computed once per distinct selector. */
  selectedNamespaces: Map<string, string[]>;
}

export function buildModel(resources: readonly PolicyResource[]): Model {
  const namespaceLabels = new Map<string, Record<string, string>>();
  for (const r of resources) {
    if (r.type !== "kubernetes:core/v1:Namespace") continue;
    const name = String(r.props.metadata?.name);
    // The API server adds this label to every namespace.
    namespaceLabels.set(name, { ...(r.props.metadata?.labels ?? {}), "kubernetes.io/metadata.name": name });
  }
  const groups: PodGroup[] = [];
  for (const r of resources) {
    const template = WORKLOADS[r.type]?.(r.props.spec ?? {});
    if (!template) continue;
    const namespace = String(r.props.metadata?.namespace ?? "default");
    const nsLabels = namespaceLabels.get(namespace) ?? {};
    groups.push({
      workload: `${r.type.split(":").pop()} ${namespace}/${r.props.metadata?.name ?? r.name}`,
      namespace,
      labels: template.metadata?.labels ?? {},
      ...(nsLabels["odoo-fleet/role"] === "tenant" ? { tenant: nsLabels.tenant ?? namespace } : {}),
    });
  }
  const policiesByNamespace = new Map<string, Obj[]>();
  for (const r of resources) {
    if (r.type !== "kubernetes:networking.k8s.io/v1:NetworkPolicy") continue;
    const namespace = String(r.props.metadata?.namespace ?? "default");
    policiesByNamespace.set(namespace, [...(policiesByNamespace.get(namespace) ?? []), r.props as Obj]);
  }
  // Pods take their addresses from the private (node) subnets through the VPC CNI.
  const podCidrs = resources
    .filter((r) => r.type === "aws:ec2/subnet:Subnet" && r.props.tags?.["odoo-fleet/subnet-role"] === "private")
    .map((r) => parseCidr(String(r.props.cidrBlock)));
  return { groups, namespaceLabels, policiesByNamespace, podCidrs, selectedNamespaces: new Map() };
}

type Direction = "ingress" | "egress";

/** Whether a peer entry of a policy rule admits pod group `other`, seen from a policy in `policyNs`. */
function peerAdmits(peer: Obj, policyNs: string, other: PodGroup, model: Model): boolean {
  if (peer.ipBlock) {
    // An address block admits pods only where it covers pod addresses not all carved out again.
    const block = parseCidr(String(peer.ipBlock.cidr));
    const except = ((peer.ipBlock.except ?? []) as string[]).map(parseCidr);
    return model.podCidrs.some((pods) => overlaps(block, pods) && !except.some((e) => contains(e, pods)));
  }
  const inNamespace = peer.namespaceSelector ? matches(peer.namespaceSelector, model.namespaceLabels.get(other.namespace) ?? { "kubernetes.io/metadata.name": other.namespace }) : other.namespace === policyNs;
  return inNamespace && matches(peer.podSelector, other.labels);
}

/** The namespaces a namespaceSelector picks (each distinct selector is matched against every namespace once). */
function selectedNamespaces(selector: Selector, model: Model): string[] {
  const key = JSON.stringify(selector);
  let picked = model.selectedNamespaces.get(key);
  if (!picked) {
    // A selector by name alone names its namespace even when the plan does not create it (Helm does).
    const named = selector.matchLabels?.["kubernetes.io/metadata.name"];
    const byNameOnly = named !== undefined && Object.keys(selector).length === 1 && Object.keys(selector.matchLabels!).length === 1;
    picked = byNameOnly ? [named] : [...model.namespaceLabels].filter(([, labels]) => matches(selector, labels)).map(([ns]) => ns);
    model.selectedNamespaces.set(key, picked);
  }
  return picked;
}

/** The policies of `group`'s namespace that select its pods in `type` ("Ingress" or "Egress"). */
function selectingPolicies(group: PodGroup, type: "Ingress" | "Egress", model: Model): Obj[] {
  return (model.policiesByNamespace.get(group.namespace) ?? []).filter((p) => matches(p.spec?.podSelector, group.labels) && (p.spec?.policyTypes ?? ["Ingress"]).includes(type));
}

/** Whether `group`'s policies let traffic through in `direction` with `other` at the far end. */
function allows(group: PodGroup, other: PodGroup, direction: Direction, model: Model): boolean {
  const type = direction === "ingress" ? "Ingress" : "Egress";
  const selecting = selectingPolicies(group, type, model);
  if (selecting.length === 0) return true; // not isolated in this direction
  return selecting.some((p) =>
    ((p.spec?.[direction] ?? []) as Obj[]).some((rule) => {
      const peers = (rule[direction === "ingress" ? "from" : "to"] ?? []) as Obj[];
      return peers.length === 0 || peers.some((peer) => peerAdmits(peer, group.namespace, other, model));
    }),
  );
}

/** The namespaces whose pods `group` admits in, by its ingress rules ("*" for any). */
function admittedNamespaces(group: PodGroup, model: Model): Set<string> | "*" {
  const selecting = selectingPolicies(group, "Ingress", model);
  if (selecting.length === 0) return "*";
  const namespaces = new Set<string>();
  for (const p of selecting) {
    for (const rule of (p.spec?.ingress ?? []) as Obj[]) {
      const peers = (rule.from ?? []) as Obj[];
      if (peers.length === 0) return "*";
      for (const peer of peers) {
        if (peer.ipBlock) {
          if (peerAdmits(peer, group.namespace, group, model)) return "*";
        } else if (!peer.namespaceSelector) {
          namespaces.add(group.namespace);
        } else {
          for (const ns of selectedNamespaces(peer.namespaceSelector, model)) namespaces.add(ns);
        }
      }
    }
  }
  return namespaces;
}

/** The network channel: its findings, and how many tenant pod groups it checked. */
export function networkChannel(resources: readonly PolicyResource[], entryNamespaces: readonly string[] = ["traefik"]): { checked: number; findings: IsolationFinding[] } {
  const model = buildModel(resources);
  return { checked: model.groups.filter((g) => g.tenant).length, findings: networkFindings(model, entryNamespaces) };
}

export function isolationFindings(resources: readonly PolicyResource[], entryNamespaces: readonly string[] = ["traefik"]): IsolationFinding[] {
  return networkFindings(buildModel(resources), entryNamespaces);
}

function networkFindings(model: Model, entryNamespaces: readonly string[]): IsolationFinding[] {
  const byNamespace = new Map<string, PodGroup[]>();
  for (const g of model.groups) byNamespace.set(g.namespace, [...(byNamespace.get(g.namespace) ?? []), g]);
  const findings: IsolationFinding[] = [];
  for (const target of model.groups.filter((g) => g.tenant)) {
    const admitted = admittedNamespaces(target, model);
    if (admitted === "*") {
      findings.push({ kind: "outside-ingress", channel: "network", tenant: target.tenant!, message: `${target.workload} admits traffic from anywhere` });
    } else {
      for (const ns of admitted) {
        if (ns !== target.namespace && !entryNamespaces.includes(ns)) findings.push({ kind: "outside-ingress", channel: "network", tenant: target.tenant!, message: `${target.workload} admits traffic from namespace ${ns}` });
      }
    }
    const sources = admitted === "*" ? model.groups : [...admitted].flatMap((ns) => byNamespace.get(ns) ?? []);
    for (const source of sources) {
      if (!source.tenant || source.tenant === target.tenant) continue;
      if (allows(source, target, "egress", model) && allows(target, source, "ingress", model)) {
        findings.push({ kind: "cross-tenant-path", channel: "network", tenant: target.tenant!, message: `${source.workload} (tenant ${source.tenant}) can reach ${target.workload} (tenant ${target.tenant})` });
      }
    }
  }
  return findings;
}
