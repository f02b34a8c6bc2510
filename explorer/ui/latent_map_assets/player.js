// A->B interpolation player (js_on_load of a gr.HTML). props.value holds the pair's frames, decoded by the
// server in one batch when the pair was chosen (PNG data URIs, alpha = i / (n - 1)). Dragging the range input
// swaps frames in the browser (no server call); on release the server decodes the exact alpha
// (server.latent_map_exact) and that image replaces the preview.
const img = element.querySelector('.lsx-frame');
const range = element.querySelector('.lsx-range');
const alphaOut = element.querySelector('.lsx-alpha');
const source = element.querySelector('.lsx-source');
const pairText = element.querySelector('.lsx-pair');
const strip = element.querySelector('.lsx-strip');
const stripN = element.querySelector('.lsx-strip-n');
let shownKey = null;
let request = 0;

function value() { return props.value || {}; }

function frameIndex(alpha) {
  const n = value().frames.length;
  return Math.max(0, Math.min(n - 1, Math.round(alpha * (n - 1))));
}

function announce(detail) {
  window.__lsxPos = window.__lsxPos || {};
  window.__lsxPos[detail.key] = detail;
  window.dispatchEvent(new CustomEvent('lsx-path-pos', {detail}));
}

function highlight(i) {
  strip.querySelectorAll('img').forEach((el) => {
    el.classList.toggle('lsx-on', Number(el.dataset.i) === i);
  });
}

function preview() {
  const v = value();
  if (!v.frames) return;
  const alpha = Number(range.value);
  const i = frameIndex(alpha);
  request += 1;  // a pending exact answer for an older alpha must not overwrite this frame
  img.src = v.frames[i];
  alphaOut.textContent = alpha.toFixed(3);
  source.textContent = v.labels.preview + ' ' + (i / (v.frames.length - 1)).toFixed(3);
  highlight(i);
  announce({key: v.key, i});
}

function exact() {
  const v = value();
  if (!v.frames) return;
  const alpha = Number(range.value);
  const mine = ++request;
  const map = window.__lsxMap;
  const projection = map && map.model === v.model ? map.projection : null;
  source.textContent = v.labels.decoding;
  server.latent_map_exact({model: v.model, index_a: v.index_a, index_b: v.index_b, alpha,
                           method: v.method, projection, lang: v.lang}).then((r) => {
    if (mine !== request) return;
    if (!r || r.error) { source.textContent = (r && r.error) || 'error · 出错'; return; }
    img.src = r.image;
    source.textContent = v.labels.exact + ' ' + alpha.toFixed(3);
    announce({key: v.key, i: alpha * (v.frames.length - 1), xy: r.xy, projection: r.projection});
  }).catch((e) => { if (mine === request) source.textContent = String(e); });
}

function buildStrip() {
  const v = value();
  strip.innerHTML = '';
  if (!v.frames) return;
  const last = v.frames.length - 1;
  const n = Math.min(Number(stripN.value) || 9, v.frames.length);
  for (let k = 0; k < n; k++) {
    const i = Math.round(k * last / (n - 1));
    const el = document.createElement('img');
    el.src = v.frames[i];
    el.dataset.i = String(i);
    el.title = 'α = ' + (i / last).toFixed(3);
    el.addEventListener('click', () => { range.value = String(i / last); preview(); exact(); });
    strip.appendChild(el);
  }
  highlight(frameIndex(Number(range.value)));
}

function render() {
  const v = value();
  element.querySelector('.lsx-player').classList.toggle('lsx-empty', !v.frames);
  if (!v.frames) { pairText.textContent = v.message || ''; img.removeAttribute('src'); strip.innerHTML = ''; return; }
  pairText.textContent = v.caption;
  element.querySelector('.lsx-strip-label').textContent = v.labels.strip;
  if (v.key !== shownKey) { range.value = '0'; shownKey = v.key; }
  buildStrip();
  preview();
}

range.addEventListener('input', preview);
range.addEventListener('change', exact);
stripN.addEventListener('change', buildStrip);
watch('value', render);
render();
