// Draws the stratified totals as a bar chart from the table beside it (the table stays: it is the
// accessible alternative, and what the page shows without scripts). No inline script: CSP.
(function () {
  "use strict";
  function draw(container) {
    if (!container || typeof Chart === "undefined") return;
    var table = container.querySelector("table");
    if (!table) return;
    var rows = Array.prototype.filter.call(table.querySelectorAll("tbody tr"), function (r) { return r.children.length >= 2; });
    var labels = [], values = [];
    rows.forEach(function (r) {
      var v = Number(r.children[1].textContent.trim());
      labels.push(r.children[0].textContent.trim());
      values.push(isNaN(v) || r.children[1].textContent.trim() === "" ? null : v);   // below threshold: no bar
    });
    if (labels.length === 0) return;
    var old = container.querySelector(".chart");
    if (old) old.remove();
    var box = document.createElement("div");
    box.className = "chart";
    box.style.height = (4 + 2 * labels.length) + "rem";
    var canvas = document.createElement("canvas");
    canvas.id = "strata-chart";
    canvas.setAttribute("role", "img");
    // the table carries the numbers for screen readers; the picture names itself and points there
    canvas.setAttribute("aria-label", (table.getAttribute("aria-label") || "") + ": " +
      labels.map(function (l, i) { return l + " " + (values[i] == null ? "–" : values[i]); }).join(", "));
    box.appendChild(canvas);
    container.insertBefore(box, table);
    new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{ data: values, backgroundColor: "#0b5cad", borderColor: "#0b5cad" }] },
      options: { indexAxis: "y", animation: false, responsive: true, maintainAspectRatio: false,
                 plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  window.midiaStrataChart = draw;
  draw(document.getElementById("strata-total"));
})();
