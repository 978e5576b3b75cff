/**
 * The demo: one editor pane per region, each a MeridianProvider pinned to
 * its region's relay, showing connection and "saved" status, with a button
 * to cut and heal that region's inter-region links. Plain HTML and a module
 * script; the client bundle comes from /meridian-client.js.
 */
export interface DemoRegion {
  region: string
  url: string
  delays: readonly (readonly [string, number])[]
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const STYLE = `
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f4f5f8; }
  body { margin: 0; padding: 24px; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  p.lead { margin: 0 0 20px; color: #555e70; max-width: 70ch; }
  .panes { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 16px; }
  .pane { background: #fff; border-radius: 10px; box-shadow: 0 1px 3px #0002; padding: 14px; display: flex; flex-direction: column; gap: 10px; }
  .pane header { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
  .region { font-weight: 700; font-size: 18px; text-transform: uppercase; }
  .badge { font-size: 12px; padding: 2px 8px; border-radius: 999px; background: #e6e8ee; }
  .badge.ok { background: #d7f5df; color: #126b2c; }
  .badge.warn { background: #fff1c9; color: #7a5a00; }
  .badge.bad { background: #ffd9d6; color: #8e1c12; }
  textarea { width: 100%; box-sizing: border-box; min-height: 220px; font: 15px/1.5 ui-monospace, monospace; padding: 10px; border: 1px solid #ccd; border-radius: 6px; resize: vertical; }
  .meta { font-size: 12px; color: #667; display: flex; justify-content: space-between; gap: 8px; flex-wrap: wrap; }
  button { font: inherit; font-size: 13px; padding: 4px 10px; border-radius: 6px; border: 1px solid #99a; background: #fff; cursor: pointer; margin-left: auto; }
  a { color: #2456c8; }
`

const SCRIPT = `
import { MeridianProvider, Y } from '/meridian-client.js'
const DOC = new URLSearchParams(location.search).get('doc') || 'demo/notes'
const panes = JSON.parse(document.getElementById('regions').textContent)

function bindTextarea(area, ytext) {
  area.value = ytext.toString()
  area.addEventListener('input', () => {
    const before = ytext.toString(), after = area.value
    let start = 0
    while (start < before.length && start < after.length && before[start] === after[start]) start++
    let endB = before.length, endA = after.length
    while (endB > start && endA > start && before[endB - 1] === after[endA - 1]) { endB--; endA-- }
    ytext.doc.transact(() => {
      if (endB > start) ytext.delete(start, endB - start)
      if (endA > start) ytext.insert(start, after.slice(start, endA))
    }, 'local')
  })
  ytext.observe((event) => {
    if (event.transaction.origin === 'local') return
    const pos = area.selectionStart
    area.value = ytext.toString()
    area.selectionStart = area.selectionEnd = Math.min(pos, area.value.length)
  })
}

for (const pane of panes) {
  const el = document.querySelector('[data-region="' + pane.region + '"]')
  const doc = new Y.Doc()
  const provider = new MeridianProvider(doc, DOC, { regions: [{ region: pane.region, url: pane.url }] })
  const status = el.querySelector('.status'), saved = el.querySelector('.saved'), links = el.querySelector('.links')
  provider.on('status', (e) => {
    status.textContent = e.status
    status.className = 'badge status ' + (e.status === 'synced' ? 'ok' : e.status === 'offline' ? 'bad' : 'warn')
  })
  provider.on('durable', (durable) => {
    saved.textContent = durable ? 'saved' : 'saving…'
    saved.className = 'badge saved ' + (durable ? 'ok' : 'warn')
  })
  bindTextarea(el.querySelector('textarea'), doc.getText('text'))
  const button = el.querySelector('button')
  const show = (state) => {
    links.textContent = state === 'cut' ? 'links cut' : 'links up'
    links.className = 'badge links ' + (state === 'cut' ? 'bad' : 'ok')
    button.textContent = state === 'cut' ? 'Heal links' : 'Cut links'
    button.dataset.state = state
  }
  button.addEventListener('click', async () => {
    const action = button.dataset.state === 'cut' ? 'heal' : 'cut'
    const res = await fetch('/api/links/' + pane.region + '/' + action, { method: 'POST' })
    if (res.ok) show((await res.json()).links)
  })
  fetch('/api/links').then((r) => r.json()).then((s) => show(s[pane.region]))
  window['provider_' + pane.region] = provider
}
`

export const renderDemoPage = (regions: DemoRegion[]): string => {
  const panes = regions
    .map((r) => {
      const http = r.url.replace(/^ws/, 'http')
      const delays = r.delays.map(([to, ms]) => `${escapeHtml(to)} ${ms} ms`).join(' · ')
      return `<section class="pane" data-region="${escapeHtml(r.region)}">
  <header><span class="region">${escapeHtml(r.region)}</span><span class="badge status">connecting</span><span class="badge saved ok">saved</span><span class="badge links">links up</span><button type="button" data-state="up">Cut links</button></header>
  <textarea spellcheck="false" placeholder="Type here; watch it arrive in the other regions."></textarea>
  <div class="meta"><span>relay ${escapeHtml(r.url)}</span><span>one-way delay to ${delays}</span><a href="${escapeHtml(http)}/dashboard" target="_blank">dashboard</a></div>
</section>`
    })
    .join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Meridian demo</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body>
<h1>Meridian — one document, three regions</h1>
<p class="lead">Each pane edits the same document through the relay of its own region. Relays replicate to each other over links with simulated one-way delays. Cut a region's links, edit on both sides, heal, and watch them converge; "saved" means the edit is durable on the region's disk.</p>
<div class="panes">${panes}</div>
<script type="application/json" id="regions">${JSON.stringify(regions).replace(/</g, '\\u003c')}</script>
<script type="module">${SCRIPT}</script>
</body></html>`
}
