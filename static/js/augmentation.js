// Playground's "Augmentation value": GET /api/models/<id>/augmentation for the
// record, POST to queue a measurement, then poll until it is done or failed.
(function () {
  "use strict";
  const card = document.getElementById("pg-augmentation");
  if (!card) return;
  const url = `/api/models/${card.dataset.job}/augmentation`;
  const button = document.getElementById("pg-augmentation-start");
  const status = document.getElementById("pg-augmentation-status");
  const errorBox = document.getElementById("pg-augmentation-error");
  const result = document.getElementById("pg-augmentation-result");
  const verdict = document.getElementById("pg-augmentation-verdict");
  const bars = document.getElementById("pg-augmentation-bars");
  const details = document.getElementById("pg-augmentation-details");
  const POLL_MS = 1000;
  const LABELS = {
    real: "real images",
    synthetic: "synthetic only (CAS)",
    "real+synthetic": "real + synthetic",
  };

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  const percent = (x) => `${(100 * x).toFixed(1)}%`;

  function bar(arm, summary) {
    const row = document.createElement("div");
    row.className = "pg-bar";
    row.setAttribute("role", "listitem");
    row.dataset.arm = arm;
    const name = document.createElement("span");
    name.className = "pg-bar-name";
    name.textContent = LABELS[arm] || arm;
    const track = document.createElement("span");
    track.className = "pg-bar-track";
    const fill = document.createElement("span");
    fill.className = "pg-bar-fill";
    fill.style.width = `${Math.max(0, Math.min(1, summary.mean)) * 100}%`;
    track.appendChild(fill);
    const value = document.createElement("span");
    value.className = "pg-bar-value";
    const spread = summary.accuracy.length > 1 ? ` (${percent(summary.min)}–${percent(summary.max)})` : "";
    value.textContent = percent(summary.mean) + spread;
    row.append(name, track, value);
    return row;
  }

  function showReport(report) {
    const arms = report.arms;
    bars.replaceChildren(...Object.keys(LABELS).filter((a) => arms[a]).map((a) => bar(a, arms[a])));
    const gain = arms["real+synthetic"].mean - arms.real.mean;
    const points = `${Math.abs(100 * gain).toFixed(1)} points`;
    verdict.textContent = gain > 0
      ? `Adding this model's images to the real ones raised the accuracy by ${points}.`
      : gain < 0
        ? `Adding this model's images to the real ones lowered the accuracy by ${points}.`
        : "Adding this model's images to the real ones changed nothing.";
    details.textContent = `Checkpoint at step ${report.step}; ${report.n_real} real and ` +
      `${report.n_synthetic} synthetic training images, ${report.n_test} held-out real ` +
      `test images, ${report.seeds.length} seed(s), ${report.seconds} s.`;
    result.hidden = false;
  }

  function show(record) {
    const state = record.state;
    const working = state === "queued" || state === "running";
    button.disabled = working;
    status.className = working ? "pg-working" : "";
    const said = {
      none: "Not measured yet.",
      queued: "Queued for a light worker…",
      running: "Training the three classifiers…",
      done: "",
      failed: "The measurement failed.",
    };
    status.textContent = state in said ? said[state] : state;
    errorBox.textContent = state === "failed" ? record.error || "" : "";
    if (state === "done") showReport(record.report);
    return working;
  }

  async function follow() {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    if (show(await response.json())) window.setTimeout(follow, POLL_MS);
  }

  button.addEventListener("click", async () => {
    errorBox.textContent = "";
    button.disabled = true;
    const step = document.querySelector("select[name=checkpoint]");
    const body = step && step.value !== "" ? { checkpoint: Number(step.value) } : {};
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.status !== 202) {
        errorBox.textContent = answer.error || `failed (${response.status})`;
        button.disabled = false;
        return;
      }
      result.hidden = true;
      show(answer);
      window.setTimeout(follow, POLL_MS);
    } catch (err) {
      errorBox.textContent = "could not reach the server; try again";
      button.disabled = false;
    }
  });

  follow();
})();
