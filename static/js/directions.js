/* Latent directions (GANSpace): sliders for the first principal components,
   each with its share of the variance, applied to a seed's image or to the one
   "Find an image in the model" found; the original is shown beside the edit.
   Draws and saves through playground.js (window.pgPlayground). */
(function () {
  "use strict";
  const section = document.getElementById("pg-directions");
  const pg = window.pgPlayground;
  if (!section || !pg) return;
  const jobId = document.getElementById("pg-config").dataset.job;
  const form = document.getElementById("pg-dir-form");
  const status = document.getElementById("pg-dir-status");
  const sliders = document.getElementById("pg-dir-sliders");
  const result = section.querySelector(".pg-result");
  const weights = document.getElementById("pg-weights");
  const maxSliders = Number(section.dataset.maxSliders || 6);
  const RANGE = 5; // the API takes |alpha| <= 10; the sliders stay in the useful part
  let components = [];
  let pending = null; // the timer of a draw waiting for the slider to settle
  let drawing = 0; // the number of the latest draw: older answers are dropped

  function directionsUrl() {
    const params = pg.weightParams();
    const query = new URLSearchParams({ generator: params.generator });
    if (params.checkpoint !== undefined) query.set("checkpoint", params.checkpoint);
    return `/api/models/${jobId}/directions?${query}`;
  }

  function alphas() {
    return components.map((c) => Number(sliders.querySelector(`[data-component="${c.index}"]`).value));
  }

  function layers() {
    const field = form.elements.layers;
    if (!field) return null;
    if (field.value === "custom") return form.elements.custom_layers.value || "all";
    return field.value === "all" ? null : field.value;
  }

  function editParams() {
    const params = { ...pg.weightParams(), seed: Number(form.elements.seed.value), alphas: alphas() };
    const chosen = layers();
    if (chosen) params.layers = chosen;
    if (form.elements.use_projection.checked && form.elements.projection.value) {
      params.projection = form.elements.projection.value;
    }
    return params;
  }

  function slider(component) {
    const label = document.createElement("label");
    const percent = (100 * component.explained).toFixed(1);
    const name = document.createElement("span");
    name.textContent = `Component ${component.index} · ${percent}% of variance · α `;
    const out = document.createElement("output");
    out.textContent = "0.0";
    const input = document.createElement("input");
    input.type = "range";
    input.min = String(-RANGE);
    input.max = String(RANGE);
    input.step = "0.1";
    input.value = "0";
    input.dataset.component = String(component.index);
    input.setAttribute("aria-label", `Component ${component.index} (${percent}% of variance)`);
    input.addEventListener("input", () => {
      out.textContent = Number(input.value).toFixed(1);
      later();
    });
    name.append(out);
    label.append(name, input);
    return label;
  }

  function later() {
    clearTimeout(pending);
    pending = setTimeout(draw, 150);
  }

  async function draw() {
    if (!components.length) return;
    const params = editParams();
    const mine = ++drawing;
    section.setAttribute("aria-busy", "true");
    try {
      const answer = await pg.call("edit", { ...params, compare: true });
      if (mine !== drawing) return;
      const fig = pg.figure(answer.blob, `Original | ${pg.caption("edit", params, answer.meta)}`, `edit-${jobId}`);
      fig.querySelector("img").dataset.alphas = JSON.stringify(params.alphas);
      // Saved with the settings that made it; the gallery keeps the pair.
      result.replaceChildren(fig, pg.saveButton("edit", { ...params, compare: true }));
    } catch (error) {
      if (mine !== drawing) return;
      const p = document.createElement("p");
      p.className = "error";
      p.setAttribute("role", "alert");
      p.textContent = error.message;
      result.replaceChildren(p);
    } finally {
      if (mine === drawing) section.setAttribute("aria-busy", "false");
    }
  }

  async function load() {
    status.className = "";
    status.textContent = "Finding the principal directions…";
    const response = await fetch(directionsUrl(), { credentials: "same-origin" });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      status.className = "error";
      status.textContent = body.error || `the server answered ${response.status}`;
      return false;
    }
    components = body.components.slice(0, maxSliders);
    sliders.replaceChildren(...components.map(slider));
    const where = body.space === "w" ? "W" : `Z (via ${body.feature.replace(/^z via /, "")})`;
    status.textContent = `${body.components.length} directions in ${where} from ${body.samples} samples; the first ${components.length} have sliders.`;
    return true;
  }

  function setAlphas(values) {
    components.forEach((c, i) => {
      const input = sliders.querySelector(`[data-component="${c.index}"]`);
      input.value = String(values[i] || 0);
      input.dispatchEvent(new Event("input"));
    });
  }

  function applyRemix(params) {
    for (const name of ["checkpoint", "generator", "truncation"]) pg.setField(weights, name, params[name]);
    pg.setField(form, "seed", params.seed);
    if (form.elements.layers && params.layers) {
      const value = Array.isArray(params.layers)
        ? `${Math.min(...params.layers)}-${Math.max(...params.layers)}`
        : params.layers;
      if ([...form.elements.layers.options].some((o) => o.value === value)) {
        form.elements.layers.value = value;
      } else {
        form.elements.layers.value = "custom";
        form.elements.custom_layers.value = value;
        section.querySelector(".pg-dir-custom").hidden = false;
      }
    }
    if (params.projection) {
      form.elements.projection.value = params.projection;
      form.elements.use_projection.disabled = false;
      form.elements.use_projection.checked = true;
    }
    let values = params.alphas;
    if (!values) {
      values = [];
      values[params.direction || 0] = params.alpha || 0;
    }
    setAlphas(values);
    section.scrollIntoView();
  }

  // -- wiring -------------------------------------------------------------------

  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("change", (event) => {
    if (event.target.name === "layers") {
      section.querySelector(".pg-dir-custom").hidden = event.target.value !== "custom";
    }
    later();
  });
  section.querySelector("[data-dir-new-seed]").addEventListener("click", () => {
    form.elements.seed.value = Math.floor(Math.random() * 2 ** 31);
    form.elements.use_projection.checked = false;
    draw();
  });
  section.querySelector("[data-dir-reset]").addEventListener("click", () => setAlphas([]));
  weights.addEventListener("change", async (event) => {
    if (event.target.name === "truncation") return later();
    if (await load()) later();
  });
  document.addEventListener("pg-projection-done", (event) => {
    form.elements.projection.value = event.detail.id;
    form.elements.use_projection.disabled = false;
    form.elements.use_projection.checked = true;
    later();
  });

  const remixData = document.getElementById("pg-remix");
  const remix = remixData ? JSON.parse(remixData.textContent) : null;
  load().then((ok) => {
    if (!ok) return;
    if (remix && remix.action === "edit") applyRemix(remix.params);
    draw();
  });
})();
