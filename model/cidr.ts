/**
 * IPv4 CIDR arithmetic and the subnet layout of a Network. Pure functions, no Pulumi.
 */

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefix: number;
}

const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; throws when the text is malformed or has host bits set. */
export function parseCidr(text: string): Cidr {
  const match = CIDR_PATTERN.exec(text);
  if (!match) throw new Error(`"${text}" is not an IPv4 CIDR block (a.b.c.d/n)`);
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255)) throw new Error(`"${text}" has an octet above 255`);
  if (prefix > 32) throw new Error(`"${text}" has a prefix length above 32`);
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  if (base % blockSize(prefix) !== 0) {
    throw new Error(`"${text}" has host bits set; the network address is ${formatCidr({ base: alignDown(base, prefix), prefix })}`);
  }
  return { base, prefix };
}

export function formatCidr(cidr: Cidr): string {
  const b = cidr.base;
  return `${Math.floor(b / 2 ** 24) % 256}.${Math.floor(b / 2 ** 16) % 256}.${Math.floor(b / 2 ** 8) % 256}.${b % 256}/${cidr.prefix}`;
}

function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

function alignDown(base: number, prefix: number): number {
  return base - (base % blockSize(prefix));
}

/** The `index`-th block of `parent` when it is cut into blocks `newBits` longer (Terraform's cidrsubnet). */
export function subnetOf(parent: Cidr, newBits: number, index: number): Cidr {
  const prefix = parent.prefix + newBits;
  if (newBits < 0 || prefix > 32) throw new Error(`cannot cut /${parent.prefix} into /${prefix} blocks`);
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** newBits) {
    throw new Error(`block ${index} is outside /${parent.prefix} cut into /${prefix} blocks`);
  }
  return { base: parent.base + index * blockSize(prefix), prefix };
}

export function contains(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && inner.base >= outer.base && inner.base + blockSize(inner.prefix) <= outer.base + blockSize(outer.prefix);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + blockSize(b.prefix) && b.base < a.base + blockSize(a.prefix);
}

/** Usable addresses in an AWS subnet: AWS reserves the first four and the last one. */
export function usableAwsAddresses(cidr: Cidr): number {
  return blockSize(cidr.prefix) - 5;
}

export interface ZoneSubnets {
  readonly zone: string;
  readonly public: string;
  /** Nodes and, through the VPC CNI, every pod: the largest block. */
  readonly private: string;
  /** Data stores (RDS, ElastiCache, EFS): no route to the internet. */
  readonly isolated: string;
}

/** AWS accepts VPC blocks from /16 to /28 and subnets down to /28. */
export const MIN_VPC_PREFIX = 16;
export const MAX_SUBNET_PREFIX = 28;

/**
 * Extra bits that give every zone its own slot in each pool, with room for the zone count to grow
 * to the next power of two without moving existing subnets.
 */
function zoneBits(zoneCount: number): number {
  return Math.max(1, Math.ceil(Math.log2(zoneCount)));
}

/**
 * The smallest subnet prefix the layout produces for `zoneCount` zones in a `/vpcPrefix` VPC;
 * the layout is valid when this is at most MAX_SUBNET_PREFIX.
 */
export function smallestSubnetPrefix(vpcPrefix: number, zoneCount: number): number {
  return vpcPrefix + 3 + zoneBits(zoneCount);
}

/**
 * Lays out one public, one private and one isolated subnet per zone inside `vpcCidr`:
 * - the first half of the VPC is the private pool (nodes and pods need most addresses);
 * - the next eighth is the public pool (NAT gateways, load balancers);
 * - the eighth after that is the isolated pool (data stores);
 * - the last quarter stays free for later pools.
 * Each pool is cut into as many equal slots as the zone count rounded up to a power of two, and zone
 * `i` takes slot `i`, so a zone's subnets depend only on its position in the list.
 */
export function planSubnets(vpcCidr: string, zones: readonly string[]): ZoneSubnets[] {
  if (zones.length === 0) throw new Error("a network needs at least one zone");
  if (new Set(zones).size !== zones.length) throw new Error(`zones repeat: ${zones.join(", ")}`);
  const vpc = parseCidr(vpcCidr);
  if (vpc.prefix < MIN_VPC_PREFIX || vpc.prefix > MAX_SUBNET_PREFIX) {
    throw new Error(`VPC block ${vpcCidr} must have a prefix between /${MIN_VPC_PREFIX} and /${MAX_SUBNET_PREFIX}`);
  }
  const smallest = smallestSubnetPrefix(vpc.prefix, zones.length);
  if (smallest > MAX_SUBNET_PREFIX) {
    throw new Error(`VPC block ${vpcCidr} is too small for ${zones.length} zones: subnets would be /${smallest}, AWS allows /${MAX_SUBNET_PREFIX} at most`);
  }
  const bits = zoneBits(zones.length);
  const privatePool = subnetOf(vpc, 1, 0);
  const publicPool = subnetOf(vpc, 3, 4);
  const isolatedPool = subnetOf(vpc, 3, 5);
  return zones.map((zone, i) => ({
    zone,
    private: formatCidr(subnetOf(privatePool, bits, i)),
    public: formatCidr(subnetOf(publicPool, bits, i)),
    isolated: formatCidr(subnetOf(isolatedPool, bits, i)),
  }));
}

/** The public subnet of the CI runners' VPC (its NAT gateway only): the VPC's first /26. */
export const RUNNER_PUBLIC_PREFIX = 26;

export function runnerPublicSubnet(vpcCidr: string): string {
  const vpc = parseCidr(vpcCidr);
  return formatCidr(subnetOf(vpc, RUNNER_PUBLIC_PREFIX - vpc.prefix, 0));
}
