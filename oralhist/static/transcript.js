/* The transcript beside the player: click a time to play from there, the current segment
   follows the audio (binary search over start times, no per-tick DOM scan) and is kept in
   view unless the reader has scrolled away (auto-scroll pauses ~5 s after a wheel, touch,
   key or drag scroll; "Follow along" resumes at once). "Copy link to this moment", ?hl=
   highlighting, and search inside this transcript with next/previous.

   Talks to the player through window.oralhistPlayer (static/player.js); without it the
   time links stay plain ?t= links and, if the page has an <audio>, it is used directly. */
(function () {
  "use strict";
  var panel = document.getElementById("transcript");
  var list = document.getElementById("tx-list");
  var box = document.getElementById("tx-scroll");
  if (!panel || !list || !box) { return; }

  var PAUSE_MS = 5000;
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
  var followButton = document.getElementById("tx-follow");
  var userScrolledAt = 0;
  var programmaticUntil = 0;

  function following() { return Date.now() - userScrolledAt > PAUSE_MS; }

  function scrollToEl(el, smooth) {
    // Scroll only the transcript box, never the page under the reader.
    var top = el.offsetTop - box.clientHeight / 3;
    programmaticUntil = Date.now() + (smooth ? 800 : 150);
    if (smooth && box.scrollTo) {
      box.scrollTo({ top: Math.max(0, top), behavior: "smooth" });
    } else {
      box.scrollTop = Math.max(0, top);
    }
  }
  function inView(el) {
    var top = el.offsetTop - box.scrollTop;
    return top >= 0 && top + el.offsetHeight <= box.clientHeight;
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
      .then(function (data) { if (data && data.segments) { wordTimes = data.segments; } })
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
    if (followButton) { followButton.hidden = following(); }
  }

  function userScrolled() {
    userScrolledAt = Date.now();
    if (followButton) { followButton.hidden = false; }
    window.clearTimeout(userScrolled.timer);
    userScrolled.timer = window.setTimeout(function () {
      if (followButton) { followButton.hidden = true; }
      if (currentEl && !inView(currentEl)) { scrollToEl(currentEl, true); }
    }, PAUSE_MS + 50);
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
  if (followButton) {
    followButton.addEventListener("click", function () {
      userScrolledAt = 0;
      window.clearTimeout(userScrolled.timer);
      followButton.hidden = true;
      if (currentEl) { scrollToEl(currentEl, true); }
    });
  }

  /* --- time links ------------------------------------------------------------------------ */
  function secondsOf(href) {
    var match = /[?&]t=([0-9.]+)/.exec(href || "");
    return match ? parseFloat(match[1]) : null;
  }
  panel.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.time") : null;
    if (!link || !panel.contains(link)) { return; }
    var p = player();
    var seconds = secondsOf(link.getAttribute("href"));
    if (!p || seconds === null || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    event.preventDefault();
    var target = Math.round(seconds * 1000);
    p.seek(target);
    p.play();
    userScrolledAt = 0;
    onTime(target);
    if (history.replaceState) {
      var url = new URL(window.location.href);
      url.searchParams.set("t", String(seconds));
      url.searchParams.delete("hl");
      url.hash = "";
      history.replaceState(null, "", url.toString());
    }
  });

  /* --- copy link to this moment ---------------------------------------------------------- */
  var copyButton = document.getElementById("tx-copy");
  var copyStatus = document.getElementById("tx-copy-status");
  var copyText = document.getElementById("tx-copy-text");
  function momentUrl() {
    var p = player();
    var ms = p ? p.currentMs() : (currentEl ? parseInt(currentEl.getAttribute("data-start-ms"), 10) : 0);
    var seconds = Math.floor((ms || 0) / 1000);
    return panel.getAttribute("data-page-url") + "?t=" + seconds;
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
    userScrolled();
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

  var hl = new URLSearchParams(window.location.search).get("hl");
  var highlighted = hl && /^\d+$/.test(hl) ? document.getElementById("seg-" + hl) : null;
  if (highlighted && list.contains(highlighted)) {
    highlighted.classList.add("highlight");
    scrollToEl(highlighted, false);
    userScrolledAt = Date.now();  // let the reader see it before the audio moves the view
    if (panel.scrollIntoView && !window.location.hash) { panel.scrollIntoView({ block: "start" }); }
  }

  var subscribed = false;
  function subscribe() {
    var p = player();
    if (!p || subscribed) { return; }
    subscribed = true;
    p.onTime(onTime);
    var t = new URLSearchParams(window.location.search).get("t");
    if (!window.oralhistPlayer && t !== null && fallbackAudio) {
      var seconds = parseFloat(t);
      if (!isNaN(seconds)) {
        var go = function () { fallbackAudio.currentTime = seconds; };
        if (fallbackAudio.readyState >= 1) { go(); } else { fallbackAudio.addEventListener("loadedmetadata", go, { once: true }); }
      }
    }
    onTime(p.currentMs());
  }
  document.addEventListener("oralhist:player-ready", subscribe);
  if (window.oralhistPlayer) { subscribe(); } else { window.setTimeout(subscribe, 1000); }
})();
