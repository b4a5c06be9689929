/** A parsed MLflow server version. */
export interface ServerVersion {
  /** as the server reported it, e.g. "3.17.2" or "3.18.0rc0" */
  raw: string;
  major: number;
  minor: number;
  patch: number;
}

/**
 * The server versions this client supports: major 3, from 3.0.0. The integration tests run
 * against the version pinned in python-tools.lock (3.17.2). Major 2 lacks nothing this client
 * calls, but it is not tested; major 4 may change the wire format.
 */
export const SUPPORTED_SERVER_VERSIONS = { major: 3, minimum: '3.0.0' } as const;

/** Parses "3.17.2", "3.17.2.dev0", "3.18.0rc1"; undefined when the text is not a version. */
export function parseServerVersion(text: string): ServerVersion | undefined {
  const raw = text.trim().replace(/^"|"$/g, '');
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(raw);
  if (m === null) return undefined;
  return { raw, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

/** Why `version` is not supported, or undefined when it is. */
export function unsupportedReason(version: ServerVersion): string | undefined {
  const min = parseServerVersion(SUPPORTED_SERVER_VERSIONS.minimum)!;
  if (version.major !== SUPPORTED_SERVER_VERSIONS.major) {
    return `MLflow server ${version.raw} is not supported: this client speaks the MLflow ${SUPPORTED_SERVER_VERSIONS.major}.x REST API (>= ${SUPPORTED_SERVER_VERSIONS.minimum})`;
  }
  if (version.minor < min.minor || (version.minor === min.minor && version.patch < min.patch)) {
    return `MLflow server ${version.raw} is older than the minimum supported ${SUPPORTED_SERVER_VERSIONS.minimum}`;
  }
  return undefined;
}
