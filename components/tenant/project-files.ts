import { existsSync } from "node:fs";
import * as path from "node:path";

/**
 * A file of this repository (scripts the cluster runs), found from the project root: the folder
 * holding Pulumi.yaml above this module, whether it runs from source or from dist/.
 */
export function projectFile(relative: string): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, "Pulumi.yaml"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no Pulumi.yaml above ${__dirname}`);
    dir = parent;
  }
  return path.join(dir, relative);
}
