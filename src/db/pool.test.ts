import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, redactUrl } from './pool';

const withCode = (code: string, message = 'x'): Error =>
  Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it('is true for a refused connection, a server shutting down and pg client timeouts', () => {
    expect(isDatabaseUnavailable(withCode('ECONNREFUSED'))).toBe(true);
    expect(
      isDatabaseUnavailable(
        withCode('57P01', 'terminating connection due to administrator command'),
      ),
    ).toBe(true);
    expect(isDatabaseUnavailable(withCode('08006'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
  });

  it('is false for errors in the query or the data (retrying cannot help)', () => {
    expect(isDatabaseUnavailable(withCode('23514', 'violates check constraint'))).toBe(false);
    expect(isDatabaseUnavailable(withCode('42P01', 'relation does not exist'))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError('bug'))).toBe(false);
    expect(isDatabaseUnavailable('not an error')).toBe(false);
  });
});

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('postgres://app:s3cret@db.example.com:5432/icecream')).toBe(
      'postgres://app:***@db.example.com:5432/icecream',
    );
    expect(redactUrl('not a url')).toBe('(unparseable database URL)');
  });
});
