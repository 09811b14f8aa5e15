/**
 * The `http` trigger's route table. Paths are normalised (leading `/` optional, `:param`
 * segments); the route key is `METHOD:path` and re-registering a key replaces it. Two routes of
 * the same method and the same segment shape but different parameter names would collide in
 * the engine's router (axum matches by position), so the second is rejected.
 */

export interface Route {
  method: string;
  /** The api_path as registered (passed to handlers as `path`). */
  apiPath: string;
  segments: string[];
  functionId: string;
  conditionFunctionId?: string;
  middlewareFunctionIds: string[];
  triggerId: string;
  workerId?: string;
}

export function normalizePath(apiPath: string): string {
  return apiPath === '/' ? '/' : apiPath.replace(/^\/+/, '');
}

function segmentsOf(normalized: string): string[] {
  return normalized === '/' ? [''] : normalized.split('/');
}

/** The positional shape used for conflict detection: params collapse to `{}`. */
function signature(method: string, segments: string[]): string {
  return `${method}:${segments.map((s) => (s.startsWith(':') ? '{}' : s)).join('/')}`;
}

export class RouteTable {
  private readonly routes = new Map<string, Route>();

  get size(): number {
    return this.routes.size;
  }

  /** Add or replace; throws with the engine's "conflicts" wording on a positional clash. */
  add(route: Omit<Route, 'segments'>): void {
    const normalized = normalizePath(route.apiPath);
    const key = `${route.method}:${normalized}`;
    const segments = segmentsOf(normalized);
    const sig = signature(route.method, segments);
    for (const [otherKey, other] of this.routes) {
      if (otherKey !== key && signature(other.method, other.segments) === sig) {
        throw new Error(
          `Route ${route.method} ${route.apiPath} conflicts with existing route ${other.method} ${other.apiPath}`,
        );
      }
    }
    this.routes.set(key, { ...route, segments });
  }

  /** Remove the route of this trigger, only if the trigger id and the worker both match. */
  removeByTrigger(triggerId: string, workerId: string | undefined): void {
    for (const [key, r] of this.routes)
      if (r.triggerId === triggerId && r.workerId === workerId) this.routes.delete(key);
  }

  /**
   * Find the route for a request. Static segments win over parameters (like axum's matcher).
   * Returns `'method'` when the path exists only under other methods (-> 405).
   */
  match(method: string, pathname: string): { route: Route; params: Record<string, string> } | 'method' | undefined {
    const actual = pathname === '/' ? [''] : pathname.slice(1).split('/');
    let best: { route: Route; params: Record<string, string>; rank: string } | undefined;
    let pathMatched = false;
    for (const route of this.routes.values()) {
      const params = matchSegments(route.segments, actual);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
      // rank: static segments (1) before params (0), compared left to right; exact method first.
      const rank =
        route.segments.map((s) => (s.startsWith(':') ? '0' : '1')).join('') + (route.method === method ? '1' : '0');
      if (!best || rank > best.rank) best = { route, params, rank };
    }
    if (best) return { route: best.route, params: best.params };
    return pathMatched ? 'method' : undefined;
  }
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const a = actual[i]!;
    if (p.startsWith(':') && p.length > 1) {
      if (a === '') return undefined;
      params[p.slice(1)] = a;
    } else if (p !== a) return undefined;
  }
  return params;
}
