// Dataset page: follow the processing state live over /ws/datasets/<id>/ (or by
// polling the API when the socket cannot open), reload when it settles; once
// ready, show the training caches being built ("preparing 128 px: 3,400 / 20,000").
(function () {
  "use strict";
  const script = document.getElementById("dataset-state-event");
  if (!script) return;
  let current = JSON.parse(script.textContent);
  const stateBadge = document.getElementById("dataset-state");
  const bar = document.getElementById("dataset-progress");
  const errorBox = document.getElementById("dataset-error");
  const socketState = document.getElementById("socket-state");
  const cacheLine = document.getElementById("dataset-cache");
  const settled = (state) => state === "ready" || state === "failed";
  if (current.state === "failed") return;
  const preparing = new Map();  // image size -> line

  function showCache(event) {
    const n = (x) => Number(x || 0).toLocaleString("en");
    if (event.state === "building") {
      preparing.set(event.image_size, `preparing ${event.image_size} px: ${n(event.done)} / ${n(event.total)}`);
    } else if (event.state === "failed") {
      preparing.set(event.image_size, `${event.image_size} px not prepared: ${event.error}`);
    } else {
      preparing.delete(event.image_size);
    }
    cacheLine.textContent = [...preparing.values()].join(" · ");
  }

  function show(event) {
    if (event.type === "dataset.cache") { showCache(event); return; }
    if (event.type !== "dataset.state") return;
    stateBadge.textContent = event.state;
    stateBadge.className = "state state-" + event.state;
    bar.hidden = settled(event.state);
    bar.value = event.progress || 0;
    errorBox.textContent = event.error || "";
    if (settled(event.state) && !settled(current.state)) window.location.reload();
    current = event;
  }

  let polling = null;
  function poll() {
    if (polling) return;
    socketState.textContent = "checking every 2 s";
    polling = setInterval(() => {
      fetch("/api/datasets/" + current.id + "/", { credentials: "same-origin" })
        .then((r) => r.json())
        .then((d) => show({ type: "dataset.state", state: d.state, progress: d.progress, error: d.error }))
        .catch(() => {});
    }, 2000);
  }

  try {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + window.location.host + "/ws/datasets/" + current.id + "/");
    socket.onopen = () => { socketState.textContent = "live"; };
    socket.onmessage = (message) => show(JSON.parse(message.data));
    socket.onclose = () => { if (!settled(current.state)) poll(); else socketState.textContent = ""; };
  } catch (e) {
    poll();
  }
})();
