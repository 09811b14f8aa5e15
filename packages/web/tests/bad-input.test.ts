import { fetcher, outcomeOf, startServer, stubResolver, type TestServer } from './helpers.js';

/** Bad input fails with a clear reason before anything is sent: the server must see no request. */

let s: TestServer;
let fetch: ReturnType<typeof fetcher>;

beforeAll(async () => {
  s = await startServer((_req, res) => res.end('should not be reached'));
  fetch = fetcher({
    resolve: stubResolver({ 'site-a.test': ['127.0.0.1'] }),
    config: { allow_private: ['site-a.test'], max_request_bytes: 1024, max_url_length: 2048 },
  });
});
afterAll(() => s.close());
afterEach(() => expect(s.requests).toEqual([]));

const site = (path = '/') => `http://site-a.test:${s?.port}${path}`;

describe('bad input', () => {
  it.each([
    ['not a url', 'bad_url', /not a valid URL/],
    ['/relative/path', 'bad_url', /not a valid URL/],
    ['http://', 'bad_url', /not a valid URL/],
    ['http://[::1', 'bad_url', /not a valid URL/],
    ['http://exa mple.com/', 'bad_url', /not a valid URL/],
    ['http://[fe80::1%25eth0]/', 'bad_url', /not a valid URL/],
    ['ftp://site-a.test/file', 'bad_url', /unsupported scheme ftp:/],
    ['file:///etc/passwd', 'bad_url', /unsupported scheme file:/],
    ['javascript:alert(1)', 'bad_url', /unsupported scheme javascript:/],
    ['data:text/plain,hello', 'bad_url', /unsupported scheme data:/],
    ['gopher://site-a.test:70/_x', 'bad_url', /unsupported scheme gopher:/],
    ['ws://site-a.test/socket', 'bad_url', /unsupported scheme ws:/],
    ['http://user:pass@site-a.test/', 'bad_url', /credentials in the URL/],
    ['http://127.0.0.1:80@site-a.test/', 'bad_url', /credentials in the URL/],
    [`http://site-a.test/${'a'.repeat(3000)}`, 'bad_url', /longer than 2048/],
  ])('refuses the URL %j (%s)', async (url, reason, message) => {
    const error = await fetch({ url }).catch((e) => e);
    expect(error).toMatchObject({ code: 'invalid_payload', reason });
    expect(error.message).toMatch(message);
  });

  it.each([
    [{ 'X-A': 'a\r\nX-Injected: 1' }, /CR or LF \(header injection\)/],
    [{ 'X-A': 'a\nSet-Cookie: x=1' }, /CR or LF/],
    [{ 'X-A': 'a\rb' }, /CR or LF/],
    [{ 'X-A': 'a\u0000b' }, /control character/],
    [{ 'X-A': 'snow ☃' }, /beyond Latin-1/],
    [{ 'Bad Name': 'x' }, /not a valid header name/],
    [{ 'X-A\r\nX-B': 'x' }, /not a valid header name/],
    [{ '': 'x' }, /not a valid header name/],
    [{ Host: 'internal.example' }, /set by web::fetch/],
    [{ 'content-length': '5' }, /set by web::fetch/],
    [{ 'Transfer-Encoding': 'chunked' }, /set by web::fetch/],
    [{ Connection: 'keep-alive, Upgrade' }, /set by web::fetch/],
    [{ Upgrade: 'websocket' }, /set by web::fetch/],
    [{ 'Accept-Encoding': 'zstd' }, /set by web::fetch/],
    [{ Expect: '100-continue' }, /set by web::fetch/],
    [{ 'Proxy-Authorization': 'Basic x' }, /set by web::fetch/],
    [{ 'X-A': '1', 'x-a': '2' }, /given twice/],
    [Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`X-H${i}`, 'v'])), /more than 100 headers/],
  ])('refuses the headers %j', async (headers, message) => {
    const error = await fetch({ url: site(), headers }).catch((e) => e);
    expect(error).toMatchObject({ code: 'invalid_payload', reason: 'bad_header' });
    expect(error.message).toMatch(message);
  });

  it('refuses a body over max_request_bytes', async () => {
    const error = await fetch({ url: site(), method: 'POST', body: 'x'.repeat(1025) }).catch((e) => e);
    expect(error).toMatchObject({ code: 'invalid_payload', reason: 'too_large' });
    expect(error.message).toMatch(/1025 bytes, over the 1024-byte limit; nothing was sent/);
  });

  it('counts the body in UTF-8 bytes, not characters', async () => {
    expect(await outcomeOf(fetch({ url: site(), method: 'PUT', body: 'é'.repeat(513) }))).toBe(
      'invalid_payload/too_large',
    );
  });

  it.each(['GET', 'HEAD'] as const)('refuses a body with %s', async (method) => {
    expect(await outcomeOf(fetch({ url: site(), method, body: 'x' }))).toBe('invalid_payload/bad_request');
  });
});
