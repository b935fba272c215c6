// Loaded by every page (base.html). Behaviour that used to be inline (javascript: links),
// moved here because the Content-Security-Policy allows scripts from files only.
(function () {
  "use strict";
  // <a href="fallback" data-history-back>: back in the browser's history when there is one.
  document.querySelectorAll("[data-history-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
    });
  });
})();
