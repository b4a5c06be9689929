/**
 * A paced load generator with microsecond latencies, for what autocannon measures poorly:
 * latency at a fixed rate (autocannon's rate limit sends each second's budget in bursts) and
 * sub-millisecond latencies (it reports whole milliseconds).
 *   node paced.js URL BODY_FILE RATE SECONDS KEY     RATE 0 = one request at a time
 * Prints {sent, errors, errorKinds, p50_ms, p99_ms} as JSON, the first second left out as warm-up.
 */
import fs from 'node:fs';
import http from 'node:http';

const [url = '', bodyFile = '', rateText = '0', secondsText = '10', key = ''] =
  process.argv.slice(2);
const body = fs.readFileSync(bodyFile);
const rate = Number(rateText);
const seconds = Number(secondsText);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const target = new URL(url);
const latencies: number[] = [];
let errors = 0;
/** what went wrong, by status or error code */
const errorKinds: Record<string, number> = {};
function failed(kind: string): void {
  errors++;
  errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
}
let sent = 0;

function send(): Promise<void> {
  const started = process.hrtime.bigint();
  sent++;
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          authorization: `Bearer ${key}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) failed(`HTTP ${res.statusCode}`);
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
          resolve();
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      failed(err.code ?? err.message);
      resolve();
    });
    req.end(body);
  });
}

async function main(): Promise<void> {
  const t0 = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e9;
  let warmupCount = 0;
  if (rate === 0) {
    while (elapsed() < seconds) {
      if (elapsed() < 1) warmupCount++;
      await send();
    }
  } else {
    // every millisecond, send what is due since the start: uniform to within a millisecond
    const pending: Promise<void>[] = [];
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const due = Math.floor(elapsed() * rate);
        while (sent < due) {
          if (elapsed() < 1) warmupCount++;
          pending.push(send());
        }
        if (elapsed() >= seconds) {
          clearInterval(tick);
          resolve();
        }
      }, 1);
    });
    await Promise.all(pending);
  }
  const measured = latencies.slice(warmupCount).sort((a, b) => a - b);
  const q = (p: number) =>
    measured[Math.min(measured.length - 1, Math.floor(p * measured.length))] ?? NaN;
  process.stdout.write(
    `${JSON.stringify({ sent, errors, errorKinds, p50_ms: q(0.5), p99_ms: q(0.99), rate_per_s: measured.length / (seconds - 1) })}\n`,
  );
  agent.destroy();
}

void main();
