// The plan editor (/production/orders/<id>/): add and remove milestone rows of the formset in the page.
// A removed row is cleared and hidden (blank rows are ignored by the form), so the formset's numbering stays.
(function () {
  "use strict";
  var form = document.querySelector("[data-plan-editor]");
  if (!form) return;
  var rows = form.querySelector("[data-milestone-rows]");
  var template = form.querySelector("[data-milestone-template]");
  var total = form.querySelector("input[name$='-TOTAL_FORMS']");
  var max = form.querySelector("input[name$='-MAX_NUM_FORMS']");

  function clear(row) {
    row.querySelectorAll("input, select, textarea").forEach(function (field) {
      if (field.tagName === "SELECT") field.selectedIndex = 0;
      else field.value = "";
    });
  }

  function visibleRows() {
    return rows.querySelectorAll("[data-milestone-row]:not([hidden])").length;
  }

  form.addEventListener("click", function (event) {
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var row = remove.closest("[data-milestone-row]");
      clear(row);
      if (visibleRows() > 1) row.hidden = true;
      return;
    }
    if (event.target.closest("[data-add-row]")) {
      var index = parseInt(total.value, 10);
      if (max && index >= parseInt(max.value, 10)) return;
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("tbody");
      holder.innerHTML = html;
      var row = holder.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      var first = row.querySelector("input");
      if (first) first.focus();
    }
  });
})();
