/* The walk-forward report's chart: stitched equity against buy and hold, fold starts marked. */
(function () {
  "use strict";
  var K = window.ktrdrCharts;

  function draw(data, state) {
    if (!data.time || !data.time.length) { K.markRendered(state); return; }
    var LW = K.LW;
    var at = K.indexOf(data.time);
    var chart = LW.createChart(document.getElementById("chart-equity"), K.options());
    var equity = chart.addSeries(LW.LineSeries, { color: "#1d4ed8", lineWidth: 2, title: "strategy" });
    equity.setData(K.points(data.time, data.equity));
    var bench = chart.addSeries(LW.LineSeries, {
      color: "#6b7280", lineWidth: 2, title: "buy and hold", lineStyle: LW.LineStyle.Dashed
    });
    bench.setData(K.points(data.time, data.benchmark_equity));
    var markers = data.fold_starts.filter(function (t) { return at.has(t); }).map(function (t, i) {
      return { time: t, position: "belowBar", shape: "arrowUp", color: "#0b8a5f", text: "fold " + (i + 1) };
    });
    if (markers.length) { state.markers = LW.createSeriesMarkers(equity, markers).markers().length; }
    var legend = K.legend("legend-equity", at, data.time.length, function (i) {
      return new Date(data.time[i] * 1000).toISOString().slice(0, 10) +
        "  strategy " + (data.equity[i] === null ? "n/a" : data.equity[i].toFixed(2)) +
        "  buy and hold " + (data.benchmark_equity[i] === null ? "n/a" : data.benchmark_equity[i].toFixed(2));
    });
    K.finish(state, [{ chart: chart, series: equity, legend: legend,
      valueAt: K.valueAt(at, function (i) { return data.equity[i]; }) }]);
  }

  K.start(draw);
})();
