// Upload page: drag and drop or pick files, then send them to the API with a
// progress bar. Without JavaScript the form posts to the page itself.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("id_upload");
  const zone = document.getElementById("drop-zone");
  const chosen = document.getElementById("chosen");
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const errorBox = document.getElementById("upload-error");
  const maxBytes = Number(form.dataset.maxBytes);
  const maxFiles = Number(form.dataset.maxFiles);
  const archivePattern = /\.(zip|tar|tgz|gz)$/i;
  let files = [];

  function megabytes(n) { return (n / 1048576).toFixed(1) + " MB"; }

  function choose(list) {
    files = Array.from(list || []);
    const total = files.reduce((sum, f) => sum + f.size, 0);
    chosen.textContent = files.length
      ? files.length + " file" + (files.length > 1 ? "s" : "") + ", " + megabytes(total)
      : "";
    errorBox.textContent = "";
    if (total > maxBytes) errorBox.textContent = "Too large: the limit is " + megabytes(maxBytes) + ".";
    else if (files.length > maxFiles) errorBox.textContent = "Too many files: at most " + maxFiles + " per upload; use an archive.";
  }

  input.addEventListener("change", () => choose(input.files));
  ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
    event.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, (event) => {
    event.preventDefault();
    zone.classList.remove("over");
  }));
  zone.addEventListener("drop", (event) => choose(event.dataTransfer.files));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!files.length) { errorBox.textContent = "Choose an archive or some images first."; return; }
    if (errorBox.textContent) return;
    const body = new FormData();
    body.append("name", form.elements.name.value);
    if (form.elements.pairing && form.elements.pairing.value) body.append("pairing", form.elements.pairing.value);
    if (files.length === 1 && archivePattern.test(files[0].name)) body.append("file", files[0]);
    else files.forEach((f) => body.append("files", f));
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.api);
    xhr.setRequestHeader("X-CSRFToken", form.elements.csrfmiddlewaretoken.value);
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    bar.value = 0;
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      bar.value = (100 * e.loaded) / e.total;
      status.textContent = "Uploading… " + megabytes(e.loaded) + " of " + megabytes(e.total);
    });
    xhr.upload.addEventListener("load", () => { status.textContent = "Checking the upload…"; });
    xhr.addEventListener("load", () => {
      let reply = {};
      try { reply = JSON.parse(xhr.responseText); } catch (e) { reply = {}; }
      if (xhr.status === 201) {
        status.textContent = "Uploaded; processing starts.";
        window.location.href = "/datasets/" + reply.id + "/";
        return;
      }
      bar.hidden = true;
      status.textContent = "";
      errorBox.textContent = reply.error || reply.detail || ("Upload failed (HTTP " + xhr.status + ").");
    });
    xhr.addEventListener("error", () => {
      bar.hidden = true;
      errorBox.textContent = "The connection failed during the upload.";
    });
    xhr.send(body);
  });
})();
