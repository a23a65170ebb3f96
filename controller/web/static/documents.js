// Document library: the upload goes by XMLHttpRequest so the page can show its progress; the server
// answers JSON (201 with the new document's page, or the refusal with its reason).
"use strict";

function documentsPage() {
  const form = document.getElementById("upload");
  if (!form) return;
  const bar = document.getElementById("upload-bar");
  const pct = document.getElementById("upload-pct");
  const err = document.getElementById("upload-error");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
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
      err.textContent = body.error || _("The upload failed (%(status)s).", { status: xhr.status }); err.hidden = false;
    });
    xhr.addEventListener("error", () => { err.textContent = _("The upload was interrupted."); err.hidden = false; });
    xhr.send(new FormData(form));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.body.dataset.page === "documents") documentsPage();
});
