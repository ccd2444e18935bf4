// Suggests customers (code or name, Chinese included) while the rep types in the complaint form.
(function () {
  "use strict";
  var form = document.getElementById("complaint-form");
  if (!form) { return; }
  var input = form.querySelector("input[list=customer-suggestions]");
  var list = document.getElementById("customer-suggestions");
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    var text = input.value.trim();
    if (!text) { return; }
    timer = setTimeout(function () {
      fetch(form.dataset.lookupUrl + "?q=" + encodeURIComponent(text), {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : {results: []}; })
        .then(function (payload) {
          list.replaceChildren.apply(list, payload.results.map(function (match) {
            var option = document.createElement("option");
            option.value = match.label;
            return option;
          }));
        });
    }, 200);
  });
})();
