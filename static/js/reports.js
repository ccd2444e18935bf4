// Report pages: draws the stored Plotly figures, and loads the profit-vs-volume chart (a point per
// customer) from its own JSON endpoint once the page is up. Hover shows the customer, click opens it.
(function () {
  "use strict";
  var zh = (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0;
  var config = {responsive: true, displaylogo: false, locale: zh ? "zh-CN" : "en",
                modeBarButtonsToRemove: ["select2d", "lasso2d", "toggleSpikelines", "sendChartToCloud"]};  // our data stays here
  var TYPES = {u1: Uint8Array, u2: Uint16Array, u4: Uint32Array, i4: Int32Array, f4: Float32Array, f8: Float64Array};
  var separators = {decimal: ".", thousands: ","};  // the page's language's, from the figure (layout.separators)

  function typed(spec) {
    var text = atob(spec.bdata), bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
    return new TYPES[spec.dtype](bytes.buffer);
  }

  // Customer ids travel as the first id and the gaps after it (small numbers, few bytes).
  function customerIds(spec, count) {
    var ids = new Int32Array(count);
    if (!count) { return ids; }
    var gaps = typed(spec.delta);
    ids[0] = spec.first;
    for (var i = 1; i < count; i++) { ids[i] = ids[i - 1] + gaps[i - 1]; }
    return ids;
  }

  function drawStored() {
    document.querySelectorAll("[data-report-figure]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-report-figure"));
      if (!source || !window.Plotly) { return; }
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(element, figure.data, figure.layout, config).then(function (plot) {
        // Bars that stand for customers (their ids in customdata) open the customer when clicked.
        if (!(figure.layout.meta && figure.layout.meta.click === "customer") || !element.dataset.customerUrl) { return; }
        plot.on("plotly_click", function (event) {
          var point = event && event.points && event.points[0];
          if (point && point.customdata) {
            window.location.href = element.dataset.customerUrl.replace(/\/0\/$/, "/" + point.customdata + "/");
          }
        });
      });
    });
  }

  // Money as text, from its digits: a decimal as the server writes it ("-27130141.25") becomes
  // "-27,130,141.25" with the page's separators. No float on the way, so every cent stays.
  function money(text) {
    text = String(text);
    var negative = text.charAt(0) === "-", parts = text.replace(/^[-+]/, "").split(".");
    var whole = parts[0].replace(/^0+(?=\d)/, "") || "0", fraction = ((parts[1] || "") + "00").slice(0, 2), grouped = "";
    while (whole.length > 3) { grouped = separators.thousands + whole.slice(-3) + grouped; whole = whole.slice(0, -3); }
    return (negative ? "-" : "") + whole + grouped + separators.decimal + fraction;
  }

  // Whole cents (an integer below 2**53) as money text.
  function cents(value) {
    var digits = String(Math.abs(value));
    while (digits.length < 3) { digits = "0" + digits; }
    return money((value < 0 ? "-" : "") + digits.slice(0, -2) + "." + digits.slice(-2));
  }

  // Whole cents as analytics.reports.value.money_cents sends them: int32, and the rare wider figure apart.
  function exactCents(spec) {
    var values = Float64Array.from(typed(spec));
    (spec.wide || []).forEach(function (entry) { values[entry[0]] = entry[1]; });
    return values;
  }

  function useSeparators(layout) {
    var marks = layout && layout.separators;
    if (marks && marks.length >= 1) { separators = {decimal: marks.charAt(0), thousands: marks.charAt(1)}; }
  }

  function detailsPanel(element) {
    var panel = document.getElementById("point-details");
    var labelsNode = document.getElementById("point-labels");
    var labels = labelsNode ? JSON.parse(labelsNode.textContent) : {};
    var cache = {}, wanted = null;
    function show(c) {
      if (c.id !== wanted) { return; }
      panel.textContent = "";
      var head = document.createElement("div");
      var badge = document.createElement("span");
      badge.className = "tier tier-" + c.tier; badge.textContent = c.tier; badge.title = c.tier_label;
      var link = document.createElement("a");
      link.href = c.url; link.textContent = c.code + " " + c.name;
      head.appendChild(badge); head.appendChild(document.createTextNode(" ")); head.appendChild(link);
      panel.appendChild(head);
      var facts = document.createElement("div");
      facts.className = "muted";
      facts.textContent = labels.revenue + " " + money(c.revenue) + " · " + labels.profit + " " + money(c.profit) +
        (c.action ? " · " + labels.action + ": " + c.action : "") + (c.owner ? " · " + labels.owner + ": " + c.owner : "");
      panel.appendChild(facts);
    }
    return function (id) {
      wanted = id;
      if (cache[id]) { show(cache[id]); return; }
      fetch(element.dataset.detailsUrl.replace(/\/0\.json$/, "/" + id + ".json"), {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (customer) { if (customer) { cache[id] = customer; show(customer); } })
        .catch(function () { /* the hover label still shows the figures */ });
    };
  }

  function drawProfitVolume(element) {
    fetch(element.dataset.pointsUrl, {credentials: "same-origin"})
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (payload) {
        mark("reports:points-loaded");
        var figure = payload.frame.figure, byTier = {}, idsByTrace = [], total = 0;
        useSeparators(figure.layout);
        payload.points.traces.forEach(function (points) { byTier[points.tier] = points; });
        figure.data.forEach(function (trace, index) {
          var meta = trace.meta || {}, points = byTier[meta.tier];
          idsByTrace.push(null);
          if (meta.role !== "points") { return; }
          if (!points) { trace.x = []; trace.y = []; return; }
          // Revenue and profit travel as exact whole cents: float64 coordinates for the drawing, and
          // the hover figures written from the cents themselves (customdata, read by the hovertemplate).
          var revenue = exactCents(points.revenue_cents), profit = exactCents(points.profit_cents), n = points.count;
          var x = new Float64Array(n), y = new Float64Array(n), figures = new Array(n);
          for (var i = 0; i < n; i++) {
            x[i] = revenue[i] / 100;
            y[i] = profit[i] / 100;
            figures[i] = [cents(revenue[i]), cents(profit[i])];
          }
          trace.x = x;
          trace.y = y;
          trace.customdata = figures;
          idsByTrace[index] = customerIds(points.ids, points.count);
          total += points.count;
          if (points.labels) { trace.text = points.labels; } else { trace.hovertemplate = trace.hovertemplate.replace("%{text}<br>", ""); }
        });
        element.textContent = "";
        if (element.clientWidth < 640) {  // a phone: the axis buttons become one menu instead of a row wider than the chart
          (figure.layout.updatemenus || []).forEach(function (menu) { menu.type = "dropdown"; menu.direction = "down"; });
        }
        var details = detailsPanel(element);
        return window.Plotly.newPlot(element, figure.data, figure.layout, config).then(function (plot) {
          function customerOf(event) {
            var point = event && event.points && event.points[0];
            var ids = point && idsByTrace[point.curveNumber];
            return ids ? ids[point.pointNumber] : null;
          }
          plot.on("plotly_hover", function (event) { var id = customerOf(event); if (id !== null) { details(id); } });
          plot.on("plotly_click", function (event) {
            var id = customerOf(event);
            if (id !== null) { window.location.href = payload.customer_url.replace(/\/0\/$/, "/" + id + "/"); }
          });
          element.customerIds = idsByTrace;  // which customer each drawn point is
          element.dataset.points = String(total);
          mark("reports:points-drawn");
          element.dataset.drawn = "true";
        });
      })
      .catch(function () {
        element.textContent = element.dataset.failed;
        element.dataset.drawn = "failed";
      });
  }

  function mark(name) { if (window.performance && performance.mark) { performance.mark(name); } }

  function start() {
    if (!window.Plotly) { return; }
    mark("reports:start");
    var big = document.getElementById("profit-volume");
    if (big) { drawProfitVolume(big); }  // its points download while the small figures draw
    drawStored();
    mark("reports:figures-drawn");
    var filters = document.getElementById("report-filters");
    if (filters) {
      filters.querySelectorAll("select").forEach(function (select) {
        select.addEventListener("change", function () { filters.submit(); });
      });
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
