/**
 * Evaluates policies over the policy server's view of the resources (capture/policy-view.ts) the way
 * the Pulumi policy server does (see @pulumi/policy/server.js): resource policies see one resource at
 * a time with its provider, stack policies see them all, config gets each schema's defaults, and
 * notApplicable() skips a policy for a resource.
 */
import type { EnforcementLevel, Policy, PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { policyResources, type EvaluationInput } from "../capture/policy-view";

// Exported by the policy SDK at run time, not in its typings.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { UnknownValueError } = require("@pulumi/policy/proxy") as { UnknownValueError: new (...args: unknown[]) => Error };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getPulumiType, isResourcePolicy, isStackPolicy } = require("@pulumi/policy/policy") as {
  getPulumiType(fn: unknown): string | undefined;
  isResourcePolicy(p: Policy): p is ResourceValidationPolicy;
  isStackPolicy(p: Policy): p is StackValidationPolicy;
};

/** A violation as the plan document lists it (shared/product/plan-format.md). */
export interface PlanViolation {
  policy: string;
  enforcementLevel: "mandatory" | "advisory";
  urn: string | null;
  message: string;
}

export interface EvaluatedViolation extends PlanViolation {
  /** Tenant the resource belongs to, for grouping; null for platform resources. */
  tenant: string | null;
}

class NotApplicable extends Error {}

/** Each policy's configuration: its schema's defaults, overridden by `overrides[policy]`. */
export function policyConfig(policy: Policy, overrides: Record<string, Record<string, unknown>> = {}): Record<string, unknown> {
  const defaults = Object.fromEntries(Object.entries(policy.configSchema?.properties ?? {}).filter(([, s]) => (s as { default?: unknown }).default !== undefined).map(([k, s]) => [k, (s as { default: unknown }).default]));
  const { enforcementLevel: _ignored, ...rest } = overrides[policy.name] ?? {};
  return { ...defaults, ...rest };
}

const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason);
};

export interface EvaluationResult {
  violations: EvaluatedViolation[];
  resources: PolicyResource[];
}

export interface EvaluationOptions {
  /** The tenant a resource belongs to, for grouping. @default none: every violation is the platform's */
  readonly tenantOf?: (r: PolicyResource) => string | undefined;
  /** `--policy-config`: per policy, its enforcement level and limits. @default each policy's own */
  readonly config?: Record<string, Record<string, unknown>>;
}

/** Builds the server's view of captured resources, then evaluates the policies over it. */
export async function evaluatePolicies(policies: readonly Policy[], inputs: readonly EvaluationInput[], options: EvaluationOptions = {}): Promise<EvaluationResult> {
  const resources = policyResources(inputs);
  return { violations: await evaluatePolicyPack(policies, resources, options), resources };
}

/** Every violation the policies report over `resources`, as the policy server would. */
export async function evaluatePolicyPack(policies: readonly Policy[], resources: PolicyResource[], options: EvaluationOptions = {}): Promise<EvaluatedViolation[]> {
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
            throw new Error(`policy ${policy.name} failed on ${resource.urn}: ${(error as Error).message}`, { cause: error });
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
        throw new Error(`policy ${policy.name} failed: ${(error as Error).message}`, { cause: error });
      }
    }
  }
  return violations;
}

/** Stack policies name the tenant in their message ("tenant x", "odoo-x"); group by it. */
function tenantFromMessage(message: string): string | null {
  return /\btenant ([a-z][a-z0-9-]*)/.exec(message)?.[1] ?? /\bodoo-(?!fleet)([a-z][a-z0-9-]*)/.exec(message)?.[1] ?? null;
}
