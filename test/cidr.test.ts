import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { contains, formatCidr, overlaps, parseCidr, planSubnets, smallestSubnetPrefix, subnetOf, usableAwsAddresses } from "../model/cidr";

describe("parseCidr / formatCidr", () => {
  test.each([
    ["10.0.0.0/16", 10 * 2 ** 24, 16],
    ["192.168.4.0/22", 192 * 2 ** 24 + 168 * 2 ** 16 + 4 * 2 ** 8, 22],
    ["0.0.0.0/0", 0, 0],
    ["255.255.255.255/32", 2 ** 32 - 1, 32],
  ])("%s", (text, base, prefix) => {
    expect(parseCidr(text)).toEqual({ base, prefix });
    expect(formatCidr(parseCidr(text))).toBe(text);
  });

  test.each([
    ["10.0.0/16", '"10.0.0/16" is not an IPv4 CIDR block (a.b.c.d/n)'],
    ["10.0.0.256/24", '"10.0.0.256/24" has an octet above 255'],
    ["10.0.0.0/33", '"10.0.0.0/33" has a prefix length above 32'],
    ["10.0.1.0/16", '"10.0.1.0/16" has host bits set; the network address is 10.0.0.0/16'],
  ])("rejects %s", (text, message) => {
    expect(() => parseCidr(text)).toThrow(message);
  });
});

describe("subnetOf", () => {
  test.each([
    ["10.0.0.0/16", 4, 0, "10.0.0.0/20"],
    ["10.0.0.0/16", 4, 15, "10.0.240.0/20"],
    ["10.0.0.0/16", 1, 1, "10.0.128.0/17"],
    ["10.0.0.0/24", 4, 3, "10.0.0.48/28"],
  ])("%s +%i bits, block %i = %s", (parent, bits, index, expected) => {
    expect(formatCidr(subnetOf(parseCidr(parent), bits, index))).toBe(expected);
  });

  test("rejects a block outside the parent", () => {
    expect(() => subnetOf(parseCidr("10.0.0.0/16"), 2, 4)).toThrow("block 4 is outside /16 cut into /18 blocks");
  });
});

describe("planSubnets", () => {
  test("three zones in a /16: private /19, public and isolated /21", () => {
    expect(planSubnets("10.20.0.0/16", ["eu-west-1a", "eu-west-1b", "eu-west-1c"])).toEqual([
      { zone: "eu-west-1a", private: "10.20.0.0/19", public: "10.20.128.0/21", isolated: "10.20.160.0/21" },
      { zone: "eu-west-1b", private: "10.20.32.0/19", public: "10.20.136.0/21", isolated: "10.20.168.0/21" },
      { zone: "eu-west-1c", private: "10.20.64.0/19", public: "10.20.144.0/21", isolated: "10.20.176.0/21" },
    ]);
  });

  test("two zones in a /16: private /18", () => {
    expect(planSubnets("10.10.0.0/16", ["a1", "b1"]).map((z) => z.private)).toEqual(["10.10.0.0/18", "10.10.64.0/18"]);
  });

  test("private subnets of a /16 with 3 zones hold 8,187 addresses each for nodes and pods", () => {
    expect(usableAwsAddresses(parseCidr(planSubnets("10.20.0.0/16", ["a", "b", "c"])[0]!.private))).toBe(8187);
  });

  test.each([
    ["10.0.0.0/24", ["a", "b", "c", "d", "e"], "VPC block 10.0.0.0/24 is too small for 5 zones: subnets would be /30, AWS allows /28 at most"],
    ["10.0.0.0/8", ["a", "b"], "VPC block 10.0.0.0/8 must have a prefix between /16 and /28"],
    ["10.0.0.0/16", ["a", "a"], "zones repeat: a, a"],
    ["10.0.0.0/16", [], "a network needs at least one zone"],
  ])("rejects %s with %j", (cidr, zones, message) => {
    expect(() => planSubnets(cidr, zones)).toThrow(message);
  });

  const layoutInput = fc
    .record({
      octets: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })),
      prefix: fc.integer({ min: 16, max: 24 }),
      zoneCount: fc.integer({ min: 1, max: 8 }),
    })
    .filter(({ prefix, zoneCount }) => smallestSubnetPrefix(prefix, zoneCount) <= 28)
    .map(({ octets, prefix, zoneCount }) => {
      const vpc = { base: (10 * 2 ** 24 + octets[0] * 2 ** 16 + octets[1] * 2 ** 8) % 2 ** 32, prefix };
      const aligned = { base: vpc.base - (vpc.base % 2 ** (32 - prefix)), prefix };
      return { cidr: formatCidr(aligned), zones: Array.from({ length: zoneCount }, (_, i) => `zone-${i}`) };
    });

  test("property: 3 subnets per zone, all inside the VPC, none overlapping", () => {
    fc.assert(
      fc.property(layoutInput, ({ cidr, zones }) => {
        const layout = planSubnets(cidr, zones);
        const vpc = parseCidr(cidr);
        const all = layout.flatMap((z) => [z.public, z.private, z.isolated]).map(parseCidr);
        expect(layout.map((z) => z.zone)).toEqual(zones);
        expect(all).toHaveLength(3 * zones.length);
        for (const s of all) expect(contains(vpc, s)).toBe(true);
        for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) expect(overlaps(all[i]!, all[j]!)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  test("property: private subnets are the largest, and a zone's subnets do not move when a zone is appended", () => {
    fc.assert(
      fc.property(layoutInput, ({ cidr, zones }) => {
        const layout = planSubnets(cidr, zones);
        for (const z of layout) expect(parseCidr(z.private).prefix).toBeLessThan(parseCidr(z.public).prefix);
        const grown = [...zones, "zone-new"];
        // Appending keeps positions stable as long as the zone count stays in the same power-of-two slot count.
        if (Math.max(1, Math.ceil(Math.log2(grown.length))) === Math.max(1, Math.ceil(Math.log2(zones.length)))) {
          expect(planSubnets(cidr, grown).slice(0, zones.length)).toEqual(layout);
        }
      }),
      { numRuns: 300 },
    );
  });
});
