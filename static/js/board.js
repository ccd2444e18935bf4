// The complaint board (templates/complaints/board.html): drag a card to another column, or use its
// Move control, and the move is posted to the board's move endpoint, which makes it through the
// workflow. A card lists in data-moves the states it may move to (TRANSITIONS, for someone who may
// work it): only those columns take the drop. A move with fields of its own (data-field-moves: an
// action plan, a root cause, a reason...) opens its form on the board instead. Without this script
// the Move control posts the same form and the page reloads.
(function () {
  "use strict";

  var board = document.querySelector("[data-board]");
  if (!board) { return; }
  var status = document.querySelector("[data-board-status]");
  var dragged = null;

  function words(value) {
    return (value || "").split(" ").filter(Boolean);
  }

  function say(texts, failed) {
    if (!status) { return; }
    status.textContent = texts.join(" ");
    status.className = "board-status " + (failed ? "error" : "success");
    status.setAttribute("role", failed ? "alert" : "status");
  }

  function column(state) {
    return board.querySelector('.board-column[data-state="' + state + '"]');
  }

  // A column's count follows the move; "None here." shows when its last complaint has gone.
  function addToCount(section, delta) {
    var count = section && section.querySelector("[data-count]");
    if (!count) { return; }
    var now = parseInt(count.textContent, 10) + delta;
    count.textContent = String(now);
    var empty = section.querySelector(".board-empty");
    if (empty) { empty.hidden = now > 0; }
  }

  function setUpCard(card) {
    if (!words(card.dataset.moves).length) { return; }
    card.setAttribute("draggable", "true");
    card.classList.add("movable");
    var form = card.querySelector("form[data-board-move]");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        move(card, form.querySelector("select[name=to]").value);
      });
    }
  }

  // A move with fields opens its form (the board, with ?move=&to=); any other is posted here.
  function move(card, to) {
    var form = card.querySelector("form[data-board-move]");
    if (!form || words(card.dataset.moves).indexOf(to) < 0) { return; }
    if (words(card.dataset.fieldMoves).indexOf(to) >= 0) {
      var url = board.dataset.boardUrl;
      window.location.assign(url + (url.indexOf("?") >= 0 ? "&" : "?") + "move=" + card.dataset.pk +
        "&to=" + encodeURIComponent(to) + "#move-panel");
      return;
    }
    var data = new FormData(form);
    data.set("to", to);
    card.classList.add("moving");
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": data.get("csrfmiddlewaretoken")}
    }).then(function (response) {
      return response.json();
    }).then(function (answer) {
      card.classList.remove("moving");
      if (answer.open) { window.location.assign(answer.open); return; }
      if (!answer.ok) { say(answer.errors || [], true); return; }
      var from = card.closest(".board-column");
      var target = column(answer.state);
      addToCount(from, -1);
      addToCount(target, 1);
      var list = target && target.querySelector(".board-cards");
      if (list) {
        var holder = document.createElement("ol");
        holder.innerHTML = answer.card;
        var fresh = holder.firstElementChild;
        card.remove();
        list.insertBefore(fresh, list.firstChild);
        setUpCard(fresh);
      } else {
        card.remove();
      }
      say([answer.message], false);
    }).catch(function () {
      card.classList.remove("moving");
      say([board.dataset.failed || ""], true);
    });
  }

  board.querySelectorAll(".board-card").forEach(setUpCard);

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".board-card.movable");
    if (!card) { return; }
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.pk);
    var allowed = words(card.dataset.moves);
    board.querySelectorAll(".board-column").forEach(function (section) {
      section.classList.add(allowed.indexOf(section.dataset.state) >= 0 ? "drop-ok" : "drop-no");
    });
  });

  board.addEventListener("dragend", function () {
    dragged = null;
    board.querySelectorAll(".board-column").forEach(function (section) {
      section.classList.remove("drop-ok", "drop-no", "drop-over");
    });
  });

  // Only a column the dragged card may move to is a drop target (dragover not cancelled elsewhere).
  board.addEventListener("dragover", function (event) {
    var section = event.target.closest && event.target.closest(".board-column.drop-ok");
    if (!dragged || !section) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    section.classList.add("drop-over");
  });

  board.addEventListener("dragleave", function (event) {
    var section = event.target.closest && event.target.closest(".board-column");
    if (section && !section.contains(event.relatedTarget)) { section.classList.remove("drop-over"); }
  });

  board.addEventListener("drop", function (event) {
    var section = event.target.closest && event.target.closest(".board-column.drop-ok");
    if (!dragged || !section) { return; }
    event.preventDefault();
    var card = dragged;
    if (card.closest(".board-column") !== section) { move(card, section.dataset.state); }
  });
})();
