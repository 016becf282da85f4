// Draws the physician view's trend charts from the page's JSON data block (no inline script: CSP).
(function () {
  var data = document.getElementById('trend-data');
  if (!data || typeof Chart === 'undefined') return;
  JSON.parse(data.textContent).forEach(function (series) {
    var canvas = document.getElementById(series.id);
    if (!canvas) return;
    new Chart(canvas, {
      type: 'line',
      data: {
        labels: series.dates,
        datasets: [{ label: series.label + (series.unit ? ' (' + series.unit + ')' : ''), data: series.values,
                     borderColor: '#0b5cad', backgroundColor: '#0b5cad', pointRadius: 3, tension: 0 }]
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } },
                 scales: { y: { beginAtZero: false } } }
    });
  });
})();
