// Progressive enhancement for the UI. No inline scripts (the CSP forbids them): data arrives in
// <script type="application/json"> blocks, behaviour hangs off ids and data-* attributes.
(function () {
  "use strict";

  // Every htmx request carries the CSRF token from the page's meta tag.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.querySelector('meta[name="csrf-token"]');
    if (token) { event.detail.headers["X-CSRFToken"] = token.content; }
  });

  // Upload progress for the revenue import.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var bar = document.getElementById("upload-progress");
    if (bar && event.detail.lengthComputable) {
      bar.hidden = false;
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });
  document.addEventListener("htmx:afterRequest", function () {
    var bar = document.getElementById("upload-progress");
    if (bar) { bar.value = 100; }
  });

  function readJSON(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  var palette = ["#0b5cad", "#1b7a3d", "#b42318", "#8a5a00", "#6b3fa0", "#0e7c86", "#52606d", "#c05621"];

  function audienceChart() {
    var canvas = document.getElementById("audience-chart");
    var data = readJSON("audience-data");
    if (!canvas || !data || !window.Chart) { return; }
    var datasets = [];
    Object.keys(data).forEach(function (platform, i) {
      var series = data[platform];
      datasets.push({ label: platform + " followers", data: series.followers, yAxisID: "y", borderColor: palette[i * 3 % 8], pointRadius: 0 });
      datasets.push({ label: platform + " views", data: series.views, yAxisID: "y1", borderColor: palette[(i * 3 + 1) % 8], pointRadius: 0, hidden: i > 0 });
      datasets.push({ label: platform + " engagement %", data: series.engagement, yAxisID: "y2", borderColor: palette[(i * 3 + 2) % 8], pointRadius: 0, hidden: true });
    });
    var first = Object.keys(data)[0];
    var labels = first ? data[first].days : [];
    var chart = new window.Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: datasets },
      options: { animation: false, interaction: { mode: "index", intersect: false },
                 scales: { y: { position: "left", title: { display: true, text: "followers" } },
                           y1: { position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "views" } },
                           y2: { display: false } } }
    });
    var full = { labels: labels, sets: datasets.map(function (d) { return d.data.slice(); }) };
    document.querySelectorAll("button.range").forEach(function (button) {
      button.addEventListener("click", function () {
        var days = parseInt(button.dataset.days, 10);
        var start = Math.max(0, full.labels.length - days);
        chart.data.labels = full.labels.slice(start);
        chart.data.datasets.forEach(function (d, i) { d.data = full.sets[i].slice(start); });
        chart.update();
        document.querySelectorAll("button.range").forEach(function (b) { b.setAttribute("aria-pressed", b === button ? "true" : "false"); });
      });
    });
    var pressed = document.querySelector('button.range[aria-pressed="true"]');
    if (pressed) { pressed.click(); }
  }

  function mixChart() {
    var canvas = document.getElementById("mix-chart");
    var data = readJSON("mix-data");
    if (!canvas || !data || !window.Chart) { return; }
    var sources = Object.keys(data.sources);
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: ["by source", "by platform"],
              datasets: sources.map(function (s, i) { return { label: s.replace(/_/g, " "), data: [parseFloat(data.sources[s]), null], backgroundColor: palette[i % 8], stack: "mix" }; })
                .concat(Object.keys(data.platforms).map(function (p, i) { return { label: p, data: [null, parseFloat(data.platforms[p])], backgroundColor: palette[(i + 4) % 8], stack: "mix" }; })) },
      options: { animation: false, indexAxis: "y", scales: { x: { stacked: true }, y: { stacked: true } } }
    });
  }

  // Receivables by age bucket (the aging page's tables and caption carry the same numbers).
  function agingChart() {
    var canvas = document.getElementById("aging-chart");
    var data = readJSON("aging-data");
    if (!canvas || !data || !window.Chart) { return; }
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ label: "owed", data: data.values.map(parseFloat), backgroundColor: palette.slice(0, data.labels.length) }] },
      options: { animation: false, plugins: { legend: { display: false } } }
    });
  }

  // The dashboard's trends; each chart has its numbers in a table beside it.
  function dashboardCharts() {
    var data = readJSON("trends-data");
    if (!data || !window.Chart) { return; }
    var revenue = document.getElementById("revenue-chart");
    if (revenue) {
      new window.Chart(revenue, {
        type: "bar",
        data: { labels: data.revenue.months,
                datasets: Object.keys(data.revenue.sources).map(function (s, i) {
                  return { label: s.replace(/_/g, " "), data: data.revenue.sources[s].map(parseFloat), backgroundColor: palette[i % 8] };
                }) },
        options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true } } }
      });
    }
    var pipeline = document.getElementById("pipeline-chart");
    if (pipeline) {
      var stages = Object.keys(data.pipeline);
      new window.Chart(pipeline, {
        type: "bar",
        data: { labels: stages.map(function (s) { return s.replace(/_/g, " "); }),
                datasets: [{ label: "value", data: stages.map(function (s) { return parseFloat(data.pipeline[s]); }), backgroundColor: palette[0] }] },
        options: { animation: false, indexAxis: "y", plugins: { legend: { display: false } } }
      });
    }
    var eligibility = document.getElementById("eligibility-chart");
    if (eligibility) {
      new window.Chart(eligibility, {
        type: "bar",
        data: { labels: data.eligibility.weeks,
                datasets: [{ label: "gained", data: data.eligibility.gained, backgroundColor: palette[1] },
                           { label: "lost", data: data.eligibility.lost, backgroundColor: palette[2] }] },
        options: { animation: false }
      });
    }
  }

  function selectAll() {
    var box = document.getElementById("select-all");
    if (!box) { return; }
    box.addEventListener("change", function () {
      document.querySelectorAll('#alerts-form input[name="ids"]').forEach(function (c) { c.checked = box.checked; });
    });
  }

  // Destructive buttons ask first (the server does not depend on it).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) { event.preventDefault(); }
  });

  document.addEventListener("DOMContentLoaded", function () { audienceChart(); mixChart(); agingChart(); dashboardCharts(); selectAll(); });
}());
