/* The transcript beside the player: click a line (or a word, when word times exist) or a
   time to play from there; the current segment follows the audio (binary search over start
   times, no per-tick DOM scan) and is kept in view while "Follow playback" is on; scrolling
   the transcript turns following off and shows "Return to the current line". A deep link
   (?t=, ?hl=, a search result) lands with its line in view and highlighted. "Copy link to
   this moment" (to the millisecond), "Cite…" (the selected passage or the current line:
   permalink ?t=&end= and Chicago/MLA citations), search inside this transcript.

   Talks to the player through window.oralhistPlayer (static/player.js); without it the
   time links stay plain ?t= links and, if the page has an <audio>, it is used directly. */
(function () {
  "use strict";
  var panel = document.getElementById("transcript");
  var list = document.getElementById("tx-list");
  var box = document.getElementById("tx-scroll");
  if (!panel || !list || !box) { return; }

  var items = list.querySelectorAll("li.segment");
  var starts = [];   // start ms of timed segments, in document order
  var timed = [];    // the matching <li> elements
  var ordered = true;
  for (var i = 0; i < items.length; i++) {
    var raw = items[i].getAttribute("data-start-ms");
    if (raw === null || raw === "") { continue; }
    var ms = parseInt(raw, 10);
    if (isNaN(ms)) { continue; }
    if (starts.length && ms < starts[starts.length - 1]) { ordered = false; }
    starts.push(ms);
    timed.push(items[i]);
  }
  if (!ordered) {
    // Out-of-order cues are kept in file order on the page; search a sorted copy.
    var pairs = starts.map(function (s, k) { return [s, timed[k]]; });
    pairs.sort(function (a, b) { return a[0] - b[0]; });
    starts = pairs.map(function (p) { return p[0]; });
    timed = pairs.map(function (p) { return p[1]; });
  }
  var indexItems = Array.prototype.slice.call(panel.querySelectorAll("li.index-point"));
  var indexStarts = indexItems.map(function (li) { return parseInt(li.getAttribute("data-start-ms"), 10) || 0; });

  /* --- the player ------------------------------------------------------------------------ */
  var fallbackAudio = null;
  function player() {
    if (window.oralhistPlayer) { return window.oralhistPlayer; }
    if (!fallbackAudio) { fallbackAudio = document.querySelector("audio"); }
    if (!fallbackAudio) { return null; }
    var a = fallbackAudio;
    return {
      seek: function (ms) { a.currentTime = ms / 1000; },
      play: function () { var p = a.play(); if (p && p.catch) { p.catch(function () {}); } return p; },
      currentMs: function () { return Math.round((a.currentTime || 0) * 1000); },
      durationMs: function () { return Math.round((a.duration || 0) * 1000); },
      onTime: function (cb) {
        a.addEventListener("timeupdate", function () { cb(Math.round(a.currentTime * 1000)); });
        a.addEventListener("seeked", function () { cb(Math.round(a.currentTime * 1000)); });
      }
    };
  }

  /* --- which segment is current: binary search ------------------------------------------- */
  function lastAtOrBefore(array, ms) {
    var lo = 0, hi = array.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (array[mid] <= ms) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  var currentEl = null;
  var currentIndexEl = null;
  var followButton = document.getElementById("tx-follow");   // "Return to the current line"
  var followToggle = document.getElementById("tx-follow-toggle");
  var follow = true;
  var programmaticUntil = 0;

  function following() { return follow; }
  function setFollow(on) {
    follow = !!on;
    if (followToggle) { followToggle.setAttribute("aria-pressed", follow ? "true" : "false"); }
    if (followButton) { followButton.hidden = follow || !currentEl; }
    if (follow && currentEl && !inView(currentEl)) { scrollToEl(currentEl, true); }
  }

  /* The part of the transcript box the reader can see: inside the window and below the
     docked player (window coordinates). */
  function visibleBand() {
    var b = box.getBoundingClientRect();
    var under = parseInt(getComputedStyle(document.documentElement).getPropertyValue("--player-height"), 10) || 0;
    var top = Math.max(b.top, under), bottom = Math.min(b.bottom, window.innerHeight);
    if (bottom - top < 40) { top = b.top; bottom = b.bottom; }  // the box is off-screen: its own view
    return {top: top, bottom: bottom, boxTop: b.top};
  }
  function scrollToEl(el, smooth) {
    // Scroll only the transcript box, never the page under the reader: the line goes a
    // third of the way down the part of the box that can be seen.
    var band = visibleBand();
    var wanted = band.top + (band.bottom - band.top) / 3;
    var top = box.scrollTop + (el.getBoundingClientRect().top - wanted);
    // Our own scroll is not the reader's: scroll events count as the reader's again once it
    // has ended ("scrollend"; a time limit where the browser has no such event).
    programmaticUntil = Date.now() + (smooth ? 1500 : 300);
    if (smooth && box.scrollTo) {
      box.scrollTo({ top: Math.max(0, top), behavior: "smooth" });
    } else {
      box.scrollTop = Math.max(0, top);
    }
  }
  function inView(el) {
    var band = visibleBand(), r = el.getBoundingClientRect();
    return r.top >= band.top && r.bottom <= band.bottom;
  }

  /* --- the word being spoken, in segments with word timings ------------------------------
     The times come from data-words-url (fetched once, so the page itself stays light); a
     segment's text is split into word spans the first time it becomes current, and only
     when its words match the start times one for one (else no word is marked). */
  var currentWord = null;
  var wordTimes = null;  // {segment id: [start ms or null, ...]}
  var wordsUrl = list.getAttribute("data-words-url");
  if (wordsUrl && window.fetch) {
    fetch(wordsUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.segments) { return; }
        wordTimes = data.segments;
        // The reader may have sought (a ?t= link, a click) before the times arrived: mark the
        // word now rather than at the next time update, which a paused player never sends.
        var p = player();
        if (p && currentEl) { markWord(currentEl, p.currentMs()); }
      })
      .catch(function () {});
  }
  function wordSpans(li) {
    if (!wordTimes) { return null; }
    if (li.ohWords !== undefined) { return li.ohWords; }
    li.ohWords = null;
    var times = wordTimes[li.getAttribute("data-segment-id")];
    var textEl = li.querySelector(".text");
    if (!times || !textEl || textEl.children.length) { return null; }
    var tokens = textEl.textContent.split(/(\s+)/).filter(function (t) { return t !== ""; });
    var words = tokens.filter(function (t) { return !/^\s+$/.test(t); });
    if (words.length !== times.length) { return null; }
    var spans = [];
    var last = null;
    var fragment = document.createDocumentFragment();
    tokens.forEach(function (token) {
      if (/^\s+$/.test(token)) { fragment.appendChild(document.createTextNode(token)); return; }
      var span = document.createElement("span");
      span.className = "word";
      span.textContent = token;
      var at = times[spans.length];
      last = at === null ? last : at;
      span.ohStart = last;
      spans.push(span);
      fragment.appendChild(span);
    });
    textEl.textContent = "";
    textEl.appendChild(fragment);
    li.ohWords = spans;
    return spans;
  }
  function markWord(li, ms) {
    var spans = li ? wordSpans(li) : null;
    var found = null;
    for (var w = 0; spans && w < spans.length; w++) {
      if (spans[w].ohStart === null) { continue; }
      if (spans[w].ohStart > ms) { break; }
      found = spans[w];
    }
    if (found !== currentWord) {
      if (currentWord) { currentWord.classList.remove("word-current"); }
      if (found) { found.classList.add("word-current"); }
      currentWord = found;
    }
  }

  function onTime(ms) {
    var k = lastAtOrBefore(starts, ms);
    var el = k >= 0 ? timed[k] : null;
    if (el !== currentEl) {
      if (currentEl) { currentEl.classList.remove("current"); currentEl.removeAttribute("aria-current"); }
      if (el) { el.classList.add("current"); el.setAttribute("aria-current", "true"); }
      currentEl = el;
      if (el && following() && !inView(el)) { scrollToEl(el, false); }
    }
    markWord(el, ms);
    if (indexItems.length) {
      var j = lastAtOrBefore(indexStarts, ms);
      var ix = j >= 0 ? indexItems[j] : null;
      if (ix !== currentIndexEl) {
        if (currentIndexEl) { currentIndexEl.classList.remove("current"); }
        if (ix) { ix.classList.add("current"); }
        currentIndexEl = ix;
      }
    }
    if (followButton) { followButton.hidden = following() || !currentEl; }
  }

  /* The reader scrolled the transcript away: following stops until they ask for it back. */
  function userScrolled() {
    if (follow) { setFollow(false); }
  }
  ["wheel", "touchmove", "mousedown"].forEach(function (name) {
    box.addEventListener(name, userScrolled, { passive: true });
  });
  box.addEventListener("keydown", function (event) {
    if (["ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End", " "].indexOf(event.key) >= 0) {
      userScrolled();
    }
  });
  box.addEventListener("scroll", function () {
    if (Date.now() > programmaticUntil) { userScrolled(); }
  }, { passive: true });
  box.addEventListener("scrollend", function () {
    window.setTimeout(function () { programmaticUntil = 0; }, 0);
  }, { passive: true });
  if (followButton) {
    followButton.addEventListener("click", function () {
      setFollow(true);
      if (currentEl) { scrollToEl(currentEl, true); }
    });
  }
  if (followToggle) {
    followToggle.addEventListener("click", function () { setFollow(!follow); });
  }

  /* --- time links ------------------------------------------------------------------------ */
  function secondsOf(href) {
    var match = /[?&]t=([0-9.]+)/.exec(href || "");
    return match ? parseFloat(match[1]) : null;
  }
  function tParam(ms) {
    var whole = Math.floor(ms / 1000), rest = ms % 1000;
    return rest ? (whole + "." + String(1000 + rest).slice(1)).replace(/0+$/, "") : String(whole);
  }
  function playFrom(target) {
    var p = player();
    if (!p) { return false; }
    p.seek(target);
    p.play();
    setFollow(true);
    onTime(target);
    if (history.replaceState) {
      var url = new URL(window.location.href);
      url.searchParams.set("t", tParam(target));
      url.searchParams.delete("hl");
      url.searchParams.delete("end");
      url.hash = "";
      history.replaceState(null, "", url.toString());
    }
    return true;
  }
  panel.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.time") : null;
    if (!link || !panel.contains(link)) { return; }
    var seconds = secondsOf(link.getAttribute("href"));
    if (!player() || seconds === null || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    event.preventDefault();
    playFrom(Math.round(seconds * 1000));
  });
  /* A click on a line's text plays from that line, or from the word clicked when the words
     are timed; not while the reader selects text (to cite it), nor on the line's own
     controls, nor while "Select passage" (documents) is picking segments. */
  list.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    if (document.body.classList.contains("selecting")) { return; }
    if (event.target.closest("a,button,input,select,textarea,label,[contenteditable]")) { return; }
    var selection = window.getSelection ? window.getSelection() : null;
    if (selection && !selection.isCollapsed && String(selection).trim()) { return; }
    var li = event.target.closest("li.segment");
    if (!li || !list.contains(li)) { return; }
    var start = parseInt(li.getAttribute("data-start-ms"), 10);
    if (isNaN(start)) { return; }
    var spans = wordSpans(li);
    if (spans) {
      var hit = document.elementFromPoint(event.clientX, event.clientY);
      var word = hit && hit.closest ? hit.closest("span.word") : null;
      if (word && li.contains(word) && word.ohStart !== null && word.ohStart !== undefined) { start = word.ohStart; }
    }
    playFrom(start);
  });

  /* --- copy link to this moment ---------------------------------------------------------- */
  var copyButton = document.getElementById("tx-copy");
  var copyStatus = document.getElementById("tx-copy-status");
  var copyText = document.getElementById("tx-copy-text");
  function momentUrl() {
    var p = player();
    var ms = p ? p.currentMs() : (currentEl ? parseInt(currentEl.getAttribute("data-start-ms"), 10) : 0);
    return panel.getAttribute("data-page-url") + "?t=" + tParam(Math.max(0, ms || 0));
  }
  function showFallback(url, note) {
    copyText.hidden = false;
    copyText.value = url;
    copyText.focus();
    copyText.select();
    copyStatus.textContent = note;
  }
  if (copyButton) {
    copyButton.addEventListener("click", function () {
      var url = momentUrl();
      if (navigator.clipboard && navigator.clipboard.writeText && window.isSecureContext) {
        navigator.clipboard.writeText(url).then(function () {
          copyText.value = url;
          copyStatus.textContent = "Link copied: " + url;
        }, function () { showFallback(url, "Copy this link:"); });
      } else {
        showFallback(url, "Copy this link:");
        try {
          if (document.execCommand && document.execCommand("copy")) { copyStatus.textContent = "Link copied:"; }
        } catch (e) { /* the selected text stays for the reader to copy */ }
      }
    });
  }

  /* --- cite the selected passage or the current line ------------------------------------- */
  var citeButton = document.getElementById("tx-cite");
  var citeDialog = document.getElementById("tx-cite-dialog");
  var selectedRange = null;  // {start, end} ms of the passage selected in the transcript
  function intAttr(el, name) {
    var v = parseInt(el.getAttribute(name), 10);
    return isNaN(v) ? null : v;
  }
  function segmentOf(node) {
    var el = node && (node.nodeType === 1 ? node : node.parentNode);
    var li = el && el.closest ? el.closest("li.segment") : null;
    return li && list.contains(li) ? li : null;
  }
  function segmentEnd(li) {
    var end = intAttr(li, "data-end-ms");
    if (end !== null) { return end; }
    for (var n = li.nextElementSibling; n; n = n.nextElementSibling) {
      var next = intAttr(n, "data-start-ms");
      if (next !== null) { return next; }
    }
    var p = player();
    return p ? p.durationMs() : null;
  }
  function wordStart(node) {
    var el = node && (node.nodeType === 1 ? node : node.parentNode);
    var word = el && el.closest ? el.closest("span.word") : null;
    return word && word.ohStart !== null && word.ohStart !== undefined ? word.ohStart : null;
  }
  /* The selection as a time range: from the first selected line (or timed word) to the end
     of the last one; null when nothing timed is selected in the transcript. */
  function selectionRange() {
    var selection = window.getSelection ? window.getSelection() : null;
    if (!selection || selection.isCollapsed || !selection.rangeCount || !String(selection).trim()) { return null; }
    var range = selection.getRangeAt(0);
    var first = segmentOf(range.startContainer), last = segmentOf(range.endContainer);
    if (!first && !last) { return null; }
    first = first || list.querySelector("li.segment");
    last = last || first;
    var start = intAttr(first, "data-start-ms");
    if (start === null) { return null; }
    var fromWord = wordStart(range.startContainer);
    if (fromWord !== null && fromWord >= start) { start = fromWord; }
    var end = segmentEnd(last);
    if (end === null || end <= start) { return {start: start, end: null}; }
    return {start: start, end: end};
  }
  document.addEventListener("selectionchange", function () {
    selectedRange = selectionRange();
    if (citeButton) { citeButton.textContent = selectedRange ? "Cite the selection…" : "Cite…"; }
  });
  function currentRange() {
    if (selectedRange) { return selectedRange; }
    if (currentEl) {
      var start = intAttr(currentEl, "data-start-ms");
      var end = segmentEnd(currentEl);
      return {start: start, end: end !== null && end > start ? end : null};
    }
    var p = player();
    return {start: p ? p.currentMs() : 0, end: null};
  }
  function copyFrom(field, button) {
    var text = field.value;
    var status = document.getElementById("tx-cite-status");
    function done() { status.textContent = "Copied: " + button.textContent.replace(/^Copy /, ""); }
    if (navigator.clipboard && navigator.clipboard.writeText && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { field.focus(); field.select(); status.textContent = "Press Ctrl+C to copy."; });
      return;
    }
    field.focus();
    field.select();
    try {
      if (document.execCommand && document.execCommand("copy")) { done(); return; }
    } catch (e) { /* the selected text stays for the reader to copy */ }
    status.textContent = "Press Ctrl+C to copy.";
  }
  function openCitation(range) {
    if (!citeDialog) { return; }
    var p = player();
    var fmt = p && p.format ? p.format : function (ms) { return String(Math.floor(ms / 1000)) + " s"; };
    var url = citeDialog.getAttribute("data-cite-url") + "?t=" + tParam(range.start) +
      (range.end !== null ? "&end=" + tParam(range.end) : "");
    var status = document.getElementById("tx-cite-status");
    document.getElementById("tx-cite-range").textContent =
      fmt(range.start) + (range.end !== null ? "–" + fmt(range.end) : "");
    ["tx-cite-url", "tx-cite-chicago", "tx-cite-bib", "tx-cite-mla"].forEach(function (id) {
      document.getElementById(id).value = "";
    });
    status.textContent = "Preparing the citation…";
    citeDialog.ohRange = range;
    if (citeDialog.showModal && !citeDialog.open) { citeDialog.showModal(); }
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); })
      .then(function (answer) {
        if (!answer.ok) {
          status.textContent = (answer.body.error && answer.body.error.message) || "The citation could not be made.";
          return;
        }
        var c = answer.body;
        document.getElementById("tx-cite-url").value = c.url;
        document.getElementById("tx-cite-chicago").value = c.chicago_note;
        document.getElementById("tx-cite-bib").value = c.chicago_bibliography;
        document.getElementById("tx-cite-mla").value = c.mla;
        document.getElementById("tx-cite-mla-in").textContent = c.mla_in_text;
        status.textContent = "";
      })
      .catch(function () { status.textContent = "The citation could not be made; try again."; });
  }
  if (citeButton && citeDialog) {
    citeButton.addEventListener("click", function () { openCitation(currentRange()); });
    Array.prototype.forEach.call(citeDialog.querySelectorAll(".cite-copy"), function (button) {
      button.addEventListener("click", function () { copyFrom(document.getElementById(button.getAttribute("data-copy")), button); });
    });
    document.getElementById("tx-cite-play").addEventListener("click", function () {
      var range = citeDialog.ohRange, p = player();
      citeDialog.close();
      if (!range || !p) { return; }
      if (p.playRange && range.end !== null) { p.playRange(range.start, range.end); } else { p.seek(range.start); p.play(); }
    });
  }
  document.addEventListener("keydown", function (event) {
    var p = window.oralhistPlayer;
    if (event.key !== "c" && event.key !== "f") { return; }
    if (!p || !p.shortcutsAllowed || !p.shortcutsAllowed(event)) { return; }
    if (citeDialog && citeDialog.open) { return; }
    event.preventDefault();
    if (event.key === "c") { openCitation(currentRange()); } else { setFollow(!follow); }
  });

  /* --- search in this transcript --------------------------------------------------------- */
  var form = document.getElementById("tx-search");
  var input = document.getElementById("tx-q");
  var prev = document.getElementById("tx-prev");
  var next = document.getElementById("tx-next");
  var count = document.getElementById("tx-count");
  var matches = [];
  var active = -1;
  function clearMatches() {
    matches.forEach(function (el) { el.classList.remove("match", "match-active"); });
    matches = [];
    active = -1;
  }
  function show(k) {
    if (!matches.length) { return; }
    if (active >= 0) { matches[active].classList.remove("match-active"); }
    active = (k + matches.length) % matches.length;
    var el = matches[active];
    el.classList.add("match-active");
    setFollow(false);
    scrollToEl(el, true);
    count.textContent = (active + 1) + " of " + matches.length;
  }
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var q = input.value.trim();
      clearMatches();
      prev.disabled = next.disabled = true;
      if (!q) { count.textContent = ""; return; }
      count.textContent = "Searching…";
      var url = panel.getAttribute("data-search-url") + "?q=" + encodeURIComponent(q);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (answer) {
          if (!answer.ok) {
            count.textContent = (answer.body.error && answer.body.error.message) || "The search failed.";
            return;
          }
          var seen = {};
          var elsewhere = [];
          (answer.body.results || []).forEach(function (r) {
            if (r.segment_id == null || seen[r.segment_id]) { return; }
            seen[r.segment_id] = true;
            var el = document.getElementById("seg-" + r.segment_id);
            if (el && list.contains(el)) { el.classList.add("match"); matches.push(el); }
            else if (r.url) { elsewhere.push(r); }
          });
          matches.sort(function (a, b) {
            return a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
          });
          if (!matches.length) {
            if (!elsewhere.length) { count.textContent = "No matches"; return; }
            /* A long transcript is paged: the matches are on other pages; link the first. */
            elsewhere.sort(function (a, b) { return (a.start_ms || 0) - (b.start_ms || 0); });
            count.textContent = elsewhere.length + " on other pages: ";
            var go = document.createElement("a");
            go.href = elsewhere[0].url;
            go.textContent = "go to the first";
            count.appendChild(go);
            return;
          }
          prev.disabled = next.disabled = false;
          show(0);
          if (elsewhere.length) { count.textContent += " (" + elsewhere.length + " more on other pages)"; }
        })
        .catch(function () { count.textContent = "The search failed; try again."; });
    });
    prev.addEventListener("click", function () { show(active - 1); });
    next.addEventListener("click", function () { show(active + 1); });
  }

  /* --- start ----------------------------------------------------------------------------- */
  var tools = document.getElementById("tx-tools");
  if (tools) { tools.hidden = false; }

  /* A deep link lands with its line in the transcript box's view and the box in the
     window's, below the docked player (at about 40% of the window's height). */
  function land(el) {
    el.classList.add("highlight");
    scrollToEl(el, false);
    var rect = el.getBoundingClientRect();
    var docked = parseInt(getComputedStyle(document.documentElement).getPropertyValue("--player-height"), 10) || 0;
    if (rect.top < docked + 8 || rect.bottom > window.innerHeight) {
      window.scrollBy(0, rect.top - Math.round(window.innerHeight * 0.4));
    }
  }
  var params = new URLSearchParams(window.location.search);
  var hl = params.get("hl");
  var highlighted = hl && /^\d+$/.test(hl) ? document.getElementById("seg-" + hl) : null;
  if (highlighted && !list.contains(highlighted)) { highlighted = null; }

  var subscribed = false;
  function subscribe() {
    var p = player();
    if (!p || subscribed) { return; }
    subscribed = true;
    p.onTime(onTime);
    var t = params.get("t");
    if (!window.oralhistPlayer && t !== null && fallbackAudio) {
      var seconds = parseFloat(t);
      if (!isNaN(seconds)) {
        var go = function () { fallbackAudio.currentTime = seconds; };
        if (fallbackAudio.readyState >= 1) { go(); } else { fallbackAudio.addEventListener("loadedmetadata", go, { once: true }); }
      }
    }
    onTime(p.currentMs());
    if (!highlighted && t !== null && currentEl) { land(currentEl); }
  }
  if (highlighted) { land(highlighted); }
  document.addEventListener("oralhist:player-ready", subscribe);
  if (window.oralhistPlayer) { subscribe(); } else { window.setTimeout(subscribe, 1000); }
})();
