import { dashboardPage } from '../dashboard/page';
import type { RouteSpec } from './types';

/**
 * `GET /dashboard`: the monitoring page. The route is open because the page is a shell without
 * data (a browser cannot send a header on first load); its script reads `/v1/monitoring` and
 * `/metrics`, which need the `metrics` or `admin` scope, with the key the user pastes.
 */
export function dashboardRoutes(): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/dashboard',
      summary:
        'Monitoring dashboard (HTML shell, no data): live charts from /v1/monitoring and /metrics, read with a key of scope metrics or admin',
      scope: null,
      responses: {
        200: { description: 'The self-contained dashboard page.', contentType: 'text/html' },
      },
      handler: (_req, res) => {
        res
          .set({
            'content-security-policy': dashboardPage.contentSecurityPolicy,
            'cache-control': 'no-store',
            'referrer-policy': 'no-referrer',
            'x-content-type-options': 'nosniff',
            'x-frame-options': 'DENY',
          })
          .type('html')
          .send(dashboardPage.html);
      },
    },
  ];
}
