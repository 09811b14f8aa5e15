import { globsMatcher, globToRegExp, matchesAnyGlob } from '../src/globs.js';

describe('globToRegExp', () => {
  it.each([
    ['shell::*', 'shell::exec', true],
    ['shell::*', 'shell::fs::read', true],
    ['shell::*', 'shell::', true],
    ['shell::*', 'shellx::exec', false],
    ['*::list', 'a::b::list', true],
    ['*::list', 'a::b::list::x', false],
    ['state::get', 'state::get', true],
    ['state::get', 'state::getx', false],
    ['state::get', 'xstate::get', false],
    ['*', '', true],
    // Every regex character is literal.
    ['a.b', 'a.b', true],
    ['a.b', 'axb', false],
    ['a+b', 'aab', false],
    ['(a|b)', '(a|b)', true],
    ['(a|b)', 'a', false],
    ['a?', 'a', false],
    ['[ab]', 'a', false],
    ['x{2}', 'xx', false],
    ['^a$', '^a$', true],
    ['a\\d', 'a\\d', true],
    ['a\\d', 'a1', false],
  ])('%j matches %j: %s', (glob, name, expected) => {
    expect(globToRegExp(glob).test(name)).toBe(expected);
  });

  it('lets * run over line breaks, so a newline cannot hide a name from a deny glob', () => {
    expect(globToRegExp('shell::*').test('shell::exec\nrm -rf /')).toBe(true);
    expect(globToRegExp('*::exec').test('evil\n::exec')).toBe(true);
    expect(globToRegExp('*::exec').test('a::exec\r\n')).toBe(false);
  });
});

describe('globsMatcher / matchesAnyGlob', () => {
  it('admits everything without a list, nothing with an empty one', () => {
    expect(matchesAnyGlob(undefined, 'anything::at_all')).toBe(true);
    expect(matchesAnyGlob([], 'anything')).toBe(false);
  });

  it('matches when any glob does', () => {
    const allowed = globsMatcher(['shell::*', 'state::get']);
    expect(allowed('shell::exec')).toBe(true);
    expect(allowed('state::get')).toBe(true);
    expect(allowed('state::set')).toBe(false);
  });
});
