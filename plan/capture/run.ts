/**
 * Runs the real program under Pulumi's mock runtime with one stack's configuration and captures
 * every registration. Pulumi keeps its runtime state per process: plan one stack per process.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ciEnvironmentOfConfig, secretsProviderProblems } from "../../model/ci";
import type { PolicyResource } from "@pulumi/policy";
import { parseStackSpec, SpecError, type SpecProblem, type StackSpec } from "../../spec/index";
import { installCapture, redact, type Capture } from "./capture";
import type { CapturedResource } from "../../model/resource";
import { PlatformMocks } from "./mocks";
import { policyResources } from "./policy-view";
import { readProject, readStackConfig, stackFilePath } from "./project";

export interface PlanOptions {
  /** Project folder holding Pulumi.yaml. */
  readonly projectDir: string;
  readonly stack: string;
  /** Plan this file instead of the stack's own file in the stack folder (e.g. a candidate config). */
  readonly stackFile?: string;
  /**
   * A review stack's host already planned (a `--json` file of that stack): its outputs answer the
   * StackReference, so the host is not planned again.
   * @default undefined: the host is planned in a process of its own
   */
  readonly hostPlan?: string;
  /** Progress lines (stderr in the CLI). */
  readonly onProgress?: (message: string) => void;
  /**
   * Keep JavaScript stack traces while the program runs (to debug a failing program).
   * @default false: see `withoutStackTraces`
   */
  readonly stackTraces?: boolean;
}

/**
 * Runs `work` with stack traces off. The SDK captures a stack trace for every promise it creates
 * (for leak reports) and for every registration (source positions), none of which the offline plan
 * shows; at a thousand tenants those strings were a third of the heap and much of the GC time.
 * Errors keep their messages, not their frames. The benchmark's floor runs the same way.
 * `keep` (the CLI's --stack-traces) runs `work` as it is.
 */
export async function withoutStackTraces<T>(work: () => Promise<T>, keep = false): Promise<T> {
  if (keep) return work();
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return await work();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

interface PlanRunBase {
  readonly project: string;
  readonly stack: string;
  /** Stack file, relative to the project folder. */
  readonly stackFile: string;
  /** The configuration the program ran with (secure values replaced by placeholders). */
  readonly config: Readonly<Record<string, string>>;
  readonly resources: CapturedResource[];
  /** Stack outputs, secrets redacted; undefined when the program failed. */
  readonly outputs?: Record<string, unknown>;
  /** Config keys whose `secure:` value was replaced by a placeholder. */
  readonly placeholders: string[];
  readonly invokes: readonly { token: string }[];
  readonly durationMs: number;
  /** A review stack's host as planned (its stack and resources): what shares its cluster, for checks across the two. */
  readonly host?: { stack: string; resources: CapturedResource[] };
}

/** A valid configuration, planned: what the analyses and the evaluation read. */
export interface ValidPlanRun extends PlanRunBase {
  /** The configuration as the program read it, parsed once here. */
  readonly spec: StackSpec;
  /** The custom resources as the policy server would receive them (inputs in Pulumi's wire format). */
  readonly policyResources: PolicyResource[];
  readonly specError?: undefined;
}

/** An invalid configuration: nothing but the root stack was registered. */
export interface InvalidPlanRun extends PlanRunBase {
  readonly specError: SpecError;
}

export type PlanRun = ValidPlanRun | InvalidPlanRun;

export async function runPlan(options: PlanOptions): Promise<PlanRun> {
  const started = process.hrtime.bigint();
  const progress = options.onProgress ?? (() => undefined);
  const project = readProject(options.projectDir);
  const file = options.stackFile ? path.resolve(options.stackFile) : stackFilePath(project, options.stack);
  const relative = path.relative(project.dir, file);
  const stackFile = relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
  const { config, secretKeys, placeholders, secrets } = readStackConfig(file, project.name);
  // Pulumi uses the stack files of its stack folder: each must name the platform's secrets key. A
  // candidate file elsewhere (--stack-file) is checked when it names one.
  const inStackFolder = path.dirname(file) === project.stackConfigDir;
  const secretsProblems: SpecProblem[] = inStackFolder || Object.keys(secrets).length > 0 ? secretsProviderProblems(secrets, ciEnvironmentOfConfig(config)) : [];
  // The program parses the same configuration itself; parsed here once more for the steps after the run.
  const parsed = parsedSpec(config, options.stack, stackFile);
  if (placeholders.length > 0) {
    progress(`secure values cannot be decrypted offline; placeholders stand in for: ${placeholders.join(", ")}`);
  }

  const host = hostPlan(project.dir, config, progress, options.hostPlan);
  const mocks = new PlatformMocks(config["aws:region"] ?? "us-east-1", host ? { [host.reference]: host.outputs } : {});
  await pulumi.runtime.setMocks(mocks, project.name, options.stack, false);
  pulumi.runtime.setAllConfig(config, secretKeys);

  let reported = 0;
  const capture = installCapture((count) => {
    if (count - reported >= 250) {
      reported = count;
      progress(`${count} resources registered`);
    }
  });

  progress(`running ${path.relative(project.dir, project.entry) || project.entry} for stack ${options.stack} (${stackFile})`);
  // Loaded exactly as the Node language host loads a CommonJS program (cmd/run/run.js).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const programExport: unknown = require(project.entry.endsWith("/") ? project.entry : `${project.entry}/`);
  let outputs: Record<string, unknown> | undefined;
  let specError: SpecError | undefined;
  // A failing program also rejects promises inside the SDK that nobody awaits (the stack's data);
  // the language host handles those globally, and so does the plan: keep the first real failure.
  const stray: unknown[] = [];
  const onRejection = (reason: unknown) => {
    if (!SpecError.isInstance(reason)) stray.push(reason);
  };
  process.on("unhandledRejection", onRejection);
  await withoutStackTraces(async () => {
    try {
      const stackOutputs = await pulumi.runtime.runInPulumiStack(async () => {
        // Reported with the configuration's own problems, all at once, before anything is registered.
        if (secretsProblems.length > 0) throw new SpecError(stackFile, [...("problems" in parsed ? parsed.problems : []), ...secretsProblems]);
        return programExport instanceof Function ? programExport() : programExport;
      });
      outputs = redact(await serializeOutputs(stackOutputs ?? {})) as Record<string, unknown>;
    } catch (error) {
      if (!SpecError.isInstance(error)) throw error;
      // The program names the stack file by convention; a candidate file given here is the one at fault.
      specError = options.stackFile ? new SpecError(stackFile, error.problems) : error;
    }
    await settle(capture);
  }, options.stackTraces);
  process.off("unhandledRejection", onRejection);
  if (stray.length > 0) throw stray[0];
  progress(specError ? `invalid configuration: ${capture.resources.length - 1} resources registered besides the root stack` : `${capture.resources.length} resources registered`);

  const outcome = specError ? { specError } : validRun(parsed, capture);
  return {
    project: project.name,
    stack: options.stack,
    stackFile,
    config,
    resources: capture.resources,
    ...(outputs ? { outputs } : {}),
    placeholders,
    invokes: mocks.invokes.map((i) => ({ token: i.token })),
    durationMs: Number(process.hrtime.bigint() - started) / 1e6,
    ...(host ? { host: { stack: host.stack, resources: host.resources } } : {}),
    ...outcome,
  };
}

/** What the steps after a valid run read: the spec, and the resources as the policy server sees them. */
function validRun(parsed: ReturnType<typeof parsedSpec>, capture: Capture): Pick<ValidPlanRun, "spec" | "policyResources"> {
  if (!("spec" in parsed)) throw new Error(`the program ran a configuration the plan cannot parse: ${parsed.problems.map((p) => p.message).join("; ")}`);
  return { spec: parsed.spec, policyResources: policyResources(capture.resources.map((resource) => ({ resource, raw: capture.raw.get(resource) }))) };
}

/** The stack's spec, or the problems that make its configuration invalid. */
function parsedSpec(config: Readonly<Record<string, string>>, stack: string, stackFile: string): { spec: StackSpec } | { problems: readonly SpecProblem[] } {
  try {
    return { spec: parseStackSpec(config, stack, stackFile) };
  } catch (error) {
    if (SpecError.isInstance(error)) return { problems: error.problems };
    throw error;
  }
}

/**
 * A review stack reads its host's outputs through a StackReference. Offline, the host is planned too
 * (in its own process, as every plan is) and its planned outputs answer the reference.
 */
function hostPlan(projectDir: string, config: Readonly<Record<string, string>>, progress: (message: string) => void, hostPlan?: string): HostPlan | undefined {
  const hostConfig = config["odoo-fleet:host"];
  if (hostConfig === undefined) {
    if (hostPlan !== undefined) throw new Error(`--host-plan ${hostPlan}: this stack has no odoo-fleet:host, so no host to read`);
    return undefined;
  }
  let name: string;
  try {
    name = String((JSON.parse(hostConfig) as { stack?: unknown }).stack);
  } catch {
    return undefined; // the spec reports the malformed key
  }
  const hostStack = name.split("/").pop()!;
  if (hostPlan !== undefined) return { reference: name, ...plannedHost(hostPlan, hostStack) };
  progress(`planning host stack ${hostStack} for the stack reference ${name}`);
  const out = path.join(mkdtempSync(path.join(tmpdir(), "odoo-fleet-host-")), "host.json");
  const result = spawnSync(process.execPath, [path.join(projectDir, "dist", "plan", "cli.js"), "--stack", hostStack, "--json", out], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`the host stack ${hostStack} does not plan cleanly (exit ${result.status}):\n${result.stderr}`);
  return { reference: name, ...plannedHost(out, hostStack) };
}

/** A review stack's host, planned: its outputs answer the StackReference `reference`; its resources share the cluster. */
interface HostPlan {
  reference: string;
  stack: string;
  outputs: Record<string, unknown>;
  resources: CapturedResource[];
}

/** The outputs of a host plan file (`--host-plan`), which must be a clean plan of that host stack. */
function plannedHost(file: string, hostStack: string): Omit<HostPlan, "reference"> {
  const document = JSON.parse(readFileSync(file, "utf8")) as { stack?: unknown; outputs?: Record<string, unknown>; resources?: CapturedResource[] };
  if (document.stack !== hostStack) throw new Error(`--host-plan ${file} is a plan of stack ${String(document.stack)}, but odoo-fleet:host names ${hostStack}`);
  if (document.outputs === undefined) throw new Error(`--host-plan ${file} has no outputs: plan the host stack ${hostStack} cleanly first`);
  return { stack: hostStack, outputs: document.outputs, resources: Array.isArray(document.resources) ? document.resources : [] };
}

/** Resources declared inside `apply` register late: wait until no registration is in flight or new. */
export async function settle(capture: { resources: unknown[]; pending(): number }): Promise<void> {
  const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs;
  for (;;) {
    const before = capture.resources.length;
    await waitForRPCs();
    await new Promise((resolve) => setImmediate(resolve));
    if (capture.resources.length === before && capture.pending() === 0) return;
  }
}

async function serializeOutputs(outputs: Record<string, unknown>): Promise<unknown> {
  return pulumi.runtime.serializeProperties("plan-outputs", outputs, { keepOutputValues: false });
}
