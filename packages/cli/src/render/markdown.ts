import { Marked } from 'marked';
import { markedTerminal } from 'marked-terminal';

/**
 * Markdown for a terminal: marked parses, marked-terminal renders (headings, lists, tables,
 * highlighted code). One renderer per width, built on first use.
 */
const renderers = new Map<number, Marked>();

function rendererFor(width: number): Marked {
  let marked = renderers.get(width);
  if (!marked) {
    marked = new Marked();
    // marked-terminal's types lag marked's; the extension object is what marked.use takes.
    marked.use(markedTerminal({ width, reflowText: true, tab: 2 }) as Parameters<Marked['use']>[0]);
    renderers.set(width, marked);
  }
  return marked;
}

/** Render a complete piece of markdown; trailing blank lines are trimmed. */
export function renderMarkdown(text: string, width = 100): string {
  try {
    const out = rendererFor(Math.max(20, width)).parse(text, { async: false }) as string;
    return out.replace(/\s+$/, '');
  } catch {
    return text.replace(/\s+$/, '');
  }
}
