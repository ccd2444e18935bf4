// Live progress of an analysis run: polls its status and reloads the page once it has finished.
(function () {
  "use strict";
  document.querySelectorAll("[data-status-url]").forEach(function (box) {
    var bar = box.querySelector("progress");
    var label = box.querySelector(".run-progress-label");
    function poll() {
      fetch(box.dataset.statusUrl, {credentials: "same-origin"})
        .then(function (response) { return response.json(); })
        .then(function (run) {
          bar.value = run.progress;
          label.textContent = run.status_label + " · " + run.progress + "% " + run.note;
          if (run.finished) { window.location.reload(); } else { setTimeout(poll, 1500); }
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 1000);
  });
})();
