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

  global.GanQualityFigures = { text, groups };
})(window);
