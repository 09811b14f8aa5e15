/**
 * Globs over whole names (function ids, state scopes, stream names), as permissions use them:
 * `*` matches any run of characters — `::` and line breaks included, so `shell::*` matches
 * `shell::fs::read` and a name cannot slip past a deny glob by holding a newline; everything else
 * is literal. The policy's rules, the kernel deny list and a run's `functions` allow-list all
 * match through here, so they cannot disagree on what a glob covers.
 */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

/** One compiled test for a list of globs; no list admits everything. */
export function globsMatcher(globs: readonly string[] | undefined): (name: string) => boolean {
  if (!globs) return () => true;
  const compiled = globs.map(globToRegExp);
  return (name) => compiled.some((regex) => regex.test(name));
}

/** Whether `name` matches any of `globs` (no list admits everything). */
export function matchesAnyGlob(globs: readonly string[] | undefined, name: string): boolean {
  return globsMatcher(globs)(name);
}
