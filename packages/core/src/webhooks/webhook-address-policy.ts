import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** What ipaddr.js calls each range, in words a person reading an error understands. */
const RANGE_WORDS: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT address (100.64.0.0/10)',
  private: 'a private address',
  reserved: 'a reserved address',
  as112: 'an AS112 sink address',
  amt: 'an AMT relay address',
  benchmarking: 'a benchmarking address',
  uniqueLocal: 'a unique local address (fc00::/7)',
  rfc6145: 'an IPv4-translated address',
  teredo: 'a Teredo tunnel address',
  deprecatedSiteLocal: 'a site-local address (fec0::/10)',
  discard: 'a discard-only address',
};

/**
 * Addresses ipaddr.js files under "unicast" that still reach a cloud provider's own services.
 * Azure's wireserver answers on a public address; the others sit inside ranges refused anyway,
 * listed so the message names them.
 */
const METADATA_ADDRESSES: ReadonlyMap<string, string> = new Map(
  (
    [
      ['169.254.169.254', 'a cloud metadata address'],
      ['169.254.170.2', 'a cloud metadata address'],
      ['100.100.100.200', 'a cloud metadata address'],
      ['168.63.129.16', 'a cloud platform address (Azure wireserver)'],
      ['fd00:ec2::254', 'a cloud metadata address'],
    ] as const
  ).map(([address, words]) => [ipaddr.parse(address).toString(), words]),
);

// Global unicast IPv6 is 2000::/3; everything outside it (bar the IPv4 forms checked below) is local or special.
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

/**
 * An IPv4 address embedded in an IPv6 one by a transition mechanism, if `address` is such a form.
 * Written here because ipaddr.js names these ranges but does not classify what they embed.
 */
function embeddedIPv4(address: ipaddr.IPv6): { form: string; ipv4: ipaddr.IPv4 } | null {
  const parts = address.parts;
  const low32 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  if (address.isIPv4MappedAddress()) return { form: 'IPv4-mapped', ipv4: address.toIPv4Address() };
  if (address.match(NAT64_WELL_KNOWN)) return { form: 'NAT64', ipv4: low32(parts[6] ?? 0, parts[7] ?? 0) };
  if (parts[0] === 0x2002) return { form: '6to4', ipv4: low32(parts[1] ?? 0, parts[2] ?? 0) };
  // ::a.b.c.d, the deprecated IPv4-compatible form (:: and ::1 are classified on their own).
  if (parts.slice(0, 6).every((part) => part === 0) && address.range() === 'unicast') {
    return { form: 'IPv4-compatible', ipv4: low32(parts[6] ?? 0, parts[7] ?? 0) };
  }
  return null;
}

function ipv4Problem(address: ipaddr.IPv4): string | null {
  const metadata = METADATA_ADDRESSES.get(address.toString());
  if (metadata !== undefined) return metadata;
  const range = address.range();
  return range === 'unicast' ? null : (RANGE_WORDS[range] ?? `a special-purpose address (${range})`);
}

function ipv6Problem(address: ipaddr.IPv6): string | null {
  const metadata = METADATA_ADDRESSES.get(address.toString());
  if (metadata !== undefined) return metadata;
  const embedded = embeddedIPv4(address);
  if (embedded !== null) {
    // Only the well-known NAT64 prefix and IPv4-mapped addresses carry public IPv4 traffic today.
    if (embedded.form === '6to4' || embedded.form === 'IPv4-compatible') {
      return `the ${embedded.form} form of ${embedded.ipv4.toString()} (refused whatever it embeds)`;
    }
    const inner = ipv4Problem(embedded.ipv4);
    return inner === null ? null : `the ${embedded.form} form of ${embedded.ipv4.toString()}, ${inner}`;
  }
  const range = address.range();
  if (range !== 'unicast') return RANGE_WORDS[range] ?? `a special-purpose address (${range})`;
  if (!address.match(GLOBAL_UNICAST_V6)) return 'outside global unicast space (2000::/3)';
  return null;
}

/** Parses an IP address as `dns.lookup` or a WHATWG URL host gives it (brackets allowed). */
export function parseIpAddress(text: string): Address | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // net.isIP accepts only canonical forms, so "0x7f.1" is treated as a name, never guessed at.
  return isIP(bare.split('%')[0] ?? '') === 0 ? null : ipaddr.parse(bare);
}

/**
 * Why a webhook must not be sent to `address`, or null when it is a public unicast address.
 * Refused: private, loopback, link-local, CGNAT, multicast, broadcast, reserved and unspecified
 * ranges, cloud metadata addresses, IPv6 ULA/link-local/site-local and anything outside 2000::/3,
 * the IPv4-mapped and NAT64 forms of refused IPv4 addresses, and every 6to4 and IPv4-compatible one.
 */
export function forbiddenAddressReason(address: string): string | null {
  const parsed = parseIpAddress(address);
  if (parsed === null) return 'not an IP address';
  return parsed.kind() === 'ipv4' ? ipv4Problem(parsed as ipaddr.IPv4) : ipv6Problem(parsed as ipaddr.IPv6);
}

export interface WebhookAllowlistOptions {
  /** Host names delivered to whatever they resolve to (case-insensitive, no trailing dot). Default: none. */
  allowHosts?: readonly string[];
  /** CIDR ranges delivered to even when private, e.g. `127.0.0.1/32`. Default: none. */
  allowCidrs?: readonly string[];
}

/** The operator's exceptions to the address rules. */
export class WebhookAllowlist {
  readonly #hosts: ReadonlySet<string>;
  readonly #ranges: ReadonlyArray<[Address, number]>;

  constructor(options: WebhookAllowlistOptions = {}) {
    this.#hosts = new Set((options.allowHosts ?? []).map(normaliseHostName));
    this.#ranges = (options.allowCidrs ?? []).map((cidr) => ipaddr.parseCIDR(cidr));
  }

  hasHost(host: string): boolean {
    return this.#hosts.has(normaliseHostName(host));
  }

  hasAddress(address: string): boolean {
    const parsed = parseIpAddress(address);
    if (parsed === null) return false;
    // An IPv4-mapped address is the IPv4 address for this purpose, so `127.0.0.1/32` covers both.
    const candidate =
      parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()
        ? (parsed as ipaddr.IPv6).toIPv4Address()
        : parsed;
    return this.#ranges.some(
      ([network, bits]) => network.kind() === candidate.kind() && candidate.match(network, bits),
    );
  }
}

/** Lowercase, without brackets or the trailing dot of a fully qualified name. */
export function normaliseHostName(host: string): string {
  const lower = host.toLowerCase();
  const bare = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return bare.endsWith('.') ? bare.slice(0, -1) : bare;
}
