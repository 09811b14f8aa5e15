import type { SessionEntry, SessionInfo } from '@iii-harness/types';
import { escapeHtml, fenced, messagePreview, renderHtml, renderMarkdown } from '../src/index.js';

const info: SessionInfo = {
  session_id: 's1',
  created_at: 0,
  updated_at: 0,
  display_name: '<script>alert("title")</script>',
  leaf_id: 'e2',
  entry_count: 2,
  seq: 3,
};
const header = { parent_id: null, seq: 1, depth: 0, revision: 0, created_at: 0, updated_at: 0 };
const hostile = '<script>alert(1)</script><img src=x onerror="alert(2)"> & \'quoted\' ``` fence';
const path: SessionEntry[] = [
  { ...header, id: 'e1', type: 'message', message: { role: 'user', content: hostile } },
  {
    ...header,
    id: 'e2"><script>x</script>',
    parent_id: 'e1',
    type: 'message',
    message: {
      role: 'assistant',
      provider: 'p</h2>',
      model: 'm',
      usage: { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 },
      stop_reason: 'end',
      content: [
        { type: 'thinking', thinking: '</div><script>think</script>' },
        { type: 'function_call', id: 'c1', name: '<b>tool</b>', arguments: { cmd: '</pre><script>args</script>' } },
        { type: 'text', text: 'done' },
      ],
    },
  },
  {
    ...header,
    id: 'e3',
    type: 'message',
    message: {
      role: 'user',
      content: [{ type: 'image', mime_type: 'image/png', data: 'iVBORw0KGgo="><script>img</script>' }],
    },
  },
  { ...header, id: 'e4', type: 'custom', custom_type: '<i>t</i>', data: { html: '<script>custom</script>' } },
];

describe('html export', () => {
  const html = renderHtml(info, path);

  it('escapes every piece of session content', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img src=x/);
    expect(html).not.toContain('<b>tool</b>');
    expect(html).not.toContain('</h2><script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt; &amp; &#39;quoted&#39;');
    expect(html).toContain('id="entry-e2&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
    // An image whose data is not plain base64 is not embedded.
    expect(html).toContain('[image: image/png]');
    expect(html).not.toContain('data:image/png');
  });

  it('forbids scripts with a Content-Security-Policy', () => {
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it('embeds a plain base64 image', () => {
    const image: SessionEntry = {
      ...header,
      id: 'i',
      type: 'message',
      message: { role: 'user', content: [{ type: 'image', mime_type: 'image/png', data: 'iVBORw0KGgo=' }] },
    };
    expect(renderHtml(info, [image])).toContain('<img alt="image" src="data:image/png;base64,iVBORw0KGgo=">');
  });

  it('escapes all five special characters', () => {
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });
});

describe('markdown export', () => {
  it('fences code with a fence longer than any backtick run inside', () => {
    expect(fenced('a ```` b')).toBe('`````\na ```` b\n`````');
    expect(fenced('plain', 'json')).toBe('```json\nplain\n```');
  });

  it('renders one section per entry', () => {
    const md = renderMarkdown(info, path);
    expect(md.split('\n')[0]).toBe(`# ${info.display_name}`);
    expect(md).toContain('## User');
    expect(md).toContain('## Assistant (p</h2>/m)');
    expect(md).toContain('**Call `<b>tool</b>`** (c1)');
    expect(md).toContain('> </div><script>think</script>');
    expect(md).toContain('## Custom: <i>t</i>');
  });
});

describe('message preview', () => {
  it('collapses whitespace, cuts long text and names function calls', () => {
    expect(messagePreview({ role: 'user', content: ' a \n\n b ' })).toBe('a b');
    expect(messagePreview({ role: 'user', content: 'x'.repeat(200) }, 10)).toBe(`${'x'.repeat(9)}…`);
    const call = path[1]!.type === 'message' ? path[1]!.message : undefined;
    expect(
      messagePreview({
        ...call!,
        content: [{ type: 'function_call', id: 'c', name: 'agent_trigger', arguments: {} }],
      } as never),
    ).toBe('[function call: agent_trigger]');
  });
});
