/* The training report's charts: loss and accuracy per epoch, the kept epoch marked. */
(function () {
  "use strict";
  var K = window.ktrdrCharts;

  function draw(data, state) {
    var rows = data.history;
    if (!rows || !rows.length) { K.markRendered(state); return; }
    var LW = K.LW;
    var epochs = rows.map(function (r) { return r.epoch; });
    var at = K.indexOf(epochs);
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
      return K.legend(id, at, rows.length, function (i) { return "epoch " + rows[i].epoch + "  " + render(rows[i]); });
    }
    function fixed(v, d) { return v === null || v === undefined ? "n/a" : v.toFixed(d); }
    var lossFormat = { type: "price", precision: 4, minMove: 0.0001 };
    var accFormat = { type: "custom", minMove: 0.1, scale: true, formatter: function (v) { return v.toFixed(1) + "%"; } };

    var lossChart = LW.createOptionsChart(document.getElementById("chart-loss"), K.countedAxis("epoch"));
    var trainLoss = line(lossChart, "train_loss", "#1d4ed8", "train", false, lossFormat);
    var valLoss = line(lossChart, "val_loss", "#c2410c", "validation", true, lossFormat);
    if (data.best_epoch && at.has(data.best_epoch)) {
      var marker = LW.createSeriesMarkers(valLoss, [{
        time: data.best_epoch, position: "aboveBar", shape: "arrowDown", color: "#0b8a5f",
        text: "kept: epoch " + data.best_epoch, id: "best-epoch"
      }]);
      state.markers = marker.markers().length;
    }
    var accChart = LW.createOptionsChart(document.getElementById("chart-accuracy"), K.countedAxis("epoch"));
    var trainAcc = line(accChart, "train_accuracy", "#1d4ed8", "train", false, accFormat);
    line(accChart, "val_accuracy", "#c2410c", "validation", true, accFormat);

    var entries = [
      { chart: lossChart, series: trainLoss,
        valueAt: K.valueAt(at, function (i) { return rows[i].train_loss; }),
        legend: legend("legend-loss", function (r) {
          return "train " + fixed(r.train_loss, 4) + "  validation " + fixed(r.val_loss, 4);
        }) },
      { chart: accChart, series: trainAcc,
        valueAt: K.valueAt(at, function (i) {
          return rows[i].train_accuracy == null ? null : rows[i].train_accuracy * 100;
        }),
        legend: legend("legend-accuracy", function (r) {
          function p(v) { return v === null || v === undefined ? "n/a" : (v * 100).toFixed(1) + "%"; }
          return "train " + p(r.train_accuracy) + "  validation " + p(r.val_accuracy);
        }) }
    ];
    K.finish(state, entries);  /* the loss chart first: the toolbar drives it */
  }

  K.start(draw);
})();
