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

  // Reports and casebooks take seconds to draw. A link or form marked data-progress="<id>" is
  // fetched here instead of by the browser, so the page can say it is working (the element
  // <id> is shown, the link marked busy) and the file is then saved under its own name. A
  // refusal or an error is shown in the same place, in the page's words (data-failed).
  function filename(response, fallback) {
    var header = response.headers.get("Content-Disposition") || "";
    var star = /filename\*=UTF-8''([^;]+)/i.exec(header);
    if (star) { return decodeURIComponent(star[1]); }
    var plain = /filename="?([^";]+)"?/i.exec(header);
    return plain ? plain[1] : fallback;
  }

  function download(trigger, url) {
    var busy = document.getElementById(trigger.getAttribute("data-progress"));
    if (trigger.getAttribute("aria-busy") === "true") { return; }
    trigger.setAttribute("aria-busy", "true");
    if (busy) {
      busy.hidden = false;
      busy.classList.add("is-busy");
      busy.classList.remove("failed");
      busy.textContent = busy.getAttribute("data-working") || busy.textContent;
    }
    fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      var name = filename(response, "download");
      return response.blob().then(function (blob) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = name;
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(link.href); }, 60000);
        if (busy) { busy.hidden = true; busy.classList.remove("is-busy"); }
      });
    }).catch(function (error) {
      if (busy) {
        busy.classList.remove("is-busy");
        busy.classList.add("failed");
        busy.textContent = (busy.getAttribute("data-failed") || "Failed") + " (" + error.message + ")";
      }
    }).then(function () { trigger.removeAttribute("aria-busy"); });
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("a[data-progress]") : null;
    if (!target || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey) {
      return;
    }
    event.preventDefault();
    download(target, target.href);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-progress")) { return; }
    event.preventDefault();
    var query = new URLSearchParams(new FormData(form)).toString();
    download(form, form.action + (query ? "?" + query : ""));
  });
})();
