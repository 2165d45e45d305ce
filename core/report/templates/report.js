// etude report: filter claims by plugin, verdict, text (and "changed only"); sort tables by a column.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var plugin = $("filter-plugin"), verdict = $("filter-verdict"), text = $("filter-text"), changed = $("filter-changed");

  function matches(el) {
    var p = plugin && plugin.value, v = verdict && verdict.value, t = text && text.value.trim().toLowerCase();
    if (p && el.getAttribute("data-plugin") !== p) return false;
    if (v && el.getAttribute("data-verdict") !== v) return false;
    if (t && (el.getAttribute("data-text") || "").indexOf(t) < 0) return false;
    if (changed && changed.checked && el.getAttribute("data-changed") !== "yes") return false;
    return true;
  }

  function apply() {
    var shown = 0, total = 0;
    document.querySelectorAll("#summary-table tbody tr").forEach(function (row) {
      var ok = matches(row);
      row.hidden = !ok;
      total += 1;
      if (ok) shown += 1;
    });
    document.querySelectorAll("article.claim, #comparison-table tbody tr").forEach(function (el) {
      el.hidden = !matches(el);
    });
    document.querySelectorAll("table.matrix a.cell").forEach(function (cell) {
      var card = $(cell.getAttribute("data-claim"));
      cell.classList.toggle("dim", !!card && card.hidden);
    });
    document.querySelectorAll("table.matrix tr").forEach(function (row) {
      row.hidden = !!(plugin && plugin.value) && row.getAttribute("data-plugin") !== plugin.value;
    });
    var count = $("shown-count");
    if (count) count.textContent = shown + " of " + total + " shown";
  }

  [plugin, verdict, text, changed].forEach(function (el) {
    if (!el) return;
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  });

  function key(cell, type) {
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    if (type === "number") {
      var x = parseFloat(raw);
      return isNaN(x) ? -Infinity : x;
    }
    return cell.hasAttribute("data-sort") && raw !== "" && !isNaN(parseFloat(raw)) ? parseFloat(raw) : raw.toLowerCase();
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, index) {
      th.addEventListener("click", function () {
        var descending = th.getAttribute("aria-sort") === "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var body = table.tBodies[0], type = th.getAttribute("data-type") || "text";
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[index], type), y = key(b.cells[index], type);
          var c = x < y ? -1 : (x > y ? 1 : 0);
          return descending ? -c : c;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });

  var params = new URLSearchParams(window.location.search);
  if (plugin && params.get("plugin")) plugin.value = params.get("plugin");
  if (verdict && params.get("verdict")) verdict.value = params.get("verdict");
  if (text && params.get("q")) text.value = params.get("q");
  apply();
})();
