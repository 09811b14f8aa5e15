/** `*` matches any run of characters (including `::`); everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

/** Whether a run's `functions` allow-list admits `functionId` (no list admits everything). */
export function allowedByRun(globs: readonly string[] | undefined, functionId: string): boolean {
  return !globs || globs.some((glob) => globToRegExp(glob).test(functionId));
}
