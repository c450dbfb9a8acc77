/**
 * IPv4 and IPv6 addresses and CIDR blocks, for EventBridge's `cidr` matching
 * (the user guide: "IP address matching is available for both IPv4 and IPv6").
 */

interface Address {
  readonly value: bigint;
  readonly bits: 32 | 128;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256n + BigInt(p), 0n);
}

function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split('::').length > 2) return undefined;
  // An embedded IPv4 tail (::ffff:10.0.0.1) stands for the last two groups.
  let hex = text;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    hex = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const split = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const [left = '', right] = hex.split('::');
  let groups = split(left);
  if (right !== undefined) {
    const r = split(right);
    if (groups.length + r.length >= 8) return undefined;
    groups = [...groups, ...Array<string>(8 - groups.length - r.length).fill('0'), ...r];
  }
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g, 16)), 0n);
}

export function parseIp(text: string): Address | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { value: v4, bits: 32 };
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  return v6 === undefined ? undefined : { value: v6, bits: 128 };
}

export function parseCidr(cidr: string): { readonly network: Address; readonly prefix: number } | undefined {
  const parts = cidr.split('/');
  if (parts.length !== 2 || !/^\d{1,3}$/.test(parts[1] ?? '')) return undefined;
  const network = parseIp(parts[0] ?? '');
  const prefix = Number(parts[1]);
  if (!network || prefix > network.bits) return undefined;
  return { network, prefix };
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const block = parseCidr(cidr);
  const address = parseIp(ip);
  if (!block || !address || address.bits !== block.network.bits) return false;
  const shift = BigInt(address.bits - block.prefix);
  return address.value >> shift === block.network.value >> shift;
}

/** Two spellings of one IP address (IPv6 has many). */
export function sameIp(a: string, b: string): boolean {
  const x = parseIp(a);
  const y = parseIp(b);
  return x !== undefined && y !== undefined && x.bits === y.bits && x.value === y.value;
}
