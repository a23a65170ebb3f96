// The chair's queue of requests to speak (/portal/speakers): reload when the queue changes.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  if (document.body.dataset.page !== "portal-speakers") return;
  const title = document.getElementById("speakers-title");
  Congress.live({
    speakers: (data) => { if (!title || data.item === title.dataset.item) window.location.reload(); },
    agenda: () => { if (!new URLSearchParams(window.location.search).get("item")) window.location.reload(); },
  });
});
