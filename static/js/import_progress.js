// The import page: polls the job's status until it has finished, then reloads (no inline script: CSP).
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (box.dataset.finished === "1") { return; }
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        document.getElementById("import-bar").style.width = data.percent + "%";
        box.querySelector("[role=progressbar]").setAttribute("aria-valuenow", data.percent);
        document.getElementById("import-rows").textContent = data.processed_rows + " / " + data.total_rows;
        document.getElementById("import-status").textContent = data.status_display;
        if (data.finished) { window.location.reload(); } else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
