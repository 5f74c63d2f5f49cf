/** The plan as a Markdown report for a pull-request comment. */
import { formatMinutes } from "../../tiers/recovery";
import { dataLossRisks } from "./changes";
import type { EvaluatedViolation } from "../evaluation/policy-eval";
import type { PlanDocument, ResourceChange } from "./document";

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function markdownReport(document: PlanDocument, violations: readonly EvaluatedViolation[], changes?: readonly ResourceChange[]): string {
  const lines: string[] = [];
  const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory").length;
  const verdict = document.errors ? "invalid configuration" : mandatory > 0 ? `${mandatory} mandatory violation${mandatory === 1 ? "" : "s"}` : "no mandatory violation";
  lines.push(`## odoo-fleet plan: \`${document.stack}\` (${verdict})`, "");
  if (document.errors) {
    lines.push(`\`${document.stackFile}\` is invalid:`, "", ...document.errors.map((e) => `- \`${e.path}\`: ${cell(e.message)}`), "");
    return `${lines.join("\n")}\n`;
  }

  lines.push(`**${document.summary.resourceCount} resources**`, "", "<details><summary>by type</summary>", "", "| type | count |", "|---|---:|");
  for (const [type, count] of Object.entries(document.summary.byType)) lines.push(`| \`${type}\` | ${count} |`);
  lines.push("", "</details>", "");

  if (changes) {
    const count = (kind: ResourceChange["change"]) => changes.filter((c) => c.change === kind).length;
    lines.push(`### Changes against the previous plan: ${count("add")} to add, ${count("update")} to update, ${count("replace")} to replace, ${count("remove")} to remove`, "");
    const lossy = dataLossRisks(changes);
    if (lossy.length > 0) {
      lines.push("> [!CAUTION]", `> **${lossy.length} stateful resource${lossy.length === 1 ? " is" : "s are"} replaced or removed: the data in ${lossy.length === 1 ? "it" : "them"} is lost unless restored.**`);
      for (const c of lossy) lines.push(`> - ${c.change} \`${cell(c.urn.split("::").slice(2).join("::"))}\`${c.replaceBecause ? ` (forced by ${c.replaceBecause.map((p) => `\`${p}\``).join(", ")})` : ""}`);
      lines.push("");
    }
    const touched = changes.filter((c) => c.stateful && c.change === "update").length;
    if (touched > 0) lines.push("> [!WARNING]", `> ${touched} stateful resource${touched === 1 ? "" : "s"} updated in place: check the inputs below.`, "");
    if (changes.length > 0) {
      lines.push("| change | resource | inputs |", "|---|---|---|");
      for (const c of changes) lines.push(`| ${c.change}${c.stateful ? " (stateful)" : ""} | \`${cell(c.urn.split("::").slice(2).join("::"))}\` | ${cell(c.paths.slice(0, 8).join(", "))}${c.paths.length > 8 ? ", …" : ""} |`);
      lines.push("");
    }
  }

  lines.push(`### Policy violations: ${violations.length === 0 ? "none" : `${mandatory} mandatory, ${violations.length - mandatory} advisory`}`, "");
  if (violations.length > 0) {
    lines.push("| tenant | level | policy | message |", "|---|---|---|---|");
    for (const v of [...violations].sort((a, b) => (a.tenant ?? "").localeCompare(b.tenant ?? ""))) lines.push(`| ${v.tenant ?? "(platform)"} | ${v.enforcementLevel} | \`${v.policy}\` | ${cell(v.message)} |`);
    lines.push("");
  }

  if (document.isolationChannels) {
    const total = document.isolationChannels.reduce((n, c) => n + c.findings, 0);
    lines.push(`### Isolation: ${total === 0 ? "no finding" : `${total} finding${total === 1 ? "" : "s"}`} in ${document.isolationChannels.length} channels`, "", "| channel | checked | what | findings |", "|---|---:|---|---:|");
    for (const c of document.isolationChannels) lines.push(`| ${c.channel} | ${c.checked} | ${cell(c.unit)} | ${c.findings > 0 ? `**${c.findings}**` : "0"} |`);
    lines.push("");
    for (const f of document.isolation ?? []) lines.push(`- ${f.channel}, ${f.tenant}: ${cell(f.message)}`);
    if ((document.isolation ?? []).length > 0) lines.push("");
  }

  if (document.recovery) {
    lines.push("### Recovery: achieved / contract", "", "| tenant | tier | objective | fault | achieved | contract | |", "|---|---|---|---|---|---|---|");
    for (const r of document.recovery.rows) {
      const show = (v: number | null) => (r.objective === "PITR window" ? `${v ?? 0} d` : formatMinutes(v));
      lines.push(`| ${r.tenant} | ${r.tier} | ${r.objective} | ${r.fault} | ${show(r.achieved)} | ${show(r.contract)} | ${r.meets ? "ok" : r.enforced ? "**short**" : "relaxed"} |`);
    }
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}
