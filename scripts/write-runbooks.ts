/** Writes docs/runbooks/<Alert>.md from the runbook table (npm run runbooks). */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { RUNBOOKS, runbookMarkdown } from "../components/observability/runbooks";

const dir = path.resolve(__dirname, "..", "docs", "runbooks");
mkdirSync(dir, { recursive: true });
for (const [alert, book] of Object.entries(RUNBOOKS)) writeFileSync(path.join(dir, `${alert}.md`), runbookMarkdown(alert, book));
console.log(`wrote ${Object.keys(RUNBOOKS).length} runbooks to ${path.relative(process.cwd(), dir)}`);
