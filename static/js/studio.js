// Avatar Studio: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Toasts fade out after a while; errors stay until dismissed by a click.
  function scheduleToast(toast) {
    if (toast.dataset.scheduled || toast.classList.contains("toast-error")) return;
    toast.dataset.scheduled = "1";
    setTimeout(function () {
      toast.classList.add("is-leaving");
      setTimeout(function () { toast.remove(); }, 500);
    }, 6000);
  }
  function scanToasts() {
    document.querySelectorAll("#toasts .toast").forEach(scheduleToast);
  }
  document.addEventListener("DOMContentLoaded", scanToasts);
  document.addEventListener("htmx:afterSettle", scanToasts);
  document.addEventListener("click", function (event) {
    var toast = event.target.closest && event.target.closest(".toast");
    if (toast) toast.remove();
  });

  // Polling pauses while the tab is hidden and resumes when it is shown again.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var trigger = event.detail && event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    if (document.hidden && (!trigger || trigger.type !== "submit")) {
      var elt = event.detail.elt;
      if (elt && elt.hasAttribute("data-poll")) event.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && window.htmx) {
      document.querySelectorAll("[data-poll]").forEach(function (elt) { window.htmx.trigger(elt, "studio:visible"); });
    }
  });

  // Tabbing along a row that scrolls sideways (the style filters on phones): bring the whole item
  // into view, where the browser would leave it half hidden at the edge.
  document.addEventListener("focusin", function (event) {
    var item = event.target;
    for (var parent = item.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
      var overflow = getComputedStyle(parent).overflowX;
      if (overflow === "auto" || overflow === "scroll") {
        if (parent.scrollWidth > parent.clientWidth) item.scrollIntoView({ block: "nearest", inline: "nearest" });
        return;
      }
    }
  });

  // A swap that removes the control the keyboard was on (a photo's or a prompt's Remove) would leave
  // the focus at the top of the page: it goes to the control now in that place in the swapped
  // part instead (the next Remove, or the last control when the removed one was last). Controls
  // that survive a swap keep the focus by their id, as htmx does.
  var FOCUSABLE = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), " +
    "select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])";
  function controlsIn(part) {
    return Array.prototype.filter.call(part.querySelectorAll(FOCUSABLE), function (control) {
      return control.getClientRects().length > 0;
    });
  }
  var focusPlace = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var part = event.detail.target, focused = document.activeElement;
    if (!part || !part.id) return;
    if (focusPlace && focusPlace.part === part.id) focusPlace = null;  // left by a swap that did not happen
    if (event.detail.shouldSwap && focused && focused !== document.body && part.contains(focused)) {
      focusPlace = { part: part.id, index: controlsIn(part).indexOf(focused) };
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var place = focusPlace;
    if (!place || event.target.id !== place.part) return;
    focusPlace = null;
    if (place.index < 0 || (document.activeElement && document.activeElement !== document.body)) return;
    var controls = controlsIn(event.target);
    if (controls.length) controls[Math.min(place.index, controls.length - 1)].focus();
  });

  // A server-sent toast: HX-Trigger: {"toast": {"message": "...", "level": "success"}}
  document.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    var toast = document.createElement("div");
    toast.className = "toast toast-" + (detail.level || "info");
    toast.textContent = detail.message || "";
    document.getElementById("toasts").appendChild(toast);
    scheduleToast(toast);
  });

  // Errors htmx did not swap get a plain-words toast instead of silence.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.getResponseHeader("HX-Trigger")) return; // the answer brought its own message
    var status = xhr ? xhr.status : 0;
    var message = status === 429 ? "Too many requests: please wait a moment and try again."
      : status === 403 ? "Your session has expired. Reload the page and try again."
      : "Something went wrong on our side. Please try again.";
    document.dispatchEvent(new CustomEvent("toast", { detail: { message: message, level: "error" } }));
  });
  document.addEventListener("htmx:sendError", function () {
    document.dispatchEvent(new CustomEvent("toast", { detail: { message: "You seem to be offline. We will keep trying.", level: "warning" } }));
  });
})();
