import path from 'node:path';

/** The repository (this file compiles to .bench/build-serve/bench/serve/, four levels below). */
export const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
