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
})();
