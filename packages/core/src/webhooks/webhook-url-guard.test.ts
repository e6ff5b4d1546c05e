import { describe, expect, it } from 'vitest';
import { ssrfCorpus } from './__fixtures__/ssrf-corpus.js';
import { forbiddenAddressReason, WebhookAllowlist } from './webhook-address-policy.js';
import { checkWebhookUrl, resolveWebhookTarget, type WebhookLookup } from './webhook-url-guard.js';

/** A resolver from a table, standing in for DNS. */
const zone: Record<string, string[]> = {
  'example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'internal.example': ['10.0.0.5'],
  'mixed.example': ['93.184.216.34', '127.0.0.1'],
  'v6-loopback.example': ['::1'],
  'mapped.example': ['::ffff:127.0.0.1'],
  'metadata.google.internal': ['169.254.169.254'],
  'nat64-loopback.example': ['64:ff9b::7f00:1'],
  'ula.example': ['fd12:3456::1'],
  'hooks.internal': ['10.1.1.1'],
  'office.example': ['10.2.3.4'],
  localhost: ['127.0.0.1'],
};
const lookup: WebhookLookup = async (hostname) => {
  const addresses = zone[hostname];
  if (addresses === undefined)
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const strict = new WebhookAllowlist();
const privateNames = [
  'internal.example',
  'mixed.example',
  'v6-loopback.example',
  'mapped.example',
  'metadata.google.internal',
  'nat64-loopback.example',
  'ula.example',
];

describe('webhook URL guard', () => {
  const corpus = ssrfCorpus({ port: 8080, port6: 8081, privateNames });

  it('has a corpus of at least 30 targets', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
  });

  it.each(corpus)('refuses $name ($url)', async (target) => {
    const submitted = checkWebhookUrl(target.url, strict);
    if (target.refusedAt === 'submit') expect(submitted.ok).toBe(false);
    else expect(submitted).toMatchObject({ ok: true });
    const resolved = await resolveWebhookTarget(target.url, { allowlist: strict, lookup });
    expect(resolved).toMatchObject({ ok: false, retryable: false });
  });

  it('explains refusals in words', async () => {
    const problem = (url: string) => {
      const checked = checkWebhookUrl(url, strict);
      return checked.ok ? null : checked.problem;
    };
    expect(problem('http://2130706433/')).toBe('refused: 127.0.0.1 is a loopback address');
    expect(problem('http://169.254.169.254/')).toBe('refused: 169.254.169.254 is a cloud metadata address');
    expect(problem('http://[::ffff:10.0.0.1]/')).toBe(
      'refused: ::ffff:a00:1 is the IPv4-mapped form of 10.0.0.1, a private address',
    );
    expect(problem('gopher://example.com/')).toBe('must be an http(s) URL (got "gopher:")');
    expect(problem('https://me:pw@example.com/')).toMatch(/must not carry credentials/);
    expect(problem('http://localhost./')).toBe('refused: "localhost" names this machine');
    const mixed = await resolveWebhookTarget('https://mixed.example/hook', { allowlist: strict, lookup });
    expect(mixed).toEqual({
      ok: false,
      retryable: false,
      problem: 'refused: "mixed.example" resolves to 127.0.0.1, a loopback address',
    });
  });

  it.each([
    ['https://example.com/hook', '93.184.216.34'],
    ['http://8.8.8.8/hook', '8.8.8.8'],
    ['http://[2606:4700::1111]/hook', '2606:4700::1111'],
    ['http://[::ffff:8.8.8.8]/hook', '::ffff:808:808'],
    ['http://[64:ff9b::8.8.8.8]/hook', '64:ff9b::808:808'],
  ])('delivers to public %s, pinned to %s', async (url, address) => {
    const resolved = await resolveWebhookTarget(url, { allowlist: strict, lookup });
    expect(resolved).toMatchObject({ ok: true, target: { address } });
  });

  it('lets the allowlist open chosen hosts and ranges, and nothing else', async () => {
    const allowlist = new WebhookAllowlist({
      allowHosts: ['hooks.internal', 'LOCALHOST.'],
      allowCidrs: ['127.0.0.2/32', '10.2.0.0/16', '::1/128'],
    });
    const open = async (url: string) => (await resolveWebhookTarget(url, { allowlist, lookup })).ok;
    expect(await open('http://127.0.0.2:9000/hook')).toBe(true);
    expect(await open('http://[::ffff:127.0.0.2]:9000/hook')).toBe(true);
    expect(await open('http://[::1]:9000/hook')).toBe(true);
    expect(await open('http://hooks.internal/hook')).toBe(true);
    expect(await open('http://office.example/hook')).toBe(true);
    expect(await open('http://localhost/hook')).toBe(true);
    expect(await open('http://127.0.0.1:9000/hook')).toBe(false);
    expect(await open('http://internal.example/hook')).toBe(false);
    expect(await open('http://169.254.169.254/')).toBe(false);
  });

  it('treats a failed lookup as retryable, a refusal as final', async () => {
    const missing = await resolveWebhookTarget('https://nowhere.example/', { allowlist: strict, lookup });
    expect(missing).toEqual({ ok: false, retryable: true, problem: 'cannot resolve "nowhere.example" (ENOTFOUND)' });
  });

  it.each([
    ['0.1.2.3', 'an unspecified address'],
    ['127.255.255.254', 'a loopback address'],
    ['169.254.1.1', 'a link-local address'],
    ['100.127.255.255', 'a carrier-grade NAT address (100.64.0.0/10)'],
    ['192.0.2.1', 'a reserved address'],
    ['::', 'an unspecified address'],
    ['::1', 'a loopback address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['fd00:ec2::254', 'a cloud metadata address'],
    ['2001:db8::1', 'a reserved address'],
    ['2001::1', 'a Teredo tunnel address'],
    ['100::1', 'a discard-only address'],
    ['4000::1', 'outside global unicast space (2000::/3)'],
    ['::ffff:192.168.0.1', 'the IPv4-mapped form of 192.168.0.1, a private address'],
    ['2002:0808:0808::1', 'the 6to4 form of 8.8.8.8 (refused whatever it embeds)'],
    ['64:ff9b:1::a00:1', 'a special-purpose address (rfc6052)'],
    ['8.8.8.8', null],
    ['2a00:1450:4001:80b::200e', null],
  ])('classifies %s as %s', (address, reason) => {
    expect(forbiddenAddressReason(address)).toBe(reason);
  });
});
