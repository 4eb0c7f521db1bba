/* Compare runs: every run's losses, D(x)/D(G(z)) and checkpoint figures on
   shared charts, one colour a run and one dash a quantity. */
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("compare-data").textContent);
  const $ = (id) => document.getElementById(id);
  const colorOf = new Map(data.jobs.map((job) => [`job ${job.id}`, job.color]));
  const dashes = new Map();
  const DASHES = [undefined, [8, 4], [2, 3], [12, 3, 2, 3]];

  function styleOf(name) {
    const [run, quantity] = name.split(" · ");
    if (!dashes.has(quantity)) dashes.set(quantity, DASHES[dashes.size % DASHES.length]);
    return { stroke: colorOf.get(run), dash: dashes.get(quantity) };
  }

  const lossChart = new GanCharts.LineChart($("compare-loss"), [], { title: "Losses", log: true, styleOf });
  const dChart = new GanCharts.LineChart($("compare-d"), [], { title: "D(x) and D(G(z))", styleOf });
  const figuresChart = new GanCharts.LineChart($("compare-figures"), [],
    { title: "Checkpoint figures", smoothing: false, styleOf });
  const D_NAMES = { d_real: "D(x)", d_fake: "D(G(z))" };

  data.jobs.forEach((job) => {
    const run = `job ${job.id}`;
    job.points.forEach((point) => Object.entries(point).forEach(([key, value]) => {
      if (key.startsWith("loss_")) lossChart.add(`${run} · ${key.slice(5)}`, point.step, value);
      else if (D_NAMES[key]) dChart.add(`${run} · ${D_NAMES[key]}`, point.step, value);
    }));
    job.figures.forEach((entry) => GanQualityFigures.chartable(entry.figures)
      .forEach(([key, value]) => figuresChart.add(`${run} · ${key}`, entry.step, value)));
  });
  lossChart.draw();
  dChart.draw();
  $("compare-figures-card").hidden = figuresChart.count() === 0;
  if (figuresChart.count()) figuresChart.draw();
  window.ganCompare = { lossChart, dChart, figuresChart };
})();
