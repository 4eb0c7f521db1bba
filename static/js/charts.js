/* The one chart helper every page uses: line series over steps drawn with the
   vendored uPlot (static/vendor/uplot), with values under the pointer, drag
   to zoom and double-click to reset (uPlot's own), a log scale, TensorBoard's
   smoothing slider and CSV/PNG downloads; and 2D point maps on a canvas. */
(function (global) {
  "use strict";
  const PALETTE = ["#3b3bb8", "#d9480f", "#2b8a3e", "#ae3ec9", "#1098ad", "#f59f00",
    "#c92a2a", "#5c940d", "#364fc7", "#862e9c"];
  let chartCount = 0;

  /* TensorBoard's scalar smoothing: an exponential moving average whose
     early values are debiased (divided by 1 - w^n), so the curve does not
     start pulled towards zero. Missing values stay missing. */
  function smooth(values, weight) {
    if (!(weight > 0)) return values.slice();
    let last = 0, n = 0;
    return values.map((v) => {
      if (v == null || !isFinite(v)) return v;
      last = last * weight + (1 - weight) * v;
      n += 1;
      return last / (weight === 1 ? 1 : 1 - weight ** n);
    });
  }

  function fmt(v) {
    if (v == null || !isFinite(v)) return "—";
    return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : String(+v.toPrecision(4));
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text) node.textContent = text;
    return node;
  }

  function download(name, blob) {
    const a = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  /* ``host`` is an empty element; options: {title, log (offer a log scale),
     smoothing (offer the slider), colors: {name: css colour}}. */
  function LineChart(host, seriesNames, options) {
    this.host = host;
    this.options = options || {};
    this.title = this.options.title || host.getAttribute("aria-label") || "chart";
    this.series = new Map();
    (seriesNames || []).forEach((name) => this.series.set(name, new Map()));
    this.weight = 0;
    this.log = false;
    this.zoomed = false;
    this.plot = null;
    this.shape = "";
    this.id = `chart-${++chartCount}`;
    this.buildControls();
  }

  LineChart.prototype.buildControls = function () {
    const bar = el("div", { class: "chart-tools" });
    if (this.options.smoothing !== false) {
      const label = el("label", { for: `${this.id}-smooth` }, "smoothing ");
      const slider = el("input", { id: `${this.id}-smooth`, type: "range", min: "0", max: "0.99",
        step: "0.01", value: "0", "aria-label": `smoothing of ${this.title}` });
      const shown = el("output", { for: `${this.id}-smooth` }, "0");
      slider.addEventListener("input", () => { shown.textContent = slider.value; this.setSmoothing(Number(slider.value)); });
      label.append(slider, shown);
      bar.append(label);
    }
    if (this.options.log) {
      const label = el("label", { title: "Logarithmic y axis (symmetric log when a value is zero or negative)" });
      const box = el("input", { type: "checkbox", "aria-label": `log scale for ${this.title}` });
      box.addEventListener("change", () => this.setLog(box.checked));
      label.append(box, document.createTextNode(" log scale"));
      bar.append(label);
    }
    const csv = el("button", { type: "button", class: "button small", "aria-label": `Download ${this.title} as CSV` }, "CSV");
    csv.addEventListener("click", () => download(`${this.filename()}.csv`, new Blob([this.csv()], { type: "text/csv" })));
    const png = el("button", { type: "button", class: "button small", "aria-label": `Download ${this.title} as PNG` }, "PNG");
    png.addEventListener("click", () => this.png((blob) => download(`${this.filename()}.png`, blob)));
    const hint = el("span", { class: "muted chart-hint" }, "drag to zoom, double-click to reset");
    bar.append(csv, png, hint);
    this.area = el("div", { class: "chart-area" });
    this.empty = el("p", { class: "muted chart-empty" }, this.options.empty || "waiting for the first steps…");
    this.host.replaceChildren(bar, this.area, this.empty);
    if (global.ResizeObserver) {
      new ResizeObserver(() => {
        if (this.plot) this.plot.setSize(this.size());
      }).observe(this.host);
    }
  };

  LineChart.prototype.filename = function () {
    return (this.options.filename || this.title).toLowerCase().replace(/[^a-z0-9]+/g, "-");
  };

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

  LineChart.prototype.clear = function () { this.series.forEach((points) => points.clear()); };

  LineChart.prototype.count = function () {
    let total = 0;
    this.series.forEach((points) => { total += points.size; });
    return total;
  };

  LineChart.prototype.names = function () {
    return Array.from(this.series.keys()).filter((name) => this.series.get(name).size);
  };

  /* [steps, raw values per series] aligned on the union of steps. */
  LineChart.prototype.table = function () {
    const names = this.names();
    const steps = new Set();
    names.forEach((name) => this.series.get(name).forEach((_, s) => steps.add(s)));
    const xs = Array.from(steps).sort((a, b) => a - b);
    return [xs, ...names.map((name) => {
      const points = this.series.get(name);
      return xs.map((s) => (points.has(s) ? points.get(s) : null));
    })];
  };

  LineChart.prototype.csv = function () {
    const [xs, ...columns] = this.table();
    const quote = (s) => `"${String(s).replace(/"/g, '""')}"`;
    const lines = [["step", ...this.names()].map(quote).join(",")];
    xs.forEach((x, i) => lines.push([x, ...columns.map((c) => (c[i] == null ? "" : c[i]))].join(",")));
    return lines.join("\n") + "\n";
  };

  LineChart.prototype.png = function (done) {
    if (!this.plot) return;
    const source = this.plot.ctx.canvas;
    const out = el("canvas");
    out.width = source.width; out.height = source.height;
    const ctx = out.getContext("2d");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(source, 0, 0);
    out.toBlob(done, "image/png");
  };

  LineChart.prototype.setSmoothing = function (weight) { this.weight = weight; this.draw(); };
  LineChart.prototype.setLog = function (on) { this.log = on; this.draw(); };

  LineChart.prototype.size = function () {
    return { width: Math.max(240, this.host.clientWidth - 4), height: this.options.height || 240 };
  };

  /* A series' colour and dash: options.styleOf(name) when the page gives
     one (the compare page: a colour a run, a dash a quantity). */
  LineChart.prototype.style = function (name, index) {
    const given = this.options.styleOf ? this.options.styleOf(name) : null;
    return { stroke: PALETTE[index % PALETTE.length], dash: undefined, ...(given || {}) };
  };

  /* What uPlot draws: raw series, and their smoothed curves when the slider
     is above zero (the raw ones then faint, as TensorBoard shows them). */
  LineChart.prototype.drawnData = function () {
    const [xs, ...raw] = this.table();
    const data = [xs, ...raw];
    if (this.weight > 0) raw.forEach((values) => data.push(smooth(values, this.weight)));
    return data;
  };

  LineChart.prototype.positive = function () {
    let ok = true;
    this.series.forEach((points) => points.forEach((v) => { if (v <= 0) ok = false; }));
    return ok;
  };

  LineChart.prototype.draw = function () {
    const names = this.names();
    this.empty.hidden = names.length > 0;
    if (!names.length) {
      if (this.plot) { this.plot.destroy(); this.plot = null; this.shape = ""; }
      return;
    }
    const data = this.drawnData();
    const distr = this.log ? (this.positive() ? 3 : 4) : 1;
    const shape = JSON.stringify([names, this.weight > 0, distr]);
    if (this.plot && shape === this.shape) {
      this.plot.setData(data, !this.zoomed);
      return;
    }
    const keep = this.plot && this.zoomed ? { min: this.plot.scales.x.min, max: this.plot.scales.x.max } : null;
    if (this.plot) this.plot.destroy();
    this.shape = shape;
    const smoothed = this.weight > 0;
    const series = [{ label: "step", value: (u, v) => (v == null ? "—" : String(v)) }];
    names.forEach((name, i) => series.push({
      label: name, ...this.style(name, i), width: smoothed ? 1 : 1.6,
      alpha: smoothed ? 0.35 : 1, spanGaps: true, value: (u, v) => fmt(v),
    }));
    if (smoothed) {
      names.forEach((name, i) => series.push({
        label: `${name} (smoothed)`, ...this.style(name, i), width: 2, spanGaps: true, value: (u, v) => fmt(v),
      }));
    }
    const opts = {
      ...this.size(),
      scales: { x: { time: false }, y: { distr, log: 10, asinh: 1 } },
      series,
      axes: [{ label: "step", labelSize: 20 }, { size: 56, values: (u, splits) => splits.map(fmt) }],
      cursor: { drag: { x: true, y: false, setScale: true } },
      legend: { live: true },
      hooks: {
        setSelect: [(u) => { if (u.select.width > 0) this.zoomed = true; }],
      },
    };
    this.plot = new global.uPlot(opts, data, this.area);
    this.plot.over.addEventListener("dblclick", () => { this.zoomed = false; });
    if (keep) this.plot.setScale("x", keep);
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

  global.GanCharts = { LineChart, drawPoints, smooth, PALETTE };
})(window);
