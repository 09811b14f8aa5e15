import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { eventually } from '@iii-harness/testing';
import { fetcher, outcomeOf, startServer, stubResolver, type TestServer, wildcardDnsResolver } from './helpers.js';

/**
 * web::fetch against real servers on loopback. The servers are reached through names a stub
 * resolver maps to 127.0.0.1, and those names (only) are allowlisted here: the guard runs as in
 * production, so loopback by address or any other private target stays blocked.
 */

const names = { 'site-a.test': ['127.0.0.1'], 'site-b.test': ['127.0.0.1'], 'pinned.test': ['127.0.0.1'] };
const allow_private = Object.keys(names);
const fetch = fetcher({ resolve: wildcardDnsResolver(stubResolver(names)), config: { allow_private } });

const servers: TestServer[] = [];
async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const started = await startServer(...args);
  servers.push(started);
  return started;
}
afterAll(() => Promise.all(servers.map((s) => s.close())));

describe('fetching', () => {
  it('returns status, headers, final URL, and the body as text', async () => {
    const s = await server((_req, res) => {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end('{"ok":true}');
    });
    const result = await fetch({ url: s.url('/data?x=1', 'site-a.test'), format: 'text' });
    expect(result).toMatchObject({
      status: 200,
      status_text: 'OK',
      url: `http://site-a.test:${s.port}/data?x=1`,
      redirects: [],
      content_type: 'application/json',
      format: 'text',
      text: '{"ok":true}',
      charset: 'utf-8',
      truncated: false,
      bytes: 11,
    });
    expect(result.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(s.requests[0]).toMatchObject({ method: 'GET', url: '/data?x=1' });
    expect(s.requests[0]!.headers).toMatchObject({
      host: `site-a.test:${s.port}`,
      'accept-encoding': 'gzip, br',
      'user-agent': expect.stringContaining('iii-harness'),
    });
  });

  it('sends a method, headers and a body', async () => {
    const s = await server((_req, res) => res.end('done'));
    await fetch({
      url: s.url('/submit', 'site-a.test'),
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'agent/1', 'X-Trace': 'abc' },
      body: '{"a":1}',
    });
    expect(s.requests[0]).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect(s.requests[0]!.headers).toMatchObject({
      'content-type': 'application/json',
      'content-length': '7',
      'user-agent': 'agent/1',
      'x-trace': 'abc',
    });
  });

  it('returns a 404 as a result, and fails with http_error only when asked', async () => {
    const s = await server((req, res) => {
      res.statusCode = req.url === '/busy' ? 503 : 404;
      res.setHeader('content-type', 'text/plain');
      res.end('nothing here');
    });
    const result = await fetch({ url: s.url('/missing', 'site-a.test') });
    expect(result).toMatchObject({ status: 404, format: 'text', text: 'nothing here' });
    const missing = await fetch({ url: s.url('/missing', 'site-a.test'), fail_on_http_error: true }).catch((e) => e);
    expect(missing).toMatchObject({ code: 'unavailable', reason: 'http_error', retryable: false });
    expect(missing.message).toMatch(/^HTTP 404 Not Found from http:\/\/site-a\.test/);
    const busy = await fetch({ url: s.url('/busy', 'site-a.test'), fail_on_http_error: true }).catch((e) => e);
    expect(busy).toMatchObject({ reason: 'http_error', retryable: true });
  });

  it('decompresses gzip and brotli bodies', async () => {
    const text = 'compressed '.repeat(1000);
    const s = await server((req, res) => {
      const br = req.url === '/br';
      res.setHeader('content-type', 'text/plain');
      res.setHeader('content-encoding', br ? 'br' : 'gzip');
      res.end(br ? zlib.brotliCompressSync(text) : zlib.gzipSync(text));
    });
    for (const path of ['/gz', '/br'])
      expect(await fetch({ url: s.url(path, 'site-a.test'), format: 'text' })).toMatchObject({
        text,
        bytes: text.length,
        truncated: false,
      });
  });

  it('refuses a body it cannot decode (unknown encoding, corrupt gzip)', async () => {
    const s = await server((req, res) => {
      res.setHeader('content-encoding', req.url === '/zstd' ? 'zstd' : 'gzip');
      res.end('definitely not gzip');
    });
    expect(await outcomeOf(fetch({ url: s.url('/zstd', 'site-a.test') }))).toBe('unavailable/bad_response');
    expect(await outcomeOf(fetch({ url: s.url('/corrupt', 'site-a.test') }))).toBe('unavailable/bad_response');
  });

  it('maps a name that does not resolve and a refused connection to stable reasons', async () => {
    expect(await outcomeOf(fetch({ url: 'http://nowhere.test/' }))).toBe('not_found/dns_error');
    const s = await server((_req, res) => res.end());
    await s.close();
    expect(await outcomeOf(fetch({ url: s.url('/', 'site-a.test') }))).toBe('unavailable/network_error');
  });
});

describe('the connection is pinned to the checked address', () => {
  it('connects to the address the guard checked, with one lookup, whatever the resolver says next', async () => {
    const s = await server((_req, res) => res.end('reached the checked address'));
    let answers = 0;
    const rebinding = stubResolver({
      // First answer: the address that passes (here the allowlisted 127.0.0.1 stands in for a public one).
      // Any later answer: the metadata service.
      'rebind.test': () => (answers++ === 0 ? ['127.0.0.1'] : ['169.254.169.254']),
    });
    const pinned = fetcher({ resolve: rebinding, config: { allow_private: ['127.0.0.1/32'] } });
    const result = await pinned({ url: s.url('/', 'rebind.test'), format: 'text' });
    expect(result).toMatchObject({ status: 200, text: 'reached the checked address' });
    expect(rebinding.calls).toEqual(['rebind.test']);
    expect(s.requests[0]!.headers.host).toBe(`rebind.test:${s.port}`);
  });

  it('offers the connection every checked address (both families) and nothing else', async () => {
    const s = await server((_req, res) => res.end('reached over IPv4'));
    const dual = stubResolver({ 'dual.test': ['::1', '127.0.0.1'] });
    const both = fetcher({ resolve: dual, config: { allow_private: ['dual.test'] } });
    // Only 127.0.0.1 listens: the connection falls back from ::1 to it, among the checked answers.
    expect(await both({ url: s.url('/', 'dual.test'), format: 'text' })).toMatchObject({ text: 'reached over IPv4' });
    expect(dual.calls).toEqual(['dual.test']);
  });

  it('checks every redirect hop again: a rebinding answer on the next hop is blocked', async () => {
    const s = await server((req, res) => {
      if (req.url === '/start') {
        res.statusCode = 302;
        res.setHeader('location', '/next');
      }
      res.end();
    });
    let answers = 0;
    const rebinding = stubResolver({
      'rebind.test': () => (answers++ === 0 ? ['127.0.0.1'] : ['169.254.169.254']),
    });
    const pinned = fetcher({ resolve: rebinding, config: { allow_private: ['127.0.0.1/32'] } });
    const error = await pinned({ url: s.url('/start', 'rebind.test') }).catch((e) => e);
    expect(error).toMatchObject({ code: 'denied', reason: 'blocked' });
    expect(error.message).toMatch(/rebind\.test resolves to 169\.254\.169\.254 is cloud metadata/);
    expect(s.requests.map((r) => r.url)).toEqual(['/start']);
  });

  it('keeps TLS SNI, the certificate check and Host on the name while connecting to the checked address', async () => {
    const tls = {
      key: readFileSync(join(__dirname, 'fixtures/tls/key.pem'), 'utf8'),
      cert: readFileSync(join(__dirname, 'fixtures/tls/cert.pem'), 'utf8'),
    };
    const s = await server((_req, res) => res.end('secure'), tls);
    const secure = fetcher({
      resolve: stubResolver({ 'pinned.test': ['127.0.0.1'], 'other.test': ['127.0.0.1'] }),
      config: { allow_private: ['pinned.test', 'other.test'] },
      ca: tls.cert,
    });
    const result = await secure({ url: `https://pinned.test:${s.port}/`, format: 'text' });
    expect(result).toMatchObject({ status: 200, text: 'secure' });
    expect(s.requests[0]).toMatchObject({ servername: 'pinned.test' });
    expect(s.requests[0]!.headers.host).toBe(`pinned.test:${s.port}`);
    // The same address under another name: the certificate (for pinned.test) must not match.
    expect(await outcomeOf(secure({ url: `https://other.test:${s.port}/` }))).toBe('unavailable/tls_error');
  });
});

describe('redirects', () => {
  it('follows redirects and reports the chain and the final URL', async () => {
    const b = await server((_req, res) => res.end('landed'));
    const a = await server((req, res) => {
      res.statusCode = req.url === '/one' ? 301 : 302;
      res.setHeader('location', req.url === '/one' ? '/two' : b.url('/end', 'site-b.test'));
      res.end();
    });
    const result = await fetch({ url: a.url('/one', 'site-a.test'), format: 'text' });
    expect(result).toMatchObject({
      status: 200,
      text: 'landed',
      url: b.url('/end', 'site-b.test'),
      redirects: [a.url('/one', 'site-a.test'), a.url('/two', 'site-a.test')],
    });
  });

  it('drops credentials on a cross-origin redirect and keeps them on a same-origin one', async () => {
    const credentials = {
      Authorization: 'Bearer secret-token',
      Cookie: 'session=abc',
      'X-Api-Key': 'key-123',
      'X-Custom-Auth': 'custom',
    };
    const b = await server((_req, res) => res.end('b'));
    const a = await server((req, res) => {
      if (req.url === '/same') {
        res.statusCode = 302;
        res.setHeader('location', '/landing');
      } else if (req.url === '/cross') {
        res.statusCode = 302;
        res.setHeader('location', b.url('/landing', 'site-b.test'));
      }
      res.end('a');
    });
    await fetch({ url: a.url('/same', 'site-a.test'), headers: { ...credentials, Accept: 'text/plain' } });
    expect(a.requests[1]!.headers).toMatchObject({
      authorization: 'Bearer secret-token',
      cookie: 'session=abc',
      'x-api-key': 'key-123',
    });

    await fetch({ url: a.url('/cross', 'site-a.test'), headers: { ...credentials, Accept: 'text/plain' } });
    const landed = b.requests[0]!.headers;
    for (const name of ['authorization', 'cookie', 'x-api-key', 'x-custom-auth']) expect(landed[name]).toBeUndefined();
    expect(landed.accept).toBe('text/plain');
  });

  it('drops credentials when a redirect goes from https to http on the same host', async () => {
    const tls = {
      key: readFileSync(join(__dirname, 'fixtures/tls/key.pem'), 'utf8'),
      cert: readFileSync(join(__dirname, 'fixtures/tls/cert.pem'), 'utf8'),
    };
    const plain = await server((_req, res) => res.end('plain'));
    const secure = await server((_req, res) => {
      res.statusCode = 302;
      res.setHeader('location', plain.url('/', 'pinned.test'));
      res.end();
    }, tls);
    const downgrade = fetcher({
      resolve: stubResolver({ 'pinned.test': ['127.0.0.1'] }),
      config: { allow_private: ['pinned.test'] },
      ca: tls.cert,
    });
    await downgrade({ url: `https://pinned.test:${secure.port}/`, headers: { Authorization: 'Bearer x' } });
    expect(secure.requests[0]!.headers.authorization).toBe('Bearer x');
    expect(plain.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('turns POST into GET on 303 (no body), keeps it on 307 within the origin, and does not resend a body to another origin', async () => {
    const b = await server((_req, res) => res.end('b'));
    const a = await server((req, res) => {
      const to: Record<string, [number, string]> = {
        '/see-other': [303, '/result'],
        '/temporary': [307, '/result'],
        '/elsewhere': [307, b.url('/result', 'site-b.test')],
      };
      const redirect = to[req.url ?? ''];
      if (redirect) {
        res.statusCode = redirect[0];
        res.setHeader('location', redirect[1]);
      }
      res.end('a');
    });
    const post = { method: 'POST' as const, body: 'payload', headers: { 'Content-Type': 'text/plain' } };
    await fetch({ url: a.url('/see-other', 'site-a.test'), ...post });
    expect(a.requests[1]).toMatchObject({ method: 'GET', url: '/result', body: '' });
    expect(a.requests[1]!.headers['content-type']).toBeUndefined();
    await fetch({ url: a.url('/temporary', 'site-a.test'), ...post });
    expect(a.requests[3]).toMatchObject({ method: 'POST', url: '/result', body: 'payload' });
    const kept = await fetch({ url: a.url('/elsewhere', 'site-a.test'), ...post });
    expect(kept).toMatchObject({ status: 307, headers: { location: b.url('/result', 'site-b.test') } });
    expect(b.requests).toEqual([]);
  });

  it('refuses a Location it cannot use, and never sends credentials a Location carries', async () => {
    const b = await server((_req, res) => res.end('b'));
    const a = await server((req, res) => {
      res.statusCode = 302;
      const to: Record<string, string> = {
        '/malformed': 'http://[::1',
        '/long': `/${'x'.repeat(10_000)}`,
        '/userinfo': b.url('/in', 'user:secret@site-b.test'),
      };
      res.setHeader('location', to[req.url ?? ''] ?? '/');
      res.end();
    });
    expect(await outcomeOf(fetch({ url: a.url('/malformed', 'site-a.test') }))).toBe('unavailable/bad_response');
    expect(await outcomeOf(fetch({ url: a.url('/long', 'site-a.test') }))).toBe('unavailable/bad_response');
    const result = await fetch({ url: a.url('/userinfo', 'site-a.test') });
    expect(result.url).toBe(b.url('/in', 'site-b.test'));
    expect(b.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('returns the redirect itself with max_redirects: 0', async () => {
    const a = await server((_req, res) => {
      res.statusCode = 302;
      res.setHeader('location', 'http://169.254.169.254/');
      res.end();
    });
    expect(await fetch({ url: a.url('/', 'site-a.test'), max_redirects: 0 })).toMatchObject({
      status: 302,
      headers: { location: 'http://169.254.169.254/' },
      redirects: [],
    });
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', /cloud metadata/],
    ['http://127.0.0.1:{B}/', /127\.0\.0\.1 is in 127\.0\.0\.0\/8/],
    ['http://localhost:{B}/', /localhost/],
    ['http://[::ffff:127.0.0.1]:{B}/', /IPv4-mapped/],
    ['http://2130706433:{B}/', /loopback/],
    ['http://10.0.0.1/', /private/],
    ['http://127.0.0.1.nip.io:{B}/', /127\.0\.0\.1\.nip\.io resolves to 127\.0\.0\.1/],
    ['file:///etc/passwd', /file: is not http or https/],
    ['gopher://site-b.test:{B}/_GET', /gopher: is not http or https/],
  ])('blocks a redirect to %s and never contacts it', async (location, why) => {
    const b = await server((_req, res) => res.end('must not be reached'));
    const a = await server((_req, res) => {
      res.statusCode = 302;
      res.setHeader('location', location.replace('{B}', String(b.port)));
      res.end();
    });
    const error = await fetch({ url: a.url('/', 'site-a.test') }).catch((e) => e);
    expect(error).toMatchObject({ code: 'denied', reason: 'blocked' });
    expect(error.message).toMatch(why);
    expect(b.requests).toEqual([]);
  });

  it('blocks a chain that reaches a blocked host after several public-looking hops', async () => {
    const b = await server((req, res) => {
      res.statusCode = 302;
      res.setHeader('location', req.url === '/1' ? '/2' : 'http://[fd00:ec2::254]/latest/meta-data/');
      res.end();
    });
    const a = await server((_req, res) => {
      res.statusCode = 302;
      res.setHeader('location', b.url('/1', 'site-b.test'));
      res.end();
    });
    expect(await outcomeOf(fetch({ url: a.url('/', 'site-a.test') }))).toBe('denied/blocked');
    expect(b.requests.map((r) => r.url)).toEqual(['/1', '/2']);
  });
});

describe('limits cut a hostile server', () => {
  it('cuts an endless body at max_bytes and closes the connection', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const s = await server((_req, res) => {
      res.setHeader('content-type', 'text/plain');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const result = await fetch({ url: s.url('/', 'site-a.test'), max_bytes: 100_000, format: 'text' });
    expect(result).toMatchObject({ truncated: true, bytes: 100_000 });
    expect((result as { text: string }).text).toHaveLength(100_000);
    await eventually(() => expect(s.closed).toBe(1));
  });

  it('cuts a gzip bomb at max_bytes of decompressed data', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(20 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100_000); // small on the wire: only the decompressed size can stop it
    const s = await server((_req, res) => {
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('content-encoding', 'gzip');
      res.end(bomb);
    });
    const result = await fetch({ url: s.url('/', 'site-a.test'), max_bytes: 1_000_000, format: 'raw' });
    expect(result).toMatchObject({ truncated: true, bytes: 1_000_000 });
  });

  it('stops a slowloris body at the total time limit', async () => {
    const s = await server((_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.flushHeaders();
      const drip = setInterval(() => (res.destroyed ? clearInterval(drip) : res.write('.')), 50);
      res.on('close', () => clearInterval(drip));
    });
    const error = await fetch({ url: s.url('/', 'site-a.test'), timeout_ms: 1_000 }).catch((e) => e);
    expect(error).toMatchObject({ code: 'timeout', reason: 'timeout' });
    expect(error.message).toMatch(/longer than 1000 ms/);
    await eventually(() => expect(s.closed).toBe(1));
  });

  it('stops a server that never answers at the time-to-first-byte limit', async () => {
    const s = await server(() => {});
    const slow = fetcher({ resolve: stubResolver(names), config: { allow_private, first_byte_timeout_ms: 500 } });
    const error = await slow({ url: s.url('/', 'site-a.test') }).catch((e) => e);
    expect(error).toMatchObject({ code: 'timeout', reason: 'timeout' });
    expect(error.message).toMatch(/no response from .* within 500 ms/);
  });

  it('stops a redirect loop at max_redirects', async () => {
    const s = await server((req, res) => {
      res.statusCode = 302;
      res.setHeader('location', req.url === '/a' ? '/b' : '/a');
      res.end();
    });
    const error = await fetch({ url: s.url('/a', 'site-a.test'), max_redirects: 3 }).catch((e) => e);
    expect(error).toMatchObject({ code: 'unavailable', reason: 'too_many_redirects', retryable: false });
    expect(s.requests).toHaveLength(4);
  });

  it('refuses response headers over max_header_bytes', async () => {
    const s = await server((_req, res) => {
      res.setHeader('x-padding', 'p'.repeat(32 * 1024));
      res.end('ok');
    });
    expect(await outcomeOf(fetch({ url: s.url('/', 'site-a.test') }))).toBe('unavailable/too_large');
  });

  it('caps what a call may ask for at the configured maximum', async () => {
    const s = await server((_req, res) => res.end('x'.repeat(5000)));
    const capped = fetcher({
      resolve: stubResolver(names),
      config: { allow_private, max_bytes: { default: 1000, max: 2000 } },
    });
    expect(await capped({ url: s.url('/', 'site-a.test'), format: 'text' })).toMatchObject({ bytes: 1000 });
    expect(await capped({ url: s.url('/', 'site-a.test'), format: 'text', max_bytes: 1e9 })).toMatchObject({
      bytes: 2000,
      truncated: true,
    });
  });
});
