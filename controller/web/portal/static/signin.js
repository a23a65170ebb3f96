// Sign-in page: read the badge (camera + jsQR, or the typed code), then the PIN; pairing a tablet.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const error = (text) => { $("error").textContent = text || ""; };
  let badge = null;
  let seat = false;
  let hasPin = true;
  let stream = null;

  async function check(text) {
    error("");
    try {
      const who = await Portal.api("/p/signin/check", { method: "POST", json: { badge: text } });
      badge = text; seat = false; hasPin = who.has_pin;
      showPin(who.name, who.delegation);
    } catch (e) { error(e.message); }
  }

  function showPin(name, delegation) {
    stopCamera();
    $("step-badge").hidden = true;
    $("step-pin").hidden = false;
    $("who").textContent = delegation ? `${name} · ${delegation}` : name;
    $("pin-new").hidden = hasPin;
    $("pin2").required = !hasPin;
    $("pin-label").textContent = hasPin ? _("PIN") : _("Choose a PIN");
    $("pin").value = ""; $("pin2").value = "";
    $("pin").focus();
  }

  function stopCamera() {
    if (stream) { for (const t of stream.getTracks()) t.stop(); stream = null; }
    if ($("scanner")) $("scanner").hidden = true;
  }

  async function scan() {
    error("");
    if (!navigator.mediaDevices || !window.jsQR) { error(_("This device has no camera here: type the code instead.")); return; }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) { error(_("The camera could not be opened: type the code instead.")); return; }
    const video = $("camera");
    video.srcObject = stream;
    $("scanner").hidden = false;
    await video.play();
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const tick = () => {
      if (!stream) return;
      if (video.readyState >= 2 && video.videoWidth) {
        canvas.width = video.videoWidth; canvas.height = video.videoHeight;
        ctx.drawImage(video, 0, 0);
        const found = window.jsQR(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width,
          canvas.height, { inversionAttempts: "dontInvert" });
        if (found && found.data) { check(found.data.trim()); return; }
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  async function signIn(ev) {
    ev.preventDefault();
    error("");
    const pin = $("pin").value;
    if (!hasPin && pin !== $("pin2").value) { error(_("The two PINs differ.")); return; }
    const body = { pin, new_pin: !hasPin };
    if (seat) body.seat = true; else body.badge = badge;
    $("signin").disabled = true;
    try {
      const r = await Portal.api("/p/signin", { method: "POST", json: body });
      window.location.assign(r.next);
    } catch (e) {
      error(e.message);
      if (e.status === 429 && e.body && e.body.retry_after) {
        // The badge is slowed down after wrong PINs: count down, then the button works again.
        let left = e.body.retry_after;
        const t = setInterval(() => {
          left -= 1;
          $("signin").textContent = left > 0 ? _("Wait %(seconds)s s", { seconds: left }) : _("Sign in");
          if (left <= 0) { clearInterval(t); $("signin").disabled = false; }
        }, 1000);
        return;
      }
    }
    $("signin").disabled = false;
  }

  if (document.body.dataset.page === "signin") {
    $("scan").addEventListener("click", scan);
    $("code-form").addEventListener("submit", (ev) => { ev.preventDefault(); check($("code").value); });
    $("pin-form").addEventListener("submit", signIn);
    $("other-badge").addEventListener("click", () => { badge = null; $("step-pin").hidden = true; $("step-badge").hidden = false; });
    const seatButton = $("seat-signin");
    if (seatButton) seatButton.addEventListener("click", () => {
      seat = true; badge = null;
      hasPin = document.getElementById("seat-card").dataset.hasPin === "yes";
      showPin(document.querySelector("#seat-card .who").textContent, "");
    });
  }
  if (document.body.dataset.page === "pair") {
    $("pair-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const r = await Portal.api("/p/pair", { method: "POST", json: { code: $("pair-code").value } });
        window.location.assign(r.next);
      } catch (e) { error(e.message); }
    });
  }
})();
