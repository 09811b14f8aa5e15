import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { parse as parseHtmlStandard, serialize } from 'parse5';
import TurndownService from 'turndown';
import { gfm } from 'turndown-plugin-gfm';

/** Elements that are never reading material. */
const NOT_CONTENT = [
  'script',
  'style',
  'noscript',
  'template',
  'iframe',
  'object',
  'embed',
  'svg',
  'canvas',
  'form',
  'button',
  'input',
  'select',
  'textarea',
  'dialog',
];

/** Navigation and what no reader sees, dropped wherever they are. */
const NAVIGATION = ['nav', '[role="navigation"]', '[role="search"]', '[aria-hidden="true"]', '[hidden]'];

/** Page chrome, dropped unless it sits inside the article (an article's own header or footnotes stay). */
const CHROME = ['header', 'footer', 'aside', '[role="banner"]', '[role="contentinfo"]', '[role="complementary"]'];
const ARTICLE = 'article, main, [role="main"]';

type Doc = ReturnType<typeof parseHTML>['document'];

function turndown(): TurndownService {
  const service = new TurndownService({
    headingStyle: 'atx',
    codeBlockStyle: 'fenced',
    bulletListMarker: '-',
    emDelimiter: '_',
  });
  service.use(gfm);
  service.remove(NOT_CONTENT as TurndownService.Filter);
  // Keep the language of a highlighted block (```js) where the page names it.
  service.addRule('fencedWithLanguage', {
    filter: (node) => node.nodeName === 'PRE' && languageOf(codeChild(node)) !== undefined,
    replacement: (_content, node) => {
      const code = codeChild(node)!;
      const language = languageOf(code) ?? '';
      const text = (code.textContent ?? '').replace(/\n$/, '');
      const fence = text.includes('```') ? '~~~~' : '```';
      return `\n\n${fence}${language}\n${text}\n${fence}\n\n`;
    },
  });
  return service;
}

interface CodeElement {
  nodeName: string;
  className?: unknown;
  textContent: string | null;
}

const codeChild = (node: unknown): CodeElement | undefined => {
  const child = (node as { firstChild?: CodeElement | null }).firstChild;
  return child?.nodeName === 'CODE' ? child : undefined;
};

const languageOf = (code: CodeElement | undefined) => /language-([\w+-]+)/.exec(String(code?.className ?? ''))?.[1];

/** Absolute http(s) links and images (relative ones mean nothing outside the page); others dropped. */
function absolutize(document: Doc, pageUrl: string): void {
  let base: URL;
  try {
    base = new URL(document.querySelector('base[href]')?.getAttribute('href') ?? '', pageUrl);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') base = new URL(pageUrl);
  } catch {
    base = new URL(pageUrl);
  }
  const resolve = (value: string | null, schemes: string[]) => {
    if (value === null) return undefined;
    try {
      const url = new URL(value, base);
      return schemes.includes(url.protocol) ? url.href : undefined;
    } catch {
      return undefined;
    }
  };
  for (const link of document.querySelectorAll('a[href]')) {
    const href = resolve(link.getAttribute('href'), ['http:', 'https:', 'mailto:']);
    if (href) link.setAttribute('href', href);
    else link.removeAttribute('href');
  }
  for (const image of document.querySelectorAll('img')) {
    const src = resolve(image.getAttribute('src'), ['http:', 'https:']);
    if (src) image.setAttribute('src', src);
    else image.remove();
    image.removeAttribute('srcset');
  }
}

/** Parsed, links made absolute, and everything that is never reading material removed. */
function parse(html: string, pageUrl: string): Doc {
  // linkedom's parser does not build trees the HTML Standard's way (omitted <html>/<head>/<body>,
  // misnested tags, a bare fragment); parse5 does, and its serialization spells every element out.
  const { document } = parseHTML(serialize(parseHtmlStandard(html)));
  absolutize(document, pageUrl);
  for (const node of document.querySelectorAll([...NOT_CONTENT, ...NAVIGATION].join(', '))) node.remove();
  for (const node of document.querySelectorAll(CHROME.join(', ')))
    if (!node.parentElement?.closest(ARTICLE)) node.remove();
  return document;
}

const tidy = (markdown: string) =>
  markdown
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();

/** The main part of a page Readability found no article in (its chrome is already gone). */
function wholePage(document: Doc): string {
  return (document.querySelector(ARTICLE) ?? document.body)?.innerHTML ?? '';
}

export interface Readable {
  title?: string;
  markdown: string;
}

/**
 * The readable part of an HTML page as markdown: Mozilla's Readability picks the article
 * (dropping navigation, ads, scripts), Turndown writes markdown with absolute links. A page
 * Readability finds no article in is converted whole, minus scripts, forms and page chrome.
 */
export function htmlToMarkdown(html: string, pageUrl: string): Readable {
  const document = parse(html, pageUrl);
  const pageTitle = document.title;
  // keepClasses: the `language-*` class of a code block survives to name its fence.
  const article = new Readability(document as unknown as ConstructorParameters<typeof Readability>[0], {
    keepClasses: true,
  }).parse();
  const title = (article?.title || pageTitle || '').trim() || undefined;
  const content = article?.content || wholePage(parse(html, pageUrl));
  const body = tidy(turndown().turndown(content || '<p></p>'));
  const startsWithTitle = title !== undefined && body.startsWith(`# ${title}`);
  const markdown = title && !startsWithTitle ? `# ${title}\n\n${body}` : body;
  return { ...(title ? { title } : {}), markdown: markdown.trim() };
}
