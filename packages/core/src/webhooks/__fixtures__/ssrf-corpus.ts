/**
 * Webhook targets llmq must never connect to. `port` is a canary listening on 127.0.0.1 and
 * `port6` one on ::1, so a test can prove no connection got through; `refusedAt` says whether the
 * URL alone gives it away (`submit`) or only resolving the host does (`send`).
 */
export interface SsrfTarget {
  name: string;
  url: string;
  refusedAt: 'submit' | 'send';
}

export function ssrfCorpus(options: {
  port: number;
  port6: number;
  /** Names the resolver in use maps to loopback or private addresses (refused only at send). */
  privateNames: readonly string[];
}): SsrfTarget[] {
  const { port, port6 } = options;
  const submit = (name: string, url: string): SsrfTarget => ({ name, url, refusedAt: 'submit' });
  return [
    submit('IPv4 loopback', `http://127.0.0.1:${port}/hook`),
    submit('another loopback address', `http://127.0.0.3:${port}/hook`),
    submit('unspecified 0.0.0.0', `http://0.0.0.0:${port}/hook`),
    submit('short unspecified 0', `http://0:${port}/hook`),
    submit('IPv6 loopback', `http://[::1]:${port6}/hook`),
    submit('IPv4-mapped loopback', `http://[::ffff:127.0.0.1]:${port}/hook`),
    submit('IPv4-mapped loopback in hex', `http://[::ffff:7f00:1]:${port}/hook`),
    submit('decimal host', `http://2130706433:${port}/hook`),
    submit('hex dotted host', `http://0x7f.0.0.1:${port}/hook`),
    submit('hex host', `http://0x7f000001:${port}/hook`),
    submit('octal dotted host', `http://0177.0.0.1:${port}/hook`),
    submit('octal host', `http://017700000001:${port}/hook`),
    submit('short form 127.1', `http://127.1:${port}/hook`),
    submit('trailing dot', `http://127.0.0.1.:${port}/hook`),
    submit('percent-encoded digits', `http://%31%32%37.0.0.1:${port}/hook`),
    submit('full-width digits', `http://１２７.０.０.１:${port}/hook`),
    submit('private 10/8', `http://10.0.0.1:${port}/hook`),
    submit('private 172.16/12', `http://172.16.0.1:${port}/hook`),
    submit('private 172.31.255.254', `http://172.31.255.254:${port}/hook`),
    submit('private 192.168/16', `http://192.168.1.1:${port}/hook`),
    submit('cloud metadata', 'http://169.254.169.254/latest/meta-data/'),
    submit('ECS task metadata', 'http://169.254.170.2/v2/credentials'),
    submit('Alibaba metadata (CGNAT)', 'http://100.100.100.200/latest/meta-data/'),
    submit('Azure wireserver', 'http://168.63.129.16/machine'),
    submit('CGNAT 100.64/10', `http://100.64.0.1:${port}/hook`),
    submit('benchmarking 198.18/15', `http://198.18.0.1:${port}/hook`),
    submit('multicast', `http://224.0.0.1:${port}/hook`),
    submit('reserved 240/4', `http://240.0.0.1:${port}/hook`),
    submit('broadcast', `http://255.255.255.255:${port}/hook`),
    submit('IPv6 unspecified', `http://[::]:${port6}/hook`),
    submit('IPv6 unique local', `http://[fc00::1]:${port6}/hook`),
    submit('AWS IPv6 metadata', 'http://[fd00:ec2::254]/latest/meta-data/'),
    submit('IPv6 link-local', `http://[fe80::1]:${port6}/hook`),
    submit('IPv6 site-local', `http://[fec0::1]:${port6}/hook`),
    submit('IPv6 multicast', `http://[ff02::1]:${port6}/hook`),
    submit('IPv4-mapped metadata', 'http://[::ffff:169.254.169.254]/latest/meta-data/'),
    submit('IPv4-compatible loopback', `http://[::127.0.0.1]:${port}/hook`),
    submit('NAT64 of loopback', `http://[64:ff9b::127.0.0.1]:${port}/hook`),
    submit('NAT64 of 10.0.0.1', `http://[64:ff9b::a00:1]:${port}/hook`),
    submit('6to4 of loopback', `http://[2002:7f00:1::1]:${port}/hook`),
    submit('localhost', `http://localhost:${port}/hook`),
    submit('LOCALHOST. (fully qualified)', `http://LOCALHOST.:${port}/hook`),
    submit('a .localhost name', `http://api.localhost:${port}/hook`),
    submit('credentials in the URL', `http://user:secret@127.0.0.1:${port}/hook`),
    submit('credentials with a public host', 'https://user:secret@example.com/hook'),
    submit('file scheme', 'file:///etc/passwd'),
    submit('gopher scheme', `gopher://127.0.0.1:${port}/_INFO`),
    submit('ftp scheme', `ftp://127.0.0.1:${port}/`),
    submit('data scheme', 'data:text/plain,hello'),
    ...options.privateNames.map((host): SsrfTarget => ({
      name: `name ${host} resolving privately`,
      url: `http://${host}:${port}/hook`,
      refusedAt: 'send',
    })),
  ];
}
