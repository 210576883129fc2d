/**
 * Which callback URLs kumo may POST results to. Cloud metadata and link-local addresses are
 * always refused (an async request must not turn kumo into a proxy to the instance's credentials).
 * With no allow-list everything else is allowed, loopback included; with one, only what it lists.
 * Names are checked when the request is accepted and their addresses again when kumo connects,
 * so a name that later resolves to a refused address (DNS rebinding) is still refused. An IPv6
 * address that embeds an IPv4 one (NAT64, mapped, compatible, 6to4, Teredo, ISATAP) is judged by
 * the IPv4 it embeds, and one embedding loopback is refused even though plain loopback is not:
 * nothing legitimate needs the translated form, and it must not slip past a rule written for 127/8.
 */
import dns from 'node:dns';
import type { RequestOptions } from 'node:http';
import net, { BlockList } from 'node:net';
import { KumoError } from '../core/index.ts';
import { embeddedIPv4, isUnspecified } from './embedded-ipv4.ts';

/** Addresses no callback may reach. */
const DENIED_SUBNETS: readonly [string, number, 'ipv4' | 'ipv6'][] = [
  ['169.254.0.0', 16, 'ipv4'], // link-local, AWS/GCP/Azure/OpenStack metadata 169.254.169.254
  ['100.100.100.200', 32, 'ipv4'], // Alibaba Cloud metadata
  ['0.0.0.0', 8, 'ipv4'],
  ['fe80::', 10, 'ipv6'], // link-local
  ['fd00:ec2::254', 128, 'ipv6'], // AWS metadata over IPv6
];
/** Metadata host names refused whatever they resolve to. */
const DENIED_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** Lookup function with the shape http.request accepts. */
type Lookup = NonNullable<RequestOptions['lookup']>;

/** How names are resolved (dns.lookup with `all: true`); a parameter so that tests can stand in for DNS. */
export type Resolve = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

/** Embedded IPv4 addresses refused besides the deny-list: loopback and "this network". */
const EMBEDDED_DENIED: readonly [string, number][] = [
  ['127.0.0.0', 8],
  ['0.0.0.0', 8],
];

/** The callback allow-list and the fixed deny-list. */
export class CallbackPolicy {
  private readonly denied = new BlockList();
  private readonly allowedNets = new BlockList();
  private readonly allowedNames: string[] = [];
  private readonly hasAllowList: boolean;
  /** For http.request: resolves like dns.lookup, then refuses denied addresses. */
  readonly lookup: Lookup;

  private readonly deniedEmbedded = new BlockList();

  /** `allow`: CIDRs (10.0.0.0/8), addresses, host names, or `*.example.com` suffixes. */
  constructor(allow: readonly string[], resolve: Resolve = dns.lookup) {
    for (const [address, prefix, type] of DENIED_SUBNETS) this.denied.addSubnet(address, prefix, type);
    for (const [address, prefix] of EMBEDDED_DENIED) this.deniedEmbedded.addSubnet(address, prefix, 'ipv4');
    for (const raw of allow) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      const [address = '', prefix] = entry.split('/');
      const type = net.isIP(address);
      if (type) {
        const bits = prefix === undefined ? (type === 4 ? 32 : 128) : Number(prefix);
        if (!Number.isInteger(bits) || bits < 0 || bits > (type === 4 ? 32 : 128))
          throw new KumoError(
            'bad_request',
            `--callback-allow: ${JSON.stringify(raw)} has a bad prefix length`,
          );
        this.allowedNets.addSubnet(address, bits, type === 4 ? 'ipv4' : 'ipv6');
      } else if (/^(\*\.)?[a-z0-9.-]+$/.test(entry)) {
        this.allowedNames.push(entry);
      } else {
        throw new KumoError(
          'bad_request',
          `--callback-allow: ${JSON.stringify(raw)} is not a CIDR, an address or a host name`,
        );
      }
    }
    this.hasAllowList = allow.some((a) => a.trim() !== '');
    this.lookup = ((
      hostname: string,
      options: dns.LookupOptions,
      callback: (err: Error | null, address: string | dns.LookupAddress[], family?: number) => void,
    ) => {
      const named = this.nameAllowed(hostname.toLowerCase());
      resolve(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, '');
        const ok = addresses.filter((a) => this.addressProblem(a.address, named) === undefined);
        if (!ok.length)
          return callback(
            new KumoError(
              'callback_not_allowed',
              `callback host ${hostname} resolves only to refused addresses`,
            ),
            '',
          );
        if (options.all) return callback(null, ok);
        const first = ok[0] as dns.LookupAddress;
        callback(null, first.address, first.family);
      });
    }) as Lookup;
  }

  /** Parses and checks a callback URL; throws callback_not_allowed saying why. */
  checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw refused(`X-Callback-Url ${JSON.stringify(raw)} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw refused(`X-Callback-Url must be http:// or https:// (got ${url.protocol})`);
    if (url.username || url.password) throw refused('X-Callback-Url must not carry credentials');
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (net.isIP(host)) {
      const problem = this.addressProblem(host, false);
      if (problem) throw refused(`X-Callback-Url ${host}: ${problem}`);
      return url;
    }
    if (DENIED_NAMES.has(host.replace(/\.$/, '')))
      throw refused(`X-Callback-Url ${host} is a cloud metadata host`);
    if (this.hasAllowList && !this.nameAllowed(host) && !this.hasNets())
      throw refused(`X-Callback-Url ${host} is not on the callback allow-list (--callback-allow)`);
    return url;
  }

  /** Why `address` may not be called back, or undefined. `named`: the host name was allowed by name. */
  addressProblem(address: string, named: boolean): string | undefined {
    const type = net.isIPv4(address) ? 'ipv4' : 'ipv6';
    if (isUnspecified(address)) return 'the unspecified address (this host) is refused';
    if (this.denied.check(address, type)) return 'cloud metadata and link-local addresses are refused';
    const embedded = type === 'ipv6' ? embeddedIPv4(address) : [];
    for (const v4 of embedded) {
      if (this.denied.check(v4, 'ipv4'))
        return `it embeds ${v4}: cloud metadata and link-local addresses are refused`;
      if (this.deniedEmbedded.check(v4, 'ipv4'))
        return `it embeds ${v4}: loopback and 0.0.0.0/8 are refused in NAT64, mapped and other embedded forms`;
    }
    if (
      this.hasAllowList &&
      !named &&
      !this.allowedNets.check(address, type) &&
      !embedded.some((v4) => this.allowedNets.check(v4, 'ipv4'))
    )
      return 'not on the callback allow-list (--callback-allow)';
    return undefined;
  }

  private nameAllowed(host: string): boolean {
    return this.allowedNames.some((n) => (n.startsWith('*.') ? host.endsWith(n.slice(1)) : host === n));
  }

  private hasNets(): boolean {
    return this.allowedNets.rules.length > 0;
  }
}

function refused(message: string): KumoError {
  return new KumoError('callback_not_allowed', message);
}
