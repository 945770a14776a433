/* Documents on the interview page and the document page (no inline scripts: CSP).

   - "Select passage" mode: a checkbox in each transcript segment
     (<li class="segment" data-start-ms data-end-ms>); ticking segments, or shift-clicking
     them, selects one run of consecutive segments and fills the Start/End fields of the
     "Link a passage" form.
   - Linked passages: segments inside a passage of the "Documents discussed" panel
     (.doc-passage[data-start-ms][data-end-ms]) get the class "linked".
   - A passage's time seeks the player (window.oralhistPlayer.seek) when there is one;
     otherwise the link's ?t= opens the page there.
   - "Copy citation" copies the citation and its permanent link.
*/
(function () {
  "use strict";

  function pad(n, width) {
    var s = String(n);
    while (s.length < width) { s = "0" + s; }
    return s;
  }

  function timecode(ms) {
    ms = Math.max(0, Math.round(ms));
    var h = Math.floor(ms / 3600000);
    var m = Math.floor((ms % 3600000) / 60000);
    var s = Math.floor((ms % 60000) / 1000);
    var t = ms % 1000;
    return pad(h, 2) + ":" + pad(m, 2) + ":" + pad(s, 2) + "." + pad(t, 3);
  }

  function intAttr(el, name) {
    var v = el.getAttribute(name);
    if (v === null || v === "") { return null; }
    var n = parseInt(v, 10);
    return isNaN(n) ? null : n;
  }

  function segments() {
    return Array.prototype.slice.call(document.querySelectorAll(".transcript .segment"));
  }

  function segmentEnd(list, i) {
    var end = intAttr(list[i], "data-end-ms");
    if (end !== null) { return end; }
    if (i + 1 < list.length && intAttr(list[i + 1], "data-start-ms") !== null) {
      return intAttr(list[i + 1], "data-start-ms");
    }
    return intAttr(list[i], "data-start-ms");
  }

  function overlaps(segStart, segEnd, start, end) {
    if (segStart === null) { return false; }
    if (segEnd === null) { segEnd = segStart; }
    if (start === end || segStart === segEnd) {
      return segStart <= end && segEnd >= start && !(segStart === end && start < end);
    }
    return segStart < end && segEnd > start;
  }

  /* --- linked passages ------------------------------------------------------------- */

  function markLinked() {
    var list = segments();
    if (!list.length) { return; }
    var ranges = Array.prototype.slice.call(
      document.querySelectorAll(".doc-passage[data-start-ms][data-end-ms]"));
    list.forEach(function (seg, i) {
      var s = intAttr(seg, "data-start-ms");
      var e = segmentEnd(list, i);
      var linked = ranges.some(function (r) {
        return overlaps(s, e, intAttr(r, "data-start-ms"), intAttr(r, "data-end-ms"));
      });
      seg.classList.toggle("linked", linked);
    });
  }

  /* --- selecting a passage ----------------------------------------------------------- */

  function setupSelection() {
    var form = document.getElementById("link-passage");
    var toggle = document.getElementById("select-passage");
    if (!form || !toggle) { return; }
    var startInput = form.querySelector("input[name=start]");
    var endInput = form.querySelector("input[name=end]");
    var summary = document.getElementById("link-selection");
    var anchor = null;
    var active = false;

    if (!segments().length) {
      toggle.disabled = true;
      toggle.title = "There is no timed transcript to select from: type the times.";
      return;
    }

    function picked(list) {
      var idx = [];
      list.forEach(function (seg, i) {
        var box = seg.querySelector("input.passage-pick");
        if (box && box.checked) { idx.push(i); }
      });
      return idx;
    }

    function apply(first, last) {
      var list = segments();
      list.forEach(function (seg, i) {
        var on = first !== null && i >= first && i <= last;
        var box = seg.querySelector("input.passage-pick");
        if (box) { box.checked = on; }
        seg.classList.toggle("picked", on);
      });
      if (first === null) {
        if (summary) { summary.textContent = ""; }
        return;
      }
      var start = intAttr(list[first], "data-start-ms");
      var end = segmentEnd(list, last);
      if (start === null || end === null) {
        if (summary) { summary.textContent = "These segments have no times: type the times."; }
        return;
      }
      startInput.value = timecode(start);
      endInput.value = timecode(end);
      if (summary) {
        var n = last - first + 1;
        summary.textContent = n + " segment" + (n === 1 ? "" : "s") + " selected: " +
          timecode(start).slice(0, 8) + "–" + timecode(end).slice(0, 8) + ".";
      }
    }

    function onBoxChange(event) {
      var list = segments();
      var seg = event.target.closest(".segment");
      var i = list.indexOf(seg);
      if (event.target.checked) {
        var idx = picked(list);
        anchor = anchor === null ? i : anchor;
        apply(Math.min.apply(null, idx), Math.max.apply(null, idx));
      } else {
        /* unticking shortens the run from that end (a run stays consecutive) */
        var rest = picked(list);
        if (!rest.length) { anchor = null; apply(null, null); return; }
        var lo = Math.min.apply(null, rest), hi = Math.max.apply(null, rest);
        if (i > lo && i < hi) { hi = i - 1; }
        apply(lo, hi);
      }
    }

    function onSegmentClick(event) {
      if (!active || !event.shiftKey) { return; }
      var list = segments();
      var seg = event.target.closest(".segment");
      if (!seg || event.target.classList.contains("passage-pick")) { return; }
      event.preventDefault();
      event.stopPropagation();
      var i = list.indexOf(seg);
      if (anchor === null) { anchor = i; }
      apply(Math.min(anchor, i), Math.max(anchor, i));
    }

    function enter() {
      active = true;
      document.body.classList.add("selecting");
      toggle.setAttribute("aria-pressed", "true");
      toggle.textContent = "Stop selecting";
      segments().forEach(function (seg, i) {
        if (seg.querySelector("input.passage-pick")) { return; }
        var box = document.createElement("input");
        box.type = "checkbox";
        box.className = "passage-pick";
        var start = intAttr(seg, "data-start-ms");
        box.setAttribute("aria-label", "Select segment " + (i + 1) +
          (start !== null ? " at " + timecode(start).slice(0, 8) : ""));
        box.addEventListener("change", onBoxChange);
        box.addEventListener("click", function (e) { e.stopPropagation(); });
        seg.insertBefore(box, seg.firstChild);
      });
    }

    function leave() {
      active = false;
      document.body.classList.remove("selecting");
      toggle.setAttribute("aria-pressed", "false");
      toggle.textContent = "Select passage";
      segments().forEach(function (seg) {
        var box = seg.querySelector("input.passage-pick");
        if (box) { box.remove(); }
        seg.classList.remove("picked");
      });
      anchor = null;
    }

    toggle.addEventListener("click", function () { if (active) { leave(); } else { enter(); } });
    document.addEventListener("click", onSegmentClick, true);
    form.addEventListener("submit", function () { if (active) { document.body.classList.remove("selecting"); } });
  }

  /* --- seeking and copying -------------------------------------------------------------- */

  function setupSeek() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[data-seek-ms]") : null;
      if (!link) { return; }
      var player = window.oralhistPlayer;
      if (!player || typeof player.seek !== "function") { return; }
      event.preventDefault();
      player.seek(parseInt(link.getAttribute("data-seek-ms"), 10) || 0);
    });
  }

  function setupCopy() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button.copy-cite") : null;
      if (!button) { return; }
      var text = button.getAttribute("data-copy") || "";
      var status = button.parentNode.querySelector(".copy-status");
      function done(message) { if (status) { status.textContent = message; } }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(
          function () { done("Copied."); },
          function () { done("Select the text above and copy it."); });
      } else {
        done("Select the text above and copy it.");
      }
    });
  }

  function init() {
    markLinked();
    setupSelection();
    setupSeek();
    setupCopy();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
