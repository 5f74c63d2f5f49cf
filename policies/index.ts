/**
 * The odoo-fleet policy pack: `pulumi preview --policy-pack policies` (after `npm run build`).
 * This is the only place the pack is constructed (constructing one starts its gRPC server).
 */
import { PolicyPack } from "@pulumi/policy";
import { ALL_POLICIES } from "./all";

new PolicyPack("odoo-fleet", { policies: ALL_POLICIES });
