// Playground's "Make a dataset": POST /api/models/<id>/dataset, then follow the
// new dataset's state (GET /api/datasets/<id>/) until it is ready or failed.
(function () {
  "use strict";
  const card = document.getElementById("pg-make-dataset");
  if (!card) return;
  const form = document.getElementById("pg-make-dataset-form");
  const errorBox = document.getElementById("pg-make-dataset-error");
  const status = document.getElementById("pg-make-dataset-status");
  const link = document.getElementById("pg-make-dataset-link");
  const state = document.getElementById("pg-make-dataset-state");
  const bar = document.getElementById("pg-make-dataset-progress");
  const POLL_MS = 1000;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function body() {
    const data = new FormData(form);
    const out = {
      name: data.get("name") || "",
      n: Number(data.get("n")),
      per_class: data.get("per_class") === "on",
      truncation: Number(data.get("truncation") || 1),
      seed: Number(data.get("seed") || 0),
    };
    if (data.get("use_rejection") === "on") out.rejection = Number(data.get("rejection"));
    const step = document.querySelector("select[name=checkpoint]");
    if (step && step.value !== "") out.checkpoint = Number(step.value);
    return out;
  }

  function show(dataset) {
    status.hidden = false;
    link.textContent = dataset.name;
    link.href = `/datasets/${dataset.id}/`;
    state.textContent = dataset.state;
    state.className = "state state-" + dataset.state;
    bar.value = dataset.progress || 0;
    bar.hidden = dataset.state === "ready" || dataset.state === "failed";
    errorBox.textContent = dataset.error || "";
  }

  async function follow(id) {
    const response = await fetch(`/api/datasets/${id}/`, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const dataset = await response.json();
    show(dataset);
    if (dataset.state !== "ready" && dataset.state !== "failed") {
      window.setTimeout(() => follow(id), POLL_MS);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const response = await fetch(`/api/models/${card.dataset.job}/dataset`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body()),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.status !== 202) {
        errorBox.textContent = answer.error || `failed (${response.status})`;
        return;
      }
      show(answer);
      follow(answer.id);
    } catch (err) {
      errorBox.textContent = "could not reach the server; try again";
    } finally {
      button.disabled = false;
    }
  });
})();
