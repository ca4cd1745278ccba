/* ktrdr dashboard: a page of the public API, nothing more. It reads /api/v1 like any
   client, sends the token the user typed as a Bearer token on the calls that change
   something (cancel, start), and writes every value with textContent, never as HTML. */
(function () {
  "use strict";

  var API = new URL("../api/v1/", window.location.href);
  var TOKEN_KEY = "ktrdr.apiToken";
  var ACTIVE = ["pending", "running"];
  var main = document.getElementById("main");
  var problemBox = document.getElementById("problem");
  var generation = 0; /* bumped on every navigation: stale polls stop themselves */

  /* -- small helpers ------------------------------------------------------------------ */

  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) { return; }
      if (key === "text") { node.textContent = value; }
      else if (key === "className") { node.className = value; }
      else if (key === "dataset") { Object.assign(node.dataset, value); }
      else if (key.slice(0, 2) === "on") { node.addEventListener(key.slice(2), value); }
      else { node.setAttribute(key, value === true ? "" : value); }
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) { continue; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function when(iso) { return iso ? iso.slice(0, 19).replace("T", " ") : "–"; }
  function pct(v, digits) { return v === null || v === undefined ? "n/a" : (v * 100).toFixed(digits === undefined ? 1 : digits) + "%"; }
  function num(v, digits) { return v === null || v === undefined ? "n/a" : Number(v).toFixed(digits); }
  function badge(status) { return el("span", { className: "status " + status, text: status }); }
  function table(headers) {
    var head = el("tr");
    headers.forEach(function (h) { head.appendChild(el("th", { scope: "col", text: h })); });
    var body = el("tbody");
    return { table: el("table", {}, el("thead", {}, head), body), body: body };
  }
  function cell(content, className) {
    var td = el("td", { className: className });
    if (typeof content === "string") { td.textContent = content; } else if (content) { td.appendChild(content); }
    return td;
  }

  var problemFromPoll = false;

  /* A failed action's message stays until the next action or page; a failed refresh's
     message goes as soon as a refresh succeeds again. */
  function showProblem(text, fromPoll) {
    problemBox.textContent = text;
    problemBox.hidden = !text;
    problemFromPoll = !!(text && fromPoll);
  }

  function refreshed() {
    if (problemFromPoll) { showProblem(""); }
  }

  /* -- the API ------------------------------------------------------------------------ */

  function token() { return window.sessionStorage.getItem(TOKEN_KEY) || ""; }

  function ApiError(status, detail) { this.status = status; this.message = detail; }

  function api(method, path, options) {
    options = options || {};
    var headers = { Accept: "application/json" };
    if (options.mutating && token()) { headers.Authorization = "Bearer " + token(); }
    if (options.body !== undefined) { headers["Content-Type"] = options.contentType || "application/json"; }
    return fetch(new URL(path.replace(/^\//, ""), API), {
      method: method, headers: headers, body: options.body, cache: "no-store"
    }).then(function (response) {
      if (response.ok) { return response.json(); }
      return response.json().catch(function () { return {}; }).then(function (problem) {
        var detail = problem.detail || response.statusText || "request failed";
        if (problem.issues && problem.issues.length > 1) {
          detail += ": " + problem.issues.map(function (i) { return (i.path ? i.path + ": " : "") + i.message; }).join("; ");
        }
        if (response.status === 401) {
          detail = "This backend needs its API token for that: enter it at the top of the page. (" + detail + ")";
        } else if (response.status === 403) {
          detail = "The API token was refused. (" + detail + ")";
        }
        throw new ApiError(response.status, method + " " + path + ": " + detail);
      });
    }, function () {
      throw new ApiError(0, "The backend does not answer (" + API.href + "). Is it running?");
    });
  }

  /* Poll while this view is shown: run fn now and again every ms after it settles. */
  function poll(ms, fn) {
    var mine = generation;
    function tick() {
      if (mine !== generation) { return; }
      Promise.resolve().then(fn).then(function (again) {
        if (again !== false && mine === generation) { window.setTimeout(tick, document.hidden ? ms * 4 : ms); }
      }, function (error) {
        if (mine !== generation) { return; }
        showProblem(error.message || String(error), true);
        window.setTimeout(tick, ms * 2);
      });
    }
    tick();
  }

  function page(title) {
    clear(main);
    var heading = el("h1", { text: title });
    main.appendChild(heading);
    document.title = title + " · ktrdr";
    return heading;
  }

  /* -- operations ----------------------------------------------------------------------- */

  function operationsView() {
    page("Operations");
    var filters = { status: "", type: "", strategy: "", live: true };
    var status = el("select", { id: "filter-status", name: "status" });
    ["", "pending", "running", "completed", "failed", "cancelled"].forEach(function (s) {
      status.appendChild(el("option", { value: s, text: s || "any" }));
    });
    var type = el("select", { id: "filter-type", name: "type" });
    ["", "training", "backtesting", "walkforward", "sweep"].forEach(function (t) { type.appendChild(el("option", { value: t, text: t || "any" })); });
    var strategy = el("input", { id: "filter-strategy", name: "strategy", type: "search", placeholder: "name contains", spellcheck: "false" });
    var live = el("input", { id: "filter-live", type: "checkbox", checked: true });
    var refresh = el("button", { type: "button", id: "refresh", text: "Refresh now" });
    var summary = el("p", { id: "operations-count", className: "muted", role: "status" });
    main.appendChild(el("form", { className: "filters", role: "search", "aria-label": "Filter operations", onsubmit: function (e) { e.preventDefault(); } },
      el("label", { for: "filter-status" }, "Status", status),
      el("label", { for: "filter-type" }, "Type", type),
      el("label", { for: "filter-strategy" }, "Strategy", strategy),
      el("label", { for: "filter-live", className: "inline" }, "Live updates", live),
      refresh));
    main.appendChild(summary);
    var grid = table(["Operation", "Type", "Strategy", "Status", "Progress", "Worker", "Created", "Actions"]);
    grid.table.id = "operations";
    main.appendChild(grid.table);
    var rows = new Map();

    function load() {
      var query = new URLSearchParams({ limit: "50" });
      if (filters.status) { query.set("status", filters.status); }
      if (filters.type) { query.set("type", filters.type); }
      return api("GET", "/operations?" + query).then(function (pageBody) {
        refreshed();
        var shown = pageBody.operations.filter(function (op) {
          return !filters.strategy || op.strategy_name.toLowerCase().indexOf(filters.strategy.toLowerCase()) >= 0;
        });
        summary.textContent = shown.length + " shown of " + pageBody.total + " operations" + (filters.live ? " · live" : "");
        var keep = new Set();
        shown.forEach(function (op, index) {
          keep.add(op.id);
          var row = rows.get(op.id) || operationRow(op, load);
          rows.set(op.id, row);
          row.update(op);
          var at = grid.body.children[index];
          if (at !== row.tr) { grid.body.insertBefore(row.tr, at || null); }
        });
        rows.forEach(function (row, id) {
          if (!keep.has(id)) { row.tr.remove(); rows.delete(id); }
        });
        if (!shown.length) {
          summary.textContent = pageBody.total ? "No operation matches these filters." :
            "No operations yet: start a training from a strategy's page, or with `ktrdr train`.";
        }
        return filters.live;
      });
    }
    function changed() { filters.status = status.value; filters.type = type.value; filters.strategy = strategy.value; load(); }
    status.addEventListener("change", changed);
    type.addEventListener("change", changed);
    strategy.addEventListener("input", changed);
    refresh.addEventListener("click", function () { load(); });
    var polling = false; /* one polling loop at most, however often "live" is toggled */
    function follow() {
      polling = true;
      poll(1000, function () {
        return load().then(function (again) { polling = again; return again; });
      });
    }
    live.addEventListener("change", function () {
      filters.live = live.checked;
      if (filters.live && !polling) { follow(); }
    });
    follow();
  }

  function operationRow(op, reload) {
    var tr = el("tr", { dataset: { operationId: op.id } });
    var link = el("a", { href: "#/operations/" + encodeURIComponent(op.id), className: "id", text: op.id.slice(0, 8) });
    link.setAttribute("aria-label", "Operation " + op.id);
    var statusCell = cell(""), bar = el("progress", { max: "100", value: "0" });
    var percent = el("span", { className: "percent" }), message = el("span", { className: "message" });
    var workerCell = cell(""), actions = el("div", { className: "actions" }), signature = "";
    tr.appendChild(cell(link));
    tr.appendChild(cell(op.type));
    tr.appendChild(cell(op.strategy_name));
    tr.appendChild(statusCell);
    tr.appendChild(cell(el("div", { className: "progress" }, bar, percent, message)));
    tr.appendChild(workerCell);
    tr.appendChild(cell(when(op.created_at)));
    tr.appendChild(cell(actions));
    bar.setAttribute("aria-label", "Progress of operation " + op.id.slice(0, 8));
    function update(next) {
      op = next;
      clear(statusCell); statusCell.appendChild(badge(op.status));
      bar.value = op.progress.percent;
      percent.textContent = op.progress.percent.toFixed(0) + "%";
      message.textContent = op.status === "failed" ? (op.error || "") : op.progress.message;
      workerCell.textContent = op.worker_id || "–";
      var wanted = ACTIVE.indexOf(op.status) >= 0 ? "cancel" : op.status === "completed" ? "report" : "none";
      if (wanted === signature) { return; }
      signature = wanted; /* rebuilt only when the status changes, so focus stays put */
      clear(actions);
      if (wanted === "cancel") {
        actions.appendChild(el("button", {
          type: "button", className: "danger", text: "Cancel", "aria-label": "Cancel operation " + op.id,
          onclick: function (event) { cancelOperation(op.id, event.target).then(reload); }
        }));
      } else if (wanted === "report") {
        actions.appendChild(el("a", { href: "#/operations/" + encodeURIComponent(op.id), text: "Report", "aria-label": "Report of operation " + op.id }));
      }
    }
    return { tr: tr, update: update };
  }

  function cancelOperation(id, button) {
    if (button) { button.disabled = true; }
    return api("DELETE", "/operations/" + encodeURIComponent(id), { mutating: true }).then(function (op) {
      showProblem("");
      return op;
    }, function (error) {
      if (button) { button.disabled = false; }
      showProblem(error.message);
    });
  }

  function operationView(id) {
    page("Operation " + id.slice(0, 8));
    var facts = el("dl", { className: "facts", id: "operation-facts" });
    var actions = el("div", { className: "actions" });
    var reportArea = el("section", { id: "report-area", "aria-label": "Report" });
    main.appendChild(facts);
    main.appendChild(actions);
    main.appendChild(reportArea);
    var shown = "";
    function fact(label, value) { facts.appendChild(el("dt", { text: label })); facts.appendChild(el("dd", {}, value)); }
    function load() {
      return api("GET", "/operations/" + encodeURIComponent(id)).then(function (op) {
        refreshed();
        clear(facts);
        fact("Id", el("code", { text: op.id }));
        fact("Type", op.type);
        fact("Strategy", op.strategy_name);
        fact("Status", badge(op.status));
        var bar = el("progress", { max: "100", value: String(op.progress.percent), "aria-label": "Progress" });
        fact("Progress", el("span", { className: "progress", id: "operation-progress" }, bar, op.progress.percent.toFixed(0) + "% " + op.progress.message));
        fact("Worker", op.worker_id || "–");
        fact("Parameters", el("code", { text: JSON.stringify(op.params) }));
        fact("Created", when(op.created_at));
        fact("Started", when(op.started_at));
        fact("Finished", when(op.completed_at));
        if (op.error) { fact("Error", el("span", { className: "status failed", id: "operation-error", text: op.error })); }
        if (shown !== op.status) {
          shown = op.status;
          clear(actions);
          clear(reportArea);
          if (ACTIVE.indexOf(op.status) >= 0) {
            actions.appendChild(el("button", { type: "button", className: "danger", text: "Cancel this operation",
              onclick: function (event) { cancelOperation(op.id, event.target).then(load); } }));
            reportArea.appendChild(el("p", { className: "note", text: "The report appears here when the operation completes." }));
          } else if (op.status === "completed") {
            var url = new URL("operations/" + encodeURIComponent(op.id) + "/report", API).href;
            actions.appendChild(el("a", { href: url, target: "_blank", rel: "noopener", text: "Open the report on its own page" }));
            actions.appendChild(el("a", { href: url, download: "report-" + op.id + ".html", text: "Download the report" }));
            reportArea.appendChild(el("h2", { text: "Report" }));
            reportArea.appendChild(el("iframe", { className: "report", src: url, title: "Report of operation " + op.id, sandbox: "allow-scripts" }));
          } else {
            reportArea.appendChild(el("p", { className: "note", id: "no-report", text: "No report: the operation " + op.status +
              (op.error ? " (" + op.error + ")" : "") + " and has no result." }));
          }
        }
        return ACTIVE.indexOf(op.status) >= 0;
      }, function (error) {
        if (error.status === 404) {
          clear(facts);
          clear(actions);
          clear(reportArea);
          reportArea.appendChild(el("p", { className: "problem", id: "not-found", role: "alert", text: "There is no operation " + id + "." }));
          return false;
        }
        throw error;
      });
    }
    poll(1000, load);
  }

  /* -- workers -------------------------------------------------------------------------- */

  function workersView() {
    page("Workers");
    var note = el("p", { className: "muted", id: "workers-count", role: "status" });
    var grid = table(["Worker", "Type", "Status", "GPU", "Device", "Current operation", "Endpoint", "Last seen", "Failed checks"]);
    grid.table.id = "workers";
    main.appendChild(note);
    main.appendChild(grid.table);
    poll(2000, function () {
      return api("GET", "/workers").then(function (workers) {
        refreshed();
        note.textContent = workers.length ? workers.length + " registered" :
          "No worker is registered: start one with `ktrdr worker start --type training` (or backtesting).";
        clear(grid.body);
        workers.forEach(function (w) {
          var current = w.current_operation_id ?
            el("a", { href: "#/operations/" + encodeURIComponent(w.current_operation_id), className: "id", text: w.current_operation_id.slice(0, 8) }) : "–";
          grid.body.appendChild(el("tr", { dataset: { workerId: w.worker_id } },
            cell(w.worker_id, "id"), cell(w.worker_type), cell(badge(w.status)),
            cell(w.capabilities.gpu ? "yes" : "no"), cell(w.capabilities.device),
            cell(current), cell(w.endpoint_url), cell(when(w.last_seen)), cell(String(w.failures), "num")));
        });
      });
    });
  }

  /* -- strategies ----------------------------------------------------------------------- */

  function strategiesView() {
    page("Strategies");
    var grid = table(["Strategy", "Valid", "Symbols", "Timeframes", "Description"]);
    grid.table.id = "strategies";
    main.appendChild(grid.table);
    return api("GET", "/strategies").then(function (strategies) {
      refreshed();
      strategies.forEach(function (s) {
        var problems = s.issues.length ? el("span", { className: "message", text: " " + s.issues.map(function (i) { return (i.path ? i.path + ": " : "") + i.message; }).join("; ") }) : null;
        grid.body.appendChild(el("tr", {},
          cell(el("a", { href: "#/strategies/" + encodeURIComponent(s.name), text: s.name })),
          cell(el("span", {}, badge(s.valid ? "valid" : "invalid"), problems)),
          cell(s.symbols.join(", ")), cell(s.timeframes.join(", ")), cell(s.description || "")));
      });
      if (!strategies.length) { main.appendChild(el("p", { className: "note", text: "No strategies in the backend's strategies folder." })); }
    }, function (error) { showProblem(error.message); });
  }

  function issuesList(issues) {
    var list = el("ul", { className: "issues" });
    issues.forEach(function (i) { list.appendChild(el("li", {}, i.path ? el("code", { text: i.path }) : null, (i.path ? ": " : "") + i.message)); });
    return list;
  }

  function strategyView(name) {
    page("Strategy " + name);
    return api("GET", "/strategies/" + encodeURIComponent(name)).then(function (s) {
      refreshed();
      main.appendChild(el("p", { id: "strategy-validity" }, badge(s.valid ? "valid" : "invalid"),
        s.valid ? " The strategy validates." : " The strategy does not validate:"));
      if (s.issues.length) { main.appendChild(issuesList(s.issues)); }
      var runs = el("div", { className: "actions" });
      runs.appendChild(el("button", { type: "button", text: "Start a training", disabled: !s.valid,
        onclick: function () { start("/trainings/start", name); } }));
      runs.appendChild(el("button", { type: "button", text: "Start a backtest (latest model)", disabled: !s.valid,
        onclick: function () { start("/backtests/start", name); } }));
      main.appendChild(runs);
      main.appendChild(el("h2", { text: "YAML" }));
      main.appendChild(el("pre", { className: "yaml", id: "strategy-yaml", tabindex: "0", "aria-label": "Strategy YAML", text: s.yaml }));
      main.appendChild(el("h2", { text: "Check a changed version" }));
      var editor = el("textarea", { id: "strategy-editor", spellcheck: "false", "aria-label": "Strategy YAML to validate" });
      editor.value = s.yaml;
      var verdict = el("div", { id: "validation-result", role: "status" });
      main.appendChild(editor);
      main.appendChild(el("div", { className: "actions" }, el("button", { type: "button", text: "Validate", onclick: function () {
        api("POST", "/strategies/validate", { body: editor.value, contentType: "application/yaml" }).then(function (v) {
          clear(verdict);
          verdict.appendChild(el("p", {}, badge(v.valid ? "valid" : "invalid"), v.valid ? " Valid (nothing was saved)." : " Not valid:"));
          if (v.issues.length) { verdict.appendChild(issuesList(v.issues)); }
        }, function (error) { showProblem(error.message); });
      } })));
      main.appendChild(verdict);
    }, function (error) {
      main.appendChild(el("p", { className: "problem", role: "alert", text: error.status === 404 ? "There is no strategy " + name + "." : error.message }));
    });
  }

  function start(path, name) {
    return api("POST", path, { mutating: true, body: JSON.stringify({ strategy_name: name }) }).then(function (started) {
      window.location.hash = "#/operations/" + encodeURIComponent(started.operation_id);
    }, function (error) { showProblem(error.message); });
  }

  /* -- models --------------------------------------------------------------------------- */

  function modelsView() {
    page("Models");
    var grid = table(["Model", "Strategy", "Timeframe", "Version", "Trained", "Device", "Symbols", "Seconds"]);
    grid.table.id = "models";
    main.appendChild(grid.table);
    return api("GET", "/models").then(function (models) {
      refreshed();
      models.forEach(function (m) {
        var meta = m.metadata || {};
        grid.body.appendChild(el("tr", {},
          cell(el("a", { href: "#/models/" + m.id.split("/").map(encodeURIComponent).join("/"), text: m.id })),
          cell(m.strategy), cell(m.timeframe), cell("v" + m.version, "num"), cell(when(meta.created_at)),
          cell(meta.device || "–"), cell((meta.symbols || []).join(", ")), cell(num(meta.training_seconds, 1), "num")));
      });
      if (!models.length) { main.appendChild(el("p", { className: "note", text: "No trained model yet." })); }
    }, function (error) { showProblem(error.message); });
  }

  function modelView(strategy, version) {
    page("Model " + strategy + "/" + version);
    return api("GET", "/models/" + encodeURIComponent(strategy) + "/" + encodeURIComponent(version)).then(function (m) {
      refreshed();
      var metrics = m.metrics || {}, meta = m.metadata || {};
      var facts = el("dl", { className: "facts", id: "model-facts" });
      function fact(label, value) { facts.appendChild(el("dt", { text: label })); facts.appendChild(el("dd", { text: value })); }
      fact("Trained", when(meta.created_at));
      fact("Device", (meta.device || "–") + (meta.training_seconds !== undefined ? ", " + num(meta.training_seconds, 1) + " s" : ""));
      fact("Epochs run", String(metrics.epochs_run === undefined ? "n/a" : metrics.epochs_run));
      fact("Best epoch (weights kept)", String(metrics.best_epoch === undefined ? "n/a" : metrics.best_epoch));
      fact("Seed", String(meta.seed === undefined ? "n/a" : meta.seed));
      fact("Libraries", Object.keys(meta.libraries || {}).map(function (k) { return k + " " + meta.libraries[k]; }).join(", "));
      main.appendChild(facts);
      main.appendChild(el("h2", { text: "Metrics of the kept weights" }));
      var grid = table(["Split", "Rows", "Loss", "Accuracy", "BUY precision", "BUY recall", "SELL precision", "SELL recall"]);
      grid.table.id = "model-metrics";
      ["train", "validation", "test"].forEach(function (split) {
        var s = metrics[split];
        if (!s) { return; }
        var pc = s.per_class || {};
        function of(c, k) { return pc[c] ? pct(pc[c][k]) : "n/a"; }
        grid.body.appendChild(el("tr", { dataset: { split: split } }, cell(split), cell(String(s.rows), "num"), cell(num(s.loss, 4), "num"),
          cell(pct(s.accuracy), "num"), cell(of("BUY", "precision"), "num"), cell(of("BUY", "recall"), "num"),
          cell(of("SELL", "precision"), "num"), cell(of("SELL", "recall"), "num")));
      });
      main.appendChild(grid.table);
    }, function (error) {
      main.appendChild(el("p", { className: "problem", role: "alert", text: error.status === 404 ? "There is no model " + strategy + "/" + version + "." : error.message }));
    });
  }

  /* -- routing, token, start-up --------------------------------------------------------- */

  function route() {
    generation += 1;
    showProblem("");
    var parts = window.location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
    var section = parts[0] || "operations";
    document.querySelectorAll("nav a[data-section]").forEach(function (a) {
      if (a.dataset.section === section) { a.setAttribute("aria-current", "page"); } else { a.removeAttribute("aria-current"); }
    });
    if (section === "operations" && parts[1]) { operationView(parts[1]); }
    else if (section === "workers") { workersView(); }
    else if (section === "strategies" && parts[1]) { strategyView(parts[1]); }
    else if (section === "strategies") { strategiesView(); }
    else if (section === "models" && parts[2]) { modelView(parts[1], parts[2]); }
    else if (section === "models") { modelsView(); }
    else if (section === "operations") { operationsView(); }
    else {
      page("Not found");
      main.appendChild(el("p", { className: "problem", role: "alert", text: "There is no page " + window.location.hash + "." }));
    }
  }

  function tokenState() {
    document.getElementById("token-state").textContent = token() ? "token set for this tab" : "no token";
  }

  document.getElementById("token-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("token");
    if (input.value) { window.sessionStorage.setItem(TOKEN_KEY, input.value); }
    input.value = "";
    tokenState();
  });
  document.getElementById("token-forget").addEventListener("click", function () {
    window.sessionStorage.removeItem(TOKEN_KEY);
    tokenState();
  });
  window.addEventListener("hashchange", route);
  tokenState();
  api("GET", "/health").then(function (h) {
    document.getElementById("backend").textContent = "backend " + h.version + " · database " + h.database;
  }, function (error) { showProblem(error.message); });
  route();
})();
