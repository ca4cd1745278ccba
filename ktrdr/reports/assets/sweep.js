/* The sweep report's chart: each completed trial's objective and the best so far. */
(function () {
  "use strict";
  var K = window.ktrdrCharts;
  var state = { rendered: false, charts: 0, markers: 0 };
  window.ktrdrReport = state;

  function draw() {
    var data = K.readData();
    var rows = data.history || [];
    if (!rows.length) { K.markRendered(state); return; }
    var LW = K.LW;
    /* Trial numbers on the horizontal axis, as the training report puts epochs there. */
    var axis = {
      timeScale: { borderColor: "#d9dee4", tickMarkFormatter: function (v) { return String(v); } },
      localization: { timeFormatter: function (v) { return "trial " + v; } }
    };
    var chart = LW.createOptionsChart(document.getElementById("chart-history"), K.options(axis));
    var values = chart.addSeries(LW.LineSeries, {
      color: "#1d4ed8", lineVisible: false, pointMarkersVisible: true, title: data.objective
    });
    values.setData(rows.map(function (r) {
      return r.value === null ? { time: r.number } : { time: r.number, value: r.value };
    }));
    var best = chart.addSeries(LW.LineSeries, { color: "#0b8a5f", lineWidth: 2, title: "best so far" });
    best.setData(rows.map(function (r) {
      return r.best === null ? { time: r.number } : { time: r.number, value: r.best };
    }));
    var at = K.indexOf(rows.map(function (r) { return r.number; }));
    var box = document.getElementById("legend-history");
    function legend(time) {
      var i = time === undefined ? rows.length - 1 : at.get(time);
      if (i === undefined) { return; }
      var r = rows[i];
      box.textContent = "trial " + r.number + "  " + data.objective + " " +
        (r.value === null ? "n/a" : r.value.toFixed(4)) + "  best " + (r.best === null ? "n/a" : r.best.toFixed(4));
    }
    K.finish(state, [{ chart: chart, series: values, legend: legend,
      valueAt: function (t) { var i = at.get(t); return i === undefined ? null : rows[i].value; } }]);
  }

  try { draw(); } catch (error) { K.fail(error); }
})();
