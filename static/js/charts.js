/* Small hand-written canvas charts: line series over steps, and 2D point maps. */
(function (global) {
  "use strict";
  const PALETTE = ["#3b3bb8", "#d9480f", "#2b8a3e", "#ae3ec9", "#1098ad", "#f59f00"];

  function LineChart(canvas, seriesNames) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.series = new Map();
    (seriesNames || []).forEach((name) => this.series.set(name, new Map()));
  }

  LineChart.prototype.add = function (name, step, value) {
    if (typeof value !== "number" || !isFinite(value)) return;
    if (!this.series.has(name)) this.series.set(name, new Map());
    this.series.get(name).set(step, value);
  };

  // After a rollback or a resume the steps past ``step`` are redone: forget them.
  LineChart.prototype.dropAfter = function (step) {
    this.series.forEach((points) => {
      Array.from(points.keys()).forEach((s) => { if (s > step) points.delete(s); });
    });
  };

  LineChart.prototype.count = function () {
    let total = 0;
    this.series.forEach((points) => { total += points.size; });
    return total;
  };

  LineChart.prototype.draw = function () {
    const { canvas, ctx } = this;
    const w = canvas.width, h = canvas.height, pad = { l: 48, r: 10, t: 10, b: 36 };
    ctx.clearRect(0, 0, w, h);
    let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
    this.series.forEach((points) => points.forEach((y, x) => {
      xmin = Math.min(xmin, x); xmax = Math.max(xmax, x);
      ymin = Math.min(ymin, y); ymax = Math.max(ymax, y);
    }));
    ctx.fillStyle = "#555b70"; ctx.font = "12px system-ui, sans-serif";
    if (!isFinite(xmin)) { ctx.fillText("waiting for the first steps…", pad.l, h / 2); return; }
    if (xmax === xmin) xmax = xmin + 1;
    if (ymax === ymin) { ymax += 0.5; ymin -= 0.5; }
    const sx = (x) => pad.l + (x - xmin) / (xmax - xmin) * (w - pad.l - pad.r);
    const sy = (y) => h - pad.b - (y - ymin) / (ymax - ymin) * (h - pad.t - pad.b);
    ctx.strokeStyle = "#dfe2ec"; ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = ymin + (ymax - ymin) * i / 4;
      ctx.beginPath(); ctx.moveTo(pad.l, sy(y)); ctx.lineTo(w - pad.r, sy(y)); ctx.stroke();
      ctx.fillText(y.toFixed(2), 4, sy(y) + 4);
    }
    ctx.fillText(String(xmin), pad.l, h - pad.b + 14);
    ctx.fillText(String(xmax), w - pad.r - 40, h - pad.b + 14);
    let legendX = pad.l, index = 0;
    this.series.forEach((points, name) => {
      const color = PALETTE[index++ % PALETTE.length];
      const xs = Array.from(points.keys()).sort((a, b) => a - b);
      ctx.strokeStyle = color; ctx.lineWidth = 1.6; ctx.beginPath();
      xs.forEach((x, i) => { const px = sx(x), py = sy(points.get(x)); if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py); });
      ctx.stroke();
      ctx.fillStyle = color; ctx.fillRect(legendX, h - 14, 10, 10);
      ctx.fillStyle = "#1b1d29"; ctx.fillText(name, legendX + 14, h - 5);
      legendX += ctx.measureText(name).width + 32;
    });
  };

  /* Real (grey) and generated (blue) points over D's output as a heat map. */
  function drawPoints(canvas, sample) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    const surface = sample.surface;
    let extent = surface ? surface.extent : [-2, 2, -2, 2];
    const [xmin, xmax, ymin, ymax] = extent;
    const sx = (x) => (x - xmin) / (xmax - xmin) * w;
    const sy = (y) => h - (y - ymin) / (ymax - ymin) * h;
    if (surface && surface.values && surface.values.length) {
      const n = surface.size, values = surface.values;
      let lo = Infinity, hi = -Infinity;
      values.forEach((v) => { lo = Math.min(lo, v); hi = Math.max(hi, v); });
      const cw = w / n, ch = h / n;
      for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
        const t = hi > lo ? (values[j * n + i] - lo) / (hi - lo) : 0.5;
        const r = Math.round(255 * t), b = Math.round(255 * (1 - t));
        ctx.fillStyle = `rgba(${r}, 120, ${b}, 0.35)`;
        ctx.fillRect(i * cw, h - (j + 1) * ch, cw + 1, ch + 1);
      }
    }
    const dot = (points, color, size) => {
      ctx.fillStyle = color;
      (points || []).forEach(([x, y]) => ctx.fillRect(sx(x) - size / 2, sy(y) - size / 2, size, size));
    };
    dot(sample.real_points, "rgba(40, 40, 40, 0.55)", 3);
    dot(sample.points, "#1c3fd1", 3);
  }

  global.GanCharts = { LineChart, drawPoints };
})(window);
