// Bulk selection on a list (crm customer list, complaint queue): the header's box ticks or clears
// every row's box on the page, and the bar says how many are ticked. Without JavaScript each row is
// ticked by hand, and "all matching this filter" still selects the whole filtered set.
(function () {
  "use strict";
  function setUp(form) {
    var id = form.id;
    var rows = function () { return document.querySelectorAll('input.bulk-pick[form="' + id + '"]'); };
    var page = document.querySelector('input.bulk-page[form="' + id + '"]');
    var counter = form.querySelector(".bulk-count");
    var all = form.querySelector('input[name="all"]');
    function update() {
      var ticked = Array.prototype.filter.call(rows(), function (box) { return box.checked; }).length;
      if (counter) {
        counter.textContent = ticked
          ? counter.getAttribute("data-some").replace("{n}", String(ticked))
          : counter.getAttribute("data-none");
      }
      if (page) {
        page.checked = ticked > 0 && ticked === rows().length;
        page.indeterminate = ticked > 0 && ticked < rows().length;
      }
    }
    if (page) {
      page.addEventListener("change", function () {
        Array.prototype.forEach.call(rows(), function (box) { box.checked = page.checked; });
        update();
      });
    }
    Array.prototype.forEach.call(rows(), function (box) { box.addEventListener("change", update); });
    if (all) {
      // "All matching" wins over ticked rows: the ticks are cleared so that it is plain which applies.
      all.addEventListener("change", function () {
        if (all.checked) {
          Array.prototype.forEach.call(rows(), function (box) { box.checked = false; });
          update();
        }
      });
    }
    update();
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form.bulk-bar"), setUp);
  });
})();
