// Behaviour the pages need beyond htmx, kept in a file so that pages run under the service's
// Content-Security-Policy (no inline scripts or event handlers).
(function () {
  "use strict";
  // The calculators answer as you type (htmx); pressing Enter must not post the form.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-no-submit")) {
      event.preventDefault();
    }
  });
  // A link to a section that is folded (an empty section of the participant page, e.g. from
  // the worklist) opens the fold, so the section is shown where the link lands.
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    var fold = target ? target.closest("details") : null;
    while (fold) {
      fold.open = true;
      fold = fold.parentElement ? fold.parentElement.closest("details") : null;
    }
    if (target) target.scrollIntoView();
  }
  window.addEventListener("hashchange", openTarget);
  document.addEventListener("DOMContentLoaded", openTarget);
})();
