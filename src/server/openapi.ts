import { z } from 'zod';
import type { RouteSpec } from './routes/types';
import { errorBody } from './schemas';

const errorStatuses: Record<number, string> = {
  400: 'Invalid request (the details name each bad field).',
  401: 'Missing or invalid credentials (see WWW-Authenticate).',
  403: 'The credential lacks the scope.',
  413: 'Body or batch too large.',
  415: 'Not application/json.',
  422: 'Valid, but not answerable (a date the model cannot forecast).',
  429: 'Rate limited (see Retry-After).',
};

/** Express's `/a/:b` as OpenAPI's `/a/{b}`. */
const openapiPath = (p: string) => p.replace(/:([A-Za-z_]+)/g, '{$1}');

/**
 * The OpenAPI 3.1 document of the routes, generated from their zod schemas (JSON Schema 2020-12,
 * which OpenAPI 3.1 uses as is). Named schemas (`.meta({id})`) land in components.
 */
export function openApiDocument(routes: readonly RouteSpec[], info: { version: string }) {
  const schemas: Record<string, unknown> = {};
  // a schema with `.meta({id})` comes back as a $ref into $defs: its definitions go to components
  const ref = (schema: z.ZodType): unknown => {
    const { $defs, ...root } = z.toJSONSchema(schema, {
      io: 'input',
      unrepresentable: 'any',
    }) as Record<string, unknown> & { $defs?: Record<string, unknown> };
    delete root.$schema;
    for (const [k, v] of Object.entries($defs ?? {})) schemas[k] = rewriteRefs(v);
    return rewriteRefs(root);
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(r.responses)) {
      responses[status] = {
        description: spec.description,
        ...(spec.schema || spec.contentType
          ? {
              content: {
                [spec.contentType ?? 'application/json']: spec.schema
                  ? { schema: ref(spec.schema) }
                  : {},
              },
            }
          : {}),
      };
    }
    const statuses = [...(r.body ? [400, 413, 415] : []), ...(r.scope ? [401, 403, 429] : [])];
    for (const s of statuses) {
      responses[String(s)] ??= {
        description: errorStatuses[s],
        content: { 'application/json': { schema: ref(errorBody) } },
      };
    }
    (paths[openapiPath(r.path)] ??= {})[r.method] = {
      summary: r.summary,
      operationId: `${r.method}${r.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c?: string) => (c ?? '').toUpperCase())}`,
      ...(r.scope
        ? { security: [{ apiKey: [r.scope] }, { bearer: [r.scope] }] }
        : { security: [] }),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: ref(r.body) } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Ice cream sales forecasting API',
      version: info.version,
      description:
        'Real-time sales forecasts from the model the MLflow registry marks `production`. Credentials: an API key (`Authorization: Bearer icek_...` or `X-API-Key`) or an OAuth2 JWT whose `scope` claim holds the scope a route needs.',
    },
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key or a JWT.' },
      },
    },
  };
}

/** zod writes refs to `#/$defs/X`; in the document they live in components. */
function rewriteRefs<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value).replace(/"#\/\$defs\/([^"]+)"/g, '"#/components/schemas/$1"'),
  ) as T;
}
