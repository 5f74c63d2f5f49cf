/**
 * The EKS Kubernetes release calendar, as typed data: when each minor version leaves standard and
 * extended support, and the add-on builds pinned for it. Part of the tier catalogue (re-exported by
 * tiers/catalogue.ts); the spec accepts only a version listed here, the policies compare its dates.
 *
 * Source: AWS, "Amazon EKS Kubernetes release calendar",
 * https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html#kubernetes-release-calendar
 * (awsdocs/amazon-eks-user-guide, latest/ug/versioning/kubernetes-versions.adoc). Dates are UTC: a
 * version is out of standard support from the start of its end date, when extended-support billing
 * starts. Add the next version here, with its add-on builds, when EKS releases it.
 */

export interface EksVersionSupport {
  /** Kubernetes minor version, as the EKS API spells it ("1.35"). */
  readonly version: string;
  /** Release on EKS (YYYY-MM-DD, UTC). */
  readonly eksRelease: string;
  readonly endOfStandardSupport: string;
  readonly endOfExtendedSupport: string;
  /**
   * EKS add-on builds for this version, for the add-ons whose build follows the Kubernetes minor
   * (kube-proxy must match it; CoreDNS has a build per version). Pinned, so an upgrade of the
   * cluster moves them too; the other add-ons keep the default build EKS picks when they are created.
   * Sources: "Manage kube-proxy in Amazon EKS clusters" and "Manage CoreDNS for DNS in Amazon EKS
   * clusters", tables of the latest add-on build per Kubernetes version.
   */
  readonly addons?: { readonly coredns: string; readonly "kube-proxy": string };
}

export const EKS_VERSIONS: readonly EksVersionSupport[] = [
  {
    version: "1.35",
    // Newer than the stored copy of the calendar above: dates as endoflife.date/amazon-eks copies them
    // from AWS (EKS release late January 2026; standard support 14 months, extended 12 more).
    eksRelease: "2026-01-27",
    endOfStandardSupport: "2027-03-27",
    endOfExtendedSupport: "2028-03-27",
    addons: { coredns: "v1.14.2-eksbuild.4", "kube-proxy": "v1.35.3-eksbuild.2" },
  },
  {
    version: "1.34",
    eksRelease: "2025-10-02",
    endOfStandardSupport: "2026-12-02",
    endOfExtendedSupport: "2027-12-02",
    addons: { coredns: "v1.13.2-eksbuild.7", "kube-proxy": "v1.34.6-eksbuild.2" },
  },
  { version: "1.33", eksRelease: "2025-05-29", endOfStandardSupport: "2026-07-29", endOfExtendedSupport: "2027-07-29" },
  { version: "1.32", eksRelease: "2025-01-23", endOfStandardSupport: "2026-03-23", endOfExtendedSupport: "2027-03-23" },
  { version: "1.31", eksRelease: "2024-09-26", endOfStandardSupport: "2025-11-26", endOfExtendedSupport: "2026-11-26" },
  { version: "1.30", eksRelease: "2024-05-23", endOfStandardSupport: "2025-07-23", endOfExtendedSupport: "2026-07-23" },
  { version: "1.29", eksRelease: "2024-01-23", endOfStandardSupport: "2025-03-23", endOfExtendedSupport: "2026-03-23" },
];

export function eksVersion(version: string): EksVersionSupport | undefined {
  return EKS_VERSIONS.find((v) => v.version === version);
}

export type EksSupportStatus =
  | { readonly kind: "standard"; readonly endOfStandardSupport: string; readonly daysLeft: number }
  | { readonly kind: "ending"; readonly endOfStandardSupport: string; readonly daysLeft: number }
  | { readonly kind: "ended"; readonly endOfStandardSupport: string; readonly daysLeft: number }
  | { readonly kind: "unknown" };

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Where `version` stands on `today` (a UTC date or instant): in standard support, within `warnDays`
 * of its end, or past it. Pure: the caller says what day it is.
 */
export function eksSupportStatus(version: string, today: Date, warnDays: number): EksSupportStatus {
  const entry = eksVersion(version);
  if (!entry) return { kind: "unknown" };
  const startOfToday = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const daysLeft = Math.round((Date.parse(`${entry.endOfStandardSupport}T00:00:00Z`) - startOfToday) / DAY_MS);
  const kind = daysLeft <= 0 ? "ended" : daysLeft <= warnDays ? "ending" : "standard";
  return { kind, endOfStandardSupport: entry.endOfStandardSupport, daysLeft };
}
