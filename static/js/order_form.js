// The intake form (issue 8: the intake JS in static/js; issue 9: no inline script under the CSP):
// line totals, product defaults, extra lines, the earliest feasible date, likely duplicates, pickers.
(function () {
  "use strict";
  var defaults = JSON.parse(document.getElementById("product-defaults").textContent);
  var body = document.getElementById("lines-body");
  var total = document.getElementById("id_lines-TOTAL_FORMS");
  var maxForms = parseInt(document.getElementById("id_lines-MAX_NUM_FORMS").value, 10);
  var fmt = new Intl.NumberFormat(document.documentElement.lang || undefined,
    {minimumFractionDigits: 2, maximumFractionDigits: 2});
  function field(row, name) { return row.querySelector("[name$='-" + name + "']"); }
  function recompute() {
    var sum = 0, any = false;
    body.querySelectorAll("tr.line-row").forEach(function (row) {
      var q = parseFloat(field(row, "quantity").value), p = parseFloat(field(row, "unit_price").value);
      var cell = row.querySelector(".line-total");
      var removed = field(row, "DELETE");
      row.classList.toggle("removed", !!(removed && removed.checked));
      if (removed && removed.checked) { cell.textContent = "\u2014"; return; }
      if (!isNaN(q) && !isNaN(p)) { cell.textContent = fmt.format(q * p); sum += q * p; any = true; }
      else { cell.textContent = "\u2014"; }
    });
    document.getElementById("order-total").textContent = any ? fmt.format(sum) : "\u2014";
  }
  body.addEventListener("change", function (event) {
    var row = event.target.closest("tr.line-row");
    if (row && event.target.name && /-product$/.test(event.target.name)) {
      var d = defaults[event.target.value];
      if (d) {
        if (!field(row, "specification").value) { field(row, "specification").value = d.specification; }
        if (!field(row, "unit_price").value) { field(row, "unit_price").value = d.unit_price; }
      }
    }
    recompute();
  });
  body.addEventListener("input", recompute);
  document.getElementById("add-line").addEventListener("click", function () {
    var n = parseInt(total.value, 10);
    if (n >= maxForms) { return; }
    var html = document.getElementById("line-template").innerHTML.replace(/__prefix__/g, String(n));
    body.insertAdjacentHTML("beforeend", html);
    total.value = n + 1;
  });
  // --- the earliest feasible date and likely duplicates, as lines change -------------------
  var form = document.getElementById("order-form");
  var checkTimer = null;
  function checkIntake() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(function () {
      var params = new URLSearchParams();
      var customer = document.getElementById("id_customer");
      if (customer && customer.value) { params.append("customer", customer.value); }
      body.querySelectorAll("select[name$='-product']").forEach(function (s) { if (s.value) { params.append("product", s.value); } });
      if (form.dataset.exclude) { params.append("exclude", form.dataset.exclude); }
      fetch(form.dataset.checkUrl + "?" + params.toString(), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          var out = document.getElementById("earliest-date");
          out.textContent = data.earliest_feasible_date || "\u2014";
          out.dataset.value = data.earliest_feasible_date || "";
          warnDate();
          var box = document.getElementById("duplicate-warning"), list = document.getElementById("duplicate-list");
          if (!form.dataset.exclude) {
            list.innerHTML = "";
            data.duplicates.forEach(function (d) {
              var li = document.createElement("li"), a = document.createElement("a");
              a.href = d.url; a.textContent = d.number; a.target = "_blank"; a.rel = "noopener";
              li.appendChild(a); li.appendChild(document.createTextNode(" \u00b7 " + d.state + " \u00b7 " + d.created_at));
              list.appendChild(li);
            });
            box.hidden = data.duplicates.length === 0;
          }
        })
        .catch(function () {});
    }, 250);
  }
  function warnDate() {
    var earliest = document.getElementById("earliest-date").dataset.value;
    var requested = document.getElementById("id_requested_delivery_date").value;
    document.getElementById("earliest-warning").hidden = !(earliest && requested && requested < earliest);
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "customer" || /-product$/.test(event.target.name || "")) { checkIntake(); }
    if (event.target.name === "requested_delivery_date") { warnDate(); }
  });
  document.getElementById("id_requested_delivery_date").addEventListener("input", warnDate);

  // --- pickers: search as you type (the select stays the fallback without JavaScript) --------
  var texts = JSON.parse(document.getElementById("picker-texts").textContent);
  function attachPicker(select) {
    if (select.dataset.pickerReady) { return; }
    select.dataset.pickerReady = "1";
    var url = select.dataset.picker === "customers" ? form.dataset.customersUrl : form.dataset.productsUrl;
    var input = document.createElement("input");
    input.type = "search"; input.className = "picker-search"; input.placeholder = texts.search;
    input.setAttribute("aria-label", texts.search);
    input.setAttribute("data-picker-for", select.name);
    select.parentNode.insertBefore(input, select);
    var status = document.createElement("span");
    status.className = "picker-status"; status.setAttribute("role", "status"); status.hidden = true;
    select.parentNode.insertBefore(status, select.nextSibling);
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var term = input.value.trim();
      timer = setTimeout(function () {
        fetch(url + "?search=" + encodeURIComponent(term) + "&page_size=30", {credentials: "same-origin", headers: {"Accept": "application/json"}})
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!data) { return; }
            var items = data.results || data, keep = select.value;
            var first = select.options[0] && select.options[0].value === "" ? select.options[0] : null;
            select.innerHTML = "";
            if (first) { select.appendChild(first); }
            items.forEach(function (item) {
              var opt = document.createElement("option");
              opt.value = String(item.id);
              opt.textContent = (item.code || item.sku) + " " + item.name;
              if (String(item.id) === keep) { opt.selected = true; }
              select.appendChild(opt);
              if (item.sku && !defaults[String(item.id)]) {
                defaults[String(item.id)] = {specification: item.specification || "", unit_price: item.standard_price || "", lead_time_days: item.lead_time_days};
              }
            });
            if (items.length === 1 && term) {
              select.value = String(items[0].id);
              select.dispatchEvent(new Event("change", {bubbles: true}));
            }
            input.title = items.length ? "" : texts.none;
            // a visible "nothing found" (announced too), not only a tooltip
            status.textContent = items.length ? "" : texts.none;
            status.hidden = !!items.length;
          })
          .catch(function () {});
      }, 200);
    });
  }
  document.querySelectorAll("select[data-picker]").forEach(attachPicker);
  new MutationObserver(function () { body.querySelectorAll("select[data-picker]").forEach(attachPicker); })
    .observe(body, {childList: true});
  recompute();
  checkIntake();
})();
