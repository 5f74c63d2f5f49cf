/** What every layer calls a stack: its project, environments and the network choices that follow from them. */

export const PROJECT = "odoo-fleet";

export const ENVIRONMENTS = ["production", "staging", "development", "review"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export type NatGatewayMode = "OnePerAz" | "Single";
