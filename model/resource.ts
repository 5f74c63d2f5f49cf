/** One resource as the offline plan captured its registration: what analyses, policies and reports read. */
export interface CapturedResource {
  urn: string;
  /** The id the (mock) provider gave it: what other resources' inputs refer to it by. */
  id?: string;
  type: string;
  name: string;
  custom: boolean;
  /** Set on resources the program reads rather than manages (StackReference, `get`). */
  read?: boolean;
  parent: string | null;
  provider: string | null;
  protect: boolean;
  retainOnDelete: boolean;
  dependsOn: string[];
  ignoreChanges: string[];
  inputs: Record<string, unknown>;
  /** The URNs this resource was known by before (its `aliases` option), where it has any. */
  aliases?: string[];
}
