/* The transcript editor (templates/transcripts/_editor.html).

   Edits are made in place on the rendered segments and kept as a list of operations (the
   API's: update, split, merge, index_add/update/delete); "Save" sends them in one request,
   which makes one new version on top of the version the page was opened on. Nothing is
   re-rendered: a split inserts one <li>, a merge removes one, an edit changes one row's
   text or data, so a 2,000-segment transcript stays as quick as a short one.

   The player is window.oralhistPlayer ({seek(ms), currentMs()}, static/player.js) when the
   page has one, else the page's <audio> element. Keys work in the segment texts (they are
   the editor's own text fields) and use Alt/Ctrl combinations, so typing is never taken. */
(function () {
  "use strict";
  var root = document.getElementById("editor");
  var list = document.getElementById("ed-list");
  if (!root || !list) { return; }
  var base = parseInt(root.getAttribute("data-version"), 10);
  var csrf = root.getAttribute("data-csrf");
  var ops = [];
  var refs = 0;
  var current = null;   // the segment being edited (li)
  var syncNext = null;  // the segment tap-to-sync sets next
  var saving = false;
  var rebased = false;  // saved on top of someone else's version: reload to show theirs too
  var status = document.getElementById("ed-status");
  var pending = document.getElementById("ed-pending");
  var saveButton = document.getElementById("ed-save");
  var speakerSelect = document.getElementById("ed-speaker");
  var wordStarts = {};  // {segment id: [word start ms, ...]}, fetched once the page is up
  if (root.getAttribute("data-words-url")) {
    fetch(root.getAttribute("data-words-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { segments: {} }; })
      .then(function (data) { wordStarts = data.segments || {}; })
      .catch(function () {});
  }
  var NUDGE = 100;

  // --- the player -------------------------------------------------------------------------
  function audio() { return document.querySelector("audio"); }
  function playerMs() {
    var p = window.oralhistPlayer;
    if (p && typeof p.currentMs === "function") { return Math.round(p.currentMs()); }
    var a = audio();
    return a ? Math.round((a.currentTime || 0) * 1000) : null;
  }
  function seek(ms) {
    var p = window.oralhistPlayer;
    if (p && typeof p.seek === "function") { p.seek(ms); return; }
    var a = audio();
    if (a) { a.currentTime = ms / 1000; }
  }
  function togglePlay() {
    var a = audio();
    if (!a) { return; }
    if (a.paused) { a.play().catch(function () {}); } else { a.pause(); }
  }

  // --- helpers ----------------------------------------------------------------------------
  function pad(n, w) { n = String(n); while (n.length < w) { n = "0" + n; } return n; }
  function tc(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) { return "—"; }
    var h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60;
    return h + ":" + pad(m, 2) + ":" + pad(s, 2) + "." + pad(ms % 1000, 3);
  }
  function parseTc(text) {
    var m = /^(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d{1,3}))?$/.exec((text || "").trim());
    if (!m) { return null; }
    var millis = m[4] ? parseInt((m[4] + "00").slice(0, 3), 10) : 0;
    return ((+m[1]) * 3600 + (+m[2]) * 60 + (+m[3])) * 1000 + millis;
  }
  function num(li, name) {
    var v = li.getAttribute("data-" + name);
    return v === "" || v === null ? null : parseInt(v, 10);
  }
  function key(li) {  // how operations name a segment: its id, or the ref a split gave it
    var ref = li.getAttribute("data-ref");
    return ref ? ref : parseInt(li.getAttribute("data-id"), 10);
  }
  function textOf(li) { return li.querySelector(".ed-text").textContent.trim(); }
  function segOf(node) { return node && node.closest ? node.closest("li.ed-seg") : null; }
  function say(message, kind) {
    status.hidden = !message;
    status.className = "ed-status" + (kind ? " " + kind : "");
    status.textContent = message || "";
  }
  function changed() {
    var n = ops.length;
    pending.textContent = n ? n + " unsaved change" + (n === 1 ? "" : "s") + "." : "No unsaved changes.";
    saveButton.disabled = !n || saving;
  }
  function record(op) { ops.push(op); changed(); }
  function showTimes(li) {
    li.querySelector(".ed-time").textContent = tc(num(li, "start-ms"));
  }
  function mark(li) { li.classList.add("ed-dirty"); }

  // A segment's edited text becomes an "update" the moment another operation needs it
  // (a split counts characters in the text as it is now) or the edits are saved.
  function flushText(li) {
    if (!li) { return; }
    var text = textOf(li);
    var last = li.getAttribute("data-logged-text");
    if (last === null || text === last) { return; }
    li.setAttribute("data-logged-text", text);
    var prev = ops[ops.length - 1];
    if (prev && prev.op === "update" && prev.segment_id === key(li) && Object.keys(prev).length === 3 && "text" in prev) {
      prev.text = text;
    } else {
      record({ op: "update", segment_id: key(li), text: text });
    }
    mark(li);
    changed();
  }
  function focusSeg(li, atEnd) {
    if (!li) { return; }
    var box = li.querySelector(".ed-text");
    box.focus();
    var range = document.createRange();
    range.selectNodeContents(box);
    range.collapse(!atEnd);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    li.scrollIntoView({ block: "nearest" });
  }
  function caretOffset(box) {
    var sel = window.getSelection();
    if (!sel.rangeCount) { return null; }
    var range = sel.getRangeAt(0);
    if (!box.contains(range.startContainer)) { return null; }
    var before = range.cloneRange();
    before.selectNodeContents(box);
    before.setEnd(range.startContainer, range.startOffset);
    return before.toString().length;
  }
  function setCurrent(li) {
    if (current === li) { return; }
    if (current) { flushText(current); current.classList.remove("ed-current"); }
    current = li;
    if (li && !li.hasAttribute("data-logged-text")) {
      // The text as it was before this visit (read once, when first needed, not for all rows).
      li.setAttribute("data-logged-text", textOf(li));
    }
    if (li) {
      li.classList.add("ed-current");
      speakerSelect.value = li.getAttribute("data-speaker-id") || "";
      setSyncNext(li);  // tap to sync starts from the segment one moves to
    }
  }
  function setSyncNext(li) {
    if (syncNext) { syncNext.classList.remove("ed-sync-next"); }
    syncNext = li;
    if (li) { li.classList.add("ed-sync-next"); }
  }
  function needCurrent() {
    if (!current) { say("Choose a segment first: click its text or move to it with Tab.", "warn"); return false; }
    return true;
  }

  // --- operations -------------------------------------------------------------------------
  function split() {
    if (!needCurrent()) { return; }
    var li = current, box = li.querySelector(".ed-text");
    flushText(li);
    var text = textOf(li);
    var caret = caretOffset(box);
    var raw = box.textContent;
    var lead = raw.length - raw.replace(/^\s+/, "").length;  // the saved text is trimmed
    var offset = caret === null ? text.length : Math.max(0, caret - lead);
    var head = text.slice(0, offset).trim(), tail = text.slice(offset).trim();
    if (!head || !tail) { say("Put the cursor between two words to split the segment there.", "warn"); return; }
    var start = num(li, "start-ms"), end = num(li, "end-ms");
    var op = { op: "split", segment_id: key(li), offset: offset, ref: "new" + (++refs) };
    var at = playerMs();
    if (at !== null && start !== null && end !== null && at > start && at < end) {
      op.at_ms = at;
    } else if (start !== null && end !== null) {
      at = null;
      var words = wordStarts[li.getAttribute("data-id")];
      var count = head.split(/\s+/).length;
      if (words && !li.getAttribute("data-ref") && words[count] !== undefined && words[count] !== null) { at = words[count]; }
      if (at === null) { at = start + Math.floor((end - start) * offset / Math.max(text.length, 1)); }
    } else {
      at = null;
    }
    record(op);
    box.textContent = head;
    li.setAttribute("data-logged-text", head);
    var copy = li.cloneNode(true);
    copy.classList.remove("ed-current", "ed-sync-next");
    copy.setAttribute("data-ref", op.ref);
    copy.setAttribute("data-id", "");
    copy.querySelector(".ed-text").textContent = tail;
    copy.setAttribute("data-logged-text", tail);
    if (at !== null) {
      li.setAttribute("data-end-ms", at);
      copy.setAttribute("data-start-ms", at);
      showTimes(copy);
    }
    li.parentNode.insertBefore(copy, li.nextSibling);
    mark(li); mark(copy);
    focusSeg(copy, false);
    setCurrent(copy);
  }

  function merge() {
    if (!needCurrent()) { return; }
    var li = current, next = li.nextElementSibling;
    if (!next) { say("The last segment has no next segment to merge with.", "warn"); return; }
    if ((li.getAttribute("data-speaker-id") || "") !== (next.getAttribute("data-speaker-id") || "")) {
      say("The next segment has another speaker: give both the same speaker before merging them.", "warn");
      return;
    }
    flushText(li); flushText(next);
    record({ op: "merge", segment_id: key(li), _next: key(next) });  // _next: for the conflict check only
    var joined = textOf(li) + " " + textOf(next);
    var box = li.querySelector(".ed-text");
    var caret = textOf(li).length;
    box.textContent = joined;
    li.setAttribute("data-logged-text", joined);
    var ends = [num(li, "end-ms"), num(next, "end-ms")].filter(function (v) { return v !== null; });
    if (ends.length) { li.setAttribute("data-end-ms", Math.max.apply(null, ends)); }
    if (syncNext === next) { setSyncNext(li); }
    next.parentNode.removeChild(next);
    mark(li);
    box.focus();
    var range = document.createRange();
    var node = box.firstChild;
    if (node) { range.setStart(node, Math.min(caret, node.length)); range.collapse(true); window.getSelection().removeAllRanges(); window.getSelection().addRange(range); }
  }

  function setTimes(li, start, end, why) {
    var s0 = num(li, "start-ms"), e0 = num(li, "end-ms");
    if (start !== undefined && start !== null && start < 0) { start = 0; }
    var s = start === undefined ? s0 : start, e = end === undefined ? e0 : end;
    if (s !== null && e !== null && s > e) { say("The start cannot be after the end (" + tc(e) + "); " + why, "warn"); return false; }
    flushText(li);
    var op = { op: "update", segment_id: key(li) };
    if (start !== undefined) { op.start_ms = start; li.setAttribute("data-start-ms", start === null ? "" : start); }
    if (end !== undefined) { op.end_ms = end; li.setAttribute("data-end-ms", end === null ? "" : end); }
    record(op);
    showTimes(li);
    mark(li);
    return true;
  }

  // Tap to sync (as in the OHMS sync tool): the sync segment starts at the player's time and
  // the segment before it ends there; the next segment becomes the sync segment.
  function tapSync() {
    var target = syncNext || current;
    if (!target) { say("Choose the segment to sync first.", "warn"); return; }
    var at = playerMs();
    if (at === null) { say("There is no player on this page to take the time from.", "warn"); return; }
    var prev = target.previousElementSibling;
    var end = num(target, "end-ms");
    if (end !== null && at > end) { end = null; }
    if (!setTimes(target, at, end === num(target, "end-ms") ? undefined : null, "play on to the segment's start")) { return; }
    if (prev && (num(prev, "start-ms") === null || num(prev, "start-ms") <= at)) { setTimes(prev, undefined, at, ""); }
    say("Segment starts at " + tc(at) + ".", "ok");
    setSyncNext(target.nextElementSibling || target);
  }

  function nudge(which, delta) {
    if (!needCurrent()) { return; }
    var name = which === "start" ? "start-ms" : "end-ms";
    var value = num(current, name);
    if (value === null) { say("This segment has no " + which + " time to nudge; set it from the player first.", "warn"); return; }
    var next = Math.max(0, value + delta);
    if (which === "start") { setTimes(current, next, undefined, "nudge the end first"); } else { setTimes(current, undefined, next, "nudge the start first"); }
  }

  function setSpeaker(value) {
    if (!needCurrent()) { return; }
    var id = value === "" ? null : parseInt(value, 10);
    flushText(current);
    record({ op: "update", segment_id: key(current), speaker_id: id });
    current.setAttribute("data-speaker-id", id === null ? "" : id);
    var option = speakerSelect.querySelector('option[value="' + (id === null ? "" : id) + '"]');
    current.querySelector(".ed-speaker").textContent = id === null ? "" : option.textContent;
    mark(current);
  }

  // --- index points -----------------------------------------------------------------------
  var points = document.getElementById("ed-points");
  var pointDialog = document.getElementById("ed-index-form");
  var pointForm = document.getElementById("ed-index");
  function openPoint(li) {
    pointForm.reset();
    pointForm.elements.id.value = li ? (li.getAttribute("data-ref") || li.getAttribute("data-id")) : "";
    var start = li ? num(li, "start-ms") : (playerMs() || (current ? num(current, "start-ms") : 0) || 0);
    pointForm.elements.start.value = tc(start);
    if (li) {
      pointForm.elements.title.value = li.querySelector(".ed-point-title").textContent;
      pointForm.elements.synopsis.value = li.getAttribute("data-synopsis") || "";
      pointForm.elements.keywords.value = li.getAttribute("data-keywords") || "";
    }
    pointDialog.showModal();
    pointForm.elements.title.focus();
  }
  pointDialog.addEventListener("close", function () {
    if (pointDialog.returnValue !== "ok") { return; }
    var f = pointForm.elements;
    var start = parseTc(f.start.value);
    if (start === null) { say("Give the index point's start as h:mm:ss.mmm.", "warn"); return; }
    var data = { start_ms: start, title: f.title.value.trim(), synopsis: f.synopsis.value.trim(), keywords: f.keywords.value };
    var li, name = f.id.value;
    if (name) {
      li = points.querySelector('li[data-ref="' + name + '"]') || points.querySelector('li[data-id="' + name + '"]');
      record(Object.assign({ op: "index_update", index_point_id: /^\d+$/.test(name) ? parseInt(name, 10) : name }, data));
    } else {
      li = document.createElement("li");
      li.innerHTML = '<span class="ed-point-time"></span> <span class="ed-point-title"></span> <button type="button" class="link" data-action="edit-point">Edit</button> <button type="button" class="link" data-action="remove-point">Remove</button>';
      var ref = "point" + (++refs);
      li.setAttribute("data-ref", ref);
      record(Object.assign({ op: "index_add", ref: ref }, data));
      points.appendChild(li);
      document.getElementById("ed-points-empty").hidden = true;
    }
    li.setAttribute("data-start-ms", start);
    li.setAttribute("data-synopsis", data.synopsis);
    li.setAttribute("data-keywords", data.keywords);
    li.querySelector(".ed-point-time").textContent = tc(start);
    li.querySelector(".ed-point-title").textContent = data.title;
    li.classList.add("ed-dirty");
    var after = Array.prototype.filter.call(points.children, function (o) { return o !== li && num(o, "start-ms") > start; })[0];
    points.insertBefore(li, after || null);
  });
  points.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    var li = button.closest("li");
    if (button.getAttribute("data-action") === "edit-point") { openPoint(li); }
    if (button.getAttribute("data-action") === "remove-point") {
      var name = li.getAttribute("data-ref") || li.getAttribute("data-id");
      record({ op: "index_delete", index_point_id: /^\d+$/.test(name) ? parseInt(name, 10) : name });
      li.parentNode.removeChild(li);
    }
  });

  // --- saving -----------------------------------------------------------------------------
  function renderDiff(diff, version) {
    var section = document.getElementById("ed-diff");
    var body = document.getElementById("ed-diff-body");
    body.textContent = "";
    var head = document.createElement("p");
    head.textContent = "Version " + version + " (from version " + diff.from_version + "): " + diff.summary + ".";
    var link = document.createElement("a");
    link.href = root.getAttribute("data-diff-page").replace("/0/diff", "/" + version + "/diff");
    link.textContent = "Open the full comparison";
    head.appendChild(document.createTextNode(" "));
    head.appendChild(link);
    body.appendChild(head);
    var ol = document.createElement("ol");
    ol.className = "diff-hunks";
    diff.hunks.forEach(function (hunk) {
      var item = document.createElement("li");
      item.className = "diff-hunk " + hunk.kind;
      if (hunk.words.length) {
        hunk.words.forEach(function (w) {
          var el = document.createElement(w.op === "delete" ? "del" : w.op === "insert" ? "ins" : "span");
          el.textContent = w.text;
          item.appendChild(el);
          item.appendChild(document.createTextNode(" "));
        });
      } else {
        hunk.old.forEach(function (s) { var d = document.createElement("del"); d.textContent = tc(s.start_ms) + " " + s.text; item.appendChild(d); item.appendChild(document.createElement("br")); });
        hunk.new.forEach(function (s) { var d = document.createElement("ins"); d.textContent = tc(s.start_ms) + " " + s.text; item.appendChild(d); item.appendChild(document.createElement("br")); });
      }
      var sameText = hunk.old.length === 1 && hunk.new.length === 1 && hunk.old[0].text === hunk.new[0].text;
      if (sameText) {
        var o = hunk.old[0], n = hunk.new[0], note = document.createElement("span");
        note.className = "muted";
        note.textContent = " (" + [o.start_ms !== n.start_ms ? "start " + tc(o.start_ms) + " → " + tc(n.start_ms) : "",
          o.end_ms !== n.end_ms ? "end " + tc(o.end_ms) + " → " + tc(n.end_ms) : "",
          o.speaker !== n.speaker ? "speaker " + (o.speaker || "none") + " → " + (n.speaker || "none") : ""].filter(Boolean).join(", ") + ")";
        item.appendChild(note);
      }
      ol.appendChild(item);
    });
    body.appendChild(ol);
    if (diff.index.length) {
      var p = document.createElement("p");
      p.textContent = diff.index.length + " index point change" + (diff.index.length === 1 ? "" : "s") + ".";
      body.appendChild(p);
    }
    section.hidden = false;
  }

  function applyIds(result) {
    Object.keys(result.segment_ids || {}).forEach(function (name) {
      if (/^\d+$/.test(name)) { return; }
      var li = list.querySelector('li[data-ref="' + name + '"]');
      var id = result.segment_ids[name];
      if (li && id) { li.setAttribute("data-id", id); li.removeAttribute("data-ref"); }
    });
    Object.keys(result.index_point_ids || {}).forEach(function (name) {
      if (/^\d+$/.test(name)) { return; }
      var li = points.querySelector('li[data-ref="' + name + '"]');
      var id = result.index_point_ids[name];
      if (li && id) { li.setAttribute("data-id", id); li.removeAttribute("data-ref"); }
    });
  }

  // After a conflict: when the newer versions changed none of the segments these edits
  // touch, offer to apply them on the current version (the ids of edited segments stay).
  function offerRebase(details, sent) {
    var theirs = details.changed_segment_ids, theirPoints = details.changed_index_point_ids;
    if (!theirs || !theirPoints || !details.current_version) { return; }
    var mine = {}, minePoints = {};
    sent.forEach(function (op) {
      if (typeof op.segment_id === "number") { mine[op.segment_id] = true; }
      if (typeof op._next === "number") { mine[op._next] = true; }
      if (typeof op.index_point_id === "number") { minePoints[op.index_point_id] = true; }
    });
    var clash = theirs.some(function (id) { return mine[id]; }) ||
      theirPoints.some(function (id) { return minePoints[id]; });
    if (clash) {
      status.appendChild(document.createTextNode("\nThey changed something you changed too: reload the page and make your changes again."));
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.id = "ed-rebase";
    button.textContent = "Apply my changes on top of version " + details.current_version;
    button.addEventListener("click", function () {
      base = details.current_version;
      root.classList.remove("ed-conflict");
      rebased = true;
      save();
    });
    status.appendChild(document.createElement("br"));
    status.appendChild(button);
    button.focus();
  }

  function save() {
    if (current) { flushText(current); }
    if (!ops.length || saving) { changed(); return; }
    saving = true;
    changed();
    say("Saving…", "");
    var sent = ops.slice();
    fetch(root.getAttribute("data-save-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify({ base_version: base, operations: sent }, function (k, v) {
        return k.charAt(0) === "_" ? undefined : v;
      })
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (answer) {
      saving = false;
      if (answer.status === 201 || answer.status === 200) {
        ops = ops.slice(sent.length);
        applyIds(answer.data);
        base = answer.data.version;
        root.setAttribute("data-version", base);
        document.getElementById("ed-base").textContent = base;
        Array.prototype.forEach.call(root.querySelectorAll(".ed-dirty"), function (el) { el.classList.remove("ed-dirty"); });
        changed();
        if (!answer.data.created) { say("Nothing changed: no new version was made.", "ok"); return; }
        if (rebased) {  // the page still shows the other editor's segments as they were
          window.location.assign(window.location.pathname + "?saved=" + base);
          return;
        }
        say("Saved as version " + base + ".", "ok");
        return fetch(root.getAttribute("data-diff-url").replace("/0/diff", "/" + base + "/diff"), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (diff) { renderDiff(diff, base); });
      }
      changed();
      var error = (answer.data && answer.data.error) || {};
      var message = error.message || "The changes could not be saved.";
      if (answer.status === 409) {
        root.classList.add("ed-conflict");
        message = "Not saved: " + message;
        var changes = (error.details && error.details.changes) || [];
        var lines = changes.slice(0, 5).map(function (h) {
          var n = h["new"][0], o = h.old[0];
          return "• " + (o ? "“" + o.text + "”" : "(new)") + " → " + (n ? "“" + n.text + "”" : "(removed)");
        });
        if (lines.length) { message += "\n" + lines.join("\n"); }
        say(message, "error");
        offerRebase(error.details || {}, sent);
        return;
      }
      say(message, "error");
    }).catch(function () {
      saving = false;
      changed();
      say("The changes could not be sent (no connection?). They are still here; try Save again.", "error");
    });
  }

  // --- events -----------------------------------------------------------------------------
  list.addEventListener("focusin", function (event) { var li = segOf(event.target); if (li) { setCurrent(li); } });
  list.addEventListener("input", function (event) {
    var li = segOf(event.target);
    if (li) { mark(li); pending.textContent = "Unsaved changes."; saveButton.disabled = saving; }
  });
  list.addEventListener("focusout", function (event) { var li = segOf(event.target); if (li) { flushText(li); } });
  list.addEventListener("click", function (event) {
    var time = event.target.closest(".ed-time");
    if (!time) { return; }
    var li = segOf(time), start = num(li, "start-ms");
    if (start !== null) { seek(start); }
    setCurrent(li);
  });
  list.addEventListener("paste", function (event) {  // plain text only, one line
    if (!segOf(event.target)) { return; }
    event.preventDefault();
    var text = (event.clipboardData || window.clipboardData).getData("text").replace(/\s+/g, " ");
    document.execCommand("insertText", false, text);
  });
  speakerSelect.addEventListener("change", function () { setSpeaker(speakerSelect.value); if (current) { focusSeg(current, true); } });
  root.querySelector(".ed-toolbar").addEventListener("mousedown", function (event) {
    // Keep the caret in the segment when a toolbar button is pressed.
    if (event.target.closest("button")) { event.preventDefault(); }
  });
  root.querySelector(".ed-toolbar").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) { return; }
    run(button.getAttribute("data-action"));
  });
  function run(action) {
    switch (action) {
      case "split": split(); break;
      case "merge": merge(); break;
      case "sync": tapSync(); break;
      case "nudge-start-back": nudge("start", -NUDGE); break;
      case "nudge-start-on": nudge("start", NUDGE); break;
      case "nudge-end-back": nudge("end", -NUDGE); break;
      case "nudge-end-on": nudge("end", NUDGE); break;
      case "index": openPoint(null); break;
      case "save": save(); break;
      case "help": document.getElementById("ed-help").showModal(); break;
    }
  }
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || document.querySelector("dialog[open]")) { return; }
    var inSegment = !!segOf(event.target);
    var code = event.code;
    var action = null;
    if ((event.ctrlKey || event.metaKey) && !event.altKey && code === "KeyS") { action = "save"; }
    else if (inSegment && code === "Enter" && !event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey) { action = "split"; }
    else if (event.altKey && !event.ctrlKey && !event.metaKey) {
      action = {
        KeyJ: "merge", KeyT: "sync", KeyI: "index", KeyH: "help", KeyP: "play", KeyK: "play-segment", KeyS: "speaker",
        ArrowUp: "previous", ArrowDown: "next",
        Comma: event.shiftKey ? "nudge-end-back" : "nudge-start-back",
        Period: event.shiftKey ? "nudge-end-on" : "nudge-start-on"
      }[code] || null;
    }
    if (!action) { return; }
    event.preventDefault();
    if (action === "play") { togglePlay(); return; }
    if (action === "play-segment") { if (current && num(current, "start-ms") !== null) { seek(num(current, "start-ms")); var a = audio(); if (a) { a.play().catch(function () {}); } } return; }
    if (action === "speaker") { if (needCurrent()) { speakerSelect.focus(); } return; }
    if (action === "previous" || action === "next") {
      if (!current) { focusSeg(list.firstElementChild, false); return; }
      var to = action === "next" ? current.nextElementSibling : current.previousElementSibling;
      if (to) { focusSeg(to, true); }
      return;
    }
    run(action);
  });
  window.addEventListener("beforeunload", function (event) {
    if (current) { flushText(current); }
    if (ops.length) { event.preventDefault(); event.returnValue = ""; }
  });
  root.classList.add("ed-ready");
  changed();
})();
