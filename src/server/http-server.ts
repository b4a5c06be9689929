import http from 'node:http';
import type express from 'express';

/**
 * The node:http server for an Express app, whose requests and responses are born with the app's
 * prototypes.
 *
 * Express re-parents every `req` and `res` it handles (`Object.setPrototypeOf` in `app.handle`).
 * V8 handles that slowly, and under load it keeps each request's objects alive past young-generation
 * collections: scavenges copy megabytes and take 5-12 ms, which is where the p99 went
 * (expressjs/express#5998, nodejs/node#37457). Here node:http constructs them from subclasses
 * whose prototypes are the app's, so Express's `setPrototypeOf` finds the prototype already set
 * and changes nothing. Express is unchanged otherwise; a request through any other server gets
 * the same prototypes by Express's own path.
 */
export function createHttpServer(app: express.Express): http.Server {
  class Request extends http.IncomingMessage {}
  class Response extends http.ServerResponse {}
  Object.setPrototypeOf(Request.prototype, app.request);
  Object.setPrototypeOf(Response.prototype, app.response);
  app.request = Request.prototype as express.Request;
  app.response = Response.prototype as unknown as express.Response;
  return http.createServer({ IncomingMessage: Request, ServerResponse: Response }, app);
}
