import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { BASE_HEADERS } from './security.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

interface Asset {
  body: Buffer;
  type: string;
  /** Vite's hashed file names never change content: cache them for a year. */
  immutable: boolean;
}

/**
 * The built page (`dist/public`), read once into memory at start: a few hundred KB, and no path
 * from a request ever reaches the file system (so no traversal to defend against). Unknown paths
 * that look like routes get the page shell (client-side routing); unknown files get 404.
 * Without a built page (a registry bundle carries `dist/main.js` only) the worker still runs and
 * serves its bus functions; `built` is false and the server says so instead of a page.
 */
export class StaticFiles {
  private readonly assets = new Map<string, Asset>();
  readonly built: boolean;

  constructor(readonly root: string) {
    this.built = existsSync(join(root, 'index.html'));
    if (this.built) this.load(root);
  }

  private load(dir: string): void {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        this.load(path);
        continue;
      }
      const url = `/${relative(this.root, path).split(sep).join('/')}`;
      this.assets.set(url, {
        body: readFileSync(path),
        type: TYPES[extname(name)] ?? 'application/octet-stream',
        immutable: url.startsWith('/assets/'),
      });
    }
  }

  /** Answer a GET/HEAD for `pathname`; false when nothing matches (the caller answers 404). */
  serve(pathname: string, res: ServerResponse, head: boolean): boolean {
    const asset = this.assets.get(pathname) ?? (looksLikeRoute(pathname) ? this.assets.get('/index.html') : undefined);
    if (!asset) return false;
    res.writeHead(200, {
      ...BASE_HEADERS,
      'Content-Type': asset.type,
      'Content-Length': asset.body.length,
      'Cache-Control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-store',
    });
    res.end(head ? undefined : asset.body);
    return true;
  }
}

/** `/`, `/chat/abc`, `/traces` — not `/assets/x.js` or `/favicon.ico`. */
const looksLikeRoute = (pathname: string) => !pathname.startsWith('/assets/') && !/\.[a-z0-9]+$/i.test(pathname);
