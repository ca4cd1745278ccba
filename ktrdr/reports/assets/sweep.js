/* The sweep report's chart: each completed trial's objective and the best so far. */
(function () {
  "use strict";
  var K = window.ktrdrCharts;

  function draw(data, state) {
    var rows = data.history || [];
    if (!rows.length) { K.markRendered(state); return; }
    var LW = K.LW;
    /* Trial numbers on the horizontal axis, as the training report puts epochs there. */
    var chart = LW.createOptionsChart(document.getElementById("chart-history"), K.countedAxis("trial"));
    var values = chart.addSeries(LW.LineSeries, {
      color: "#1d4ed8", lineVisible: false, pointMarkersVisible: true, title: data.objective
    });
    var numbers = rows.map(function (r) { return r.number; });
    values.setData(K.points(numbers, rows.map(function (r) { return r.value; })));
    var best = chart.addSeries(LW.LineSeries, { color: "#0b8a5f", lineWidth: 2, title: "best so far" });
    best.setData(K.points(numbers, rows.map(function (r) { return r.best; })));
    var at = K.indexOf(numbers);
    var legend = K.legend("legend-history", at, rows.length, function (i) {
      var r = rows[i];
      return "trial " + r.number + "  " + data.objective + " " +
        (r.value === null ? "n/a" : r.value.toFixed(4)) + "  best " + (r.best === null ? "n/a" : r.best.toFixed(4));
    });
    K.finish(state, [{ chart: chart, series: values, legend: legend,
      valueAt: K.valueAt(at, function (i) { return rows[i].value; }) }]);
  }

  K.start(draw);
})();
