/**
 * The machine's own pauses: a busy loop that reads the clock for SECONDS and reports the gaps
 * between two readings longer than 0.2 ms (the vCPU taken away by the hypervisor, an interrupt,
 * another process), as JSON {lost_share, gaps, largest_ms}. Run pinned to the server's core: a
 * request arriving during such a gap waits it out, whatever the server does.
 *   node pauses.js SECONDS
 */
const seconds = Number(process.argv[2] ?? 5);
const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
const gaps: number[] = [];
let last = process.hrtime.bigint();
for (;;) {
  const now = process.hrtime.bigint();
  const gap = Number(now - last);
  if (gap > 200_000) gaps.push(gap / 1e6);
  last = now;
  if (now > end) break;
}
gaps.sort((a, b) => b - a);
const lost = gaps.reduce((a, g) => a + g, 0) / (seconds * 1000);
process.stdout.write(
  `${JSON.stringify({ lost_share: lost, gaps: gaps.length, largest_ms: gaps.slice(0, 3) })}\n`,
);
