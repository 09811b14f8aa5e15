import { z } from 'zod';
import { HarnessError } from '../src/errors.js';
import { versionedRecord } from '../src/versioned.js';

// v0 (unversioned): {name}; v1: {name, tags}; v2: {title, tags}.
const note = versionedRecord({
  what: 'note',
  current: 2,
  unversioned: 0,
  schema: z.object({ title: z.string(), tags: z.array(z.string()) }).strict(),
  migrations: {
    0: (r) => ({ ...r, tags: [] }),
    1: ({ name, ...rest }) => ({ ...rest, title: name }),
  },
});

const failure = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as HarnessError;
  }
  throw new Error('expected a failure');
};

describe('versionedRecord', () => {
  it('reads the current version as it is', () => {
    expect(note.read({ v: 2, title: 't', tags: ['a'] }, 'k')).toEqual({ v: 2, title: 't', tags: ['a'] });
  });

  it('migrates each older version step by step', () => {
    expect(note.read({ v: 1, name: 'n', tags: ['x'] }, 'k')).toEqual({ v: 2, title: 'n', tags: ['x'] });
    expect(note.read({ name: 'n' }, 'k')).toEqual({ v: 2, title: 'n', tags: [] });
  });

  it('refuses a newer version with a clear, non-retryable error', () => {
    const error = failure(() => note.read({ v: 3, title: 't', tags: [] }, 'notes/k'));
    expect(error).toBeInstanceOf(HarnessError);
    expect(error.code).toBe('unavailable');
    expect(error.reason).toBe('unsupported_record_version');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      'note at notes/k has version 3; this worker reads versions up to 2 (upgrade the worker)',
    );
  });

  it('calls a record malformed when its version or shape is wrong', () => {
    expect(failure(() => note.read({ v: 'two', title: 't', tags: [] }, 'k')).reason).toBe('malformed_record');
    expect(failure(() => note.read({ v: 2, title: 1, tags: [] }, 'k')).message).toMatch(
      /note at k is malformed: title/,
    );
    expect(failure(() => note.read([], 'k')).message).toMatch(/not an object/);
  });

  it('without an unversioned version, a record lacking v is malformed', () => {
    const strict = versionedRecord({ what: 'x', current: 1, schema: z.object({}), migrations: {} });
    expect(failure(() => strict.read({}, 'k')).message).toMatch(/no valid version field/);
  });

  it('finds the version in a legacy field, which the migration drops', () => {
    const file = versionedRecord({
      what: 'file',
      current: 2,
      legacyVersionField: 'version',
      schema: z.object({ data: z.string() }).strict(),
      migrations: { 1: ({ version: _, ...rest }) => rest },
    });
    expect(file.read({ version: 1, data: 'd' }, 'f')).toEqual({ v: 2, data: 'd' });
    expect(failure(() => file.read({ version: 7, data: 'd' }, 'f')).reason).toBe('unsupported_record_version');
  });

  it('stamps what it writes with the current version', () => {
    expect(note.stamp({ title: 't', tags: [] })).toEqual({ title: 't', tags: [], v: 2 });
  });
});
