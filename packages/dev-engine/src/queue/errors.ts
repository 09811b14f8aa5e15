/** `"<code>: <message>"` when the error carries a wire code, like the SDK's InvocationError. */
export function errorText(error: unknown): string {
  if (error && typeof error === 'object') {
    const { code, message } = error as { code?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : JSON.stringify(error);
    return typeof code === 'string' && !text.startsWith(`${code}:`) ? `${code}: ${text}` : text;
  }
  return String(error);
}
