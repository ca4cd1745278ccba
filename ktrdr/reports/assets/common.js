/* Shared by the report scripts: chart options, linked charts, the toolbar, failures. */
(function () {
  "use strict";
  var LW = window.LightweightCharts;

  function readData() {
    return JSON.parse(document.getElementById("report-data").textContent);
  }

  function fail(error) {
    var box = document.getElementById("chart-error");
    if (box) {
      box.textContent = "The charts could not be drawn: " + (error && error.message ? error.message : error) +
        ". The tables below are complete.";
      box.hidden = false;
    }
    document.body.dataset.rendered = "failed";
    if (window.console) { console.error(error); }
  }

  function options(extra) {
    var base = {
      autoSize: true,
      layout: {
        background: { type: "solid", color: "#ffffff" },
        textColor: "#1f2933",
        fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
        attributionLogo: false  /* credited, with the link, in the footer */
      },
      grid: { vertLines: { color: "#eef1f4" }, horzLines: { color: "#eef1f4" } },
      crosshair: { mode: LW.CrosshairMode.Normal },
      rightPriceScale: { borderColor: "#d9dee4" },
      timeScale: { borderColor: "#d9dee4" }
    };
    return Object.assign(base, extra || {});
  }

  /* Charts over the same points: one pans and zooms, the others follow; the crosshair
     of one is drawn on all, and each legend reads its own values. */
  function link(entries) {
    var syncing = false;
    entries.forEach(function (entry) {
      entry.chart.timeScale().subscribeVisibleLogicalRangeChange(function (range) {
        if (syncing || range === null) { return; }
        syncing = true;
        entries.forEach(function (other) {
          if (other !== entry) { other.chart.timeScale().setVisibleLogicalRange(range); }
        });
        syncing = false;
      });
      entry.chart.subscribeCrosshairMove(function (param) {
        entries.forEach(function (other) {
          if (other === entry) { return; }
          if (param.time === undefined) {
            other.chart.clearCrosshairPosition();
          } else {
            var value = other.valueAt(param.time);
            if (value !== null && value !== undefined) {
              other.chart.setCrosshairPosition(value, param.time, other.series);
            }
          }
        });
        entries.forEach(function (each) { each.legend(param.time); });
      });
      entry.legend(undefined);
    });
  }

  function wireToolbar(main) {
    var scale = main.timeScale();
    document.querySelectorAll(".toolbar button[data-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        var range = scale.getVisibleLogicalRange();
        var action = button.dataset.action;
        if (action === "fit" || range === null) { scale.fitContent(); return; }
        var width = range.to - range.from;
        var middle = (range.from + range.to) / 2;
        if (action === "zoom-in") {
          scale.setVisibleLogicalRange({ from: middle - width * 0.35, to: middle + width * 0.35 });
        } else if (action === "zoom-out") {
          scale.setVisibleLogicalRange({ from: middle - width, to: middle + width });
        } else if (action === "pan-left" || action === "pan-right") {
          var shift = (action === "pan-left" ? -1 : 1) * width * 0.25;
          scale.setVisibleLogicalRange({ from: range.from + shift, to: range.to + shift });
        }
      });
    });
  }

  function markRendered(state) {
    /* Two frames: the charts have painted once, not just been configured. */
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        state.renderMs = performance.now();
        state.rendered = true;
        document.body.dataset.rendered = "true";
      });
    });
  }

  /* The end of every report's draw(): each chart fitted, crosshairs linked, the toolbar on
     the first chart, and the page marked rendered. */
  function finish(state, entries) {
    entries.forEach(function (e) { e.chart.timeScale().fitContent(); });
    link(entries);
    wireToolbar(entries[0].chart);
    state.charts = entries.length;
    state.chartApis = entries.map(function (e) { return e.chart; });
    markRendered(state);
  }

  function indexOf(times) {
    var map = new Map();
    times.forEach(function (t, i) { map.set(t, i); });
    return map;
  }

  /* Every report script's frame: the state it publishes as window.ktrdrReport (what the
     page's tests read), draw(data, state) run on #report-data, a failure shown on the page. */
  function start(draw, extraState) {
    var state = Object.assign({ rendered: false, charts: 0, markers: 0 }, extraState);
    window.ktrdrReport = state;
    try { draw(readData(), state); } catch (error) { fail(error); }
  }

  /* A line series' points; a missing value is whitespace: the time stays on the axis,
     nothing is drawn. */
  function points(times, values) {
    var out = [];
    for (var i = 0; i < times.length; i++) {
      out.push(values[i] === null ? { time: times[i] } : { time: times[i], value: values[i] });
    }
    return out;
  }

  /* Options for a chart whose horizontal axis counts (trials, epochs) where the others
     tell time: the ticks are the plain numbers, the crosshair reads "<unit> n". */
  function countedAxis(unit) {
    return options({
      timeScale: { borderColor: "#d9dee4", tickMarkFormatter: function (v) { return String(v); } },
      localization: { timeFormatter: function (v) { return unit + " " + v; } }
    });
  }

  /* A legend that reads the point under the crosshair, or the last point when there is
     none; text(i) is what it says of point i. */
  function legend(id, at, count, text) {
    var box = document.getElementById(id);
    return function (time) {
      var i = time === undefined ? count - 1 : at.get(time);
      if (i === undefined) { return; }
      box.textContent = text(i);
    };
  }

  /* What a linked chart's crosshair is drawn at: pick(i) at one of its points, else null. */
  function valueAt(at, pick) {
    return function (time) {
      var i = at.get(time);
      return i === undefined ? null : pick(i);
    };
  }

  window.ktrdrCharts = {
    LW: LW, readData: readData, fail: fail, options: options, link: link,
    wireToolbar: wireToolbar, markRendered: markRendered, indexOf: indexOf, finish: finish,
    start: start, points: points, countedAxis: countedAxis, legend: legend, valueAt: valueAt
  };
})();
