// These packages ship no types; declared here: only what web uses.

declare module 'html-encoding-sniffer' {
  /** The HTML Standard's encoding sniffing: BOM, then the transport label, then a <meta> prescan. */
  export default function sniffHTMLEncoding(
    bytes: Uint8Array,
    options?: { transportLayerEncodingLabel?: string; defaultEncoding?: string },
  ): string;
}

declare module 'turndown-plugin-gfm' {
  import type TurndownService from 'turndown';
  export const gfm: TurndownService.Plugin;
}

declare module 'whatwg-encoding' {
  /** The encoding a byte order mark names (UTF-8, UTF-16LE, UTF-16BE), or null. */
  export function getBOMEncoding(bytes: Uint8Array): string | null;
  /** The WHATWG encoding name for a label (`latin1` → `windows-1252`), or null when unknown. */
  export function labelToName(label: string): string | null;
}
