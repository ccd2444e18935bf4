// Report pages: draws the stored Plotly figures, and loads the profit-vs-volume chart (a point per
// customer) from its own JSON endpoint once the page is up. Hover shows the customer, click opens it.
(function () {
  "use strict";
  var zh = (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0;
  var config = {responsive: true, displaylogo: false, displayModeBar: "hover", locale: zh ? "zh-CN" : "en",
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

  // Where a click on `point` goes: the customer its customdata names, or the customer list filtered
  // by the query its customdata holds (a heatmap's cell: customdata[row][column]) and the report's scope.
  function drillTarget(click, url, point, scope) {
    if (!point) { return null; }
    var value = point.customdata;
    if (value === undefined && point.data && point.data.customdata) {
      var index = point.pointNumber;
      value = Array.isArray(index) ? point.data.customdata[index[0]][index[1]] : point.data.customdata[index];
    }
    if (value === undefined || value === null || value === "") { return null; }
    if (click === "customer") { return url.replace(/\/0\/$/, "/" + value + "/"); }
    return url + "?" + String(value) + (scope ? "&" + scope : "");
  }

  // Axes of whole customers (tickformat ",d") over a few only: one tick per customer, not 0, 0.5, 1...
  // written "0, 1, 1".
  function wholeTicks(figure) {
    Object.keys(figure.layout).forEach(function (key) {
      var axis = figure.layout[key], found = /^([xy])axis(\d*)$/.exec(key);
      if (!found || !axis || axis.tickformat !== ",d" || axis.dtick) { return; }
      var ref = found[1] + found[2], most = 0;
      figure.data.forEach(function (trace) {
        if ((trace[found[1] + "axis"] || found[1]) !== ref) { return; }
        (trace[found[1]] || []).forEach(function (v) { if (typeof v === "number") { most = Math.max(most, v); } });
      });
      if (most <= 5) { axis.dtick = 1; }
    });
  }

  function drawStored() {
    document.querySelectorAll("[data-report-figure]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-report-figure"));
      if (!source || !window.Plotly) { return; }
      var figure = JSON.parse(source.textContent), click = figure.layout.meta && figure.layout.meta.click;
      element.querySelectorAll(".chart-loading").forEach(function (note) { note.remove(); });
      wholeTicks(figure);
      window.Plotly.newPlot(element, figure.data, figure.layout, config).then(function (plot) {
        // Bars that stand for one customer (its id in customdata) open the customer; bars, cells and
        // months that stand for customers (the customer list's query in customdata, layout.meta.click
        // "list") open the list filtered to exactly them, within the report's own filters.
        var open = {customer: element.dataset.customerUrl, list: element.dataset.listUrl}[click];
        if (!open) { return; }
        element.dataset.drill = click;
        plot.on("plotly_click", function (event) {
          var target = drillTarget(click, open, event && event.points && event.points[0], element.dataset.listScope);
          if (target) { window.location.href = target; }
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

  // ------------------------------------------------------------------ profit vs volume: the scales
  // "scaled": asinh(value / s) on both axes, s a small customer's figure (the tenth percentile of the
  // non-zero |values|; the median squeezed the small half into the linear part): linear near zero,
  // logarithmic far from it, on both sides of zero, so small customers, the largest ones and the
  // loss-makers all show. The ticks are real money at round figures.
  var PAD = 0.22;  // room around the points, a share of their span on each side (labels, and no point on an edge)

  // (A typed array's own numeric sort: 8-10 ms for 91,886 values, against 40-77 ms for an array with a comparator.)
  function typical(values) {
    var size = 0, k = 0;
    values.forEach(function (list) { size += list.length; });
    var found = new Float64Array(size);
    values.forEach(function (list) { for (var i = 0; i < list.length; i++) { if (list[i]) { found[k++] = Math.abs(list[i]); } } });
    if (!k) { return 1; }
    found = found.subarray(0, k).sort();
    return found[Math.floor(k / 10)] || 1;
  }

  function asinhScale(s) {
    return {to: function (v) { return Math.asinh(v / s); }, from: function (t) { return s * Math.sinh(t); }};
  }

  // A whole amount as the page writes money, without the cents: "-1,000,000".
  function wholeMoney(value) {
    var digits = String(Math.round(Math.abs(value))), grouped = "";
    while (digits.length > 3) { grouped = separators.thousands + digits.slice(-3) + grouped; digits = digits.slice(0, -3); }
    return (value < 0 ? "-" : "") + digits + grouped;
  }

  // Round figures (0, then 1, 5 and 2 times a power of ten, either sign) inside [lo, hi] (scaled
  // units), no two closer than 1/`most` of the span: the axis's tick values (scaled) and texts (money).
  function roundTicks(scale, lo, hi, most) {
    var gap = (hi - lo) / most, chosen = [];
    function fits(v) {
      var t = scale.to(v);
      if (t < lo || t > hi) { return false; }
      for (var i = 0; i < chosen.length; i++) { if (Math.abs(scale.to(chosen[i]) - t) < gap) { return false; } }
      return true;
    }
    [0].concat([1, 5, 2].reduce(function (all, m) {
      for (var k = 0; k <= 15; k++) { all.push(m * Math.pow(10, k), -m * Math.pow(10, k)); }
      return all;
    }, [])).forEach(function (v) { if (fits(v)) { chosen.push(v); } });
    chosen.sort(function (a, b) { return a - b; });
    return {vals: chosen.map(scale.to), text: chosen.map(wholeMoney)};
  }

  function spanOf(lists) {
    var lo = Infinity, hi = -Infinity;
    lists.forEach(function (list) { for (var i = 0; i < list.length; i++) { lo = Math.min(lo, list[i]); hi = Math.max(hi, list[i]); } });
    if (lo === Infinity) { lo = -1; hi = 1; }
    if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
    var pad = (hi - lo) * PAD;
    return [lo - pad, hi + pad];
  }

  function mapped(list, f) { var out = new Float64Array(list.length); for (var i = 0; i < list.length; i++) { out[i] = f(list[i]); } return out; }

  // Each trace's coordinates and the axes for both scales: {scaled: {x, y, layout}, linear: {...}}.
  // `raw` holds each trace's money coordinates (points, rings, guides, labels) as drawn to scale.
  function profitVolumeScales(figure, raw, width) {
    var roles = figure.data.map(function (trace) { return (trace.meta || {}).role; });
    var pointX = [], pointY = [];
    raw.forEach(function (xy, t) { if (roles[t] === "points") { pointX.push(xy.x); pointY.push(xy.y); } });
    var sx = asinhScale(typical(pointX)), sy = asinhScale(typical(pointY));
    var scaledX = pointX.map(function (l) { return mapped(l, sx.to); }), scaledY = pointY.map(function (l) { return mapped(l, sy.to); });
    var xr = spanOf(scaledX), yr = spanOf(scaledY.concat([[0]]));
    // At most a tick per ~110 px across (a phone: three or four, unrotated), seven up the chart.
    var xt = roundTicks(sx, xr[0], xr[1], Math.max(3, Math.min(7, Math.floor((width - 80) / 110)))), yt = roundTicks(sy, yr[0], yr[1], 7);
    var scaled = {x: [], y: []}, linear = {x: [], y: []};
    raw.forEach(function (xy, t) {
      linear.x.push(xy.x); linear.y.push(xy.y);
      var x = mapped(xy.x, sx.to), y = mapped(xy.y, sy.to);
      if (roles[t] === "guide" && xy.y.length === 2 && xy.y[0] === xy.y[1]) { x = Float64Array.from(xr); }  // across the plot
      if (roles[t] === "guide" && xy.x.length === 2 && xy.x[0] === xy.x[1]) { y = Float64Array.from(yr); }  // from bottom to top
      scaled.x.push(x); scaled.y.push(y);
    });
    scaled.layout = {
      "xaxis.autorange": false, "xaxis.range": xr, "xaxis.tickmode": "array", "xaxis.tickvals": xt.vals, "xaxis.ticktext": xt.text,
      "yaxis.autorange": false, "yaxis.range": yr, "yaxis.tickmode": "array", "yaxis.tickvals": yt.vals, "yaxis.ticktext": yt.text,
      "meta.scale": "scaled"
    };
    linear.layout = {
      "xaxis.autorange": true, "xaxis.range": null, "xaxis.tickmode": "auto", "xaxis.tickvals": null, "xaxis.ticktext": null,
      "yaxis.autorange": true, "yaxis.range": null, "yaxis.tickmode": "auto", "yaxis.tickvals": null, "yaxis.ticktext": null,
      "meta.scale": "linear"
    };
    return {scaled: scaled, linear: linear};
  }

  // "xaxis.range": [...] set on a layout object as layout.xaxis.range (for the first drawing).
  function applyLayout(layout, flat) {
    Object.keys(flat).forEach(function (path) {
      var keys = path.split("."), node = layout;
      for (var i = 0; i < keys.length - 1; i++) { node = node[keys[i]] = node[keys[i]] || {}; }
      if (flat[path] === null) { delete node[keys[keys.length - 1]]; } else { node[keys[keys.length - 1]] = flat[path]; }
    });
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
          // Revenue and profit travel as exact whole cents: float64 money for the drawing and for the
          // hover (customdata, which the hovertemplate writes as text with the page's separators only
          // when a point is hovered: no 2 strings per point made up front).
          var revenue = exactCents(points.revenue_cents), profit = exactCents(points.profit_cents), n = points.count;
          var x = new Float64Array(n), y = new Float64Array(n), figures = new Array(n);
          for (var i = 0; i < n; i++) {
            x[i] = revenue[i] / 100;
            y[i] = profit[i] / 100;
            figures[i] = [x[i], y[i]];
          }
          trace.x = x;
          trace.y = y;
          trace.customdata = figures;
          idsByTrace[index] = customerIds(points.ids, points.count);
          total += points.count;
          if (points.labels) { trace.text = points.labels; } else { trace.hovertemplate = trace.hovertemplate.replace("%{text}<br>", ""); }
        });
        // Every trace's money coordinates; the loss-makers' rings gathered from the points.
        var lossX = [], lossY = [];
        figure.data.forEach(function (trace) {
          if ((trace.meta || {}).role !== "points") { return; }
          for (var i = 0; i < trace.y.length; i++) { if (trace.y[i] < 0) { lossX.push(trace.x[i]); lossY.push(trace.y[i]); } }
        });
        var raw = figure.data.map(function (trace) {
          if ((trace.meta || {}).role === "losses") { return {x: Float64Array.from(lossX), y: Float64Array.from(lossY)}; }
          return {x: Float64Array.from(trace.x || []), y: Float64Array.from(trace.y || [])};
        });
        var scales = profitVolumeScales(figure, raw, element.clientWidth || 800), indices = figure.data.map(function (_t, i) { return i; });
        var first = scales.scaled;
        figure.data.forEach(function (trace, t) { trace.x = first.x[t]; trace.y = first.y[t]; });
        applyLayout(figure.layout, first.layout);
        (figure.layout.updatemenus || []).forEach(function (menu) {
          menu.buttons.forEach(function (button) {
            var scale = scales[button.name];
            if (scale) { button.args = [{x: scale.x, y: scale.y}, scale.layout, indices]; }
          });
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
