import { scopes, type Scope } from '../routes/types';

export { scopes, type Scope };

const known: ReadonlySet<string> = new Set(scopes);

export const isScope = (s: string): s is Scope => known.has(s);

/** A scope list that names an unknown scope or none at all. */
export class ScopeListError extends Error {
  constructor(readonly input: string) {
    super(
      input.trim() === ''
        ? `no scopes given: choose from ${scopes.join(', ')}`
        : `unknown scope(s) ${input
            .split(/[\s,]+/)
            .filter((s) => s && !isScope(s))
            .map((s) => JSON.stringify(s))
            .join(', ')}: choose from ${scopes.join(', ')}`,
    );
    this.name = 'ScopeListError';
  }
}

/**
 * Parses a comma- or space-separated scope list ("predict,feedback"), strictly: every name must
 * be one of {@link scopes}. The result is sorted and without duplicates.
 * @throws ScopeListError naming the unknown scopes.
 */
export function parseScopes(input: string): Scope[] {
  const names = input.split(/[\s,]+/).filter(Boolean);
  if (names.length === 0 || !names.every(isScope)) throw new ScopeListError(input);
  return scopes.filter((s) => names.includes(s));
}
