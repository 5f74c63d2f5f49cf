/**
 * Reads the project the way the Pulumi CLI does: Pulumi.yaml (name, main, stackConfigDir) and a
 * stack's `Pulumi.<stack>.yaml` config, flattened to the `key -> string` map the SDK receives.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export interface ProjectFile {
  readonly dir: string;
  readonly name: string;
  /** Absolute path of the program entry (`main`), as the language host resolves it. */
  readonly entry: string;
  /** Absolute path of the folder holding the stack files. */
  readonly stackConfigDir: string;
}

export function readProject(dir: string): ProjectFile {
  const file = path.join(dir, "Pulumi.yaml");
  const doc = parse(readFileSync(file, "utf8")) as { name?: string; main?: string; stackConfigDir?: string };
  if (!doc?.name) throw new Error(`${file} has no project name`);
  return {
    dir,
    name: doc.name,
    entry: path.resolve(dir, doc.main ?? "."),
    stackConfigDir: path.resolve(dir, doc.stackConfigDir ?? "."),
  };
}

/** Stack names that have a file in the project's stack folder. */
export function listStacks(project: ProjectFile): string[] {
  return readdirSync(project.stackConfigDir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

export function stackFilePath(project: ProjectFile, stack: string): string {
  return path.join(project.stackConfigDir, `Pulumi.${stack}.yaml`);
}

export interface StackConfig {
  /** `namespace:key -> value`, objects as JSON text, as `pulumi.runtime.allConfig()` returns them. */
  readonly config: Record<string, string>;
  /** Keys whose value (or part of it) is secret. */
  readonly secretKeys: string[];
  /** Keys holding `secure:` values that cannot be decrypted offline and got a placeholder. */
  readonly placeholders: string[];
  /** The stack file's top-level secrets settings (`secretsprovider`, `encryptedkey`), as written. */
  readonly secrets: { readonly secretsprovider?: unknown; readonly encryptedkey?: unknown };
}

/** Stands in for a `secure:` value that only the stack's secrets provider can decrypt. */
export const OFFLINE_SECRET = "offline-placeholder-secret";

function replaceSecure(value: unknown, found: { secure: boolean }): unknown {
  if (Array.isArray(value)) return value.map((v) => replaceSecure(v, found));
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (Object.keys(record).length === 1 && typeof record.secure === "string") {
      found.secure = true;
      return OFFLINE_SECRET;
    }
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, replaceSecure(v, found)]));
  }
  return value;
}

export function readStackConfig(file: string, projectName: string): StackConfig {
  if (!existsSync(file)) throw new Error(`stack file ${file} does not exist`);
  const doc = (parse(readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown>; secretsprovider?: unknown; encryptedkey?: unknown };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const placeholders: string[] = [];
  for (const [rawKey, rawValue] of Object.entries(doc.config ?? {})) {
    // A key without a namespace belongs to the project, as in the CLI.
    const key = rawKey.includes(":") ? rawKey : `${projectName}:${rawKey}`;
    const found = { secure: false };
    const value = replaceSecure(rawValue, found);
    if (found.secure) {
      secretKeys.push(key);
      placeholders.push(key);
    }
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const secrets = {
    ...(doc.secretsprovider !== undefined ? { secretsprovider: doc.secretsprovider } : {}),
    ...(doc.encryptedkey !== undefined ? { encryptedkey: doc.encryptedkey } : {}),
  };
  return { config, secretKeys, placeholders, secrets };
}
