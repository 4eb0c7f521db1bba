/* The job form: Advanced settings open or closed as the person left them,
   and the pre-flight: measure the settings on a worker, show the time and
   memory the run will take, fit the steps to a time budget when one is typed,
   and offer a batch size that fits if it would not. */
(function () {
  "use strict";
  const form = document.getElementById("job-form");
  const button = document.getElementById("preflight-button");
  const result = document.getElementById("preflight-result");
  const apply = document.getElementById("preflight-apply");
  const budget = document.getElementById("budget-minutes");
  const advanced = document.getElementById("advanced-settings");
  const ADVANCED_KEY = "gan-job-form-advanced-open";

  try {
    if (localStorage.getItem(ADVANCED_KEY) === "1") advanced.open = true;
  } catch (error) { /* storage off: it stays as the page drew it */ }
  advanced.addEventListener("toggle", () => {
    try { localStorage.setItem(ADVANCED_KEY, advanced.open ? "1" : "0"); } catch (error) { /* off */ }
  });

  function size(bytes) {
    return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GB` : `${Math.round(bytes / 2 ** 20)} MB`;
  }

  function duration(seconds) {
    if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
    if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
    return `${(seconds / 3600).toFixed(1)} h`;
  }

  async function estimate() {
    button.disabled = true;
    apply.hidden = true;
    result.className = "";
    result.textContent = "Measuring a few steps on a worker…";
    try {
      // Not form.dataset: the form has a field named "dataset", which wins.
      const response = await fetch(form.getAttribute("data-preflight-url"), {
        method: "POST", body: new FormData(form), credentials: "same-origin",
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
      const where = body.device === "cpu" ? "the CPU" : body.device;
      const memory = `peak memory about ${size(body.peak_bytes)} of ${size(body.available_bytes)} free`;
      let steps = body.steps;
      const minutes = Number(budget.value);
      if (budget.value && minutes > 0 && body.step_seconds > 0) {
        // The budget sets the steps: what this worker does in that time.
        steps = Math.max(1, Math.floor((minutes * 60) / body.step_seconds));
        form.elements.steps.value = String(steps);
      }
      const total = body.step_seconds * steps;
      result.textContent = `About ${duration(total)} on ${where} ` +
        `(${(body.step_seconds * 1000).toFixed(0)} ms a step × ${steps} steps); ${memory}.`;
      if (body.gpus > 1) result.textContent += ` On ${body.gpus} devices: ${body.note}.`;
      if (steps !== body.steps) result.textContent += ` Steps set to ${steps} to fit about ${minutes} min on this worker.`;
      if (!body.fits) {
        result.className = "error";
        result.textContent += " It will not fit.";
        if (body.suggested_batch_size) {
          apply.textContent = `Use batch size ${body.suggested_batch_size}, the largest that fits`;
          apply.onclick = () => {
            form.elements.batch_size.value = String(body.suggested_batch_size);
            estimate();
          };
          apply.hidden = false;
        }
      }
    } catch (error) {
      result.className = "error";
      result.textContent = `No estimate: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener("click", estimate);
})();
