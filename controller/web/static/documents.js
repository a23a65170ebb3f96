// Document library: the upload goes by XMLHttpRequest so the page can show its progress; the server
// answers JSON (201 with the new document's page, or the refusal with its reason).
"use strict";

function documentsPage() {
  const form = document.getElementById("upload");
  if (!form) return;
  const bar = document.getElementById("upload-bar");
  const pct = document.getElementById("upload-pct");
  const err = document.getElementById("upload-error");
  const send = form.querySelector("button[type=submit]");
  function failed(text) {  // the refusal in place of the bar (a bar left at 100 % read as a success)
    bar.parentElement.hidden = true; bar.style.width = "0"; pct.textContent = "";
    err.textContent = text; err.hidden = false;
    send.disabled = false;
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (send.disabled) return;  // one upload at a time: a second press would store the document twice
    send.disabled = true;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", document.querySelector('meta[name="csrf-token"]').content);
    bar.parentElement.hidden = false; err.hidden = true;
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      const p = Math.round((100 * e.loaded) / e.total);
      bar.style.width = p + "%"; pct.textContent = p + " %";
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = { error: xhr.statusText }; }
      if (xhr.status === 201) { window.location.assign(body.url); return; }
      failed(body.error || _("The upload failed (%(status)s).", { status: xhr.status }));
    });
    xhr.addEventListener("error", () => failed(_("The upload was interrupted.")));
    xhr.send(new FormData(form));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.body.dataset.page === "documents") documentsPage();
});
