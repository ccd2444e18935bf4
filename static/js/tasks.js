// My tasks: a box in each table's header ticks or clears every follow-up of that table. Without
// this script the box stays hidden and each follow-up is ticked on its own (tasks/_task_rows.html).
(function () {
  "use strict";

  function setUp(box) {
    var table = box.closest("table");
    var rows = table ? table.querySelectorAll("tbody input[name=task]") : [];
    if (!rows.length) { return; }
    box.hidden = false;
    box.addEventListener("change", function () {
      rows.forEach(function (row) { row.checked = box.checked; });
    });
    rows.forEach(function (row) {
      row.addEventListener("change", function () {
        var ticked = Array.prototype.filter.call(rows, function (r) { return r.checked; }).length;
        box.checked = ticked === rows.length;
        box.indeterminate = ticked > 0 && ticked < rows.length;
      });
    });
  }

  document.querySelectorAll("input[data-check-all]").forEach(setUp);
})();
