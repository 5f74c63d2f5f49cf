/**
 * The SDK's own floor: resources registered under the same mocks, capture and runtime settings the
 * plan uses, with nothing of ours in between (no components, no outputs passed along, no analyses).
 *   node dist/bench/floor.js <count>              N trivial resources (one small input each)
 *   node dist/bench/floor.js --inputs <plan.json> one resource per custom resource of that plan,
 *                                                 carrying the same inputs (what the SDK pays for
 *                                                 serializing exactly those)
 * Prints one JSON line: count and wall time in ms (peak memory is read by the parent).
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { installCapture } from "../plan/capture/capture";
import { PlatformMocks } from "../plan/capture/mocks";
import type { PlanDocument } from "../plan/report/document";
import { settle, withoutStackTraces } from "../plan/capture/run";

/** About one tenant's worth of resources. */
const RESOURCES_PER_TURN = 40;

class Trivial extends pulumi.CustomResource {
  constructor(name: string, args: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) {
    super("odoo-fleet:bench:Trivial", name, args, opts);
  }
}

function inputsToRegister(argv: readonly string[]): Record<string, unknown>[] {
  if (argv[0] === "--inputs" && argv[1]) {
    const plan = JSON.parse(readFileSync(argv[1], "utf8")) as PlanDocument;
    return plan.resources.filter((r) => r.custom).map((r) => r.inputs);
  }
  const count = Number(argv[0]);
  if (!Number.isInteger(count) || count < 1) throw new Error("usage: floor.js <count> | floor.js --inputs <plan.json>");
  return Array.from({ length: count }, (_, index) => ({ index }));
}

async function main(): Promise<void> {
  const inputs = inputsToRegister(process.argv.slice(2));
  const started = process.hrtime.bigint();
  await pulumi.runtime.setMocks(new PlatformMocks("eu-west-1"), "odoo-fleet", "floor", false);
  const capture = installCapture();
  await withoutStackTraces(async () => {
    await pulumi.runtime.runInPulumiStack(async () => {
      for (const [i, args] of inputs.entries()) {
        // Paced like the program's tenants (about 40 resources each), so both floors are measured
        // under the same memory pressure as the plan, not with everything in flight at once.
        if (i > 0 && i % RESOURCES_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
        new Trivial(`trivial-${i}`, args);
      }
      return {};
    });
    await settle(capture);
  });
  if (capture.resources.length !== inputs.length + 1) throw new Error(`registered ${capture.resources.length}, expected ${inputs.length + 1}`);
  process.stdout.write(`${JSON.stringify({ count: inputs.length, wallMs: Number(process.hrtime.bigint() - started) / 1e6 })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
