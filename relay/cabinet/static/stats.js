/* Statistics charts (Chart.js, vendored): drawn from the numbers embedded in the page
   (#stats-data, the document of GET /v1/reports/stats); every chart's table stays below it. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("stats-data");
    if (!source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var stats = data.stats;
    var labels = stats.buckets.map(function (b) { return b.start; });
    var palette = ["#1f6feb", "#2da44e", "#8250df", "#d4a72c", "#cf222e", "#6e7781",
                   "#0a7d83", "#bc4c00", "#4d2d8c", "#116329", "#953800", "#57606a"];
    function draw(name, config) {
      var figure = document.querySelector('figure[data-chart="' + name + '"]');
      if (!figure) { return; }
      figure.hidden = false;
      config.options = Object.assign({ responsive: true, maintainAspectRatio: false,
                                       animation: false }, config.options || {});
      new window.Chart(figure.querySelector("canvas"), config);
    }
    var statuses = Object.keys(data.labels.status);
    draw("status", {
      type: "bar",
      data: { labels: labels, datasets: statuses.map(function (s, i) {
        return { label: data.labels.status[s], backgroundColor: palette[i % palette.length],
                 data: stats.buckets.map(function (b) { return b.by_status[s] || 0; }) };
      }) },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }
    });
    var currencies = {};
    stats.buckets.forEach(function (b) { Object.keys(b.spend).forEach(function (c) { currencies[c] = 1; }); });
    draw("spend", {
      type: "line",
      data: { labels: labels, datasets: Object.keys(currencies).map(function (c, i) {
        return { label: c, borderColor: palette[i % palette.length],
                 data: stats.buckets.map(function (b) { return Number(b.spend[c] || 0); }) };
      }) },
      options: { scales: { y: { beginAtZero: true } } }
    });
    draw("operator", {
      type: "bar",
      data: { labels: stats.by_operator.map(function (o) { return o.operator || o.country || "?"; }),
              datasets: [{ label: data.labels.messages, backgroundColor: palette[0],
                           data: stats.by_operator.map(function (o) { return o.messages; }) }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } } }
    });
    draw("traffic", {
      type: "bar",
      data: { labels: labels, datasets: ["marketing", "transactional"].map(function (k, i) {
        return { label: data.labels.traffic[k], backgroundColor: palette[i + 2],
                 data: stats.buckets.map(function (b) {
                   return ((b.by_channel_category || {}).viber || {})[k] || 0; }) };
      }) },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }
    });
    draw("rates", {
      type: "line",
      data: { labels: labels, datasets: [
        { label: data.labels.delivery, borderColor: palette[1], data: data.rates.map(function (r) { return r.delivery; }) },
        { label: data.labels.read, borderColor: palette[2], data: data.rates.map(function (r) { return r.read; }) }
      ] },
      options: { scales: { y: { min: 0, max: 100 } } }
    });
    if (data.nps.length) {
      draw("nps", {
        type: "line",
        data: { labels: data.nps.map(function (n) { return n.month; }),
                datasets: [{ label: "NPS", borderColor: palette[0],
                             data: data.nps.map(function (n) { return n.nps; }) }] },
        options: { scales: { y: { min: -100, max: 100 } } }
      });
    }
  });
})();
