/* The backtest report's charts: candles with trade markers, equity against buy and
   hold, and the drawdown, linked in time. Everything they draw is in #report-data. */
(function () {
  "use strict";
  var K = window.ktrdrCharts;

  function money(v) {
    return v === null || v === undefined ? "n/a" :
      v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function percent(v) { return v === null || v === undefined ? "n/a" : (v * 100).toFixed(2) + "%"; }
  function price(v) { return v === null || v === undefined ? "n/a" : v.toFixed(4); }

  function draw(data, state) {
    var c = data.chart;
    state.trades = data.trades;
    if (!c) { K.markRendered(state); return; }
    var LW = K.LW;
    var times = c.time;
    var at = K.indexOf(times);
    var timeScale = { timeVisible: !!data.intraday, secondsVisible: false, borderColor: "#d9dee4" };
    function dateOf(t) {
      var iso = new Date(t * 1000).toISOString();
      return data.intraday ? iso.slice(0, 16).replace("T", " ") : iso.slice(0, 10);
    }
    function legend(id, render) {
      return K.legend(id, at, times.length, function (i) { return dateOf(times[i]) + "  " + render(i); });
    }
    var entries = [];

    var priceBox = document.getElementById("chart-price");
    if (priceBox) {
      var priceChart = LW.createChart(priceBox, K.options({ timeScale: timeScale }));
      var candles = priceChart.addSeries(LW.CandlestickSeries, {
        upColor: "#26a69a", downColor: "#ef5350", borderVisible: false,
        wickUpColor: "#26a69a", wickDownColor: "#ef5350"
      });
      var bars = [];
      for (var i = 0; i < times.length; i++) {
        bars.push(c.close[i] === null ? { time: times[i] } :
          { time: times[i], open: c.open[i], high: c.high[i], low: c.low[i], close: c.close[i] });
      }
      candles.setData(bars);
      var markers = LW.createSeriesMarkers(candles, data.markers);
      state.markers = markers.markers().length;
      state.markerApi = markers;
      entries.push({
        chart: priceChart, series: candles,
        valueAt: K.valueAt(at, function (j) { return c.close[j]; }),
        legend: legend("legend-price", function (j) {
          return "O " + price(c.open[j]) + "  H " + price(c.high[j]) + "  L " + price(c.low[j]) +
            "  C " + price(c.close[j]);
        })
      });
    }

    var equityChart = LW.createChart(document.getElementById("chart-equity"),
      K.options({ timeScale: timeScale }));
    var equity = equityChart.addSeries(LW.LineSeries, { color: "#1d4ed8", lineWidth: 2, title: "strategy" });
    equity.setData(K.points(times, c.equity));
    if (c.benchmark_equity) {
      var hold = equityChart.addSeries(LW.LineSeries, {
        color: "#6b7280", lineWidth: 2, lineStyle: LW.LineStyle.Dashed, title: "buy & hold"
      });
      hold.setData(K.points(times, c.benchmark_equity));
    }
    entries.push({
      chart: equityChart, series: equity,
      valueAt: K.valueAt(at, function (j) { return c.equity[j]; }),
      legend: legend("legend-equity", function (j) {
        var text = "strategy " + money(c.equity[j]);
        if (c.benchmark_equity) { text += "  buy & hold " + money(c.benchmark_equity[j]); }
        return text;
      })
    });

    var ddChart = LW.createChart(document.getElementById("chart-drawdown"),
      K.options({ timeScale: timeScale }));
    var pct = { type: "custom", minMove: 0.01, formatter: function (v) { return v.toFixed(1) + "%"; } };
    var dd = ddChart.addSeries(LW.AreaSeries, {
      lineColor: "#c62828", topColor: "rgba(198, 40, 40, 0.05)", bottomColor: "rgba(198, 40, 40, 0.35)",
      lineWidth: 1, priceFormat: pct, title: "strategy", invertFilledArea: true
    });
    function scaled(values) { return values.map(function (v) { return v === null ? null : v * 100; }); }
    dd.setData(K.points(times, scaled(c.drawdown)));
    if (c.benchmark_equity) {
      var ddHold = ddChart.addSeries(LW.LineSeries, {
        color: "#6b7280", lineWidth: 1, lineStyle: LW.LineStyle.Dashed, priceFormat: pct, title: "buy & hold"
      });
      ddHold.setData(K.points(times, scaled(c.benchmark_drawdown)));
    }
    entries.push({
      chart: ddChart, series: dd,
      valueAt: K.valueAt(at, function (j) { return c.drawdown[j] === null ? null : c.drawdown[j] * 100; }),
      legend: legend("legend-drawdown", function (j) {
        var text = "strategy " + percent(c.drawdown[j]);
        if (c.benchmark_equity) { text += "  buy & hold " + percent(c.benchmark_drawdown[j]); }
        return text;
      })
    });

    K.finish(state, entries);
  }

  function sortable(table) {
    var body = table.tBodies[0];
    table.querySelectorAll("th button[data-sort-key]").forEach(function (button) {
      button.addEventListener("click", function () {
        var th = button.parentElement;
        var column = Array.prototype.indexOf.call(th.parentElement.children, th);
        var numeric = th.dataset.kind === "number";
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th[aria-sort]").forEach(function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[column].dataset.sort, y = b.cells[column].dataset.sort;
          var order;
          if (numeric) {
            var nx = x === "null" ? -Infinity : parseFloat(x), ny = y === "null" ? -Infinity : parseFloat(y);
            order = nx === ny ? 0 : (nx < ny ? -1 : 1);
          } else {
            order = x < y ? -1 : (x > y ? 1 : 0);
          }
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  document.querySelectorAll("table.sortable").forEach(sortable);
  K.start(draw, { trades: 0 });
})();
