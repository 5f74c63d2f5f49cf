/**
 * Records every resource registration the program makes under the mock runtime, in the shape of
 * shared/product/plan-format.md, with secret values redacted.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { CapturedResource } from "../../model/resource";


// Markers of Pulumi's wire format (sdk/nodejs/runtime/rpc.ts).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const SECRET_PLACEHOLDER = "[secret]";
export const UNKNOWN_PLACEHOLDER = "[unknown]";

/** Turns serialized inputs into plain JSON: secrets become "[secret]", resource references their URN. */
export function redact(value: unknown): unknown {
  if (value === UNKNOWN) return UNKNOWN_PLACEHOLDER;
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  switch (record[SIG_KEY]) {
    case SECRET_SIG:
      return SECRET_PLACEHOLDER;
    case RESOURCE_REF_SIG:
      return record.urn;
    case OUTPUT_SIG:
      return record.secret ? SECRET_PLACEHOLDER : "value" in record ? redact(record.value) : UNKNOWN_PLACEHOLDER;
    default:
      return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, redact(v)]));
  }
}

interface RegisterRequest {
  getImportid(): string;
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getParent(): string;
  getProvider(): string;
  getProtect(): boolean;
  getRetainondelete(): boolean;
  getDependenciesList(): string[];
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getAliasesList?(): AliasMessage[];
  getAliasurnsList?(): string[];
}
/** pulumi.alias.Alias on the wire: a URN, or a spec the engine completes from the resource itself. */
interface AliasMessage {
  getUrn(): string;
  getSpec(): { getName(): string; getType(): string; getStack(): string; getProject(): string; getParenturn(): string; getNoparent(): boolean } | undefined;
}
/** An alias spec, fields left empty where the resource's own value applies. */
export interface AliasSpec {
  readonly name?: string;
  readonly type?: string;
  readonly stack?: string;
  readonly project?: string;
  readonly parentUrn?: string;
  readonly noParent?: boolean;
}
interface StructLike {
  toJavaScript(): Record<string, unknown>;
  constructor: { fromJavaScript(value: Record<string, unknown>): StructLike };
}
interface RegisterResponse {
  getUrn(): string;
  getId(): string;
  getObject(): StructLike | undefined;
  setObject(value: StructLike): void;
}
type Callback = (error: Error | null, response?: RegisterResponse) => void;
interface ReadRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProvider(): string;
  getDependenciesList(): string[];
  getProperties(): { toJavaScript(): Record<string, unknown> } | undefined;
}
/** Mocks that say what a registration returns without building the whole state (plan/capture/mocks.ts). */
export interface OutputMocks {
  resourceOutputs(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; outputs: Record<string, unknown>; echoInputs: boolean };
}

interface Monitor {
  /** The SDK's MockMonitor keeps every registered resource's state (for getResource and outputs). */
  mocks?: Partial<OutputMocks>;
  resources?: Map<string, { urn: string; id: string | null; state: Record<string, unknown> }>;
  registerResource(request: RegisterRequest, callback: Callback): void;
  readResource(request: ReadRequest, callback: (error: Error | null, response?: { getUrn(): string }) => void): void;
  newUrn?(parent: string, type: string, name: string): string;
}

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** The provider's URN in a provider reference, which the engine passes as `<urn>::<id>`. */
export function providerUrnOf(reference: string | null): string | undefined {
  if (!reference) return undefined;
  const at = reference.lastIndexOf("::");
  return at < 0 ? reference : reference.slice(0, at);
}

/**
 * The URN the Pulumi engine gives a resource: the parent's qualified type chain, except the root
 * stack's, then the type and name. (The SDK's mock monitor keeps only the parent's last type and
 * keeps the root stack's, which would make the plan's URNs differ from those `pulumi up` records.)
 */
export function engineUrn(stack: string, project: string, parent: string | undefined, type: string, name: string): string {
  const parentType = parent ? parent.split("::")[2] : undefined;
  const qualified = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/**
 * The URN an alias stands for, completed as the engine completes it: name, type, stack and project
 * default to the resource's own, the parent to its parent unless the alias says it had none.
 */
export function aliasUrn(alias: AliasSpec, resource: { stack: string; project: string; parent: string | undefined; type: string; name: string }): string {
  const parent = alias.noParent ? undefined : alias.parentUrn || resource.parent;
  return engineUrn(alias.stack || resource.stack, alias.project || resource.project, parent, alias.type || resource.type, alias.name || resource.name);
}

/** The name at the end of a URN. */
function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** The type at the end of a URN's qualified type: `a$b$c` -> `c`. */
function urnType(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.slice(qualified.lastIndexOf("$") + 1);
}

/**
 * The alias a child inherits from one of the URNs its parent was known by, as the engine computes it (its
 * stepGenerator.inheritedChildAlias): the child under the parent's old URN, and where the child's
 * name starts with the parent's name, that prefix swapped for the parent's old name.
 */
export function inheritedChildAlias(child: { stack: string; project: string; type: string; name: string }, parentUrn: string, parentAlias: string): string {
  const parentName = urnName(parentUrn);
  const name = child.name.startsWith(parentName) ? urnName(parentAlias) + child.name.slice(parentName.length) : child.name;
  return engineUrn(child.stack, child.project, parentAlias, child.type, name);
}

/**
 * Every URN a resource may have had before: its own aliases, then, for each of its parent's, the
 * inherited alias of itself and of each of its own (the engine's generateAliases). The engine
 * inherits only from the parent alias that matched an old resource, which the plan cannot know
 * here; it records every candidate, and the diff matches the one the previous plan holds. The SDK
 * leaves all inheritance to the engine when the monitor takes alias specs, as the mock monitor does.
 */
function aliasUrnsOf(request: RegisterRequest, parentAliases: readonly string[]): string[] {
  const own = { stack: pulumi.getStack(), project: pulumi.getProject(), parent: request.getParent() || undefined, type: request.getType(), name: request.getName() };
  const structured = (request.getAliasesList?.() ?? []).map((alias) => {
    const spec = alias.getSpec();
    if (!spec) return alias.getUrn();
    return aliasUrn({ name: spec.getName(), type: spec.getType(), stack: spec.getStack(), project: spec.getProject(), parentUrn: spec.getParenturn(), noParent: spec.getNoparent() }, own);
  });
  const aliases = [...structured, ...(request.getAliasurnsList?.() ?? [])];
  const inherited = own.parent === undefined ? [] : parentAliases.flatMap((parentAlias) => [
    inheritedChildAlias(own, own.parent!, parentAlias),
    ...aliases.map((alias) => inheritedChildAlias({ ...own, type: urnType(alias), name: urnName(alias) }, own.parent!, parentAlias)),
  ]);
  return [...new Set([...aliases, ...inherited])];
}

export interface Capture {
  readonly resources: CapturedResource[];
  /** Each resource's inputs in Pulumi's wire format (secrets wrapped), for the policy evaluation. */
  readonly raw: Map<CapturedResource, Record<string, unknown>>;
  /** Registrations sent but not yet answered. */
  pending(): number;
}

/**
 * The engine returns the outputs a resource lists in `additionalSecretOutputs` as secrets (e.g.
 * `RandomPassword.result`); the SDK's mock monitor does not, so the plan does it here, or a password
 * would flow into other resources' inputs in plain text.
 */
function markSecret(response: RegisterResponse, keys: readonly string[]): void {
  const state = response.getObject();
  if (!state) return;
  const outputs = state.toJavaScript();
  for (const key of keys) {
    if (key in outputs) outputs[key] = { [SIG_KEY]: SECRET_SIG, value: outputs[key] };
  }
  response.setObject(state.constructor.fromJavaScript(outputs));
}

// The protobuf classes of the SDK's own copy (the response must be of the classes it reads).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdkRequire = (id: string) => require(require.resolve(id, { paths: [path.dirname(require.resolve("@pulumi/pulumi"))] })) as Record<string, unknown>;

/**
 * Answers a registration as the SDK's MockMonitor does (URN, id, the state kept for getResource and
 * registerResourceOutputs, the response), but without turning the inputs back into JavaScript and then
 * into protobuf again to echo them: the request's own Struct becomes the response, with the computed
 * outputs set on it. For a fleet that echo was a quarter of the plan's time. Undefined when the mocks
 * cannot say what they compute.
 */
function answerFromOutputs(monitor: Monitor): ((request: RegisterRequest, serialized: Record<string, unknown>, callback: Callback) => void) | undefined {
  const mocks = monitor.mocks;
  if (typeof mocks?.resourceOutputs !== "function" || !monitor.resources || typeof monitor.newUrn !== "function") return undefined;
  const resolveOutputs = mocks.resourceOutputs.bind(mocks);
  const resources = monitor.resources;
  const newUrn = monitor.newUrn.bind(monitor);
  const { RegisterResourceResponse } = sdkRequire("@pulumi/pulumi/proto/resource_pb") as { RegisterResourceResponse: new () => RegisterResponse & { setUrn(u: string): void; setId(i: string): void } };
  const { Struct, Value } = sdkRequire("google-protobuf/google/protobuf/struct_pb") as {
    Struct: { fromJavaScript(v: Record<string, unknown>): StructLike & { getFieldsMap(): { set(k: string, v: unknown): void } } };
    Value: { fromJavaScript(v: unknown): unknown };
  };
  return (request, serialized, callback) => {
    void (async () => {
      const inputs = pulumi.runtime.deserializeProperties({ toJavaScript: () => serialized } as never);
      const { id, outputs, echoInputs } = resolveOutputs({ type: request.getType(), name: request.getName(), inputs, provider: request.getProvider(), custom: request.getCustom(), id: request.getImportid() });
      const urn = newUrn(request.getParent(), request.getType(), request.getName());
      const computed = (await pulumi.runtime.serializeProperties("", outputs)) as Record<string, unknown>;
      const state = echoInputs ? { ...serialized, ...computed } : computed;
      resources.set(urn, { urn, id: id ?? null, state });
      const response = new RegisterResourceResponse();
      response.setUrn(urn);
      response.setId(id || "");
      const struct = echoInputs ? (request.getObject() as ReturnType<typeof Struct.fromJavaScript> | undefined) : undefined;
      if (struct) {
        for (const [key, value] of Object.entries(computed)) struct.getFieldsMap().set(key, Value.fromJavaScript(value));
        response.setObject(struct);
      } else {
        response.setObject(Struct.fromJavaScript(state));
      }
      callback(null, response);
    })().catch((error: Error) => callback(error));
  };
}

/** Wraps the mock monitor's registerResource. Call after `setMocks`, before the program runs. */
export function installCapture(onRegister?: (count: number) => void): Capture {
  const monitor = pulumi.runtime.getMonitor() as unknown as Monitor | undefined;
  if (!monitor) throw new Error("installCapture needs pulumi.runtime.setMocks to have been called");
  const resources: CapturedResource[] = [];
  const raw = new Map<CapturedResource, Record<string, unknown>>();
  /** The aliases of each resource that has any, by its URN, for its children to inherit. */
  const aliasesByUrn = new Map<string, string[]>();
  let inFlight = 0;
  if (typeof monitor.newUrn === "function") {
    monitor.newUrn = (parent, type, name) => engineUrn(pulumi.getStack(), pulumi.getProject(), parent, type, name);
  }
  const original = monitor.registerResource.bind(monitor);
  const answer = answerFromOutputs(monitor);
  monitor.registerResource = (request, callback) => {
    const entry: CapturedResource = {
      urn: "",
      type: request.getType(),
      name: request.getName(),
      custom: request.getCustom(),
      parent: request.getParent() || null,
      provider: request.getProvider() || null,
      protect: request.getProtect() === true,
      retainOnDelete: request.getRetainondelete() === true,
      dependsOn: [...request.getDependenciesList()].sort(),
      ignoreChanges: [...request.getIgnorechangesList()],
      inputs: {},
    };
    const serialized = request.getObject()?.toJavaScript() ?? {};
    entry.inputs = redact(serialized) as Record<string, unknown>;
    const aliases = aliasUrnsOf(request, aliasesByUrn.get(entry.parent ?? "") ?? []);
    if (aliases.length > 0) {
      entry.aliases = aliases;
      // A child registers once its parent's URN is known, so its parent's aliases are here by then.
      aliasesByUrn.set(engineUrn(pulumi.getStack(), pulumi.getProject(), entry.parent ?? undefined, entry.type, entry.name), aliases);
    }
    raw.set(entry, serialized);
    resources.push(entry);
    inFlight++;
    onRegister?.(resources.length);
    const secretOutputs = request.getAdditionalsecretoutputsList();
    const done: Callback = (error, response) => {
      inFlight--;
      if (!error && response) {
        entry.urn = response.getUrn();
        if (entry.custom && response.getId()) entry.id = response.getId();
        if (secretOutputs.length > 0) markSecret(response, secretOutputs);
      }
      callback(error, response);
    };
    if (answer) answer(request, serialized, done);
    else original(request, done);
  };
  // Reads (a StackReference, for one) are part of the plan too: others depend on them.
  const originalRead = monitor.readResource.bind(monitor);
  monitor.readResource = (request, callback) => {
    const serialized = request.getProperties()?.toJavaScript() ?? {};
    const entry: CapturedResource = {
      urn: "",
      type: request.getType(),
      name: request.getName(),
      custom: true,
      read: true,
      parent: request.getParent() || null,
      provider: request.getProvider() || null,
      protect: false,
      retainOnDelete: false,
      dependsOn: [...request.getDependenciesList()].sort(),
      ignoreChanges: [],
      inputs: redact(serialized) as Record<string, unknown>,
    };
    raw.set(entry, serialized);
    resources.push(entry);
    inFlight++;
    onRegister?.(resources.length);
    originalRead(request, (error, response) => {
      inFlight--;
      if (!error && response) entry.urn = response.getUrn();
      callback(error, response);
    });
  };
  return { resources, raw, pending: () => inFlight };
}
