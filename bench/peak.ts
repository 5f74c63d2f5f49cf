/**
 * Preloaded (`node -r`) into each benchmarked process: on exit it writes the process's peak resident
 * memory (KiB) to the file named by ODOO_FLEET_PEAK_FILE. Nothing in the plan itself knows of it.
 */
import { writeFileSync } from "node:fs";

const file = process.env.ODOO_FLEET_PEAK_FILE;
if (file) process.on("exit", () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
