import type { Request } from 'express';
import { HttpError } from '../errors';
import type { Live } from '../live';
import type { FeedbackInput } from '../live-store';
import type { Metrics } from '../metrics';
import { feedbackBatch, feedbackItem, feedbackRequest, feedbackResponse, issues } from '../schemas';
import type { RouteSpec } from './types';

export interface FeedbackDeps {
  live: Live;
  metrics: Metrics;
  maxBatch: number;
}

type Item = { prediction_id: string; actual: number } | { date: string; actual: number };

const today = (): string => new Date().toISOString().slice(0, 10);

/** A validated item as a stored actual; throws the 404 / 422 it deserves. */
async function resolveItem(live: Live, item: Item, where: string): Promise<FeedbackInput> {
  if ('prediction_id' in item) {
    const p = await live.store.findPrediction(item.prediction_id);
    if (!p)
      throw new HttpError(
        404,
        'unknown_prediction',
        `${where}: no prediction has id ${item.prediction_id}`,
      );
    if (p.date > today())
      throw new HttpError(
        422,
        'future_date',
        `${where}: prediction ${p.id} is for ${p.date}, which has not happened yet`,
      );
    return { predictionId: p.id, date: p.date, actual: item.actual };
  }
  const date = item.date.length === 7 ? `${item.date}-01` : item.date;
  if (date > today())
    throw new HttpError(
      422,
      'future_date',
      `${where}: ${item.date} is in the future; send actuals for periods that have happened`,
    );
  return { date, actual: item.actual };
}

/** `POST /v1/feedback`: actual sales by prediction id or by date, one or a batch. */
export function feedbackRoutes(deps: FeedbackDeps): RouteSpec[] {
  return [
    {
      method: 'post',
      path: '/v1/feedback',
      summary: 'Send actual sales for a prediction id or a period (one or a batch)',
      scope: 'feedback',
      body: feedbackRequest,
      responses: {
        200: {
          description:
            'Stored. Idempotent: the same value again counts as a duplicate and changes nothing; a different value corrects the stored one.',
          schema: feedbackResponse,
        },
        202: {
          description: 'Accepted into a buffer while the database is unavailable.',
          schema: feedbackResponse,
        },
        400: { description: 'Not an actual (non-number, negative, malformed date or id).' },
        404: { description: 'A single item names an unknown prediction id.' },
        422: {
          description: 'A future date, or (in a batch) unknown prediction ids: nothing stored.',
        },
      },
      handler: async (req: Request, res) => {
        if (!req.is('application/json'))
          throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
        const body: unknown = req.body;
        const isBatch = typeof body === 'object' && body !== null && 'items' in body;
        const given = (body as { items?: unknown } | null)?.items;
        if (Array.isArray(given) && given.length > deps.maxBatch)
          throw new HttpError(
            413,
            'too_many_rows',
            `a request may hold at most ${deps.maxBatch} items; got ${given.length}`,
          );
        const parsed = isBatch ? feedbackBatch.safeParse(body) : feedbackItem.safeParse(body);
        if (!parsed.success)
          throw new HttpError(400, 'invalid_request', 'the body is invalid', issues(parsed.error));
        const items: Item[] = 'items' in parsed.data ? parsed.data.items : [parsed.data];
        // every item checked before any is stored: a batch is applied whole or not at all
        const inputs: FeedbackInput[] = [];
        const problems: { item: number; code: string; message: string }[] = [];
        for (const [i, item] of items.entries()) {
          try {
            inputs.push(await resolveItem(deps.live, item, isBatch ? `items.${i}` : 'feedback'));
          } catch (err) {
            if (!(err instanceof HttpError) || !isBatch) throw err;
            problems.push({ item: i, code: err.code, message: err.message });
          }
        }
        if (problems.length)
          throw new HttpError(
            422,
            'invalid_items',
            `${problems.length} of ${items.length} items cannot be stored; nothing was stored`,
            problems.slice(0, 20),
          );
        const counts = { accepted: 0, corrected: 0, duplicates: 0 };
        let buffered = false;
        for (const input of inputs) {
          const result = await deps.live.store.submit(input);
          deps.metrics.feedback.inc({ result });
          if (result === 'duplicate') counts.duplicates++;
          else if (result === 'corrected') counts.corrected++;
          else counts.accepted++;
          if (result === 'accepted') buffered = true;
          if (result !== 'duplicate') deps.live.history.setActual(input.date, input.actual);
        }
        deps.live.monitor.soon();
        res.status(buffered ? 202 : 200).json(counts);
      },
    },
  ];
}
