// The playground page: every control posts to /api/models/<id>/<action> and
// shows the image it answers with. No framework, no CDN.
(function () {
  "use strict";

  const config = document.getElementById("pg-config");
  const jobId = config.dataset.job;
  const info = JSON.parse(document.getElementById("pg-info").textContent);
  const weights = document.getElementById("pg-weights");
  const api = (action) => `/api/models/${jobId}/${action}`;
  let saving = null; // {action, params, file} of the result being saved

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function weightParams() {
    const form = new FormData(weights);
    const params = { generator: form.get("generator") || "ema" };
    if (form.get("checkpoint")) params.checkpoint = Number(form.get("checkpoint"));
    if (form.has("truncation")) params.truncation = Number(form.get("truncation"));
    return params;
  }

  function seedList(text) {
    return String(text || "")
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
  }

  // What each section sends, read from its form.
  const readers = {
    sample(form) {
      const params = { n: Number(form.get("n")), seed: Number(form.get("seed")) };
      if (form.get("label")) params.label = form.get("label");
      return params;
    },
    "class-grid": (form) => ({
      per_class: Number(form.get("per_class")),
      seed: Number(form.get("seed")),
    }),
    interpolate: (form) => ({
      seed_a: Number(form.get("seed_a")),
      seed_b: Number(form.get("seed_b")),
      steps: Number(form.get("steps")),
      space: form.get("space"),
      format: form.get("format"),
      projection: form.get("projection") || null,
    }),
    "style-mix": (form) => ({
      row_seeds: seedList(form.get("row_seeds")),
      col_seeds: seedList(form.get("col_seeds")),
      layers:
        form.get("layers") === "custom" ? form.get("custom_layers") : form.get("layers"),
    }),
    translate: (form) => ({
      direction: form.get("direction"),
      size: form.get("size") ? Number(form.get("size")) : null,
      mode: form.get("mode") || "resize",
      roundtrip: form.get("roundtrip") === "on",
    }),
  };

  async function call(action, params, file) {
    let body;
    const headers = { "X-CSRFToken": csrfToken() };
    if (file) {
      body = new FormData();
      for (const [key, value] of Object.entries(params)) {
        if (value !== null && value !== undefined) body.append(key, value);
      }
      body.append("image", file);
    } else {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(params);
    }
    const response = await fetch(api(action), {
      method: "POST",
      headers,
      body,
      credentials: "same-origin",
    });
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try {
        message = (await response.json()).error || message;
      } catch (_) {
        /* not JSON */
      }
      throw new Error(message);
    }
    const meta = JSON.parse(response.headers.get("X-Playground") || "{}");
    return { blob: await response.blob(), meta };
  }

  function busy(section, on) {
    const result = section.querySelector(".pg-result");
    section.setAttribute("aria-busy", on ? "true" : "false");
    section.querySelectorAll("button").forEach((b) => (b.disabled = on));
    let note = section.querySelector(".pg-working");
    if (on && !note) {
      note = document.createElement("p");
      note.className = "pg-working";
      note.setAttribute("role", "status");
      note.textContent = "Working…";
      result.before(note);
    } else if (!on && note) {
      note.remove();
    }
  }

  function extension(type) {
    return { "image/gif": "gif", "image/webp": "webp" }[type] || "png";
  }

  function figure(blob, caption, name) {
    const url = URL.createObjectURL(blob);
    const fig = document.createElement("figure");
    fig.className = "pg-figure";
    const img = document.createElement("img");
    img.src = url;
    img.alt = caption;
    const cap = document.createElement("figcaption");
    cap.textContent = caption + " ";
    const link = document.createElement("a");
    link.href = url;
    link.download = `${name}.${extension(blob.type)}`;
    link.textContent = "Download";
    cap.append(link);
    fig.append(img, cap);
    return fig;
  }

  function caption(action, params, meta) {
    const gen = `${meta.generator || "ema"}, step ${meta.step}`;
    const psi = params.truncation !== undefined ? `, ψ ${params.truncation}` : "";
    switch (action) {
      case "sample":
        return params.n === 1
          ? `Seed ${params.seed}${psi} (${gen})`
          : `Seeds ${params.seed}–${params.seed + params.n - 1}${psi} (${gen})`;
      case "class-grid":
        return `Classes ${(meta.rows || []).join(", ")}, seed ${params.seed}${psi}`;
      case "interpolate": {
        const from = params.projection ? "Your image" : `Seed ${params.seed_a}`;
        return `${from} → seed ${params.seed_b} in ${meta.space}, ${meta.frames} frames${psi}`;
      }
      case "edit": {
        const moved = (params.alphas || [])
          .map((a, i) => (a ? `component ${i} ${a > 0 ? "+" : ""}${a}` : ""))
          .filter(Boolean);
        const from = params.projection ? "Your image" : `Seed ${params.seed}`;
        const layers = params.layers ? `, ${params.layers} layers` : "";
        return `${from}: ${moved.join(", ") || "unedited"}${layers}${psi}`;
      }
      case "style-mix":
        return `Rows ${params.row_seeds.join(",")} × columns ${params.col_seeds.join(",")}, layers ${meta.layers.join(",")}${psi}`;
      default: {
        const way = `${params.direction === "AtoB" ? "A → B" : "B → A"}, ${meta.width}×${meta.height}`;
        if (!meta.panels) return way;
        if (meta.cycle_error == null) return `${way}: ${meta.panels.join(" | ")}; mean change ${meta.change.toFixed(3)}`;
        return `${way}: ${meta.panels.join(" | ")}; mean cycle error ${meta.cycle_error.toFixed(3)}, ` +
          `mean identity error ${meta.identity_error.toFixed(3)}`;
      }
    }
  }

  // Clicking a tile of the sample grid opens that image large, with its seed.
  function tileIndex(event, img, meta) {
    const rect = img.getBoundingClientRect();
    const scale = img.naturalWidth / rect.width;
    const x = (event.clientX - rect.left) * scale - meta.padding;
    const y = (event.clientY - rect.top) * scale - meta.padding;
    const cell = meta.tile + meta.padding;
    const col = Math.floor(x / cell);
    const row = Math.floor(y / cell);
    if (x < 0 || y < 0 || col >= meta.columns || x % cell >= meta.tile) return -1;
    const index = row * meta.columns + col;
    return index < meta.n ? index : -1;
  }

  async function openLarge(seed, label) {
    const dialog = document.getElementById("pg-large");
    dialog.querySelector("h2 span").textContent = String(seed);
    const body = dialog.querySelector(".pg-large-body");
    body.textContent = "Working…";
    dialog.showModal();
    const params = { ...weightParams(), n: 1, seed };
    if (label) params.label = label;
    try {
      const { blob, meta } = await call("sample", params);
      body.replaceChildren(figure(blob, caption("sample", params, meta), `seed-${seed}`));
      body.append(saveButton("sample", params));
    } catch (error) {
      body.textContent = error.message;
    }
  }

  function saveButton(action, params, file) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button";
    button.textContent = "Save to gallery";
    button.addEventListener("click", () => openSave(action, params, file));
    return button;
  }

  function show(section, action, params, result, file) {
    const out = section.querySelector(".pg-result");
    out.replaceChildren();
    const text = caption(action, params, result.meta);
    const fig = figure(result.blob, text, `${action}-${jobId}`);
    if (action === "translate" && !result.meta.panels) {  // the strip shows the input
      const input = figure(file, "Input", "input");
      input.querySelector("a").remove();
      const pair = document.createElement("div");
      pair.className = "pg-pair";
      pair.append(input, fig);
      out.append(pair);
    } else {
      out.append(fig);
    }
    if (action === "sample" && result.meta.n > 1 && result.meta.tile) {
      const img = fig.querySelector("img");
      img.classList.add("pg-clickable");
      img.title = "Click an image to open it large";
      img.addEventListener("click", (event) => {
        const index = tileIndex(event, img, { ...result.meta, n: params.n });
        if (index < 0) return;
        const labels = result.meta.labels;
        openLarge(params.seed + index, labels ? labels[index] : params.label);
      });
    }
    out.append(saveButton(action, params, file));
  }

  async function run(section) {
    const action = section.dataset.action;
    const form = new FormData(section.querySelector("form"));
    const params = { ...weightParams(), ...readers[action](form) };
    if (action === "translate") delete params.truncation;
    const file = action === "translate" ? form.get("image") : null;
    busy(section, true);
    try {
      show(section, action, params, await call(action, params, file), file);
    } catch (error) {
      const out = section.querySelector(".pg-result");
      const p = document.createElement("p");
      p.className = "error";
      p.setAttribute("role", "alert");
      p.textContent = error.message;
      out.replaceChildren(p);
    } finally {
      busy(section, false);
    }
  }

  // -- saving to a gallery ----------------------------------------------------

  const saveDialog = document.getElementById("pg-save");
  const saveForm = document.getElementById("pg-save-form");

  function openSave(action, params, file) {
    saving = { action, params, file };
    saveForm.querySelector(".error").textContent = "";
    saveForm.elements.title.value = caption(action, params, { step: "", layers: [] })
      .split(" (")[0]
      .slice(0, 200);
    saveDialog.showModal();
  }

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  async function save(event) {
    event.preventDefault();
    const form = new FormData(saveForm);
    const problem = saveForm.querySelector(".error");
    const button = saveForm.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = "Saving…";
    try {
      let galleryId = form.get("gallery");
      if (galleryId === "new") {
        galleryId = (await postJSON("/api/galleries/", { title: form.get("new_title") })).id;
      }
      const url = `/api/galleries/${galleryId}/items`;
      const meta = {
        model: Number(jobId),
        action: saving.action,
        title: form.get("title"),
        caption: form.get("caption") || "",
      };
      if (saving.file) {
        const body = new FormData();
        for (const [k, v] of Object.entries({ ...meta, ...saving.params })) {
          if (v !== null && v !== undefined) body.append(k, v);
        }
        body.append("image", saving.file);
        const response = await fetch(url, {
          method: "POST",
          headers: { "X-CSRFToken": csrfToken() },
          body,
          credentials: "same-origin",
        });
        const data = await response.json().catch(() => ({}));
        if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
      } else {
        await postJSON(url, { ...meta, params: saving.params });
      }
      saveDialog.close();
      const note = document.createElement("p");
      note.setAttribute("role", "status");
      note.className = "message";
      note.textContent = "Saved. ";
      const link = document.createElement("a");
      link.href = `${config.dataset.galleries}${galleryId}/`;
      link.textContent = "Open the gallery";
      note.append(link);
      document.querySelector("main").prepend(note);
    } catch (error) {
      problem.textContent = error.message;
    } finally {
      button.disabled = false;
      button.textContent = "Save";
    }
  }

  // -- wiring -------------------------------------------------------------------

  document.querySelectorAll(".pg-section").forEach((section) => {
    const form = section.querySelector("form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      run(section);
    });
    section.querySelectorAll("[data-new-seed]").forEach((button) =>
      button.addEventListener("click", () => {
        form.elements.seed.value = Math.floor(Math.random() * 2 ** 31);
        run(section);
      }),
    );
    const layers = form.elements.layers;
    if (layers) {
      layers.addEventListener("change", () => {
        section.querySelector(".pg-custom").hidden = layers.value !== "custom";
      });
    }
  });

  const psi = weights.elements.truncation;
  if (psi) {
    const out = document.getElementById("pg-psi-value");
    psi.addEventListener("input", () => (out.textContent = Number(psi.value).toFixed(2)));
  }

  const gallerySelect = document.getElementById("pg-save-gallery");
  gallerySelect.addEventListener("change", () => {
    saveForm.querySelector(".pg-new-gallery").hidden = gallerySelect.value !== "new";
  });
  saveForm.addEventListener("submit", save);
  saveForm.querySelector("[data-close]").addEventListener("click", () => saveDialog.close());

  // Remix: a gallery item's settings fill the controls, and it is drawn again.
  function setField(form, name, value) {
    const field = form.elements[name];
    if (!field || value === null || value === undefined) return;
    if (field.tagName === "SELECT" && ![...field.options].some((o) => o.value === String(value))) {
      field.add(new Option(String(value), String(value)));
    }
    field.value = Array.isArray(value) ? value.join(",") : String(value);
    field.dispatchEvent(new Event("input"));
  }

  function applyRemix(remix) {
    const section = document.querySelector(`.pg-section[data-action="${remix.action}"]`);
    if (!section) return null;
    const params = remix.params;
    for (const name of ["checkpoint", "generator", "truncation"]) {
      setField(weights, name, params[name]);
    }
    const form = section.querySelector("form");
    for (const [name, value] of Object.entries(params)) {
      if (name === "layers" && Array.isArray(value)) {
        // A list of w indices: the custom range it spans.
        setField(form, "layers", "custom");
        setField(form, "custom_layers", `${Math.min(...value)}-${Math.max(...value)}`);
        section.querySelector(".pg-custom").hidden = false;
      } else if (!["checkpoint", "generator", "truncation"].includes(name)) {
        setField(form, name, value);
      }
    }
    section.scrollIntoView();
    return section;
  }

  // Other sections' scripts (directions.js) draw and save the same way.
  window.pgPlayground = { call, caption, figure, saveButton, weightParams, setField };

  const remixData = document.getElementById("pg-remix");
  const remix = remixData ? JSON.parse(remixData.textContent) : null;
  const remixed = remix ? applyRemix(remix) : null;
  // A first grid straight away, so the page opens on something to look at.
  const first = remixed || document.querySelector('.pg-section[data-action="sample"]');
  if (remixed) run(remixed);
  else if (first && info.calls.includes("sample")) run(first);
})();
