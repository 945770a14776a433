/* Participants on the interview and deposit forms: suggestions from the people already in the
   archive as a name is typed (GET /api/v1/people?q=), the chosen person's id kept in the row's
   hidden field (cleared when the name is changed to one not suggested, so it becomes a new
   person), and an "Add another person" button. Without this script the rows still work: a
   typed name is matched or created on save. */
(function () {
  "use strict";
  var box = document.getElementById("oh-participants");
  if (!box || !window.fetch) { return; }
  var api = box.getAttribute("data-people-api");
  var list = document.getElementById("oh-people-list");
  var known = {};  // lower-case name -> id, from the suggestions shown
  var timer = null;

  function suggest(text) {
    fetch(api + "?per_page=10&q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (body) {
        list.textContent = "";
        (body.items || []).forEach(function (p) {
          known[p.name.toLowerCase()] = p.id;
          var option = document.createElement("option");
          option.value = p.name;
          if (p.dates) { option.label = p.name + " (" + p.dates + ")"; }
          list.appendChild(option);
        });
      })
      .catch(function () { /* suggestions are a help, not a need */ });
  }

  function settle(input) {
    var hidden = input.parentNode.querySelector("input[name=participant_person]");
    var id = known[input.value.trim().toLowerCase()];
    hidden.value = id ? String(id) : "";
  }

  box.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("person-name")) { return; }
    settle(input);
    var text = input.value.trim();
    clearTimeout(timer);
    if (text.length >= 2) { timer = setTimeout(function () { suggest(text); }, 150); }
  });
  box.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("person-name")) { settle(event.target); }
  });

  var add = document.createElement("button");
  add.type = "button";
  add.className = "secondary";
  add.textContent = "Add another person";
  add.addEventListener("click", function () {
    var rows = box.querySelectorAll(".participant");
    var last = rows[rows.length - 1];
    var copy = last.cloneNode(true);
    var n = rows.length + 1;
    copy.querySelectorAll("input, select, label").forEach(function (el) {
      if (el.tagName === "LABEL") {
        var forId = el.getAttribute("for").replace(/\d+$/, String(n));
        el.setAttribute("for", forId);
        if (forId.indexOf("p-name-") === 0) { el.textContent = "Person " + n; }
      } else {
        if (el.id) { el.id = el.id.replace(/\d+$/, String(n)); }
        if (el.tagName === "INPUT") { el.value = ""; }
        if (el.tagName === "SELECT") { el.value = "other"; }
      }
    });
    last.parentNode.insertBefore(copy, last.nextSibling);
    copy.querySelector(".person-name").focus();
  });
  list.parentNode.insertBefore(add, list);
})();
