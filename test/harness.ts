/**
 * Shared mock harness for component tests: the same mocks as the offline plan (unknown invokes
 * throw), plus a capture of every registration. One harness per test file: Pulumi's runtime state
 * is per process, and vitest gives each file its own.
 */
import * as pulumi from "@pulumi/pulumi";
import { installCapture, type Capture } from "../plan/capture/capture";
import type { CapturedResource } from "../model/resource";
import { PlatformMocks } from "../plan/capture/mocks";
import { settle } from "../plan/capture/run";

export interface Harness {
  readonly mocks: PlatformMocks;
  readonly capture: Capture;
  /** Waits until every registration so far (including those made inside apply) is answered. */
  settle(): Promise<CapturedResource[]>;
}

export async function startHarness(options: { stack?: string; region?: string; config?: Record<string, string> } = {}): Promise<Harness> {
  const mocks = new PlatformMocks(options.region ?? "eu-west-1");
  await pulumi.runtime.setMocks(mocks, "odoo-fleet", options.stack ?? "test", false);
  if (options.config) pulumi.runtime.setAllConfig(options.config);
  const capture = installCapture();
  return {
    mocks,
    capture,
    async settle() {
      await settle(capture);
      return capture.resources;
    },
  };
}

export function ofType(resources: readonly CapturedResource[], type: string): CapturedResource[] {
  return resources.filter((r) => r.type === type);
}

/** The one resource of that name (and type, where names repeat across types). */
export function named(resources: readonly CapturedResource[], name: string, type?: string): CapturedResource {
  const found = resources.filter((r) => r.name === name && (type === undefined || r.type === type));
  if (found.length !== 1) throw new Error(`expected one resource named ${name}${type ? ` of type ${type}` : ""}, found ${found.length}`);
  return found[0]!;
}

/** Children of a resource, by parent URN. */
export function childrenOf(resources: readonly CapturedResource[], parent: CapturedResource): CapturedResource[] {
  return resources.filter((r) => r.parent === parent.urn);
}

/** Key administration as production stacks plan it (program/platform.ts): the prod deploy role and the break-glass role. */
export const KEY_ADMINISTRATION = {
  administratorArns: ["arn:aws:iam::123456789012:role/odoo-fleet-ci-deploy-prod"],
  breakGlassRoleArn: "arn:aws:iam::123456789012:role/odoo-fleet-break-glass",
};
