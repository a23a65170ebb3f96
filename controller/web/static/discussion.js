// The synthesis page: while a run is active, poll its progress and reload when it ends.
(function () {
  "use strict";
  const box = document.getElementById("runs");
  if (!box || !box.dataset.progressUrl) return;
  const url = box.dataset.progressUrl;
  const bar = document.getElementById("run-bar");
  const count = document.getElementById("run-count");
  const step = document.getElementById("run-step");
  const steps = {
    intake: _("checking the contributions"),
    segment: _("splitting sentences"),
    embed: _("reading the meaning"),
    themes: _("grouping themes and drafting"),
    done: _("finished"),
  };
  async function poll() {
    try {
      const r = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (r.ok) {
        const run = await r.json();
        if (!run.active) {
          const here = new URL(window.location.href);
          here.searchParams.set("run", run.ref);
          here.searchParams.delete("done");
          window.location.replace(here.toString());
          return;
        }
        if (run.total) {
          bar.max = run.total;
          bar.value = run.done;
          count.textContent = run.done + "/" + run.total;
        }
        step.textContent = steps[run.step] || "";
      }
    } catch (e) {
      // the controller is restarting or the network dropped: keep asking
    }
    window.setTimeout(poll, 2000);
  }
  window.setTimeout(poll, 1000);
})();
