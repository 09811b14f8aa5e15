/** In-flight requests of this worker by request id, so `abort` can stop the HTTP stream. */
export class AbortRegistry {
  private readonly controllers = new Map<string, AbortController>();

  start(requestId: string): AbortController {
    this.controllers.get(requestId)?.abort(); // a reused id supersedes the older request
    const controller = new AbortController();
    this.controllers.set(requestId, controller);
    return controller;
  }

  finish(requestId: string, controller: AbortController): void {
    if (this.controllers.get(requestId) === controller) this.controllers.delete(requestId);
  }

  /** True when a request was in flight and is now aborted. */
  abort(requestId: string): boolean {
    const controller = this.controllers.get(requestId);
    if (!controller) return false;
    controller.abort();
    this.controllers.delete(requestId);
    return true;
  }

  get size(): number {
    return this.controllers.size;
  }
}
