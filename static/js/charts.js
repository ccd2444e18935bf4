// Draws every Plotly figure the server embedded with json_script, in our own static file (CSP-friendly).
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("[data-plotly-figure]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-plotly-figure"));
      if (!source || !window.Plotly) { return; }
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(element, figure.data, figure.layout, {responsive: true, displaylogo: false, modeBarButtonsToRemove: ["sendChartToCloud"]});
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
