// Asks before a move off the normal path. A submit button (or a form) with data-confirm="..."
// submits only once the person confirms; the question is in the page, already translated.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var source = event.submitter || form.querySelector("[type=submit][data-confirm]") || form;
    var question = source.getAttribute("data-confirm") || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
