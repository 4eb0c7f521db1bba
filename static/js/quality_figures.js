/* Quality figures of one checkpoint as text: grouped by feature space and
   sample count, so each group says its space and n once and figures from
   different spaces or n are never run together. */
(function (global) {
  "use strict";

  const NAMES = {
    precision: "precision",
    recall: "recall",
    class_agreement: "class agreement",
    classifier_fid: "classifier-FID",
    inception_fid: "Inception FID",
    inception_kid: "Inception KID",
  };
  const SHARES = new Set(["precision", "recall", "class_agreement"]);

  function value(figure) {
    if (SHARES.has(figure.metric)) return `${(100 * figure.value).toFixed(1)}%`;
    if (figure.metric === "inception_kid") return figure.value.toFixed(4);
    return figure.value.toFixed(2);
  }

  function groups(figures) {
    const byGroup = new Map();
    figures.forEach((figure) => {
      const key = `${figure.space}|${figure.n}`;
      if (!byGroup.has(key)) byGroup.set(key, []);
      byGroup.get(key).push(figure);
    });
    return Array.from(byGroup.values());
  }

  function text(payload) {
    const parts = groups(payload.figures || []).map((group) => {
      const shown = group.map((f) => `${NAMES[f.metric] || f.metric} ${value(f)}`);
      const space = group[0];
      return `${shown.join(", ")} (n=${space.n}; ${space.space_label})`;
    });
    return parts.concat(payload.notes || []).join(" · ");
  }

  // Sizes and counts that come with a figure: said in its text, not charted.
  const NOT_CHARTED = new Set(["of", "n", "count", "samples", "n_real", "n_fake", "step"]);

  // [series name, value] pairs of one checkpoint's figures to chart. Quality
  // figures are one series per column (metric, feature space and n), so
  // figures from different spaces or n are never drawn as one line; older
  // flat figures (mode coverage) chart their numbers.
  function chartable(figures) {
    if (Array.isArray((figures || {}).figures)) {
      return figures.figures
        .filter((f) => typeof f.value === "number" && isFinite(f.value))
        .map((f) => [f.column || `${f.metric} (${f.space}, n=${f.n})`, f.value]);
    }
    return Object.entries(figures || {}).filter(
      ([key, value]) => typeof value === "number" && isFinite(value) && !NOT_CHARTED.has(key));
  }

  global.GanQualityFigures = { text, groups, chartable };
})(window);
