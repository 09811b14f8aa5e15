import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { htmlToMarkdown } from '../src/markdown.js';
import { fetcher, outcomeOf, startServer, stubResolver, type TestServer } from './helpers.js';

const page = (name: string) => readFileSync(join(__dirname, 'fixtures/pages', `${name}.html`), 'utf8');
const PAGE_URL = 'https://site.example/section/page.html';

function expectAll(text: string, present: string[], absent: string[]): void {
  for (const fragment of present) expect(text).toContain(fragment);
  for (const fragment of absent) expect(text).not.toContain(fragment);
}

describe('HTML to markdown', () => {
  it('keeps an article with its title, headings, lists, quotes and absolute links; drops chrome and scripts', () => {
    const { title, markdown } = htmlToMarkdown(page('article'), PAGE_URL);
    expect(title).toBe('Why Tide Pools Matter');
    expect(markdown.startsWith('# Why Tide Pools Matter\n')).toBe(true);
    expectAll(
      markdown,
      [
        'Twice a day the ocean pulls back',
        '## What researchers measure',
        '[2023 survey data](https://site.example/data/pool-survey-2023.csv)',
        '[tide pool etiquette guide](https://www.example.org/tidepool-etiquette)',
        '-   Water temperature and salinity at low tide',
        '> “The pools are small',
      ],
      ['Subscribe', 'Oceans', 'Related posts', 'Kelp forests', '© 2024', 'Privacy', 'dataLayer', 'gtag', 'app.js'],
    );
  });

  it('keeps a docs page: code blocks with their language, tables, inline code, links; drops the sidebar and search', () => {
    const { title, markdown } = htmlToMarkdown(page('docs'), 'https://docs.example/en/2.4/guide/config.html');
    expect(title).toBe('Configuration — Quarry 2.4 documentation');
    expectAll(
      markdown,
      [
        'Quarry reads its settings from `quarry.toml`',
        '```toml\n[cache]\ndir = "/var/cache/quarry"',
        '```sh\nexport QUARRY_WORKERS_COUNT=8',
        '| `workers.count` | `2` | Parallel extraction workers |',
        '## Environment variables',
        '(https://docs.example/en/2.4/guide/api.html#quarry.load_config)',
      ],
      ['Search docs', 'Changelog', 'Introduction', 'searchtools', 'Built with', '« Installation'],
    );
  });

  it('drops scripts, JSON-LD, styles, cookie banners, ads, forms, navigation, sidebars and hidden text', () => {
    const { markdown } = htmlToMarkdown(page('cluttered'), 'https://gadgets.example/audio/best-budget');
    expectAll(
      markdown,
      [
        'We spent three months listening to twenty-two pairs',
        'Our top pick is the **Aria Lite**',
        '## Runner-up: the Pulse 2',
        '[testing methodology](https://gadgets.example/methodology/audio)',
      ],
      [
        'cookies',
        'Accept all',
        'Laptops',
        'Sign in',
        'renderAd',
        'ads.example.com',
        'LD_JSON_PAYLOAD',
        'SCRIPT_STATE_TOKEN',
        'font-family',
        'Trending',
        'Get deals by email',
        'pixel.gif',
        'HIDDEN_TRAP_TEXT',
        'Careers',
      ],
    );
  });

  it('converts a page without an article whole, still without scripts and navigation', () => {
    const html =
      '<html><head><title>Status</title><script>var leaked = "SCRIPT_TEXT"</script></head>' +
      '<body><nav><a href="/a">Menu item</a></nav><p>All systems <a href="/status/ok">normal</a>.</p>' +
      '<style>p{color:red}</style><footer>Footer text</footer></body></html>';
    const { title, markdown } = htmlToMarkdown(html, 'https://status.example/');
    expect(title).toBe('Status');
    expectAll(
      markdown,
      ['All systems [normal](https://status.example/status/ok).'],
      ['SCRIPT_TEXT', 'Menu item', 'color:red', 'Footer text'],
    );
  });

  it('reads a valid page that omits <html>, <head> and <body>, and misnested markup, as browsers do', () => {
    const omitted = htmlToMarkdown(
      '<!doctype html><title>Minimal</title><p>First paragraph of a page that omits optional tags.<p>Second <b>bold <i>both</b> italic</i> end.',
      PAGE_URL,
    );
    expect(omitted.title).toBe('Minimal');
    expectAll(omitted.markdown, ['First paragraph of a page that omits optional tags.', 'Second **bold _both_**'], []);
  });

  it('returns the title alone for a page with no content', () => {
    expect(htmlToMarkdown('<html><head><title>Empty</title></head><body></body></html>', PAGE_URL)).toEqual({
      title: 'Empty',
      markdown: '# Empty',
    });
    expect(htmlToMarkdown('', PAGE_URL)).toEqual({ markdown: '' });
    expect(htmlToMarkdown('just text, <b>no</b> document', PAGE_URL).markdown).toBe('just text, **no** document');
  });

  it('resolves links against <base href>, drops javascript: links and inline data images', () => {
    const html =
      '<html><head><base href="https://cdn.example/docs/v2/"></head><body><article><h1>Links</h1>' +
      `<p>${'Readable paragraph text that is long enough to count as an article. '.repeat(8)}</p>` +
      '<p><a href="intro.html">Intro</a>, <a href="javascript:alert(1)">Click</a>, ' +
      '<img src="data:image/png;base64,AAAA" alt="inline"> and <img src="/logo.png" alt="Logo"></p></article></body></html>';
    const { markdown } = htmlToMarkdown(html, 'https://site.example/page');
    expectAll(
      markdown,
      ['[Intro](https://cdn.example/docs/v2/intro.html)', 'Click', '![Logo](https://cdn.example/logo.png)'],
      ['javascript:', 'data:image'],
    );
  });
});

describe('content types and charsets, fetched', () => {
  let s: TestServer;
  let fetch: ReturnType<typeof fetcher>;
  const pages: Record<string, { type?: string; body: Buffer }> = {
    '/sjis': { type: 'text/plain; charset=Shift_JIS', body: Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea]) },
    '/meta-1252': {
      type: 'text/html',
      body: Buffer.concat([
        Buffer.from('<html><head><meta charset="windows-1252"><title>Caf'),
        Buffer.from([0xe9]),
        Buffer.from('</title></head><body><p>Caf'),
        Buffer.from([0xe9]),
        Buffer.from(' au lait</p></body></html>'),
      ]),
    },
    '/http-equiv-latin2': {
      type: 'text/html',
      body: Buffer.concat([
        Buffer.from(
          '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2"></head><body><p>',
        ),
        Buffer.from([0xa3, 0xf3, 0x64, 0xbc]),
        Buffer.from('</p></body></html>'),
      ]),
    },
    '/header-wins': {
      type: 'text/html; charset=utf-8',
      body: Buffer.from('<html><head><meta charset="windows-1252"></head><body><p>naïve ☃</p></body></html>'),
    },
    '/undeclared-utf8': { type: 'text/plain', body: Buffer.from('grüße ☃') },
    '/undeclared-legacy': { type: 'text/plain', body: Buffer.from([0x63, 0x61, 0x66, 0xe9]) },
    '/utf16-bom': { type: 'text/plain', body: Buffer.from('\ufeffhi ☃', 'utf16le') },
    '/png': { type: 'image/png', body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]) },
    '/octet-binary': { type: 'application/octet-stream', body: Buffer.from([1, 2, 0, 255, 254]) },
    '/octet-text': { type: 'application/octet-stream', body: Buffer.from('plain words') },
    '/no-type-html': {
      body: Buffer.from('<!DOCTYPE html><html><head><title>Bare</title></head><body><p>bare page</p></body></html>'),
    },
    '/json': { type: 'application/problem+json', body: Buffer.from('{"title":"x"}') },
    '/big-html': {
      type: 'text/html',
      body: Buffer.from(`<html><body>${'<p>Some paragraph text.</p>'.repeat(12_000)}</body></html>`),
    },
    '/big-sniffed': {
      body: Buffer.from(`<!DOCTYPE html><html><body>${'<p>Some paragraph text.</p>'.repeat(12_000)}</body></html>`),
    },
  };

  beforeAll(async () => {
    s = await startServer((req, res) => {
      const found = pages[req.url ?? ''];
      if (!found) return void res.writeHead(404).end();
      if (found.type) res.setHeader('content-type', found.type);
      else res.removeHeader('content-type');
      res.end(found.body);
    });
    fetch = fetcher({
      resolve: stubResolver({ 'site-a.test': ['127.0.0.1'] }),
      config: { allow_private: ['site-a.test'] },
    });
  });
  afterAll(() => s.close());
  const url = (path: string) => `http://site-a.test:${s.port}${path}`;

  it.each([
    ['/sjis', 'text', '日本語', 'shift_jis'],
    ['/undeclared-utf8', 'text', 'grüße ☃', 'utf-8'],
    ['/undeclared-legacy', 'text', 'café', 'windows-1252'],
    ['/utf16-bom', 'text', 'hi ☃', 'utf-16le'],
    ['/octet-text', 'text', 'plain words', 'utf-8'],
    ['/json', 'text', '{"title":"x"}', 'utf-8'],
  ])('decodes %s as text', async (path, format, text, charset) => {
    expect(await fetch({ url: url(path), format: 'text' })).toMatchObject({ format, text, charset });
  });

  it.each([
    ['/meta-1252', 'Café au lait', 'windows-1252'],
    ['/http-equiv-latin2', 'Łódź', 'iso-8859-2'],
    ['/header-wins', 'naïve ☃', 'utf-8'],
    ['/no-type-html', 'bare page', 'utf-8'],
  ])('decodes %s as HTML into markdown', async (path, text, charset) => {
    const result = await fetch({ url: url(path) });
    expect(result).toMatchObject({ format: 'markdown', charset });
    expect((result as { markdown: string }).markdown).toContain(text);
  });

  it('returns non-HTML text as text when markdown is asked', async () => {
    expect(await fetch({ url: url('/json') })).toMatchObject({
      format: 'text',
      content_type: 'application/problem+json',
    });
  });

  it('refuses binary content unless raw is asked, then returns the exact bytes base64-encoded', async () => {
    for (const path of ['/png', '/octet-binary']) {
      const error = await fetch({ url: url(path) }).catch((e) => e);
      expect(error).toMatchObject({ code: 'invalid_payload', reason: 'binary_content' });
      expect(error.message).toMatch(/format: raw/);
      expect(await outcomeOf(fetch({ url: url(path), format: 'text' }))).toBe('invalid_payload/binary_content');
      const raw = await fetch({ url: url(path), format: 'raw' });
      expect(raw).toMatchObject({
        format: 'raw',
        body: pages[path]!.body.toString('base64'),
        bytes: pages[path]!.body.length,
      });
    }
  });

  it('converts at most markdown_max_html_bytes of HTML to markdown (the rest is cut), and all of it as text', async () => {
    const small = fetcher({
      resolve: stubResolver({ 'site-a.test': ['127.0.0.1'] }),
      config: { allow_private: ['site-a.test'], markdown_max_html_bytes: 100_000 },
    });
    for (const path of ['/big-html', '/big-sniffed'])
      expect(await small({ url: url(path) })).toMatchObject({ format: 'markdown', bytes: 100_000, truncated: true });
    expect(await small({ url: url('/big-html'), format: 'text' })).toMatchObject({
      bytes: pages['/big-html']!.body.length,
      truncated: false,
    });
  });

  it('answers HEAD with the headers and an empty body', async () => {
    expect(await fetch({ url: url('/png'), method: 'HEAD' })).toMatchObject({
      status: 200,
      content_type: 'image/png',
      bytes: 0,
      format: 'text',
      text: '',
    });
  });
});
