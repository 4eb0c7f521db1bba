/* "Find an image in the model": queue a projection, follow it over its socket,
   show the upload beside what the model makes of it. */
(function () {
  "use strict";
  const section = document.getElementById("pg-project");
  if (!section) return;
  const form = document.getElementById("pg-project-form");
  const bar = document.getElementById("pg-project-progress");
  const status = document.getElementById("pg-project-status");
  const result = document.getElementById("pg-project-result");
  const jobId = section.dataset.job;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function show(record) {
    bar.max = record.steps || 1;
    bar.value = record.step || 0;
    if (record.state === "queued") status.textContent = "Waiting for a worker…";
    if (record.state === "running") {
      const distance = record.distance == null ? "" : `, distance ${record.distance.toFixed(4)}`;
      status.textContent = `Searching: step ${record.step} of ${record.steps}${distance}`;
    }
    if (record.state === "failed") {
      status.className = "error";
      status.textContent = `The search failed: ${record.error}`;
    }
    if (record.state === "done") {
      bar.value = bar.max;
      status.textContent = `Found in ${record.space.toUpperCase()}: distance ${record.distance.toFixed(4)} after ${record.steps} steps.`;
      const figure = document.createElement("figure");
      const img = document.createElement("img");
      img.src = record.url;
      img.alt = "Your image, left, and the closest image the model makes, right";
      const caption = document.createElement("figcaption");
      caption.textContent = "Yours | the model's closest";
      figure.append(img, caption);
      const walk = document.createElement("button");
      walk.type = "button";
      walk.className = "button";
      walk.textContent = "Animate from it to another seed";
      walk.addEventListener("click", () => playWith(record.id));
      result.replaceChildren(figure, walk);
      document.dispatchEvent(new CustomEvent("pg-projection-done", { detail: record }));
    }
  }

  // Play with it: the interpolation starts from the found latent.
  function playWith(projectionId) {
    const section = document.querySelector('.pg-section[data-action="interpolate"]');
    const form = section.querySelector("form");
    form.elements.projection.value = projectionId;
    section.scrollIntoView();
    form.requestSubmit();
  }

  function follow(socketPath) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${socketPath}`);
    socket.onmessage = (message) => {
      const record = JSON.parse(message.data);
      show(record);
      if (record.state === "done" || record.state === "failed") socket.close();
    };
  }

  // Choosing a starting seed again leaves the found latent behind.
  const walkForm = document.querySelector('.pg-section[data-action="interpolate"] form');
  if (walkForm) {
    walkForm.elements.seed_a.addEventListener("input", () => { walkForm.elements.projection.value = ""; });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.className = "";
    result.replaceChildren();
    bar.hidden = false;
    bar.value = 0;
    status.textContent = "Sending the image…";
    const response = await fetch(`/api/models/${jobId}/project`, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken() },
      body: new FormData(form),
      credentials: "same-origin",
    });
    const body = await response.json();
    if (!response.ok) {
      status.className = "error";
      status.textContent = body.error || `the server answered ${response.status}`;
      return;
    }
    show(body);
    follow(body.socket);
  });
})();
