// Denoising player (js_on_load of a gr.HTML). props.value is one Generate's payload, sent once
// (explorer/views/denoising.py: player_payload): a PNG sprite sheet per panel kind and run, the timesteps, ᾱ_t and
// SNR of every step, the schedule curve and the player's words in both languages. Play, pause, scrub, step (arrow
// keys, Home/End, space) and the speed choice all run here: no server call until the next Generate. The schedule
// plot (plotly.js served by this app) is drawn once per run; the current step is an HTML overlay moved over it.
// The words follow <html lang>, so the page's language switch re-words the player without re-running anything.
// window.__denPlayer keeps counters that the class benchmark and the browser tests read.
const $ = (sel) => element.querySelector(sel);
const playBtn = $('.den-play'), range = $('.den-range'), statusEl = $('.den-status'), runsEl = $('.den-runs');
const speedSel = $('.den-speed'), plotEl = $('.den-plot'), vline = $('.den-vline'), dot = $('.den-dot');
const root = $('.den-player');
const stats = window.__denPlayer = window.__denPlayer || {key: null, painted: 0, index: 0, n: 0, playing: false,
  firstPaintAt: null, playStart: null, playEnd: null, plays: 0};
let v = {}, idx = 0, playing = false, timer = null, base = 0, ticks = 0, shownKey = null, canvases = [];
let sheets = [], plotReady = false;

function lang() { return (document.documentElement.lang || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en'; }
function w(name) { const words = (v.words || {})[lang()] || {}; return words[name] || ''; }
function pick(pair) { return pair ? (pair[lang()] || pair.en || '') : ''; }
function fill(template, values) { return template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m)); }
function fmt(x, digits) { return Number(x).toPrecision(digits).replace(/\.?0+(e|$)/, '$1'); }
function n() { return v.n || 0; }

function loadPlotly() {
  if (window.Plotly) return Promise.resolve();
  if (!window.__lsxPlotly) {  // the same promise the latent map uses: plotly.js is loaded once per page
    window.__lsxPlotly = new Promise((resolve, reject) => {
      const base = (window.gradio_config && window.gradio_config.root) || '';
      const s = document.createElement('script');
      s.src = base + '/gradio_api/file=' + props.plotly_path;
      s.onload = resolve;
      s.onerror = () => reject(new Error('could not load plotly.js from ' + s.src));
      document.head.appendChild(s);
    });
  }
  return window.__lsxPlotly;
}

// ---- panels ----------------------------------------------------------------------------------------------------
function buildRuns() {  // a promise: every sheet decoded, so the first frame paints all panels at once
  const loading = [];
  runsEl.innerHTML = '';
  canvases = [];
  sheets = [];
  for (const run of v.runs || []) {
    const box = document.createElement('div');
    box.className = 'den-run';
    const title = document.createElement('div');
    title.className = 'den-run-title';
    box.appendChild(title);
    const row = document.createElement('div');
    row.className = 'den-panels';
    for (const kind of ['noisy', 'x0', 'current']) {
      const p = run.panels[kind];
      const fig = document.createElement('figure');
      fig.className = 'den-panel';
      const canvas = document.createElement('canvas');
      const factor = Math.max(1, Math.floor(112 / p.w));
      canvas.width = p.w * factor;
      canvas.height = p.h * factor;
      canvas.dataset.kind = kind;
      canvas.dataset.space = run.space;
      const caption = document.createElement('figcaption');
      fig.appendChild(caption);
      fig.appendChild(canvas);
      row.appendChild(fig);
      const img = new Image();
      const entry = {canvas, caption, panel: p, img, ready: false};
      img.src = p.src;
      loading.push(img.decode().then(() => { entry.ready = true; }));
      canvases.push(entry);
    }
    box.appendChild(row);
    runsEl.appendChild(box);
    sheets.push({title, run});
  }
  return Promise.all(loading);
}

function paint(entry) {
  if (!entry.ready || !n()) return false;
  const p = entry.panel, ctx = entry.canvas.getContext('2d');
  const col = idx % p.cols, row = Math.floor(idx / p.cols);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(entry.img, col * p.w, row * p.h, p.w, p.h, 0, 0, entry.canvas.width, entry.canvas.height);
  return true;
}

// ---- the current step ------------------------------------------------------------------------------------------
function show(i) {
  if (!n()) return;
  idx = Math.max(0, Math.min(n() - 1, i));
  let painted = false;
  for (const entry of canvases) painted = paint(entry) || painted;
  if (painted) {
    stats.painted += 1;
    if (stats.firstPaintAt === null) stats.firstPaintAt = Date.now();
  }
  range.value = String(idx + 1);
  stats.index = idx + 1;
  statusEl.textContent = statusText();
  moveMarker();
  updateButtons();
}

function statusText() {
  const t = v.timesteps[idx];
  const text = fill(w('status'), {i: idx + 1, n: n(), t, abar: fmt(v.abar[idx], 4), snr: fmt(v.snr[idx], 3)});
  return (v.runs || []).length < 2 ? text + ' ' + w('no_pixel') : text;
}

function updateButtons() {
  playBtn.textContent = playing ? w('pause') : w('play');
  const none = n() < 2;
  for (const sel of ['.den-play', '.den-first', '.den-prev', '.den-next', '.den-last']) $(sel).disabled = none;
  range.disabled = none;
}

// ---- playback --------------------------------------------------------------------------------------------------
function interval() { return (v.tick_ms || 150) / (Number(speedSel.value) || 1); }

function schedule() {
  ticks += 1;
  const due = base + ticks * interval();  // ticks keep to the clock: a late tick does not delay the next ones
  timer = setTimeout(tick, Math.max(0, due - performance.now()));
}

function tick() {
  if (!playing) return;
  show(Math.min(n() - 1, idx + (v.stride || 1)));
  if (idx >= n() - 1) {
    stop();
    stats.playEnd = Date.now();
    window.dispatchEvent(new CustomEvent('den-played', {detail: {key: v.key}}));
  } else {
    schedule();
  }
}

function play() {
  if (n() < 2) return;
  if (idx >= n() - 1) show(0);
  playing = stats.playing = true;
  stats.playStart = Date.now();
  stats.playEnd = null;
  stats.plays += 1;
  base = performance.now();
  ticks = 0;
  updateButtons();
  schedule();
}

function stop() {
  playing = stats.playing = false;
  clearTimeout(timer);
  timer = null;
  updateButtons();
}

function stepTo(i) { stop(); show(i); }

// ---- the schedule plot -----------------------------------------------------------------------------------------
function figure() {
  const ink = getComputedStyle(element).color || '#222';
  const abar = v.curve.abar, snr = v.curve.snr, t = abar.map((_, k) => k);
  const data = [
    {type: 'scatter', mode: 'lines', x: t, y: abar, name: w('fig.abar'), line: {color: '#1f77b4'},
     hovertemplate: 't=%{x}<br>ᾱ=%{y:.4f}<extra></extra>'},
    {type: 'scatter', mode: 'lines', x: t, y: snr, name: w('fig.snr'), yaxis: 'y2',
     line: {color: '#d62728', dash: 'dot'}, hovertemplate: 't=%{x}<br>SNR=%{y:.3g}<extra></extra>'},
  ];
  if (n()) {
    data.push({type: 'scatter', mode: 'markers', x: v.timesteps, y: v.abar, name: w('fig.sampled'),
               marker: {size: 5, color: '#555'}, hovertemplate: 't=%{x}<br>ᾱ=%{y:.4f}<extra></extra>'});
  }
  const grid = 'rgba(128,128,128,0.25)';
  const layout = {
    paper_bgcolor: 'rgba(0,0,0,0)', plot_bgcolor: 'rgba(0,0,0,0)', font: {color: ink, size: 12},
    margin: {l: 52, r: 64, t: 28, b: 40}, height: plotEl.clientHeight || 280, showlegend: true,
    legend: {orientation: 'h', x: 0, y: 1.02, yanchor: 'bottom', font: {size: 11}},
    xaxis: {title: {text: w('fig.x_axis')}, range: [-10, abar.length + 10], gridcolor: grid, zeroline: false},
    yaxis: {title: {text: w('fig.abar_axis')}, range: [0, 1.02], gridcolor: grid, zeroline: false},
    yaxis2: {title: {text: w('fig.snr_axis'), standoff: 4}, type: 'log', overlaying: 'y', side: 'right',
             showgrid: false, exponentformat: 'power', dtick: 2, range: snrRange(snr)},
  };
  return {data, layout};
}

function snrRange(snr) {  // log10 range of the finite, positive SNR values
  const logs = snr.filter((s) => s > 0 && Number.isFinite(s)).map(Math.log10);
  return [Math.floor(Math.min(...logs)), Math.ceil(Math.max(...logs))];
}

async function drawPlot() {
  if (!v.curve) return;
  try { await loadPlotly(); } catch (e) { $('.den-plot-title').textContent = String(e); return; }
  const {data, layout} = figure();
  await window.Plotly.react(plotEl, data, layout, {displaylogo: false, responsive: true, displayModeBar: false});
  plotReady = true;
  if (!plotEl.__denBound) {
    plotEl.__denBound = true;
    plotEl.on('plotly_afterplot', moveMarker);
    plotEl.on('plotly_relayout', moveMarker);
  }
  moveMarker();
}

function moveMarker() {
  const fl = plotEl._fullLayout;
  if (!plotReady || !fl || !fl.xaxis || !n()) { vline.style.display = dot.style.display = 'none'; return; }
  const t = v.timesteps[idx];
  const x = fl.xaxis._offset + fl.xaxis.l2p(t);
  const top = fl.yaxis._offset, height = fl.yaxis._length;
  vline.style.display = dot.style.display = 'block';
  vline.style.left = (x - 1.5) + 'px';
  vline.style.top = top + 'px';
  vline.style.height = height + 'px';
  dot.style.left = x + 'px';
  dot.style.top = (fl.yaxis._offset + fl.yaxis.l2p(v.abar[idx])) + 'px';
  vline.title = dot.title = fill(w('fig.now'), {t});
}

// ---- words -----------------------------------------------------------------------------------------------------
function reword() {
  const message = v.message ? pick(v.message) : (n() ? '' : w('press'));
  $('.den-message').textContent = message;
  $('.den-speed-label').textContent = w('speed');
  $('.den-keys').textContent = n() > 1 ? w('keys') : '';
  $('.den-plot-title').textContent = v.curve ? w('schedule') : '';
  range.setAttribute('aria-label', w('step'));
  for (const [sel, name] of [['.den-first', 'first'], ['.den-prev', 'prev'], ['.den-next', 'next'],
                             ['.den-last', 'last']]) {
    $(sel).setAttribute('aria-label', w(name));
    $(sel).title = w(name);
  }
  for (const {title, run} of sheets) title.textContent = pick(run.title);
  for (const entry of canvases) entry.caption.textContent = pick(entry.panel.label);
  if (n()) statusEl.textContent = statusText(); else statusEl.textContent = '';
  updateButtons();
  if (plotReady && v.curve) drawPlot();
}

// ---- a new payload ---------------------------------------------------------------------------------------------
function render() {
  const next = props.value || {};
  if (next.key && next.key === shownKey) return;  // the same run again (e.g. a re-render): keep the position
  stop();
  v = next;
  shownKey = v.key || null;
  idx = 0;
  stats.key = v.key || null;
  stats.n = n();
  stats.painted = 0;
  stats.firstPaintAt = stats.playStart = stats.playEnd = null;
  range.max = String(Math.max(1, n()));
  range.value = '1';
  speedSel.innerHTML = '';
  for (const s of v.speeds || [0.5, 1, 2, 4]) {
    const o = document.createElement('option');
    o.value = String(s);
    o.textContent = s + '×';
    if (s === 1) o.selected = true;
    speedSel.appendChild(o);
  }
  const loaded = buildRuns();
  reword();
  plotReady = false;
  drawPlot();
  if (!n()) { vline.style.display = dot.style.display = 'none'; return; }
  range.value = '1';
  statusEl.textContent = statusText();
  const key = v.key;
  loaded.then(() => {
    if (key !== shownKey) return;  // a newer run arrived meanwhile
    show(0);
    if (v.autoplay && n() > 1) play();
  });
}

playBtn.addEventListener('click', () => (playing ? stop() : play()));
$('.den-first').addEventListener('click', () => stepTo(0));
$('.den-prev').addEventListener('click', () => stepTo(idx - 1));
$('.den-next').addEventListener('click', () => stepTo(idx + 1));
$('.den-last').addEventListener('click', () => stepTo(n() - 1));
range.addEventListener('input', () => stepTo(Number(range.value) - 1));
speedSel.addEventListener('change', () => { if (playing) { base = performance.now(); ticks = 0; clearTimeout(timer); schedule(); } });
root.addEventListener('keydown', (ev) => {
  if (!n() || ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const tag = (ev.target.tagName || '').toLowerCase();
  const moves = {ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1};
  if (ev.key in moves) { ev.preventDefault(); stepTo(idx + moves[ev.key]); }
  else if (ev.key === 'Home') { ev.preventDefault(); stepTo(0); }
  else if (ev.key === 'End') { ev.preventDefault(); stepTo(n() - 1); }
  else if (ev.key === ' ' && tag !== 'button' && tag !== 'select') { ev.preventDefault(); playing ? stop() : play(); }
});
new MutationObserver(reword).observe(document.documentElement, {attributes: true, attributeFilter: ['lang']});
watch('value', render);
render();
