/**
 * Evaluates policies over captured resources the way the Pulumi policy server does (see
 * @pulumi/policy/server.js): inputs go through the policy SDK's own deserializeProperties and
 * unknownCheckingProxy, resource policies see one resource at a time with its provider, stack
 * policies see them all with parents and dependencies linked, config gets each schema's defaults,
 * and notApplicable() skips a policy for a resource.
 */
import type { EnforcementLevel, Policy, PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { providerUrnOf } from "../capture/capture";
import type { CapturedResource } from "../../model/resource";
import type { PlanViolation } from "../report/document";

// Exported by the policy SDK at run time, not in its typings.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { deserializeProperties } = require("@pulumi/policy/deserialize") as { deserializeProperties(struct: { toJavaScript(): Record<string, unknown> }, proxySecrets: boolean): Record<string, unknown> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { unknownCheckingProxy, UnknownValueError } = require("@pulumi/policy/proxy") as { unknownCheckingProxy<T>(value: T): T; UnknownValueError: new (...args: unknown[]) => Error };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getPulumiType, isResourcePolicy, isStackPolicy } = require("@pulumi/policy/policy") as {
  getPulumiType(fn: unknown): string | undefined;
  isResourcePolicy(p: Policy): p is ResourceValidationPolicy;
  isStackPolicy(p: Policy): p is StackValidationPolicy;
};

export interface EvaluatedViolation extends PlanViolation {
  /** Tenant the resource belongs to, for grouping; null for platform resources. */
  tenant: string | null;
}

class NotApplicable extends Error {}

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

/** Each policy's configuration: its schema's defaults, overridden by `overrides[policy]`. */
export function policyConfig(policy: Policy, overrides: Record<string, Record<string, unknown>> = {}): Record<string, unknown> {
  const defaults = Object.fromEntries(Object.entries(policy.configSchema?.properties ?? {}).filter(([, s]) => (s as { default?: unknown }).default !== undefined).map(([k, s]) => [k, (s as { default: unknown }).default]));
  const { enforcementLevel: _ignored, ...rest } = overrides[policy.name] ?? {};
  return { ...defaults, ...rest };
}

function props(input: EvaluationInput): Record<string, unknown> {
  const raw = input.raw ?? input.resource.inputs;
  return unknownCheckingProxy(deserializeProperties({ toJavaScript: () => raw }, false));
}

const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason);
};

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

export interface EvaluationResult {
  violations: EvaluatedViolation[];
  resources: PolicyResource[];
}

export async function evaluatePolicies(
  policies: readonly Policy[],
  inputs: readonly EvaluationInput[],
  options: { tenantOf?: (r: PolicyResource) => string | undefined; config?: Record<string, Record<string, unknown>> } = {},
): Promise<EvaluationResult> {
  const resources = policyResources(inputs);
  const violations: EvaluatedViolation[] = [];
  const tenantOf = options.tenantOf ?? (() => undefined);

  for (const policy of policies) {
    const level = ((options.config?.[policy.name]?.enforcementLevel as EnforcementLevel | undefined) ?? policy.enforcementLevel ?? "advisory") as EnforcementLevel;
    if (level === "disabled") continue;
    const reported: EnforcementLevel = level === "remediate" ? "mandatory" : level;
    const config = policyConfig(policy, options.config);
    const report = (fallbackUrn: string | null, tenant: string | null): ReportViolation => (reportedMessage, urn) => {
      // The server also takes an object carrying its own message and enforcement level.
      const message = reportedMessage as unknown as string | { message?: string; enforcementLevel?: EnforcementLevel } | undefined;
      const text = typeof message === "object" ? (message.message ?? policy.description) : (message ?? policy.description);
      const level = typeof message === "object" && message.enforcementLevel ? message.enforcementLevel : reported;
      violations.push({ policy: policy.name, enforcementLevel: level === "mandatory" ? "mandatory" : "advisory", urn: urn ?? fallbackUrn, message: text, tenant });
    };

    if (isResourcePolicy(policy) && policy.validateResource) {
      const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
      const onlyType = validations.length === 1 ? getPulumiType(validations[0]) : undefined;
      for (const resource of resources) {
        if (onlyType && resource.type !== onlyType) continue;
        for (const validate of validations) {
          const args: ResourceValidationArgs = {
            type: resource.type,
            props: resource.props,
            urn: resource.urn,
            name: resource.name,
            opts: resource.opts,
            stackTags: new Map(),
            ...(resource.provider ? { provider: resource.provider } : {}),
            isType: resource.isType,
            asType: resource.asType,
            getConfig: <T extends object>() => config as T,
            notApplicable,
          } as ResourceValidationArgs;
          try {
            await Promise.resolve(validate(args, report(resource.urn, tenantOf(resource) ?? null)));
          } catch (error) {
            if (error instanceof NotApplicable) continue;
            if (error instanceof UnknownValueError) {
              violations.push({ policy: policy.name, enforcementLevel: "advisory", urn: resource.urn, message: `can't run policy '${policy.name}' during preview: ${error.message}`, tenant: tenantOf(resource) ?? null });
              continue;
            }
            throw new Error(`policy ${policy.name} failed on ${resource.urn}: ${(error as Error).message}`);
          }
        }
      }
    } else if (isStackPolicy(policy)) {
      const onlyType = getPulumiType(policy.validateStack);
      if (onlyType && !resources.some((r) => r.type === onlyType)) continue;
      const byUrn = new Map(resources.map((r) => [r.urn, r]));
      const stackReport: ReportViolation = (message, urn) => {
        const owner = urn ? byUrn.get(urn) : undefined;
        report(null, owner ? (tenantOf(owner) ?? null) : null)(message, urn);
        const last = violations[violations.length - 1]!;
        if (last.tenant === null) last.tenant = tenantFromMessage(last.message);
      };
      try {
        await Promise.resolve(policy.validateStack({ resources, stackTags: new Map(), getConfig: <T extends object>() => config as T, notApplicable }, stackReport));
      } catch (error) {
        if (error instanceof NotApplicable) continue;
        throw new Error(`policy ${policy.name} failed: ${(error as Error).message}`);
      }
    }
  }
  return { violations, resources };
}

/** Stack policies name the tenant in their message ("tenant x", "odoo-x"); group by it. */
function tenantFromMessage(message: string): string | null {
  return /\btenant ([a-z][a-z0-9-]*)/.exec(message)?.[1] ?? /\bodoo-(?!fleet)([a-z][a-z0-9-]*)/.exec(message)?.[1] ?? null;
}
