import { globToRegExp } from '@iii-harness/runtime';

/**
 * How the policy compares names (function ids, state scopes, stream names).
 *
 * The engine routes ids exactly: `Approval::resolve` is not `approval::resolve`. Allowing is
 * therefore done on the exact id. Denying also looks at the id's *skeleton* — the id with case,
 * invisible characters, whitespace, compatibility forms, accents and common Cyrillic/Greek
 * look-alikes folded away — so an id that merely looks like a denied one is denied too. Nothing
 * legitimate is named like a look-alike of a control function, so this costs nothing and closes
 * the door on any router (now or later) that is less exact than the engine.
 */

/** Cyrillic and Greek letters that render like Latin ones (both cases, before lowercasing). */
const LOOK_ALIKES: Record<string, string> = {
  А: 'a',
  В: 'b',
  Е: 'e',
  К: 'k',
  М: 'm',
  Н: 'h',
  О: 'o',
  Р: 'p',
  С: 'c',
  Т: 't',
  Х: 'x',
  У: 'y',
  Ѕ: 's',
  І: 'i',
  Ј: 'j',
  Ԁ: 'd',
  Ԛ: 'q',
  Ԝ: 'w',
  а: 'a',
  в: 'b',
  е: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  х: 'x',
  у: 'y',
  ѕ: 's',
  і: 'i',
  ј: 'j',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  һ: 'h',
  ӏ: 'l',
  ɡ: 'g',
  ı: 'i',
  Α: 'a',
  Β: 'b',
  Ε: 'e',
  Ζ: 'z',
  Η: 'h',
  Ι: 'i',
  Κ: 'k',
  Μ: 'm',
  Ν: 'n',
  Ο: 'o',
  Ρ: 'p',
  Τ: 't',
  Υ: 'y',
  Χ: 'x',
  α: 'a',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ϲ: 'c',
  ϳ: 'j',
};
const LOOK_ALIKE_RE = new RegExp(`[${Object.keys(LOOK_ALIKES).join('')}]`, 'gu');
/** Whitespace, control and format characters (zero-width, bidi), plus blank-looking letters. */
const INVISIBLE_RE = /[\p{White_Space}\p{Cc}\p{Cf}\u115F\u1160\u3164\uFFA0\u2800]/gu;
const MARKS_RE = /\p{M}/gu;

/** The folded form of a name, used only to deny look-alikes (see the file comment). */
export function skeleton(name: string): string {
  const folded = name
    .normalize('NFKC')
    .normalize('NFD')
    .replace(MARKS_RE, '')
    .replace(LOOK_ALIKE_RE, (c) => LOOK_ALIKES[c]!);
  return folded.toLowerCase().normalize('NFD').replace(MARKS_RE, '').replace(INVISIBLE_RE, '');
}

/** A name pattern compiled for both exact and look-alike matching. */
export interface NameMatcher {
  pattern: string;
  /** Matches the exact name, as the engine routes it. */
  exact: RegExp;
  /** Matches the name's skeleton (for denials only). */
  folded: RegExp;
}

export function nameMatcher(pattern: string): NameMatcher {
  return { pattern, exact: globToRegExp(pattern), folded: globToRegExp(skeleton(pattern)) };
}

/** Exact match, or — when `lookAlikes` — a match of the skeletons too. */
export function matchesName(matcher: NameMatcher, name: string, lookAlikes: boolean, folded = skeleton(name)): boolean {
  return matcher.exact.test(name) || (lookAlikes && matcher.folded.test(folded));
}
