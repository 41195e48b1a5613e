// The UI's only script (no inline script anywhere: the pages' CSP forbids it).
// Draws the charts whose data the server put in data- attributes, again after each live
// update, and mirrors the time-travel slider into its text field.
(function () {
  "use strict";
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd"];
  var charts = {};

  function parse(el, name) {
    try { return JSON.parse(el.getAttribute(name) || "null"); } catch (e) { return null; }
  }

  function config(el) {
    var kind = el.getAttribute("data-chart");
    var values = parse(el, "data-values");
    var names = parse(el, "data-names") || [];
    if (!values) { return null; }
    var quiet = { animation: false, responsive: true, maintainAspectRatio: false };
    if (kind === "timeline") {
      var keys = ["new", "failed", "closed", "awaiting", "failure"];
      var scales = { y: { beginAtZero: true }, share: { position: "right", min: 0, max: 100,
        grid: { drawOnChartArea: false }, ticks: { callback: function (v) { return v + " %"; } } } };
      return { type: "line", options: Object.assign({ scales: scales }, quiet),
        data: { labels: values.labels, datasets: keys.map(function (key, i) {
          var line = { label: names[i] || key, data: values[key] || [], borderColor: COLORS[i],
            backgroundColor: COLORS[i], pointRadius: values.labels.length > 40 ? 0 : 3, tension: 0.2 };
          if (key === "failure") {  // the share of releases that failed, on its own axis
            Object.assign(line, { yAxisID: "share", borderDash: [6, 3], spanGaps: true });
          }
          return line;
        }) } };
    }
    if (kind === "status") {
      return { type: "doughnut", options: quiet, data: { labels: names,
        datasets: [{ data: values, backgroundColor: COLORS.slice(0, 4) }] } };
    }
    if (kind === "assignees") {  // the page lists the groups below the chart: no legend here
      return { type: "doughnut", options: Object.assign({ plugins: { legend: { display: false } } }, quiet),
        data: { labels: values.labels,
        datasets: [{ data: values.counts, backgroundColor: COLORS }] } };
    }
    if (kind === "workers") {
      return { type: "bar", options: Object.assign({ indexAxis: "y",
        plugins: { legend: { display: false } } }, quiet),
        data: { labels: values.labels, datasets: [{ label: "closed", data: values.counts, maxBarThickness: 28,
          backgroundColor: COLORS[0] }] } };
    }
    return null;
  }

  function theme() {  // the page's colours (light or dark) for the charts' text and grid
    var style = getComputedStyle(document.documentElement);
    Chart.defaults.color = style.getPropertyValue("--muted").trim() || Chart.defaults.color;
    Chart.defaults.borderColor = style.getPropertyValue("--line").trim() || Chart.defaults.borderColor;
    Chart.defaults.elements.arc.borderColor = style.getPropertyValue("--card").trim() || "#fff";
  }

  function draw(root) {
    if (typeof Chart === "undefined") { return; }
    theme();
    var found = (root || document).querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(found, function (el) {
      var made = config(el);
      if (!made) { return; }
      if (charts[el.id]) { charts[el.id].destroy(); }
      charts[el.id] = new Chart(el, made);
      el.setAttribute("data-drawn", "true");
    });
  }

  function mirror() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-mirror]"), function (el) {
      var target = document.getElementById(el.getAttribute("data-mirror"));
      if (!target) { return; }
      el.addEventListener("input", function () { target.value = el.value; });
    });
  }

  function trim() {  // a live list keeps its newest rows only (the Events page's window)
    Array.prototype.forEach.call(document.querySelectorAll("tbody[data-keep]"), function (body) {
      var keep = parseInt(body.getAttribute("data-keep"), 10);
      var rows = body.querySelectorAll("tr.event");
      for (var i = keep; i < rows.length; i++) { rows[i].remove(); }
    });
  }

  function refused(kept) {  // the form a refused post came from: same action, same hidden fields
    var forms = document.querySelectorAll("form[method=post]");
    return Array.prototype.filter.call(forms, function (form) {
      if (form.getAttribute("action") !== kept.action) { return false; }
      return Array.prototype.every.call(form.querySelectorAll("input[type=hidden]"), function (h) {
        var sent = kept.fields[h.name];
        return !sent || sent.indexOf(h.value) >= 0;
      });
    })[0];
  }

  function refill() {  // a refused form shows again what was typed into it
    var main = document.getElementById("main");
    var kept = main && parse(main, "data-refill");
    var form = kept && kept.fields && refused(kept);
    if (!form) { return; }
    Array.prototype.forEach.call(form.elements, function (el) {
      var skip = ["hidden", "password", "submit", "button", "file"];
      if (!el.name || el.disabled || skip.indexOf(el.type) >= 0) { return; }
      var values = kept.fields[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) >= 0;
      } else if (values.length) {
        el.value = values[0];
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); mirror(); refill(); });
  if (window.matchMedia) {  // the system switches between light and dark: redraw in its colours
    var dark = window.matchMedia("(prefers-color-scheme: dark)");
    if (dark.addEventListener) { dark.addEventListener("change", function () { draw(document); }); }
  }
  document.addEventListener("htmx:afterSettle", function () { draw(document); trim(); });
})();
