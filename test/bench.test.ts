/** The benchmark's pieces that can be checked without timing anything: its stacks and its table. */
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { fleetStackConfig, fleetStackYaml, TENANTS_PER_SHARD } from "../bench/fleet-stack";
import { benchTable, type BenchRow } from "../bench/run";
import { parsePlatformSpec } from "../spec/index";

/** Pulumi hands a program its config values as strings; objects as JSON. */
const asPulumiConfig = (config: Record<string, unknown>) => Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));

describe("generated fleet stacks", () => {
  test.each([1, 75, 76, 300, 1000])("%i tenants: a valid production stack, a data shard per %i tenants", (count) => {
    const config = (fleetStackConfig(count) as { config: Record<string, unknown> }).config;
    const spec = parsePlatformSpec(asPulumiConfig(config), `fleet-${count}`);
    expect(spec.tenants).toHaveLength(count);
    expect(spec.data.shards).toHaveLength(Math.ceil(count / TENANTS_PER_SHARD));
    expect(spec.data.shards.every((s) => s.tenants.length <= TENANTS_PER_SHARD)).toBe(true);
    expect(spec.tenants.filter((t) => t.tier === "business")).toHaveLength(Math.ceil(count / 5));
  });

  test("the YAML is the config, as a stack file", () => {
    expect(parse(fleetStackYaml(3))).toEqual(fleetStackConfig(3));
  });
});

describe("benchTable", () => {
  const row = (tenants: number, resources: number, plan: number, floor: number, inputs: number): BenchRow => ({
    tenants,
    resources,
    programMs: plan * 0.8,
    exitCode: 0,
    plan: { wallMs: plan, peakMiB: resources / 10 },
    floor: { wallMs: floor, peakMiB: resources / 40 },
    inputsFloor: { wallMs: inputs, peakMiB: resources / 20 },
  });

  test("one line per size with both ratios, then the growth of time per resource", () => {
    expect(benchTable([row(100, 4000, 10_000, 2_500, 8_000), row(1000, 40_000, 120_000, 25_000, 80_000)]).split("\n")).toEqual([
      "tenants  resources     plan  (program)   floor  x floor  inputs floor  x inputs floor  plan peak  floor peak  x floor  inputs floor peak  ms / tenant",
      "100           4000   10.0 s      8.0 s   2.5 s    4.00x         8.0 s           1.25x    400 MiB     100 MiB    4.00x            200 MiB        100.0",
      "1000         40000  120.0 s     96.0 s  25.0 s    4.80x        80.0 s           1.50x   4000 MiB    1000 MiB    4.00x           2000 MiB        120.0",
      "",
      "floor: as many trivial resources; inputs floor: one resource per planned custom resource with the same inputs, none of our program.",
      "",
      "growth 100 -> 1000 tenants (x10.0 resources): plan time x12.00, floor time x10.00; time per resource x1.20 (plan), x1.00 (floor); 1.00 is linear",
    ]);
  });
});
