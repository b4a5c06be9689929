/**
 * The monitoring dashboard: one self-contained HTML page (inline CSS and JS, SVG charts drawn by
 * hand, nothing from a CDN). The page holds no data; its script reads `GET /v1/monitoring` and
 * `GET /metrics` with a key the user pastes once (kept in sessionStorage, sent as
 * `Authorization: Bearer`). A key may also come in the URL fragment (`/dashboard#key=...`): a
 * fragment never reaches the server or a proxy log, and the script removes it from the address
 * bar at once. Every value is inserted as text (textContent / SVG attributes), never as HTML.
 */
import { createHash } from 'node:crypto';

/** Seconds between refreshes. */
export const REFRESH_SECONDS = 3;

const style = String.raw`
:root { color-scheme: light; --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; flex-wrap:wrap; gap:12px; align-items:center; padding:12px 20px; background:#fff; border-bottom:1px solid var(--line); }
header h1 { font-size:17px; margin:0 12px 0 0; }
#status { color:var(--muted); }
#status.bad { color:#b42318; }
form { display:flex; gap:6px; margin-left:auto; }
input { font:inherit; padding:4px 8px; border:1px solid var(--line); border-radius:6px; width:280px; }
button { font:inherit; padding:4px 10px; border:1px solid #c9ced8; border-radius:6px; background:#fff; cursor:pointer; }
main { display:grid; grid-template-columns:repeat(auto-fit, minmax(420px, 1fr)); gap:14px; padding:14px 20px; }
section { background:#fff; border:1px solid var(--line); border-radius:10px; padding:10px 14px; min-width:0; }
section.wide { grid-column:1 / -1; }
h2 { font-size:14px; margin:0 0 6px; }
.note { color:var(--muted); font-size:12px; margin:4px 0 0; }
svg { width:100%; height:auto; display:block; }
section.wide svg { max-width:640px; }
svg text { font-size:11px; fill:var(--muted); }
table { width:100%; border-collapse:collapse; font-size:12.5px; }
th, td { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:600; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
.drifted { color:#b42318; font-weight:600; }
.decision { font-weight:600; }
`;

const script = String.raw`
'use strict';
(function () {
  var KEY = 'icecream.dashboard.key';
  var REFRESH_MS = ${REFRESH_SECONDS * 1000};
  var MAX_POINTS = 120;
  var COLORS = ['#2563eb', '#d97706', '#059669', '#7c3aed', '#dc2626', '#0891b2'];
  var SVGNS = 'http://www.w3.org/2000/svg';
  var rate = [], p99 = [], mae = {};
  var timer = null;

  // a key in the fragment (#key=...) is stored, then removed from the address bar and history
  var m = /(?:^#|&)key=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(v, d) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    var a = Math.abs(v);
    return a >= 1000 ? v.toFixed(0) : a >= 10 ? v.toFixed(d === undefined ? 1 : d) : v.toFixed(d === undefined ? 3 : d);
  }
  function status(text, bad) {
    var s = $('status');
    s.textContent = text;
    s.className = bad ? 'bad' : '';
  }
  function headers() {
    var k = sessionStorage.getItem(KEY);
    return k ? { authorization: 'Bearer ' + k } : {};
  }
  function push(arr, t, v) {
    arr.push({ t: t, v: v });
    if (arr.length > MAX_POINTS) arr.shift();
  }

  // ---- charts -------------------------------------------------------------------------------
  var W = 460, H = 210, L = 48, R = 12, T = 26, B = 26;
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var f = v / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }
  function clear(svg) { while (svg.firstChild) svg.removeChild(svg.firstChild); }
  function timeLabel(t) { return new Date(t).toTimeString().slice(0, 8); }

  // lines: [{name, color, points:[{t,v}]}]; refs: [{name, color, value}] drawn dashed
  function lineChart(svg, lines, refs, unit) {
    clear(svg);
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    var all = [], ts = [];
    lines.forEach(function (l) { l.points.forEach(function (p) { if (p.v !== null && isFinite(p.v)) { all.push(p.v); ts.push(p.t); } }); });
    refs.forEach(function (r) { if (r.value !== null && isFinite(r.value)) all.push(r.value); });
    var ymax = niceMax(Math.max.apply(null, all.concat([0])) * 1.1);
    var t0 = ts.length ? Math.min.apply(null, ts) : 0, t1 = ts.length ? Math.max.apply(null, ts) : 1;
    if (t1 === t0) { t0 -= 1000; t1 += 1000; }
    var x = function (t) { return L + ((t - t0) / (t1 - t0)) * (W - L - R); };
    var y = function (v) { return T + (1 - v / ymax) * (H - T - B); };
    for (var i = 0; i <= 4; i++) {
      var v = (ymax * i) / 4;
      svg.appendChild(el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: '#eef0f3' }));
      svg.appendChild(el('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v, v >= 10 ? 0 : 2)));
    }
    svg.appendChild(el('text', { x: 4, y: 10 }, unit));
    if (ts.length) {
      svg.appendChild(el('text', { x: L, y: H - 8 }, timeLabel(t0)));
      svg.appendChild(el('text', { x: W - R, y: H - 8, 'text-anchor': 'end' }, timeLabel(t1)));
    } else {
      svg.appendChild(el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'waiting for data'));
    }
    refs.forEach(function (r) {
      if (r.value === null || !isFinite(r.value)) return;
      svg.appendChild(el('line', { class: 'ref', x1: L, x2: W - R, y1: y(r.value), y2: y(r.value), stroke: r.color, 'stroke-dasharray': '5 4', 'stroke-width': 1.5 }));
      svg.appendChild(el('text', { x: W - R, y: y(r.value) - 4, 'text-anchor': 'end' }, r.name));
    });
    lines.forEach(function (l) {
      var pts = l.points.filter(function (p) { return p.v !== null && isFinite(p.v); });
      if (!pts.length) return;
      svg.appendChild(el('polyline', {
        points: pts.map(function (p) { return x(p.t).toFixed(1) + ',' + y(p.v).toFixed(1); }).join(' '),
        fill: 'none', stroke: l.color, 'stroke-width': 2, 'data-series': l.name,
      }));
      pts.forEach(function (p) {
        svg.appendChild(el('circle', { class: 'pt', cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 2.2, fill: l.color, 'data-value': p.v }));
      });
    });
    legend(svg, lines.map(function (l) { return { name: l.name, color: l.color }; }));
  }
  function legend(svg, items) {
    var lx = L + 4;
    items.forEach(function (it) {
      svg.appendChild(el('rect', { x: lx, y: 3, width: 10, height: 10, fill: it.color }));
      var t = el('text', { x: lx + 14, y: 12 }, it.name);
      svg.appendChild(t);
      lx += 24 + it.name.length * 6.2;
    });
  }
  // bars: [{label, value, color, note}]; horizontal bars scaled to max (or to 1 for shares)
  function barChart(svg, bars, scaleMax, threshold) {
    clear(svg);
    var rowH = 26, h = Math.max(1, bars.length) * rowH + 20, lw = 150;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + h);
    var max = scaleMax || niceMax(Math.max.apply(null, bars.map(function (b) { return b.value; }).concat([threshold || 0, 1e-9])) * 1.05);
    var x = function (v) { return lw + (Math.max(0, v) / max) * (W - lw - 70); };
    if (!bars.length) svg.appendChild(el('text', { x: W / 2, y: 16, 'text-anchor': 'middle' }, 'waiting for data'));
    bars.forEach(function (b, i) {
      var yy = 6 + i * rowH;
      svg.appendChild(el('text', { x: lw - 6, y: yy + 14, 'text-anchor': 'end' }, b.label));
      svg.appendChild(el('rect', { x: lw, y: yy + 2, width: W - lw - 70, height: 16, fill: '#f1f3f6' }));
      svg.appendChild(el('rect', { class: 'bar', x: lw, y: yy + 2, width: Math.max(1, x(b.value) - lw).toFixed(1), height: 16, fill: b.color, 'data-value': b.value }));
      svg.appendChild(el('text', { x: x(b.value) + 4, y: yy + 14 }, b.note));
    });
    if (threshold) {
      svg.appendChild(el('line', { x1: x(threshold), x2: x(threshold), y1: 2, y2: h - 16, stroke: '#b42318', 'stroke-dasharray': '4 3' }));
      svg.appendChild(el('text', { x: x(threshold), y: h - 4, 'text-anchor': 'middle' }, 'PSI ' + threshold));
    }
  }

  // ---- data ---------------------------------------------------------------------------------
  function parseCounts(text) {
    // icecream_predictions_total{model_version="3",variant="canary"} 12
    var out = {};
    text.split('\n').forEach(function (line) {
      if (line.indexOf('icecream_predictions_total{') !== 0) return;
      var v = /variant="([^"]*)"/.exec(line);
      var n = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (v && isFinite(n)) out[v[1]] = (out[v[1]] || 0) + n;
    });
    return out;
  }
  function get(path) {
    // relative to the folder the page is served from (works behind a path prefix, and at /dashboard/)
    var base = location.origin + location.pathname.replace(/dashboard\/?$/, '');
    return fetch(new URL(path, base), { headers: headers(), cache: 'no-store' }).then(function (res) {
      if (res.status === 401 || res.status === 403)
        throw new Error('the key was refused (HTTP ' + res.status + '): paste a key with the metrics or admin scope');
      if (!res.ok) throw new Error(path + ' answered HTTP ' + res.status);
      return path === 'metrics' ? res.text() : res.json();
    });
  }

  function renderTraffic(tr, counts) {
    // the configured share routes requests only in canary mode, with a candidate loaded
    var canary = tr && tr.mode === 'canary' && tr.canary_version;
    var share = canary ? Number(tr.canary_share) || 0 : 0;
    var bars = [];
    if (tr) {
      bars.push({ label: 'production v' + tr.production_version + ' (set)', value: 1 - share, color: COLORS[0], note: fmt((1 - share) * 100, 0) + '%' });
      if (canary) bars.push({ label: 'canary v' + tr.canary_version + ' (set)', value: share, color: COLORS[1], note: fmt(share * 100, 0) + '%' });
    }
    if (counts) {
      var total = 0;
      Object.keys(counts).forEach(function (k) { total += counts[k]; });
      if (total > 0)
        Object.keys(counts).sort().forEach(function (k, i) {
          bars.push({ label: k + ' (served)', value: counts[k] / total, color: COLORS[(i + 2) % COLORS.length], note: fmt((counts[k] / total) * 100, 0) + '% of ' + total });
        });
    }
    barChart($('chart-traffic'), bars, 1);
    $('traffic-note').textContent = tr ? 'mode ' + tr.mode + (tr.canary_version ? ', canary v' + tr.canary_version : ', no canary') : '';
  }

  function render(mon, counts, now) {
    push(rate, now, mon.requests ? mon.requests.rate_per_s : null);
    push(p99, now, mon.requests ? mon.requests.p99_ms : null);
    $('req-note').textContent = mon.requests ? 'now: ' + fmt(mon.requests.rate_per_s, 2) + ' req/s, p99 ' + fmt(mon.requests.p99_ms, 2) + ' ms, errors ' + fmt(mon.requests.error_ratio * 100, 2) + '%' : '';
    lineChart($('chart-rate'), [{ name: 'requests/s', color: COLORS[0], points: rate }], [], 'req/s');
    lineChart($('chart-latency'), [{ name: 'p99', color: COLORS[4], points: p99 }], [], 'ms');

    renderTraffic(mon.traffic, counts);

    var lines = [], refs = [], notes = [];
    (mon.versions || []).forEach(function (v, i) {
      // the first window with feedback in it (the windows come shortest first), else the first
      var ws = v.live || [];
      var w = ws.filter(function (x) { return x.n > 0; })[0] || ws[0];
      var key = 'v' + v.version + ' ' + v.arm;
      if (!mae[key]) mae[key] = [];
      push(mae[key], now, w ? w.mae : null);
      var color = COLORS[i % COLORS.length];
      lines.push({ name: key + ' live MAE', color: color, points: mae[key] });
      refs.push({ name: 'v' + v.version + ' holdout ' + fmt(v.holdout_mae), color: color, value: v.holdout_mae });
      if (w) notes.push('v' + v.version + ': ' + fmt(w.mae) + ' over ' + w.n + ' (' + w.window + ')');
    });
    lineChart($('chart-mae'), lines, refs, 'MAE');
    $('mae-note').textContent = notes.join(' · ');

    var feats = (mon.drift && mon.drift.features) || [];
    barChart($('chart-drift'), feats.map(function (f) {
      return { label: f.feature, value: Number(f.psi) || 0, color: f.drifted ? '#dc2626' : '#059669', note: 'PSI ' + fmt(f.psi) };
    }), 0, 0.2);
    var tb = $('drift-rows');
    tb.textContent = '';
    feats.forEach(function (f) {
      var tr = tb.insertRow();
      [f.feature, f.statistic, fmt(f.value), fmt(f.p_value), fmt(f.psi), f.drifted ? 'drifted' : 'ok'].forEach(function (c, j) {
        var td = tr.insertCell();
        td.textContent = c;
        if (j >= 2 && j <= 4) td.className = 'num';
        if (j === 5 && f.drifted) td.className = 'drifted';
      });
    });
    $('drift-note').textContent = mon.drift && mon.drift.checked_at ? 'checked ' + mon.drift.checked_at : 'not checked yet';

    var ca = mon.canary_analysis;
    $('canary').textContent = ca ? ca.at + ': ' + ca.decision + (ca.reasons.length ? ' — ' + ca.reasons.join('; ') : '') : 'no canary analysis yet';

    var ab = $('audit-rows');
    ab.textContent = '';
    (mon.audit || []).slice().sort(function (a, b) { return a.at < b.at ? 1 : a.at > b.at ? -1 : 0; }).forEach(function (a) {
      var tr = ab.insertRow();
      [a.at, a.by, a.action, a.alias, a.from === null || a.from === undefined ? '–' : 'v' + a.from, a.to === null || a.to === undefined ? '–' : 'v' + a.to, a.reason].forEach(function (c) {
        tr.insertCell().textContent = c === null || c === undefined ? '' : String(c);
      });
    });
    $('audit-note').textContent = (mon.audit || []).length + ' events, newest first';
  }

  function tick() {
    var now = Date.now();
    Promise.all([get('v1/monitoring'), get('metrics').then(parseCounts, function () { return null; })])
      .then(function (r) {
        render(r[0], r[1], now);
        status('updated ' + new Date(now).toTimeString().slice(0, 8) + ' (generated ' + r[0].generated_at + ')', false);
        document.body.setAttribute('data-refreshes', String(Number(document.body.getAttribute('data-refreshes') || 0) + 1));
      })
      .catch(function (err) { status(err.message, true); });
  }
  function start() {
    if (timer) clearInterval(timer);
    tick();
    timer = setInterval(tick, REFRESH_MS);
  }

  $('key-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var v = $('key').value.trim();
    if (v) sessionStorage.setItem(KEY, v);
    $('key').value = '';
    start();
  });
  $('forget').addEventListener('click', function () {
    sessionStorage.removeItem(KEY);
    status('key forgotten', false);
  });
  start();
})();
`;

const body = `<header>
  <h1>Ice cream sales forecasting — live monitoring</h1>
  <span id="status">loading…</span>
  <form id="key-form" autocomplete="off">
    <input id="key" type="password" placeholder="API key (metrics or admin scope)" aria-label="API key">
    <button type="submit">Use key</button>
    <button type="button" id="forget">Forget key</button>
  </form>
</header>
<main>
  <section><h2>Request rate</h2><svg id="chart-rate" role="img" aria-label="Requests per second"></svg><p class="note" id="req-note"></p></section>
  <section><h2>p99 latency</h2><svg id="chart-latency" role="img" aria-label="p99 latency in milliseconds"></svg></section>
  <section><h2>Live MAE per version (dashed: holdout MAE)</h2><svg id="chart-mae" role="img" aria-label="Live MAE per model version"></svg><p class="note" id="mae-note"></p></section>
  <section><h2>Traffic split (set, and rows served since the service started)</h2><svg id="chart-traffic" role="img" aria-label="Traffic split"></svg><p class="note" id="traffic-note"></p><p class="note">Canary analysis: <span class="decision" id="canary"></span></p></section>
  <section class="wide"><h2>Drift (PSI per feature; dashed line: 0.2)</h2><svg id="chart-drift" role="img" aria-label="Drift per feature"></svg>
    <table><thead><tr><th>feature</th><th>statistic</th><th>value</th><th>p-value</th><th>PSI</th><th></th></tr></thead><tbody id="drift-rows"></tbody></table>
    <p class="note" id="drift-note"></p></section>
  <section class="wide"><h2>Audit history</h2>
    <table><thead><tr><th>at</th><th>by</th><th>action</th><th>alias</th><th>from</th><th>to</th><th>reason</th></tr></thead><tbody id="audit-rows"></tbody></table>
    <p class="note" id="audit-note"></p></section>
</main>`;

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

/** The page, and the Content-Security-Policy that allows exactly its inline style and script. */
export const dashboardPage = {
  html: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">
<title>icecream — monitoring</title>
<style>${style}</style></head>
<body>
${body}
<script>${script}</script>
</body></html>
`,
  contentSecurityPolicy: [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
};
