// The top bar's behaviour: the Menu button that collapses the menu on a narrow screen, and the
// language list that switches as soon as another language is chosen. Without this script the
// menu is always shown and the language form has its own button (base.html).
(function () {
  "use strict";

  function setUpMenu(bar) {
    var button = bar.querySelector(".menu-toggle");
    var menu = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) { return; }

    function show(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      bar.setAttribute("data-nav", open ? "open" : "collapsed");  // app.css hides the menu only on a narrow screen
    }

    show(false);
    button.addEventListener("click", function () {
      show(button.getAttribute("aria-expanded") !== "true");
    });
    // Escape closes the open menu and gives the focus back to its button.
    bar.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true" && button.offsetParent !== null) {
        show(false);
        button.focus();
      }
    });
  }

  function setUpLanguageSwitch(form) {
    var select = form.querySelector("select[data-autosubmit]");
    var submit = form.querySelector(".langswitch-submit");
    if (!select) { return; }
    if (submit) { submit.hidden = true; }
    select.addEventListener("change", function () {
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    });
  }

  // A table box that scrolls sideways (a narrow screen) takes the keyboard focus, so the arrow keys
  // scroll it, and is named after its table's caption or the heading above it.
  function setUpScrollingTables() {
    document.querySelectorAll(".table-scroll, .table-container").forEach(function (box) {
      if (box.scrollWidth <= box.clientWidth || box.hasAttribute("tabindex")) { return; }
      box.setAttribute("tabindex", "0");
      var caption = box.querySelector("caption");
      var heading = caption || (box.closest("section, .card") || document).querySelector("h1, h2, h3");
      if (heading && heading.textContent.trim()) {
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", heading.textContent.trim());
      }
    });
  }

  function start() {
    document.querySelectorAll(".topbar").forEach(setUpMenu);
    document.querySelectorAll("form.langswitch").forEach(setUpLanguageSwitch);
    setUpScrollingTables();
    window.addEventListener("resize", setUpScrollingTables);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
