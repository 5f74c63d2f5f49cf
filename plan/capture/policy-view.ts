/**
 * The captured resources as the Pulumi policy server hands them to a policy pack (see
 * @pulumi/policy/server.js): inputs go through the policy SDK's own deserializeProperties and
 * unknownCheckingProxy, parents, dependencies and providers are linked. The analyses and the policy
 * evaluation read this one view, built once per plan.
 */
import type { PolicyResource } from "@pulumi/policy";
import type { CapturedResource } from "../../model/resource";
import { providerUrnOf } from "./capture";

// Exported by the policy SDK at run time, not in its typings.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { deserializeProperties } = require("@pulumi/policy/deserialize") as { deserializeProperties(struct: { toJavaScript(): Record<string, unknown> }, proxySecrets: boolean): Record<string, unknown> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { unknownCheckingProxy } = require("@pulumi/policy/proxy") as { unknownCheckingProxy<T>(value: T): T };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getPulumiType } = require("@pulumi/policy/policy") as { getPulumiType(fn: unknown): string | undefined };

/** As the server's isTypeOf: the class's attached Pulumi type, else its isInstance. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
  const pulumiType = getPulumiType(resourceClass);
  if (pulumiType) return type === pulumiType;
  const isInstance = (resourceClass as { isInstance?: (o: unknown) => boolean }).isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

/** A captured resource and, where the capture kept it, its inputs in Pulumi's wire format. */
export interface EvaluationInput {
  resource: CapturedResource;
  raw?: Record<string, unknown>;
}

function props(input: EvaluationInput): Record<string, unknown> {
  const raw = input.raw ?? input.resource.inputs;
  return unknownCheckingProxy(deserializeProperties({ toJavaScript: () => raw }, false));
}

/** Builds the PolicyResource objects the server hands stack policies (parents and dependencies linked). */
export function policyResources(inputs: readonly EvaluationInput[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const list = inputs.filter((i) => i.resource.custom).map((input) => {
    const r = input.resource;
    const p = props(input);
    const resource: PolicyResource = {
      type: r.type,
      props: p,
      urn: r.urn,
      name: r.name,
      opts: { protect: r.protect, ignoreChanges: r.ignoreChanges, aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [], ...(r.parent ? { parent: r.parent } : {}) },
      dependencies: [],
      propertyDependencies: {},
      isType: (resourceClass: unknown) => isTypeOf(r.type, resourceClass),
      asType: ((resourceClass: unknown) => (isTypeOf(r.type, resourceClass) ? p : undefined)) as PolicyResource["asType"],
    } as PolicyResource;
    byUrn.set(r.urn, resource);
    return { resource, input };
  });
  for (const { resource, input } of list) {
    const r = input.resource;
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    if (parent) resource.parent = parent;
    resource.dependencies = r.dependsOn.map((d) => byUrn.get(d)).filter((d): d is PolicyResource => d !== undefined);
    const provider = byUrn.get(providerUrnOf(r.provider) ?? "");
    if (provider) resource.provider = { type: provider.type, props: provider.props, urn: provider.urn, name: provider.name };
  }
  return list.map((l) => l.resource);
}
