/**
 * Validators from the schemas a real deploy enforces: the charts' values schemas (Helm) and the CRD
 * schemas (API server), vendored per chart version in test/fixtures/schemas (source, version and
 * licence in its README); built-in kinds through kubernetes-models.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import Ajv2020 from "ajv/dist/2020";
import { parse } from "yaml";

const SCHEMAS = path.join(__dirname, "fixtures", "schemas");

/** A chart as the components pin it (`TRAEFIK_CHART`, `CERT_MANAGER_CHART`, `KUBE_PROMETHEUS_STACK`). */
export interface PinnedChart {
  readonly chart: string;
  readonly version: string;
}

/** A vendored file of the pinned chart version: a chart bumped without its schemas fails here, by name. */
function vendored(chart: PinnedChart, file: string): string {
  const full = path.join(SCHEMAS, `${chart.chart}-${chart.version}`, file);
  if (!existsSync(full)) throw new Error(`${path.relative(path.join(__dirname, ".."), full)} is not vendored: a chart bump brings its schemas (see test/fixtures/schemas/README.md)`);
  return full;
}

/** Go regexps may start with (?i); JavaScript takes that as a flag. (`code` only matters to standalone code.) */
const regExp = Object.assign(
  (pattern: string, flags?: string) => {
    const match = /^(\^?)\(\?i\)/.exec(pattern);
    return new RegExp(match ? match[1] + pattern.slice(match[0].length) : pattern, `${flags ?? ""}${match ? "i" : ""}`);
  },
  { code: "goRegExp" },
);

export function chartValuesValidator(chart: PinnedChart) {
  const schema = JSON.parse(readFileSync(vendored(chart, "values.schema.json"), "utf8")) as Record<string, unknown>;
  const is2020 = String(schema.$schema ?? "").includes("2020-12");
  const options = { strict: false, allErrors: true, code: { regExp }, validateFormats: false, logger: false as const };
  const ajv = is2020 ? new Ajv2020(options) : new Ajv(options);
  const validate = ajv.compile(schema);
  return (values: unknown): string[] => (validate(values) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`));
}

/**
 * The API server prunes fields a structural schema does not declare, silently: a misspelt field is
 * lost, not rejected. To catch those, every object schema with declared properties (and no
 * x-kubernetes-preserve-unknown-fields) is closed here.
 */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (schema === null || typeof schema !== "object") return schema;
  const record = Object.fromEntries(Object.entries(schema as Record<string, unknown>).map(([k, v]) => [k, k === "properties" ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([p, s]) => [p, closeObjects(s)])) : closeObjects(v)]));
  if (record.properties && record.additionalProperties === undefined && record["x-kubernetes-preserve-unknown-fields"] !== true) record.additionalProperties = false;
  return record;
}

/** Validates a custom resource against the `openAPIV3Schema` of the chart's CRD file that defines its kind. */
export function crdValidator(chart: PinnedChart, file: string) {
  const crd = parse(readFileSync(vendored(chart, file), "utf8")) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[]; group: string; names: { kind: string } };
  };
  // Kubernetes formats (int32, date-time...) are not what this check is about: accept them all.
  const ajv = new Ajv({ strict: false, allErrors: true, code: { regExp }, validateFormats: false, logger: false });
  const validators = new Map(crd.spec.versions.map((v) => [`${crd.spec.group}/${v.name}`, ajv.compile(closeObjects(v.schema.openAPIV3Schema) as object)]));
  return (object: { apiVersion: string; kind: string }): string[] => {
    if (object.kind !== crd.spec.names.kind) return [`${file} defines ${crd.spec.names.kind}, not ${object.kind}`];
    const validate = validators.get(object.apiVersion);
    if (!validate) return [`${file} has no version ${object.apiVersion}`];
    return validate(object) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`);
  };
}
