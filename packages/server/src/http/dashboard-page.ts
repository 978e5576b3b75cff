/**
 * The dashboard served at GET /dashboard: one static page, plain HTML with
 * inline CSS and JS (no framework, no build step, nothing fetched from
 * elsewhere). It polls `api/cluster` (relative, so it also works behind a
 * path prefix) every two seconds and redraws: the regions as a graph whose
 * arrows are the directed links (state, lag, backlog, throughput), a card
 * per region, a table of links and this relay's recent audit events.
 *
 * Every value from the server is put into the page with textContent or
 * setAttribute, never as markup: document names and peer reports are
 * untrusted. routes.ts allows exactly this script and style by hash (CSP).
 */

export const DASHBOARD_STYLE: string = `
:root { --bg: #f6f7f9; --card: #fff; --ink: #1b1f24; --muted: #5b6470; --line: #d8dde3;
  --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --unknown: #8c959f; --accent: #0969da; }
@media (prefers-color-scheme: dark) { :root { --bg: #0f1216; --card: #171b21; --ink: #e6e9ed; --muted: #9aa4b0;
  --line: #2c333c; --ok: #3fb950; --warn: #d29922; --bad: #f85149; --unknown: #6e7681; --accent: #58a6ff; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-variant-numeric: tabular-nums; }
header { display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; padding: 18px 28px 10px; }
header h1 { font-size: 20px; margin: 0; letter-spacing: .2px; }
header .sub { color: var(--muted); }
header .summary { font-weight: 600; }
header .summary.s-ok { color: var(--ok); }
header .status { margin-left: auto; color: var(--muted); font-size: 13px; }
header .status.stale { color: var(--bad); font-weight: 600; }
main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(260px, 2fr); gap: 18px; padding: 8px 28px 28px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); margin: 0 0 10px; font-weight: 600; }
section.graph { display: flex; flex-direction: column; }
svg { width: 100%; height: auto; display: block; margin: auto 0; }
svg text { fill: var(--ink); font: 14px system-ui, sans-serif; stroke: none !important; }
svg text[class*="s-"] { fill: currentColor; }
svg .arrowhead { fill: currentColor; stroke: none; }
.noscript { padding: 0 28px; }
.legend { color: var(--muted); font-size: 13px; margin: 8px 0 0; }
.legend span { font-weight: 600; }
svg .node circle { fill: var(--card); stroke-width: 3; }
svg .node.self circle.halo { fill: none; stroke: var(--accent); stroke-width: 1.5; stroke-dasharray: 4 3; }
svg .node .name { font-size: 19px; font-weight: 700; }
svg .node .meta { font-size: 12px; fill: var(--muted); }
svg .link { stroke-width: 2.5; fill: none; }

svg .label-bg { fill: var(--card); opacity: .85; }
.s-ok, .s-connected { color: var(--ok); stroke: var(--ok); }
.s-degraded, .s-connecting { color: var(--warn); stroke: var(--warn); }
.s-unreachable, .s-disconnected { color: var(--bad); stroke: var(--bad); }
.s-unknown { color: var(--unknown); stroke: var(--unknown); }
.regions { display: grid; gap: 10px; }
.region { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.region h3 { margin: 0 0 6px; font-size: 16px; display: flex; gap: 8px; align-items: baseline; }
.region .you { font-size: 12px; color: var(--accent); font-weight: 500; }
.region dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 14px; margin: 0; font-size: 14px; }
.region dt { color: var(--muted); }
.region dd { margin: 0; }
.region .big { font-size: 20px; font-weight: 650; }
.badge { font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: .05em; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th { text-align: left; color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .05em;
  border-bottom: 1px solid var(--line); padding: 6px 8px; }
td { border-bottom: 1px solid var(--line); padding: 7px 8px; vertical-align: middle; }
td.num { text-align: right; white-space: nowrap; }
th.num { text-align: right; }
td.detail { color: var(--muted); word-break: break-word; }
.empty { color: var(--muted); font-style: italic; }
.err { color: var(--bad); font-size: 13px; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
`

export const DASHBOARD_SCRIPT: string = `
'use strict';
(() => {
  const POLL_MS = 2000;
  const SVG = 'http://www.w3.org/2000/svg';
  const previous = new Map();
  const byId = (id) => document.getElementById(id);
  const el = (tag, attrs, text) => {
    const node = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };
  const bytes = (n) => n === null || n === undefined ? '—' : n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(1) + ' MiB';
  const rate = (n) => n === null ? '—' : bytes(Math.round(n)) + '/s';
  const ms = (v) => v === null || v === undefined ? '—' : v < 1000 ? Math.round(v) + ' ms' : (v / 1000).toFixed(v < 10000 ? 2 : 1) + ' s';
  const count = (v) => v === null || v === undefined ? '—' : String(v);
  const plural = (v, word) => count(v) + ' ' + word + (v === 1 ? '' : 's');
  const key = (l) => l.from + '\\u2192' + l.to;
  const emptyRow = (columns, text) => {
    const tr = el('tr');
    tr.append(el('td', { colspan: columns, class: 'empty' }, text));
    return tr;
  };

  const throughput = (links, at) => {
    const out = new Map();
    for (const l of links) {
      const k = key(l);
      const before = previous.get(k);
      // Counters restart with each link session; a drop means a new session, not negative traffic.
      if (before && l.wireBytes !== null && before.wire !== null && l.wireBytes >= before.wire && at > before.at) {
        out.set(k, (l.wireBytes - before.wire) / ((at - before.at) / 1000));
      } else out.set(k, null);
      previous.set(k, { wire: l.wireBytes, at });
    }
    return out;
  };

  const lagText = (l) => ms(l.lagMs) + (l.lagWindow ? ' (p95 ' + ms(l.lagWindow.p95Ms) + ')' : '');

  // Two regions side by side (this relay on the left); more on a circle, this relay on top.
  const layout = (regions) => {
    const n = regions.length, small = n <= 2, height = small ? 250 : 520;
    // A triangle's nodes sit higher than its centre: lower the centre to balance the picture.
    const cx = 400, cy = height / 2 + (n === 3 ? 40 : 0), r = small ? 250 : n === 3 ? 215 : 200;
    const at = new Map(regions.map((g, i) => {
      const a = n === 1 ? 0 : small ? Math.PI * (1 - i) : -Math.PI / 2 + (2 * Math.PI * i) / n;
      return [g.region, n === 1 ? { x: cx, y: cy } : { x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) }];
    }));
    return { at, height, cx, cy };
  };

  const drawGraph = (view, rates) => {
    const svg = byId('graph');
    svg.replaceChildren();
    const defs = el('svg:defs');
    for (const s of ['connected', 'connecting', 'disconnected', 'unknown']) {
      const m = el('svg:marker', { id: 'arrow-' + s, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse', class: 's-' + s });
      m.append(el('svg:path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }));
      defs.append(m);
    }
    svg.append(defs);
    const { at: pos, height, cx, cy } = layout(view.regions);
    svg.setAttribute('viewBox', '0 0 800 ' + height);
    const R = 52;
    const pairs = new Map();
    for (const l of view.links) {
      const a = pos.get(l.from), b = pos.get(l.to);
      if (!a || !b) continue;
      const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
      // The two directions of a pair run side by side, each on its right-hand side.
      const ux = dx / len, uy = dy / len, px = -uy * 11, py = ux * 11;
      const g = el('svg:g', { 'data-link': key(l), 'data-state': l.state });
      g.append(el('svg:line', { class: 'link s-' + l.state, x1: a.x + ux * R + px, y1: a.y + uy * R + py, x2: b.x - ux * (R + 4) + px, y2: b.y - uy * (R + 4) + py, 'marker-end': 'url(#arrow-' + l.state + ')' }));
      svg.append(g);
      const pair = [l.from, l.to].sort().join('\\n');
      if (!pairs.has(pair)) pairs.set(pair, { a, b, links: [] });
      pairs.get(pair).links.push({ l, py, px });
    }
    // One label per pair, one line per direction, away from the centre so
    // that the labels of neighbouring pairs do not overlap: a pair on the
    // left or right (the sides of a triangle) gets its label beside the
    // arrows, growing outwards; a pair above or below, a centred one.
    for (const { a, b, links: sides } of pairs.values()) {
      // Text lines in the order the arrows appear on screen (top first, then left first).
      const links = sides.sort((u, v) => u.py - v.py || u.px - v.px).map((side) => side.l);
      let mx = (a.x + b.x) / 2, my = (a.y + b.y) / 2;
      const ox = mx - cx, oy = my - cy, olen = Math.hypot(ox, oy);
      const side = olen > 1 && Math.abs(ox / olen) > 0.3 ? Math.sign(ox) : 0;
      // 30 clears both arrows of the pair where they cross the label's row.
      if (side !== 0) mx += side * 30;
      else if (olen > 1) { mx += (ox / olen) * 40; my += (oy / olen) * 40; }
      const anchor = side > 0 ? 'start' : side < 0 ? 'end' : 'middle';
      const label = el('svg:g', { class: 'label' });
      const bg = el('svg:rect', { class: 'label-bg', rx: 6 });
      label.append(bg);
      const texts = links.map((l, i) => {
        const state = l.state === 'connected' ? '' : l.state + ' \\u00b7 ';
        const queued = l.backlogDocs ? ' \\u00b7 ' + plural(l.backlogDocs, 'doc') + ' queued' : '';
        const t = el('svg:text', { x: mx + side * 8, y: my - (links.length - 1) * 9 + i * 18 + 5, 'text-anchor': anchor, class: l.state === 'connected' ? null : 's-' + l.state },
          // The last lag only: the p95 is in the table, and a shorter line fits beside a triangle's side.
          l.from + ' \\u2192 ' + l.to + '  ' + state + 'lag ' + ms(l.lagMs) + ' \\u00b7 ' + rate(rates.get(key(l)) ?? null) + queued);
        label.append(t);
        return t;
      });
      svg.append(label);
      const width = Math.max(...texts.map((t) => t.getComputedTextLength())) + 16;
      const h = links.length * 18 + 8;
      const x = side > 0 ? mx : side < 0 ? mx - width : mx - width / 2;
      for (const [k, v] of Object.entries({ x, y: my - h / 2, width, height: h })) bg.setAttribute(k, String(v));
    }
    for (const g of view.regions) {
      const p = pos.get(g.region);
      const node = el('svg:g', { class: 'node' + (g.self ? ' self' : ''), 'data-node': g.region });
      if (g.self) node.append(el('svg:circle', { class: 'halo', cx: p.x, cy: p.y, r: R + 7 }));
      node.append(el('svg:circle', { class: 's-' + g.status, cx: p.x, cy: p.y, r: R }));
      node.append(el('svg:text', { class: 'name', x: p.x, y: p.y - 4, 'text-anchor': 'middle' }, g.region));
      node.append(el('svg:text', { class: 'meta', x: p.x, y: p.y + 15, 'text-anchor': 'middle' }, g.loadedDocs === null ? g.status : plural(g.loadedDocs, 'doc') + ' \\u00b7 ' + plural(g.connections, 'conn')));
      svg.append(node);
    }
  };

  const drawRegions = (view) => {
    const box = byId('regions');
    box.replaceChildren(...view.regions.map((g) => {
      const card = el('article', { class: 'region', 'data-region': g.region });
      const h = el('h3', {}, g.region);
      if (g.self) h.append(el('span', { class: 'you' }, 'this relay'));
      h.append(el('span', { class: 'badge s-' + g.status, 'data-field': 'status' }, g.status));
      const dl = el('dl');
      const row = (label, value, field, cls) => dl.append(el('dt', {}, label), el('dd', { 'data-field': field, class: cls }, value));
      row('Documents', count(g.loadedDocs), 'docs', 'big');
      row('Connections', count(g.connections), 'connections', 'big');
      row('Storage', g.storage ? (g.storage.healthy ? 'healthy' : 'FAILED') + ', ' + g.storage.kind + ', ' + g.storage.durability : '—', 'storage');
      row('Relay id', g.relayId ?? '—', 'relay-id');
      card.append(h, dl);
      if (g.error) card.append(el('div', { class: 'err' }, g.error.code + ': ' + g.error.message));
      return card;
    }));
  };

  const drawLinks = (view, rates) => {
    const body = byId('links');
    if (view.links.length === 0) return body.replaceChildren(emptyRow(7, 'No peers configured.'));
    body.replaceChildren(...view.links.map((l) => {
      const tr = el('tr', { 'data-link': key(l), 'data-state': l.state });
      const policy = l.policyHashMatch === null ? '—' : l.policyHashMatch ? 'same' : 'MISMATCH';
      tr.append(
        el('td', {}, l.from + ' \\u2192 ' + l.to),
        el('td', { class: 'badge s-' + l.state, 'data-field': 'state' }, l.state),
        el('td', { class: 'num', 'data-field': 'lag' }, lagText(l)),
        el('td', { class: 'num', 'data-field': 'backlog' }, plural(l.backlogDocs, 'doc') + ' / ' + bytes(l.backlogBytes)),
        el('td', { class: 'num', 'data-field': 'throughput' }, rate(rates.get(key(l)) ?? null)),
        el('td', { class: 'num', 'data-field': 'sent' }, bytes(l.wireBytes) + ' / ' + bytes(l.rawUpdateBytes)),
        el('td', {}, policy),
      );
      return tr;
    }));
  };

  const drawAudit = (view) => {
    const body = byId('audit');
    if (view.audit.length === 0) return body.replaceChildren(emptyRow(5, 'No policy or audit events.'));
    body.replaceChildren(...view.audit.map((e) => {
      const tr = el('tr', { 'data-kind': e.kind });
      tr.append(el('td', {}, new Date(e.time).toLocaleTimeString()), el('td', {}, e.kind), el('td', {}, e.doc ?? ''), el('td', {}, e.peerRegion ?? ''), el('td', { class: 'detail' }, e.detail ?? ''));
      return tr;
    }));
  };

  // One line to read first: is everything up, and how far behind is the worst link?
  const drawSummary = (view) => {
    const up = view.links.filter((l) => l.state === 'connected').length;
    const healthy = view.regions.filter((g) => g.status === 'ok').length;
    const lags = view.links.map((l) => l.lagMs).filter((v) => v !== null);
    const worst = lags.length ? Math.max(...lags) : null;
    const allGood = up === view.links.length && healthy === view.regions.length;
    const box = byId('summary');
    box.textContent = healthy + '/' + view.regions.length + ' regions ok \u00b7 ' + up + '/' + view.links.length + ' links up' + (worst === null ? '' : ' \u00b7 worst lag ' + ms(worst));
    box.className = 'summary ' + (allGood ? 's-ok' : 's-unreachable');
  };

  const status = byId('status');
  const poll = async () => {
    if (!document.hidden) {
      try {
        const res = await fetch('api/cluster', { cache: 'no-store' });
        if (!res.ok) throw new Error('HTTP ' + res.status);
        const view = await res.json();
        const rates = throughput(view.links, performance.now());
        byId('self').textContent = view.self;
        drawSummary(view);
        drawGraph(view, rates);
        drawRegions(view);
        drawLinks(view, rates);
        drawAudit(view);
        status.textContent = 'updated ' + new Date(view.generatedAt).toLocaleTimeString();
        status.className = 'status';
        // Lets tests and scripts wait for a redraw instead of for time.
        document.body.dataset.polls = String((Number(document.body.dataset.polls) || 0) + 1);
      } catch (err) {
        status.textContent = 'cannot reach this relay (' + (err && err.message ? err.message : err) + '), retrying';
        status.className = 'status stale';
      }
    }
    setTimeout(poll, POLL_MS);
  };
  poll();
})();
`

export const DASHBOARD_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Meridian dashboard</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_STYLE}</style>
</head>
<body>
<header>
  <h1>Meridian</h1>
  <span class="sub">cluster as seen from <strong id="self">…</strong></span>
  <span id="summary" class="summary"></span>
  <span id="status" class="status">loading…</span>
</header>
<noscript><p class="noscript">The dashboard needs JavaScript; the same data is at <a href="api/cluster">api/cluster</a>.</p></noscript>
<main>
  <section class="graph"><h2>Regions and links</h2>
    <svg id="graph" viewBox="0 0 800 250" role="img" aria-label="regions and the links between them"></svg>
    <p class="legend">Each arrow is one relay's link to a peer, carrying its deltas:
      <span class="s-connected">connected</span>, <span class="s-connecting">connecting</span>,
      <span class="s-disconnected">disconnected</span>. Lag is arrival time minus the origin relay's time stamp
      (relay clocks are assumed NTP-synced; skew shows up in it). Throughput is bytes on the wire.</p></section>
  <section><h2>Regions</h2><div id="regions" class="regions"></div></section>
  <section class="wide"><h2>Links (each carries its sender's deltas)</h2>
    <table><thead><tr><th>Link</th><th>State</th><th class="num">Lag (last)</th><th class="num">Backlog</th><th class="num">Throughput</th><th class="num" title="bytes on the wire (batched, compressed) / raw Yjs update bytes, since the link last connected">Sent: wire / raw</th><th>Policy</th></tr></thead>
    <tbody id="links"></tbody></table></section>
  <section class="wide"><h2>Recent policy and audit events on this relay</h2>
    <table><thead><tr><th>Time</th><th>Event</th><th>Document</th><th>Peer</th><th>Detail</th></tr></thead>
    <tbody id="audit"></tbody></table></section>
</main>
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`
