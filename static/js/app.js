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
