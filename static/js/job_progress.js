// The one progress bar of background jobs (analysis runs, imports, ...): templates/core/_job_progress.html.
// Polls the job's status (/jobs/<kind>/<pk>/status.json), moves the bar, and once the job has
// finished reloads the page, which then shows its result. A job that failed because its task was
// never sent or its worker stopped says so (the message comes translated) before the reload.
// Loaded by the partial itself, so it may be loaded more than once: each bar is polled once.
(function () {
  "use strict";
  document.querySelectorAll(".job-progress[data-status-url]").forEach(function (box) {
    if (box.dataset.polling) { return; }
    box.dataset.polling = "yes";
    var bar = box.querySelector("progress");
    var label = box.querySelector(".run-progress-label");
    function poll() {
      fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) {
          if (!response.ok) { throw new Error(response.status); }
          return response.json();
        })
        .then(function (job) {
          bar.value = job.progress;
          label.textContent = job.message || (job.status_label + " · " + job.progress + "% " + job.note);
          if (job.finished) {
            setTimeout(function () { window.location.reload(); }, job.message ? 1500 : 0);
          } else {
            setTimeout(poll, 1000);
          }
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 500);  // soon after the page shows: a short job still shows where it is
  });
})();
