// Canvas drawing for the playground: line charts, RGBA pictures, the confusion matrix table.

import type { RgbaImage } from '../src/data/pixels.js';

export interface Series {
  values: ArrayLike<number>;
  /** x of each value (default: its index). */
  xs?: ArrayLike<number>;
  color: string;
  label: string;
}

/** Lines over a shared x range; long series are thinned to one point per pixel column (a
 *  36,000-step loss curve is drawn in the same time as a 500-step one). */
export function drawChart(canvas: HTMLCanvasElement, series: Series[], options: { yMin?: number; yMax?: number; xMax?: number; format?: (v: number) => string } = {}): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const left = 44, right = 8, top = 8, bottom = 18;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  const all = series.flatMap((s) => Array.from(s.values)).filter(Number.isFinite);
  let xMax = options.xMax ?? 1;
  for (const s of series) xMax = Math.max(xMax, s.xs?.length ? s.xs[s.xs.length - 1] : s.values.length);
  const yMin = options.yMin ?? (all.length ? Math.min(...all) : 0);
  let yMax = options.yMax ?? (all.length ? Math.max(...all) : 1);
  if (yMax <= yMin) yMax = yMin + 1;
  const X = (x: number) => left + ((width - left - right) * x) / xMax;
  const Y = (y: number) => top + (height - top - bottom) * (1 - (y - yMin) / (yMax - yMin));
  const fmt = options.format ?? ((v: number) => v.toFixed(2));
  ctx.strokeStyle = '#d8d0bc';
  ctx.fillStyle = '#4a5a7a';
  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = yMin + ((yMax - yMin) * i) / 4;
    ctx.beginPath();
    ctx.moveTo(left, Y(v));
    ctx.lineTo(width - right, Y(v));
    ctx.stroke();
    ctx.fillText(fmt(v), 2, Y(v) + 4);
  }
  ctx.fillText(`step ${Math.round(xMax)}`, width - right - 70, height - 4);
  series.forEach((s, k) => {
    const n = s.values.length;
    if (n === 0) return;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    const stride = Math.max(1, Math.floor(n / (width - left - right)));
    for (let i = 0; i < n; i += stride) {
      // mean over the thinned run: a curve, not a random sample of noisy points
      let sum = 0, c = 0;
      for (let j = i; j < Math.min(n, i + stride); j++) if (Number.isFinite(s.values[j])) (sum += s.values[j], c++);
      if (!c) continue;
      const x = s.xs ? s.xs[i] : i + 1;
      if (i === 0) ctx.moveTo(X(x), Y(sum / c));
      else ctx.lineTo(X(x), Y(sum / c));
    }
    ctx.stroke();
    ctx.fillStyle = s.color;
    ctx.fillText(s.label, left + 8 + k * 90, top + 12);
  });
}

/** An RGBA picture (the library's viz output) onto a canvas, the canvas resized to fit. */
export function drawPicture(canvas: HTMLCanvasElement, picture: RgbaImage): void {
  canvas.width = picture.width;
  canvas.height = picture.height;
  const data = new Uint8ClampedArray(picture.data.length);
  data.set(picture.data);
  canvas.getContext('2d')!.putImageData(new ImageData(data, picture.width, picture.height), 0, 0);
}

/** confusion[true][predicted] as a table, cells shaded by their share of the row. */
export function confusionTable(container: HTMLElement, confusion: number[][]): void {
  const table = document.createElement('table');
  table.className = 'confusion';
  const caption = table.createCaption();
  caption.textContent = 'rows: true class, columns: predicted class';
  caption.className = 'muted';
  const head = table.createTHead().insertRow();
  head.appendChild(document.createElement('th'));
  confusion.forEach((_, j) => {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = String(j);
    head.appendChild(th);
  });
  const body = table.createTBody();
  confusion.forEach((row, i) => {
    const tr = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = String(i);
    tr.appendChild(th);
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((v, j) => {
      const td = tr.insertCell();
      td.textContent = String(v);
      const share = v / total;
      td.style.background = i === j ? `rgba(70, 120, 180, ${share})` : v ? `rgba(214, 96, 40, ${Math.min(1, share * 4)})` : '';
      if (share > 0.6) td.style.color = '#fff';
    });
  });
  container.replaceChildren(table);
}
