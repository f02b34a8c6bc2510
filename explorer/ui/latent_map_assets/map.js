// Latent map (js_on_load of a gr.HTML). Draws props.value with plotly.js served by this app (no CDN),
// shows the hovered digit from one sprite image, and sends trigger('point_click', {index}) to Python.
// The current position on the A->B path (or on the 2-D plane) is an HTML overlay moved by the players'
// window events, so dragging a slider never redraws the plot and never calls the server.
const plot = element.querySelector('.lsx-map-plot');
const tip = element.querySelector('.lsx-map-tip');
const cursor = element.querySelector('.lsx-map-cursor');
const planeDot = element.querySelector('.lsx-map-plane');
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
                '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
window.__lsxPos = window.__lsxPos || {};
let cursorXY = null;
let planeXY = null;

function loadPlotly() {
  if (window.Plotly) return Promise.resolve();
  if (!window.__lsxPlotly) {
    window.__lsxPlotly = new Promise((resolve, reject) => {
      const root = (window.gradio_config && window.gradio_config.root) || '';
      const s = document.createElement('script');
      s.src = root + '/gradio_api/file=' + props.plotly_path;
      s.onload = resolve;
      s.onerror = () => reject(new Error('could not load plotly.js from ' + s.src));
      document.head.appendChild(s);
    });
  }
  return window.__lsxPlotly;
}

function figure(v) {
  const narrow = isNarrow();  // phones: only the ten digits in the legend (A, B and the path are labelled)
  const ink = getComputedStyle(element).color || '#222';  // follows Gradio's light / dark theme
  const data = [];
  const pts = v.points;
  for (let d = 0; d < 10; d++) {
    const x = [], y = [], idx = [];
    for (let i = 0; i < pts.label.length; i++) {
      if (pts.label[i] === d) { x.push(pts.x[i]); y.push(pts.y[i]); idx.push(i); }
    }
    data.push({type: 'scatter', mode: 'markers', name: String(d), x, y, customdata: idx,
               marker: {size: 6, color: COLORS[d], opacity: 0.85, line: {width: 0}}, hoverinfo: 'none'});
  }
  if (v.path) {
    data.push({type: 'scatter', mode: 'lines+markers', name: v.labels.path, showlegend: !narrow, x: v.path.x, y: v.path.y,
               line: {color: ink, width: 2}, marker: {size: 4, color: ink}, hoverinfo: 'skip'});
  }
  for (const [which, symbol] of [['a', 'circle'], ['b', 'square']]) {
    const i = v[which];
    if (i === null || i === undefined) continue;
    data.push({type: 'scatter', mode: 'markers+text', name: which.toUpperCase(), showlegend: !narrow, x: [pts.x[i]], y: [pts.y[i]],
               customdata: [i], text: [which.toUpperCase()], textposition: 'top center',
               textfont: {size: 16, color: ink}, hoverinfo: 'none',
               marker: {size: 16, symbol, color: COLORS[pts.label[i]], line: {width: 3, color: ink}}});
  }
  // Phones: the axes span the data (not an equal-aspect box, which left the dots in a sliver), the legend
  // goes below the plot, the plot is about as tall as it is wide, and there is no toolbar over the title.
  const width = plot.clientWidth || element.clientWidth || 600;
  const layout = {
    paper_bgcolor: 'rgba(0,0,0,0)', plot_bgcolor: 'rgba(0,0,0,0)', font: {color: ink, size: narrow ? 11 : 12},
    margin: narrow ? {l: 34, r: 4, t: 28, b: 34} : {l: 50, r: 10, t: 34, b: 42},
    height: narrow ? Math.round(Math.min(560, width * 0.86 + 130)) : 520,
    hovermode: 'closest', dragmode: narrow ? false : 'pan',
    title: {text: v.title, font: {size: narrow ? 12 : 14}, x: 0, xref: 'paper', xanchor: 'left', y: 0.995,
            yanchor: 'top', yref: 'container'},
    uirevision: v.model + '|' + v.projection + '|' + (narrow ? 'n' : 'w'),
    xaxis: {title: {text: v.axis[0], standoff: 4}, zeroline: false, gridcolor: 'rgba(128,128,128,0.25)',
            range: v.range ? v.range.x : undefined, autorange: !v.range},
    yaxis: {title: {text: v.axis[1], standoff: 4}, zeroline: false, gridcolor: 'rgba(128,128,128,0.25)',
            range: v.range ? v.range.y : undefined, autorange: !v.range},
    legend: narrow ? {orientation: 'h', x: 0, y: -0.1, yanchor: 'top', entrywidth: 0, entrywidthmode: 'pixels',
                      itemclick: 'toggle', font: {size: 11}}  // two rows of five digits under the plot
                   : {title: {text: v.labels.digit}, itemclick: 'toggle'},
    images: [],
  };
  if (v.grid) {
    layout.images.push({source: v.grid.src, xref: 'x', yref: 'y', x: v.grid.x0, y: v.grid.y1,
                        sizex: v.grid.x1 - v.grid.x0, sizey: v.grid.y1 - v.grid.y0, sizing: 'stretch',
                        layer: 'below', opacity: 0.6});
  }
  return {data, layout};
}

function isNarrow() {
  return (element.clientWidth || window.innerWidth) < 560 || window.matchMedia('(pointer: coarse)').matches;
}

// The digit under a click or tap: the visible dot whose centre is nearest to the pointer, measured in screen
// pixels (plotly's own pick is per trace and can answer a crowded neighbour from another digit's trace).
function nearestPoint(clientX, clientY) {
  const fl = plot._fullLayout, box = plot.getBoundingClientRect();
  if (!fl || !fl.xaxis) return null;
  const px = clientX - box.left - fl.xaxis._offset, py = clientY - box.top - fl.yaxis._offset;
  let best = null, bestD = Infinity;
  for (const tr of plot._fullData) {
    if (!/^[0-9]$/.test(tr.name) || tr.visible !== true) continue;
    for (let k = 0; k < tr.x.length; k++) {
      const d = Math.hypot(fl.xaxis.l2p(tr.x[k]) - px, fl.yaxis.l2p(tr.y[k]) - py);
      if (d < bestD) { bestD = d; best = tr.customdata[k]; }
    }
  }
  return bestD <= 24 ? best : null;
}

function toPixels(xy) {
  const fl = plot._fullLayout;
  if (!fl || !fl.xaxis || !xy) return null;
  return [fl.xaxis._offset + fl.xaxis.l2p(xy[0]), fl.yaxis._offset + fl.yaxis.l2p(xy[1])];
}

function place(el, xy) {
  const p = toPixels(xy);
  if (!p) { el.style.display = 'none'; return; }
  el.style.display = 'block';
  el.style.left = p[0] + 'px';
  el.style.top = p[1] + 'px';
}

function current() { return props.value || {}; }

function setCursor(detail) {
  const v = current();
  if (!v.path || !detail || detail.key !== v.key) return;
  let xy = null;
  if (detail.xy && detail.projection === v.projection) xy = detail.xy;
  else if (detail.i !== undefined && detail.i !== null) {
    const i = Math.max(0, Math.min(v.path.x.length - 1, Math.round(detail.i)));
    xy = [v.path.x[i], v.path.y[i]];
  }
  if (xy) { cursorXY = xy; place(cursor, xy); }
}

async function draw() {
  const v = current();
  const msg = element.querySelector('.lsx-map-msg');
  if (!v || !v.points) { msg.textContent = (v && v.message) || ''; return; }
  try { await loadPlotly(); } catch (e) { msg.textContent = String(e); return; }
  msg.textContent = '';
  const {data, layout} = figure(v);
  await window.Plotly.react(plot, data, layout, {displaylogo: false, responsive: true, scrollZoom: layout.dragmode !== false,
                                                 displayModeBar: isNarrow() ? false : 'hover',
                                                 modeBarButtonsToRemove: ['lasso2d', 'select2d']});
  window.__lsxMap = {key: v.key, projection: v.projection, model: v.model};
  cursorXY = null;
  cursor.style.display = 'none';
  if (v.path) {
    const last = window.__lsxPos[v.key];
    setCursor(last || {key: v.key, i: 0});
  }
  if (!v.planar) { planeXY = null; planeDot.style.display = 'none'; }
  else if (planeXY) place(planeDot, planeXY);
  if (!plot.__lsxBound) {
    plot.__lsxBound = true;
    // A click or tap is read from the pointer events themselves, not from plotly_click: plotly emits that only
    // when its throttled hover pass has already found a point, which a quick tap on a busy phone can outrun
    // (the tap was then lost). A press that moves more than a few pixels or lasts long is a pan, not a pick.
    let pressed = null;
    plot.addEventListener('pointerdown', (e) => {
      pressed = {x: e.clientX, y: e.clientY, t: performance.now(), id: e.pointerId};
    }, true);
    window.addEventListener('pointerup', (e) => {  // on the window: plotly may lay a drag cover over the plot
      const p = pressed;
      pressed = null;
      if (!p || e.pointerId !== p.id || (e.button !== undefined && e.button > 0)) return;
      if (Math.hypot(e.clientX - p.x, e.clientY - p.y) > 8 || performance.now() - p.t > 1000) return;
      const index = nearestPoint(e.clientX, e.clientY);
      if (index !== null) trigger('point_click', {index});
    }, true);
    plot.on('plotly_hover', (ev) => {
      const p = ev && ev.points && ev.points[0];
      if (!p || p.customdata === undefined) return;
      showTip(p.customdata, ev.event);
    });
    plot.on('plotly_unhover', () => { tip.style.display = 'none'; });
    const reposition = () => {
      if (cursorXY) place(cursor, cursorXY);
      if (planeXY && current().planar) place(planeDot, planeXY);
    };
    plot.on('plotly_relayout', reposition);
    plot.on('plotly_afterplot', reposition);
  }
}

function showTip(index, mouse) {
  const v = current();
  const cols = props.sprite_cols, px = props.digit_px, scale = 3;
  const row = Math.floor(index / cols), col = index % cols;
  const img = tip.querySelector('.lsx-tip-img');
  img.style.backgroundImage = 'url(' + props.sprite + ')';
  img.style.backgroundSize = (props.sprite_width * scale) + 'px ' + (props.sprite_height * scale) + 'px';
  img.style.backgroundPosition = (-col * px * scale) + 'px ' + (-row * px * scale) + 'px';
  tip.querySelector('.lsx-tip-text').textContent = '#' + index + ' · ' + v.labels.digit + ' ' + v.points.label[index];
  const box = element.getBoundingClientRect();
  if (mouse) {
    tip.style.left = (mouse.clientX - box.left + 14) + 'px';
    tip.style.top = (mouse.clientY - box.top + 14) + 'px';
  }
  tip.style.display = 'block';
}

window.addEventListener('lsx-path-pos', (ev) => setCursor(ev.detail));
window.addEventListener('lsx-plane-pos', (ev) => {
  const v = current();
  if (!v.planar || !ev.detail || ev.detail.model !== v.model) return;
  planeXY = [ev.detail.x, ev.detail.y];
  place(planeDot, planeXY);
});
// Gradio's dropdown input does not shorten a long model name; keep it clear of the arrow (one global rule).
if (!document.getElementById('lsx-global-css')) {
  const style = document.createElement('style');
  style.id = 'lsx-global-css';
  style.textContent = '#lsx-model input { text-overflow: ellipsis; overflow: hidden; min-width: 0; }';
  document.head.appendChild(style);
}
let lastNarrow = null;
window.addEventListener('resize', () => { if (isNarrow() !== lastNarrow) { lastNarrow = isNarrow(); draw(); } });
// A map drawn while its tab was hidden (width 0) took a fallback width, so its height (which follows the width
// on a phone) overflowed the box and the next fields covered its lower dots: redraw when the width really changes.
let drawnWidth = null;
new ResizeObserver(() => {
  const width = plot.clientWidth;
  if (width > 0 && (drawnWidth === null || Math.abs(width - drawnWidth) > 1)) { drawnWidth = width; draw(); }
}).observe(plot);
watch('value', draw);
lastNarrow = isNarrow();
draw();
