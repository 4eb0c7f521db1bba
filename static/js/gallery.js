// Gallery page: drag an item onto another to reorder (the ↑/↓ buttons work
// without JavaScript). The new order goes to POST /api/galleries/<id>/order.
(function () {
  "use strict";

  const list = document.getElementById("gal-items");
  if (!list) return;
  let dragged = null;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function saveOrder() {
    const items = [...list.querySelectorAll("[data-item]")].map((li) =>
      Number(li.dataset.item),
    );
    const response = await fetch(list.dataset.orderUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ items }),
      credentials: "same-origin",
    });
    // Reload so the ↑/↓ buttons and positions match what the server kept.
    if (response.ok) window.location.reload();
  }

  list.querySelectorAll("[data-item]").forEach((li) => {
    li.draggable = true;
    li.addEventListener("dragstart", (event) => {
      dragged = li;
      event.dataTransfer.effectAllowed = "move";
    });
    li.addEventListener("dragover", (event) => {
      if (dragged && dragged !== li) event.preventDefault();
    });
    li.addEventListener("drop", (event) => {
      event.preventDefault();
      if (!dragged || dragged === li) return;
      const after = dragged.compareDocumentPosition(li) & Node.DOCUMENT_POSITION_FOLLOWING;
      li[after ? "after" : "before"](dragged);
      dragged = null;
      saveOrder();
    });
  });
})();
