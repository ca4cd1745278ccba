/* The training report's charts: loss and accuracy per epoch, the kept epoch marked. */
(function () {
  "use strict";
  var K = window.ktrdrCharts;
  var state = { rendered: false, charts: 0, markers: 0 };
  window.ktrdrReport = state;

  function draw() {
    var data = K.readData();
    var rows = data.history;
    if (!rows || !rows.length) { K.markRendered(state); return; }
    var LW = K.LW;
    var epochs = rows.map(function (r) { return r.epoch; });
    var at = K.indexOf(epochs);
    var axis = {
      timeScale: { borderColor: "#d9dee4", tickMarkFormatter: function (v) { return String(v); } },
      localization: { timeFormatter: function (v) { return "epoch " + v; } }
    };
    function line(chart, key, colour, title, dashed, format) {
      var series = chart.addSeries(LW.LineSeries, {
        color: colour, lineWidth: 2, title: title, priceFormat: format,
        lineStyle: dashed ? LW.LineStyle.Dashed : LW.LineStyle.Solid
      });
      series.setData(rows.filter(function (r) { return r[key] !== null && r[key] !== undefined; })
        .map(function (r) { return { time: r.epoch, value: format.scale ? r[key] * 100 : r[key] }; }));
      return series;
    }
    function legend(id, render) {
      var box = document.getElementById(id);
      return function (time) {
        var i = time === undefined ? rows.length - 1 : at.get(time);
        if (i === undefined) { return; }
        box.textContent = "epoch " + rows[i].epoch + "  " + render(rows[i]);
      };
    }
    function fixed(v, d) { return v === null || v === undefined ? "n/a" : v.toFixed(d); }
    var lossFormat = { type: "price", precision: 4, minMove: 0.0001 };
    var accFormat = { type: "custom", minMove: 0.1, scale: true, formatter: function (v) { return v.toFixed(1) + "%"; } };

    var lossChart = LW.createOptionsChart(document.getElementById("chart-loss"), K.options(axis));
    var trainLoss = line(lossChart, "train_loss", "#1d4ed8", "train", false, lossFormat);
    var valLoss = line(lossChart, "val_loss", "#c2410c", "validation", true, lossFormat);
    if (data.best_epoch && at.has(data.best_epoch)) {
      var marker = LW.createSeriesMarkers(valLoss, [{
        time: data.best_epoch, position: "aboveBar", shape: "arrowDown", color: "#0b8a5f",
        text: "kept: epoch " + data.best_epoch, id: "best-epoch"
      }]);
      state.markers = marker.markers().length;
    }
    var accChart = LW.createOptionsChart(document.getElementById("chart-accuracy"), K.options(axis));
    var trainAcc = line(accChart, "train_accuracy", "#1d4ed8", "train", false, accFormat);
    line(accChart, "val_accuracy", "#c2410c", "validation", true, accFormat);

    var entries = [
      { chart: lossChart, series: trainLoss,
        valueAt: function (t) { var i = at.get(t); return i === undefined ? null : rows[i].train_loss; },
        legend: legend("legend-loss", function (r) {
          return "train " + fixed(r.train_loss, 4) + "  validation " + fixed(r.val_loss, 4);
        }) },
      { chart: accChart, series: trainAcc,
        valueAt: function (t) {
          var i = at.get(t);
          return i === undefined || rows[i].train_accuracy == null ? null : rows[i].train_accuracy * 100;
        },
        legend: legend("legend-accuracy", function (r) {
          function p(v) { return v === null || v === undefined ? "n/a" : (v * 100).toFixed(1) + "%"; }
          return "train " + p(r.train_accuracy) + "  validation " + p(r.val_accuracy);
        }) }
    ];
    K.finish(state, entries);  /* the loss chart first: the toolbar drives it */
  }

  try { draw(); } catch (error) { K.fail(error); }
})();
