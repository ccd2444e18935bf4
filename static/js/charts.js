// Draws every Plotly figure the server embedded with json_script, in our own static file (CSP-friendly).
// Loaded with `defer` after plotly.js: the page's text and tables show first, each chart box saying
// "Loading the chart…" (hidden by CSS once plotly.js takes the box) until it is drawn.
(function () {
  "use strict";
  // plotly.js's own words (mode bar) in the page's language: zh-CN comes from chart_locale_zh_cn.js.
  var zh = (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0;
  var config = {responsive: true, displaylogo: false, locale: zh ? "zh-CN" : "en",
                modeBarButtonsToRemove: ["select2d", "lasso2d", "sendChartToCloud"]};
  function draw() {
    document.querySelectorAll("[data-plotly-figure]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-plotly-figure"));
      if (!source || !window.Plotly) { return; }
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(element, figure.data, figure.layout, config).then(function () {
        element.dataset.drawn = "true";
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
