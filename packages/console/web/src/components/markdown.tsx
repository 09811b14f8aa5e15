import { lexer, type Token, type Tokens } from 'marked';
import type { ComponentChildren } from 'preact';
import { memo } from 'preact/compat';
import { CopyButton } from './copy';

/**
 * Markdown as Preact elements: marked's lexer, then our own renderer over its tokens. Nothing is
 * ever set as HTML, so a model's output cannot inject markup or script (raw HTML in the text is
 * shown as text); links open in a new tab without a referrer, and only http(s)/mailto links are
 * links at all. Images are not loaded (the CSP forbids other origins anyway): they show as links.
 */
export const Markdown = memo(function Markdown({ text, live = false }: { text: string; live?: boolean }) {
  const tokens = lex(text, !live);
  if (!tokens) return <p class="md-p">{text}</p>;
  return <div class="md">{blocks(tokens)}</div>;
});

/**
 * Lexed texts, most recent last: a row scrolled out and back in (the list unmounts what it does
 * not show) is not lexed again. Streaming drafts are not cached (each delta is a new text).
 */
const lexed = new Map<string, Token[]>();
const LEXED_MAX = 600;

function lex(text: string, cache: boolean): Token[] | undefined {
  const cached = lexed.get(text);
  if (cached) {
    lexed.delete(text);
    lexed.set(text, cached);
    return cached;
  }
  try {
    const tokens = lexer(text, { gfm: true, breaks: false });
    if (!cache) return tokens;
    lexed.set(text, tokens);
    if (lexed.size > LEXED_MAX) lexed.delete(lexed.keys().next().value!);
    return tokens;
  } catch {
    return undefined;
  }
}

const safeHref = (href: string) => /^(https?:|mailto:)/i.test(href.trim());

function blocks(tokens: Token[]): ComponentChildren[] {
  return tokens.map((token, i) => block(token, i));
}

function block(token: Token, key: number): ComponentChildren {
  switch (token.type) {
    case 'space':
    case 'def':
      return null;
    case 'paragraph':
      return (
        <p key={key} class="md-p">
          {inline((token as Tokens.Paragraph).tokens)}
        </p>
      );
    case 'heading': {
      const t = token as Tokens.Heading;
      const Tag = `h${Math.min(6, t.depth + 2)}` as 'h3';
      return (
        <Tag key={key} class="md-h">
          {inline(t.tokens)}
        </Tag>
      );
    }
    case 'code':
      return <CodeBlock key={key} code={(token as Tokens.Code).text} lang={(token as Tokens.Code).lang} />;
    case 'blockquote':
      return (
        <blockquote key={key} class="md-quote">
          {blocks((token as Tokens.Blockquote).tokens)}
        </blockquote>
      );
    case 'hr':
      return <hr key={key} class="md-hr" />;
    case 'list': {
      const t = token as Tokens.List;
      const items = t.items.map((item, i) => (
        <li key={i} class={item.task ? 'md-task' : undefined}>
          {item.task && <input type="checkbox" checked={item.checked} disabled aria-label="task" />}
          {item.loose ? blocks(item.tokens) : listItemInline(item.tokens)}
        </li>
      ));
      return t.ordered ? (
        <ol key={key} class="md-list" start={t.start === '' ? undefined : t.start}>
          {items}
        </ol>
      ) : (
        <ul key={key} class="md-list">
          {items}
        </ul>
      );
    }
    case 'table': {
      const t = token as Tokens.Table;
      return (
        <div key={key} class="md-table-wrap">
          <table class="md-table">
            <thead>
              <tr>
                {t.header.map((cell, i) => (
                  <th key={i} style={cell.align ? { textAlign: cell.align } : undefined}>
                    {inline(cell.tokens)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {t.rows.map((row, r) => (
                <tr key={r}>
                  {row.map((cell, i) => (
                    <td key={i} style={cell.align ? { textAlign: cell.align } : undefined}>
                      {inline(cell.tokens)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
    }
    case 'html':
      return (
        <p key={key} class="md-p md-raw">
          {(token as Tokens.HTML).text}
        </p>
      );
    case 'text': {
      const t = token as Tokens.Text;
      return (
        <p key={key} class="md-p">
          {t.tokens ? inline(t.tokens) : t.text}
        </p>
      );
    }
    default:
      return (
        <p key={key} class="md-p">
          {token.raw}
        </p>
      );
  }
}

/** A tight list item holds `text` tokens that hold the inline tokens. */
function listItemInline(tokens: Token[]): ComponentChildren[] {
  return tokens.map((token, i) =>
    token.type === 'text' ? (
      <span key={i}>
        {(token as Tokens.Text).tokens ? inline((token as Tokens.Text).tokens!) : (token as Tokens.Text).text}
      </span>
    ) : (
      block(token, i)
    ),
  );
}

function inline(tokens: Token[] | undefined): ComponentChildren[] {
  return (tokens ?? []).map((token, key) => {
    switch (token.type) {
      case 'text': {
        const t = token as Tokens.Text;
        return t.tokens ? <span key={key}>{inline(t.tokens)}</span> : t.text;
      }
      case 'escape':
        return (token as Tokens.Escape).text;
      case 'strong':
        return <strong key={key}>{inline((token as Tokens.Strong).tokens)}</strong>;
      case 'em':
        return <em key={key}>{inline((token as Tokens.Em).tokens)}</em>;
      case 'del':
        return <del key={key}>{inline((token as Tokens.Del).tokens)}</del>;
      case 'codespan':
        return (
          <code key={key} class="md-code">
            {(token as Tokens.Codespan).text}
          </code>
        );
      case 'br':
        return <br key={key} />;
      case 'link': {
        const t = token as Tokens.Link;
        if (!safeHref(t.href)) return <span key={key}>{inline(t.tokens)}</span>;
        return (
          <a key={key} href={t.href} target="_blank" rel="noopener noreferrer" title={t.title ?? undefined}>
            {inline(t.tokens)}
          </a>
        );
      }
      case 'image': {
        const t = token as Tokens.Image;
        return safeHref(t.href) ? (
          <a key={key} href={t.href} target="_blank" rel="noopener noreferrer">
            [image: {t.text || t.href}]
          </a>
        ) : (
          `[image: ${t.text}]`
        );
      }
      case 'html':
        return (token as Tokens.Tag).text;
      default:
        return token.raw;
    }
  });
}

export function CodeBlock({ code, lang }: { code: string; lang?: string | undefined }) {
  const label = lang?.split(/\s/)[0] || 'text';
  return (
    <figure class="code">
      <figcaption class="code-head">
        <span class="code-lang">{label}</span>
        <CopyButton text={code} label={`Copy ${label} code`} />
      </figcaption>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable block must take focus to scroll by keyboard (WCAG 2.1.1) */}
      <pre class="code-body" tabIndex={0}>
        <code>{code}</code>
      </pre>
    </figure>
  );
}
