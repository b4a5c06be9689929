import { MlflowInvalidParameterError } from './errors';

/** The artifact proxy's route; everything after it is the path in the artifact store. */
export const ARTIFACTS_ROUTE = '/api/2.0/mlflow-artifacts/artifacts';

function invalid(message: string): MlflowInvalidParameterError {
  return new MlflowInvalidParameterError(message, { errorCode: 'INVALID_PARAMETER_VALUE' });
}

/**
 * Maps an artifact URI served through MLflow's artifact proxy to its path in the artifact store
 * (the part the proxy endpoints take), the way the server does (handlers.py
 * `_get_proxied_run_artifact_destination_path`):
 * - `mlflow-artifacts:/1/<run>/artifacts` and `mlflow-artifacts://host:port/1/<run>/artifacts`
 *   → `1/<run>/artifacts`
 * - `http(s)://host/…/api/2.0/mlflow-artifacts/artifacts/1/<run>/artifacts` → `1/<run>/artifacts`
 *
 * The host of an `http(s)` or `mlflow-artifacts://host` URI is ignored: the client always talks
 * to its own tracking URI.
 * @throws MlflowInvalidParameterError for any other URI (`file:`, `s3:`, `runs:/`, a plain path):
 *   such artifacts do not go through the proxy and this client cannot reach them.
 */
export function artifactPath(artifactUri: string): string {
  let rest: string;
  if (artifactUri.startsWith('mlflow-artifacts:')) {
    rest = artifactUri.slice('mlflow-artifacts:'.length);
    if (rest.startsWith('//')) {
      // mlflow-artifacts://host:port/path: drop the authority
      const slash = rest.indexOf('/', 2);
      rest = slash < 0 ? '' : rest.slice(slash);
    }
  } else if (/^https?:\/\//i.test(artifactUri)) {
    let pathname: string;
    try {
      pathname = new URL(artifactUri).pathname;
    } catch (cause) {
      throw new MlflowInvalidParameterError(`artifact URI '${artifactUri}' is not a valid URL`, {
        errorCode: 'INVALID_PARAMETER_VALUE',
        cause,
      });
    }
    const at = pathname.indexOf(`${ARTIFACTS_ROUTE}/`);
    if (at < 0 && !pathname.endsWith(ARTIFACTS_ROUTE)) {
      throw invalid(
        `artifact URI '${artifactUri}' is an HTTP URL outside the MLflow artifact proxy (${ARTIFACTS_ROUTE}/...)`,
      );
    }
    rest = at < 0 ? '' : decodeURIComponent(pathname.slice(at + ARTIFACTS_ROUTE.length));
  } else {
    throw invalid(
      `artifact URI '${artifactUri}' does not go through the MLflow artifact proxy (expected mlflow-artifacts:/... or http(s)://.../${ARTIFACTS_ROUTE.slice(1)}/...); start the server with --serve-artifacts and no custom artifact root`,
    );
  }
  const path = rest.replace(/^\/+/, '').replace(/\/+$/, '');
  checkSafe(path, artifactUri);
  return path;
}

/**
 * Joins artifact path segments with `/`, rejecting `..`, `.`, empty segments from `//`, and
 * backslashes, which the server refuses or would resolve elsewhere. Leading and trailing `/` of
 * each part are ignored. @throws MlflowInvalidParameterError
 */
export function joinArtifactPath(...parts: readonly string[]): string {
  const joined = parts
    .map((p) => p.replace(/^\/+/, '').replace(/\/+$/, ''))
    .filter((p) => p !== '')
    .join('/');
  checkSafe(joined, parts.join(' + '));
  return joined;
}

function checkSafe(path: string, shown: string): void {
  if (path === '') return;
  if (path.includes('\\') || path.includes('\0'))
    throw invalid(`artifact path '${shown}' contains a backslash or NUL`);
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.' || segment === '..')
      throw invalid(`artifact path '${shown}' contains an empty, '.' or '..' segment`);
  }
}

/** The URL path of a proxied artifact, each segment percent-encoded. */
export function artifactUrlPath(path: string): string {
  return `${ARTIFACTS_ROUTE}/${path.split('/').map(encodeURIComponent).join('/')}`;
}
