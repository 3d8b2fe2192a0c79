/*
 * Customer Cards: small progressive enhancements. Loaded as an external file
 * (the Content-Security-Policy allows no inline script). Every page works
 * without it; it also works when htmx is not loaded.
 *
 *   <form ...><button data-confirm="Delete this card?">...</button></form>
 *       asks confirm() before the form is submitted; declining cancels it.
 *       data-confirm on the <form> itself, or on any non-button element inside
 *       it, applies to every submission of that form; on a submit button it
 *       applies only when that button submits.
 *
 *   <meta name="csrf-token" content="...">
 *       sent as the X-CSRFToken header with every same-origin htmx request.
 *
 *   <select data-autosubmit> (e.g. the language switcher)
 *       submits its form when the selection changes.
 *
 * Listeners are delegated to the document, so content swapped in by htmx is
 * covered too.
 */
(function () {
  "use strict";

  var SUBMIT_SELECTOR = 'button:not([type]), button[type="submit"], input[type="submit"], input[type="image"]';

  function confirmMessage(form, submitter) {
    if (submitter && submitter.hasAttribute("data-confirm")) {
      return submitter.getAttribute("data-confirm");
    }
    if (form.hasAttribute("data-confirm")) {
      return form.getAttribute("data-confirm");
    }
    var marked = form.querySelectorAll("[data-confirm]");
    for (var i = 0; i < marked.length; i++) {
      // A submit button's message belongs to that button only.
      if (!marked[i].matches(SUBMIT_SELECTOR)) {
        return marked[i].getAttribute("data-confirm");
      }
    }
    return null;
  }

  // (a) confirm before submitting. Capture phase on the document runs before
  // htmx's own submit listener on the form, so a declined confirm stops both a
  // normal submission and an htmx request.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement)) {
        return;
      }
      var message = confirmMessage(form, event.submitter || null);
      if (message && !window.confirm(message)) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true
  );

  // (b) CSRF token header for htmx requests.
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : null;
  }

  function isSameOrigin(path) {
    try {
      return new URL(path, window.location.href).origin === window.location.origin;
    } catch (e) {
      return false;
    }
  }

  function addCsrfHeader(event) {
    var detail = event.detail;
    var token = csrfToken();
    if (!detail || !detail.headers || !token) {
      return;
    }
    if (detail.path && !isSameOrigin(detail.path)) {
      return; // never hand the token to another origin
    }
    detail.headers["X-CSRFToken"] = token;
  }

  function onBody(callback) {
    if (document.body) {
      callback(document.body);
    } else {
      document.addEventListener("DOMContentLoaded", function () {
        callback(document.body);
      });
    }
  }

  onBody(function (body) {
    body.addEventListener("htmx:configRequest", addCsrfHeader);
  });

  // (c) <select data-autosubmit> submits its form on change.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-autosubmit")) {
      return;
    }
    var form = select.form;
    if (!form) {
      return;
    }
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(); // fires "submit": validation, htmx and data-confirm apply
    } else {
      form.submit();
    }
  });

  // (d) On a phone the portal's tabs scroll sideways: bring the current one into view.
  onBody(function () {
    var current = document.querySelector(".portal-tabs .nav-link.active");
    if (current && typeof current.scrollIntoView === "function") {
      current.scrollIntoView({ block: "nearest", inline: "center" });
    }
  });
})();

/* ------------------------------------------------------------------ */
/* Tiers (helper 5): a tier badge with data-colour="#rrggbb" takes the  */
/* tier's own colour, with dark or light text for contrast. Set through */
/* the CSSOM (allowed by the CSP; style="" attributes are not).         */
/* ------------------------------------------------------------------ */
(function () {
  "use strict";
  var HEX = /^#[0-9a-fA-F]{6}$/;

  function paint(root) {
    var badges = (root || document).querySelectorAll(".tier-badge[data-colour]");
    for (var i = 0; i < badges.length; i++) {
      var colour = badges[i].getAttribute("data-colour");
      if (!HEX.test(colour)) {
        continue;
      }
      var r = parseInt(colour.substr(1, 2), 16);
      var g = parseInt(colour.substr(3, 2), 16);
      var b = parseInt(colour.substr(5, 2), 16);
      var light = (0.299 * r + 0.587 * g + 0.114 * b) > 160;
      badges[i].style.setProperty("--tier-colour", colour);
      badges[i].style.setProperty("--tier-text", light ? "#212529" : "#ffffff");
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { paint(document); });
  } else {
    paint(document);
  }
  document.addEventListener("htmx:afterSwap", function (event) { paint(event.target); });
})();

/* ---- Surveys (helper 6): results charts --------------------------------------------------
 * <div class="survey-chart" data-chart='{"labels": [...], "values": [...], "kind": "nps"}'>
 * is drawn as a bar chart with the vendored ECharts, which the results page loads (deferred)
 * after this file; so the drawing waits for the window's load event.
 */
(function () {
  "use strict";

  var NPS_COLOURS = { detractor: "#dc3545", passive: "#adb5bd", promoter: "#198754" };

  function barColour(kind, label) {
    if (kind !== "nps") {
      return "#0d6efd";
    }
    var score = parseInt(label, 10);
    if (score >= 9) {
      return NPS_COLOURS.promoter;
    }
    return score >= 7 ? NPS_COLOURS.passive : NPS_COLOURS.detractor;
  }

  function draw(element) {
    var data;
    try {
      data = JSON.parse(element.getAttribute("data-chart"));
    } catch (error) {
      return;
    }
    var horizontal = data.kind === "single_choice" || data.kind === "multi_choice";
    var categories = { type: "category", data: data.labels, axisLabel: { interval: 0 } };
    var counts = { type: "value", minInterval: 1 };
    var chart = window.echarts.init(element);
    chart.setOption({
      animation: false,
      grid: { left: horizontal ? 8 : 32, right: 24, top: 8, bottom: 24, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: horizontal ? counts : categories,
      yAxis: horizontal ? Object.assign({ inverse: true }, categories) : counts,
      series: [{
        type: "bar",
        data: data.values.map(function (value, index) {
          return { value: value, itemStyle: { color: barColour(data.kind, data.labels[index]) } };
        }),
        label: { show: true, position: horizontal ? "right" : "top" }
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  window.addEventListener("load", function () {
    if (!window.echarts) {
      return;
    }
    document.querySelectorAll(".survey-chart[data-chart]").forEach(draw);
  });
})();

/* --- card list: the bulk bar shows only the value its chosen action needs (helper 1) ---
 * Without JS every value field stays visible and the server reads the one of the action. */
(function () {
  "use strict";

  function syncBulkBar() {
    var action = document.getElementById("bulk-action");
    if (!action) {
      return;
    }
    var fields = document.querySelectorAll("[data-bulk-value]");
    for (var i = 0; i < fields.length; i++) {
      fields[i].hidden = fields[i].getAttribute("data-bulk-value") !== action.value;
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "bulk-action") {
      syncBulkBar();
    }
  });
  document.addEventListener("htmx:afterSwap", syncBulkBar);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", syncBulkBar);
  } else {
    syncBulkBar();
  }
})();

/* ---- Campaigns (helper H5): the results page's per-tier chart -----------------------------
 * <div class="campaign-chart" data-chart='{"labels": [tiers], "series": [{"name": "Sent",
 * "values": [...]}, ...]}'> is drawn as grouped bars with the vendored ECharts, which the
 * results page loads (deferred) after this file; so the drawing waits for the load event.
 */
(function () {
  "use strict";

  var COLOURS = ["#0d6efd", "#6f42c1", "#fd7e14", "#198754"];

  function draw(element) {
    var data;
    try {
      data = JSON.parse(element.getAttribute("data-chart"));
    } catch (error) {
      return;
    }
    var chart = window.echarts.init(element);
    chart.setOption({
      animation: false,
      color: COLOURS,
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (series) {
        return { type: "bar", name: series.name, data: series.values,
                 label: { show: true, position: "top" } };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  window.addEventListener("load", function () {
    if (!window.echarts) {
      return;
    }
    document.querySelectorAll(".campaign-chart[data-chart]").forEach(draw);
  });
})();
