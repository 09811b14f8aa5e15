// Neither package ships types; these declare the one function each that web uses.

declare module 'html-encoding-sniffer' {
  /** The HTML Standard's encoding sniffing: BOM, then the transport label, then a <meta> prescan. */
  export default function sniffHTMLEncoding(
    bytes: Uint8Array,
    options?: { xml?: boolean; transportLayerEncodingLabel?: string; defaultEncoding?: string },
  ): string;
}

declare module 'turndown-plugin-gfm' {
  import type TurndownService from 'turndown';
  export const gfm: TurndownService.Plugin;
}
