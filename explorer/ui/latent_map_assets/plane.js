// The 2-D VAE's latent plane (js_on_load of a gr.HTML). props.value holds an n x n grid of frames decoded in
// one batch (row 0 = top = largest z2). Two range inputs move a point through the plane: the nearest grid frame
// is shown at once (no server call) and the point moves on the map; on release the server decodes the exact
// point (server.latent_map_plane_exact).
const img = element.querySelector('.lsx-frame');
const z1 = element.querySelector('.lsx-z1');
const z2 = element.querySelector('.lsx-z2');
const readout = element.querySelector('.lsx-readout');
const source = element.querySelector('.lsx-source');
let request = 0;

function value() { return props.value || {}; }

function nearest(v, x, y) {
  const [x0, x1, y0, y1] = v.extent;
  const n = v.n;
  const col = Math.max(0, Math.min(n - 1, Math.round((x - x0) / (x1 - x0) * (n - 1))));
  const row = Math.max(0, Math.min(n - 1, Math.round((y1 - y) / (y1 - y0) * (n - 1))));
  return row * n + col;
}

function preview() {
  const v = value();
  if (!v.frames) return;
  request += 1;
  const x = Number(z1.value), y = Number(z2.value);
  img.src = v.frames[nearest(v, x, y)];
  readout.textContent = 'z = (' + x.toFixed(2) + ', ' + y.toFixed(2) + ')';
  source.textContent = v.labels.preview;
  window.dispatchEvent(new CustomEvent('lsx-plane-pos', {detail: {model: v.model, x, y}}));
}

function exact() {
  const v = value();
  if (!v.frames) return;
  const mine = ++request;
  source.textContent = v.labels.decoding;
  server.latent_map_plane_exact({model: v.model, z1: Number(z1.value), z2: Number(z2.value), lang: v.lang}).then((r) => {
    if (mine !== request) return;
    if (!r || r.error) { source.textContent = (r && r.error) || 'error · 出错'; return; }
    img.src = r.image;
    source.textContent = v.labels.exact;
  }).catch((e) => { if (mine === request) source.textContent = String(e); });
}

function render() {
  const v = value();
  if (!v.frames) { img.removeAttribute('src'); readout.textContent = v.message || ''; return; }
  const [x0, x1, y0, y1] = v.extent;
  for (const [el, lo, hi] of [[z1, x0, x1], [z2, y0, y1]]) {
    el.min = String(lo); el.max = String(hi); el.step = String((hi - lo) / 1000);
    el.value = String((lo + hi) / 2);
  }
  preview();
}

for (const el of [z1, z2]) {
  el.addEventListener('input', preview);
  el.addEventListener('change', exact);
}
watch('value', render);
render();
