/* Live job dashboard: history from the snapshot, then events over the socket.
   Reconnects with backoff; every (re)connect starts with a fresh snapshot and
   points are merged by step, so a dropped connection leaves no hole. */
(function () {
  "use strict";
  const snapshot = JSON.parse(document.getElementById("job-snapshot").textContent);
  const schema = JSON.parse(document.getElementById("event-schema").textContent);
  const jobId = snapshot.job.id;
  const $ = (id) => document.getElementById(id);
  const lossChart = new GanCharts.LineChart($("loss-chart"), [], { title: "Losses", log: true });
  const dChart = new GanCharts.LineChart($("d-chart"), [], { title: "D(x) and D(G(z))" });
  const figuresChart = new GanCharts.LineChart($("figures-chart"), [],
    { title: "Checkpoint figures", smoothing: false, empty: "no figures yet" });
  const samples = new Map();
  const timeline = new GanTimeline($("timeline"), $("promote-form"), figuresChart);
  let job = snapshot.job, socket = null, retry = 0, drawQueued = false;
  window.ganDashboard = { lossChart, dChart, figuresChart, samples, timeline, events: 0, connects: 0, state: () => job.state };

  function addPoint(step, values) {
    Object.entries(values).forEach(([key, value]) => {
      if (key.startsWith("loss_")) lossChart.add(key.slice(5), step, value);
      else if (key === "d_real") dChart.add("D(x)", step, value);
      else if (key === "d_fake") dChart.add("D(G(z))", step, value);
      else if (key === "ada_p") dChart.add("ADA p", step, value);
      else if (["gp", "r1", "path_length"].includes(key)) lossChart.add(key, step, value);
    });
  }

  function scheduleDraw() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => { drawQueued = false; lossChart.draw(); dChart.draw(); });
  }

  function fmtSeconds(s) {
    if (s == null || !isFinite(s)) return "";
    s = Math.round(s);
    return s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`
      : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
  }

  function renderStatus() {
    $("job-state").textContent = job.state;
    $("job-state").className = `state state-${job.state}`;
    $("job-step").textContent = `step ${job.step} / ${job.total_steps}`;
    $("job-progress").max = job.total_steps || 1;
    $("job-progress").value = job.step;
    $("job-speed").textContent = job.images_per_sec ? `${job.images_per_sec.toFixed(1)} img/s` : "";
    $("job-eta").textContent = job.state === "running" && job.eta_seconds != null ? `ETA ${fmtSeconds(job.eta_seconds)}` : "";
    $("job-error").textContent = job.error || "";
    $("job-preparing").textContent = job.preparing || "";
    const adaP = (job.metrics || {}).ada_p;
    $("job-ada").textContent = typeof adaP === "number" ? `ADA p ${adaP.toFixed(3)}` : "";
    $("job-queue").textContent = job.state === "queued" && job.queue_position
      ? `Waiting in the queue: position ${job.queue_position}.` : "";
    const rollbacks = job.rollbacks || [];
    const list = $("job-rollbacks");
    if (list.childElementCount !== rollbacks.length) {
      list.replaceChildren(...rollbacks.map((r) => {
        const item = document.createElement("li");
        item.textContent = `Diverged at step ${r.from_step} (${r.reason}): went back to ` +
          `step ${r.step} and continued with the learning rate x${r.lr_scale}.`;
        return item;
      }));
    }
    document.querySelectorAll("[data-show-when]").forEach((form) => {
      form.hidden = !form.dataset.showWhen.split(" ").includes(job.state);
    });
  }

  function showSample(sample) {
    const img = $("sample-image"), canvas = $("points-canvas");
    if (sample.points) {
      canvas.hidden = false; img.hidden = true;
      GanCharts.drawPoints(canvas, sample);
    } else if (sample.url) {
      img.hidden = false; canvas.hidden = true;
      img.src = sample.url;
      img.alt = `Sample grid at step ${sample.step}`;
    }
    $("sample-caption").textContent = `step ${sample.step}`;
  }

  function addSample(sample, follow) {
    samples.set(sample.step, sample);
    const steps = Array.from(samples.keys()).sort((a, b) => a - b);
    const scrub = $("sample-scrub");
    const atEnd = Number(scrub.value) >= Number(scrub.max);
    scrub.max = String(steps.length - 1);
    if (follow && atEnd) { scrub.value = scrub.max; showSample(sample); }
  }

  $("sample-scrub").addEventListener("input", (event) => {
    const steps = Array.from(samples.keys()).sort((a, b) => a - b);
    const sample = samples.get(steps[Number(event.target.value)]);
    if (sample) showSample(sample);
  });

  // Steps past ``step`` are redone (a rollback, or a resume after a lost
  // worker): forget their points and samples.
  function dropAfter(step) {
    job.step = step;
    lossChart.dropAfter(step);
    dChart.dropAfter(step);
    Array.from(samples.keys()).filter((s) => s > step).forEach((s) => samples.delete(s));
    const scrub = $("sample-scrub");
    scrub.max = String(Math.max(0, samples.size - 1));
    if (Number(scrub.value) > Number(scrub.max)) scrub.value = scrub.max;
  }

  const handlers = {
    snapshot(event) {
      job = event.job;
      event.points.forEach((point) => addPoint(point.step, point));
      event.samples.forEach((sample) => addSample(sample, true));
      timeline.set(event.checkpoints || [], job.promoted_step);
    },
    preparing(event) {
      job.preparing = event.done < event.total
        ? `Preparing ${event.image_size} px: ${event.done.toLocaleString("en")} / ${event.total.toLocaleString("en")}`
        : "";
    },
    started(event) {
      job.state = "running"; job.total_steps = event.total_steps; job.device = event.device;
      job.preparing = "";
    },
    step(event) {
      const values = { d_real: event.d_real, d_fake: event.d_fake, ...(event.extras || {}) };
      Object.entries(event.losses || {}).forEach(([k, v]) => { values[`loss_${k}`] = v; });
      addPoint(event.step, values);
      Object.assign(job, { step: event.step, total_steps: event.total_steps,
        images_per_sec: event.images_per_sec, eta_seconds: event.eta_seconds,
        metrics: { ...(job.metrics || {}), ...values } });
    },
    sample(event) { addSample(event, true); timeline.sample(event.step, event.url); },
    checkpoint(event) {
      $("open-playground").hidden = false;
      $("train-further").hidden = false;
      timeline.add(event.step);
      const grid = samples.get(event.step);
      if (grid) timeline.sample(event.step, grid.url);
    },
    figures(event) { timeline.figures(event.step, event.figures); },
    finished(event) { job.step = event.step; },
    stopped(event) { job.step = event.step; },
    failed(event) { job.error = event.reason; },
    rollback(event) {
      job.rollbacks = [...(job.rollbacks || []), event];
      dropAfter(event.step);
    },
    rewind(event) { dropAfter(event.step); },
    state(event) { Object.assign(job, event); },
  };

  function onMessage(message) {
    const event = JSON.parse(message.data);
    window.ganDashboard.events += 1;
    const handler = handlers[event.type];
    if (handler) handler(event);
    renderStatus();
    scheduleDraw();
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/jobs/${jobId}/`);
    socket.onopen = () => { retry = 0; window.ganDashboard.connects += 1; $("socket-state").textContent = "live"; };
    socket.onmessage = onMessage;
    socket.onclose = () => {
      $("socket-state").textContent = "reconnecting…";
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 250 * 2 ** retry);
    };
  }

  window.ganDashboard.dropSocket = () => socket && socket.close();
  window.ganDashboard.knownEventTypes = Object.keys(schema.events || schema);
  handlers.snapshot(snapshot);
  renderStatus();
  scheduleDraw();
  connect();
})();
