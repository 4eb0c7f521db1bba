/* The checkpoint timeline on the job page: every checkpoint with its grid and
   its figures, and a Promote button that makes it the playground's. The
   figures that are numbers are also charted over the checkpoints' steps. */
(function (global) {
  "use strict";

  function figureText(figures) {
    if (!figures || Object.keys(figures).length === 0) return "measuring…";
    if (figures.modes !== undefined) {
      return `${figures.modes} of ${figures.of} modes, ${(100 * figures.high_quality).toFixed(1)}% high quality`;
    }
    if (Array.isArray(figures.figures)) {
      return global.GanQualityFigures.text(figures);
    }
    if (figures.classifier_fid !== undefined) return `classifier-FID ${figures.classifier_fid}`;
    return figures.note || "";
  }

  function Timeline(list, form, chart) {
    this.list = list;
    this.form = form;
    this.chart = chart || null;
    this.entries = new Map();
    // Figures come from the light worker and may overtake the training
    // worker's checkpoint event: kept here until their checkpoint is listed.
    this.early = new Map();
    this.promoted = null;
  }

  Timeline.prototype.set = function (checkpoints, promoted) {
    this.promoted = promoted;
    checkpoints.forEach((c) => this.entries.set(c.step, { ...c }));
    this.render();
  };

  Timeline.prototype.add = function (step) {
    if (!this.entries.has(step)) {
      const figures = this.early.get(step) || {};
      this.early.delete(step);
      this.entries.set(step, { step, figures, sample: "" });
    }
    this.render();
  };

  Timeline.prototype.sample = function (step, url) {
    const entry = this.entries.get(step);
    if (entry && url) { entry.sample = url; this.render(); }
  };

  // The workers refused the configured Inception file: the page's one note
  // (rendered hidden, jobs/_inception_note.html) says why, once.
  function showInceptionNote(figures) {
    const note = document.getElementById("inception-note");
    const reason = note && note.querySelector(".inception-reason");
    if (!reason || !(figures || {}).inception_note) return;
    reason.textContent = figures.inception_note;
    note.hidden = false;
  }

  Timeline.prototype.figures = function (step, figures) {
    showInceptionNote(figures);
    const entry = this.entries.get(step);
    if (entry) { entry.figures = figures; this.render(); } else this.early.set(step, figures);
  };

  Timeline.prototype.drawChart = function (steps) {
    if (!this.chart) return;
    this.chart.clear();
    steps.forEach((step) => global.GanQualityFigures.chartable(this.entries.get(step).figures)
      .forEach(([key, value]) => this.chart.add(key, step, value)));
    this.chart.host.hidden = this.chart.count() === 0;
    if (!this.chart.host.hidden) this.chart.draw();
  };

  Timeline.prototype.render = function () {
    const steps = Array.from(this.entries.keys()).sort((a, b) => a - b);
    this.drawChart(steps);
    const latest = steps[steps.length - 1];
    const inUse = this.promoted !== null && this.promoted !== undefined ? this.promoted : latest;
    this.list.replaceChildren(...steps.map((step) => {
      const entry = this.entries.get(step);
      const item = document.createElement("li");
      item.className = "timeline-item" + (step === inUse ? " in-use" : "");
      item.dataset.step = String(step);
      if (entry.sample) {
        const img = document.createElement("img");
        img.src = entry.sample;
        img.alt = `Samples at step ${step}`;
        img.loading = "lazy";
        item.append(img);
      }
      const title = document.createElement("strong");
      title.textContent = `step ${step}`;
      const figures = document.createElement("span");
      figures.className = "timeline-figures";
      figures.textContent = figureText(entry.figures);
      item.append(title, figures);
      if (step === inUse) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = "used by the playground";
        item.append(badge);
      } else {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "button";
        button.textContent = "Promote";
        button.setAttribute("aria-label", `Promote the checkpoint at step ${step}`);
        button.addEventListener("click", () => {
          this.form.elements.step.value = String(step);
          this.form.submit();
        });
        item.append(button);
      }
      return item;
    }));
  };

  global.GanTimeline = Timeline;
})(window);
