/* The interview player: one <audio> element walking through the interview's parts on one
   global timeline (ms over all parts, in order), with speed, skip, keyboard shortcuts, a
   cited range that stops at its end (?t=...&end=...) and the loudness strip.

   The API other scripts use (the transcript, documents, the editor):
     window.oralhistPlayer = {
       seek(ms), play(), pause(), toggle(), skip(deltaMs), currentMs(), durationMs(),
       playing(), rate(x?) -> x, playRange(startMs, endMs), setEnd(ms|null), endMs(),
       onTime(fn(ms)), on(name, fn(detail)) with name "time" | "play" | "pause" | "rate" | "end",
       partAt(ms) -> {index, number, label, offsetMs, durationMs, localMs, text},
       format(ms) -> "h:mm:ss" (interview time, as everywhere on the site), hms (the same),
       shortcutsAllowed(event) -> false when the key belongs to a text field
     }
   and the event "oralhist:player-ready" on document (detail: the API). A text field that
   wants the non-typing shortcuts (Esc, F1-F4) while one types in it (a transcript editor)
   carries data-player-keys="on". Time inside is integer milliseconds. */
(function () {
  "use strict";
  var root = document.getElementById("oh-player");
  var audio = document.getElementById("oh-audio");
  if (!root || !audio) { return; }
  var where = document.getElementById("oh-where");
  var partNote = document.getElementById("oh-part");
  var rangeNote = document.getElementById("oh-range");
  var slider = document.getElementById("oh-timeline");
  var speedSelect = document.getElementById("oh-speed");
  var skipSelect = document.getElementById("oh-skip");
  var parts = Array.prototype.map.call(document.querySelectorAll("#oh-parts li.part"), function (li, i) {
    return {
      index: i, number: i + 1, src: li.getAttribute("data-src"), label: li.getAttribute("data-label"),
      offsetMs: parseInt(li.getAttribute("data-offset-ms"), 10) || 0,
      durationMs: parseInt(li.getAttribute("data-duration-ms"), 10) || 0,
      waveformUrl: li.getAttribute("data-waveform-url"), el: li
    };
  });
  if (!parts.length) { return; }
  var totalMs = parts[parts.length - 1].offsetMs + parts[parts.length - 1].durationMs;
  var current = 0;           // index of the part loaded in <audio>
  var pendingLocalMs = null; // where to go once the part's metadata is loaded
  var endAt = null;          // a cited range's end: playback stops there
  var handlers = {time: [], play: [], pause: [], rate: [], end: []};
  var RATES = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  /* h:mm:ss, the one time format of the site (the server's timecode filter). */
  function format(ms) {
    var s = Math.floor(Math.max(0, ms || 0) / 1000);
    return Math.floor(s / 3600) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
  }
  function clamp(ms) { return Math.max(0, Math.min(ms, Math.max(totalMs - 1, 0))); }
  function emit(name, detail) {
    handlers[name].forEach(function (fn) { try { fn(detail); } catch (e) { /* a listener's bug stays its own */ } });
  }

  function partAt(ms) {
    ms = clamp(ms);
    var p = parts[0];
    for (var i = 0; i < parts.length; i++) {
      if (ms >= parts[i].offsetMs) { p = parts[i]; }
    }
    var local = ms - p.offsetMs;
    return {
      index: p.index, number: p.number, label: p.label, offsetMs: p.offsetMs,
      durationMs: p.durationMs, localMs: local,
      text: (parts.length > 1 ? "Part " + p.number + ", " : "") + format(local)
    };
  }
  function currentMs() {
    if (pendingLocalMs !== null) { return parts[current].offsetMs + pendingLocalMs; }
    return parts[current].offsetMs + Math.round((audio.currentTime || 0) * 1000);
  }
  function applyPending() {
    if (pendingLocalMs === null || audio.readyState < 1) { return; }
    audio.currentTime = pendingLocalMs / 1000;
    pendingLocalMs = null;
    update();
  }
  function load(index, localMs, keepPlaying) {
    var wasPlaying = keepPlaying || !audio.paused;
    pendingLocalMs = localMs;
    if (index !== current || !audio.getAttribute("src")) {
      current = index;
      audio.src = parts[index].src;
      audio.load();
      audio.playbackRate = audio.defaultPlaybackRate;
    }
    parts.forEach(function (p) { p.el.classList.toggle("current", p.index === current); });
    applyPending();
    if (wasPlaying) { play(); }
  }
  function seek(ms) {
    ms = clamp(Math.round(ms));
    if (endAt !== null && (ms >= endAt || ms < rangeStart)) { setEnd(null); }
    var at = partAt(ms);
    load(at.index, at.localMs, false);
    update();
  }
  function play() {
    if (endAt !== null && currentMs() >= endAt) { setEnd(null); }
    var promise = audio.play();
    if (promise && promise.catch) { promise.catch(function () {}); }
    return promise;
  }
  function pause() { audio.pause(); }
  function toggle() { if (audio.paused) { play(); } else { pause(); } }
  function skip(deltaMs) { seek(currentMs() + deltaMs); }
  function skipMs() { return (parseInt(skipSelect && skipSelect.value, 10) || 5) * 1000; }

  function rate(value) {
    if (value === undefined) { return audio.playbackRate; }
    var x = Math.max(0.5, Math.min(2, Number(value) || 1));
    audio.defaultPlaybackRate = x;
    audio.playbackRate = x;
    if (speedSelect) { speedSelect.value = String(x); }
    try { window.localStorage.setItem("oralhist.rate", String(x)); } catch (e) { /* private mode */ }
    emit("rate", x);
    return x;
  }
  function stepRate(direction) {
    var now = audio.playbackRate, i;
    if (direction > 0) {
      for (i = 0; i < RATES.length; i++) { if (RATES[i] > now + 0.001) { return rate(RATES[i]); } }
    } else {
      for (i = RATES.length - 1; i >= 0; i--) { if (RATES[i] < now - 0.001) { return rate(RATES[i]); } }
    }
    return now;
  }

  /* --- a cited range: stop at its end, to the millisecond ---------------------------------
     timeupdate comes only every ~250 ms, so while a range plays a frame loop watches. */
  var rangeStart = 0;
  var watching = false;
  function setEnd(ms, startMs) {
    endAt = ms === null || ms === undefined ? null : clamp(Math.round(ms));
    rangeStart = endAt === null ? 0 : Math.max(0, startMs === undefined ? currentMs() : startMs);
    if (rangeNote) {
      rangeNote.hidden = endAt === null;
      rangeNote.textContent = endAt === null ? "" : "Playing the cited passage " + format(rangeStart) + "–" + format(endAt);
    }
    if (endAt !== null && !audio.paused) { watch(); }
  }
  function watch() {
    if (watching) { return; }
    watching = true;
    (function frame() {
      if (endAt === null || audio.paused) { watching = false; return; }
      if (currentMs() >= endAt) {
        var stopAt = endAt;
        audio.pause();
        watching = false;
        var at = partAt(stopAt);
        if (at.index === current) { audio.currentTime = at.localMs / 1000; }
        setEnd(null);
        update();
        emit("end", stopAt);
        return;
      }
      window.requestAnimationFrame(frame);
    })();
  }
  function playRange(startMs, endMs) {
    seek(startMs);
    setEnd(endMs > startMs ? endMs : null, startMs);
    return play();
  }

  function update() {
    var ms = currentMs();
    var at = partAt(ms);
    if (where) { where.textContent = format(ms); }
    if (partNote && parts.length > 1) { partNote.textContent = at.text; }
    if (slider && document.activeElement !== slider) { slider.value = String(ms); }
    emit("time", ms);
  }

  audio.addEventListener("loadedmetadata", applyPending);
  audio.addEventListener("timeupdate", update);
  audio.addEventListener("seeked", update);
  audio.addEventListener("play", function () { if (endAt !== null) { watch(); } emit("play", currentMs()); });
  audio.addEventListener("pause", function () { emit("pause", currentMs()); });
  audio.addEventListener("ended", function () {
    if (current + 1 < parts.length) { load(current + 1, 0, true); }
  });
  if (slider) {
    slider.addEventListener("change", function () { seek(parseInt(slider.value, 10) || 0); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("#oh-parts .part-play"), function (button) {
    button.addEventListener("click", function () {
      seek(parseInt(button.getAttribute("data-offset-ms"), 10) || 0);
      play();
    });
  });

  /* --- controls ------------------------------------------------------------------------ */
  var back = document.getElementById("oh-back");
  var fwd = document.getElementById("oh-fwd");
  function showSkip() {
    var s = String(skipMs() / 1000);
    var b = document.getElementById("oh-back-s"), f = document.getElementById("oh-fwd-s");
    if (b) { b.textContent = s; }
    if (f) { f.textContent = s; }
    if (back) { back.setAttribute("aria-label", "Back " + s + " seconds"); }
    if (fwd) { fwd.setAttribute("aria-label", "Forward " + s + " seconds"); }
  }
  if (back) { back.addEventListener("click", function () { skip(-skipMs()); }); }
  if (fwd) { fwd.addEventListener("click", function () { skip(skipMs()); }); }
  if (skipSelect) {
    try {
      var savedSkip = window.localStorage.getItem("oralhist.skip");
      if (savedSkip && skipSelect.querySelector("option[value='" + savedSkip + "']")) { skipSelect.value = savedSkip; }
    } catch (e) { /* private mode */ }
    skipSelect.addEventListener("change", function () {
      try { window.localStorage.setItem("oralhist.skip", skipSelect.value); } catch (e) { /* private mode */ }
      showSkip();
    });
    showSkip();
  }
  if (speedSelect) {
    speedSelect.addEventListener("change", function () { rate(speedSelect.value); });
    try {
      var savedRate = parseFloat(window.localStorage.getItem("oralhist.rate"));
      if (savedRate && RATES.indexOf(savedRate) >= 0) { rate(savedRate); }
    } catch (e) { /* private mode */ }
  }
  audio.addEventListener("ratechange", function () {
    if (speedSelect && RATES.indexOf(audio.playbackRate) >= 0) { speedSelect.value = String(audio.playbackRate); }
  });

  /* --- keyboard shortcuts ----------------------------------------------------------------
     Anywhere on the page, never in a text field (nor in a select, nor on a control that
     uses the key itself); with Ctrl, Alt or Meta held the key is the browser's. */
  var help = document.getElementById("oh-keys");
  var helpOpen = document.getElementById("oh-keys-open");
  function openHelp() {
    if (!help) { return; }
    if (help.showModal) { if (!help.open) { help.showModal(); } } else { help.setAttribute("open", ""); }
  }
  if (helpOpen) { helpOpen.addEventListener("click", openHelp); }

  var TYPING = /^(INPUT|TEXTAREA|SELECT)$/;
  var NON_TYPING = {Escape: 1, F1: 1, F2: 1, F3: 1, F4: 1};
  function shortcutsAllowed(event) {
    var t = event.target;
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented || event.isComposing) { return false; }
    if (help && help.open) { return false; }
    if (t && t.nodeType === 1) {
      var typing = TYPING.test(t.tagName) || t.isContentEditable ||
        (t.closest && t.closest("[contenteditable=''],[contenteditable=true],[role=textbox],[role=combobox],[role=application]"));
      if (typing) {
        var optIn = t.closest && t.closest("[data-player-keys=on]");
        return !!(optIn && NON_TYPING[event.key]);
      }
    }
    return true;
  }
  var ACTIONS = {
    " ": toggle, k: toggle, K: toggle, Escape: toggle,
    j: function () { skip(-skipMs()); }, F1: function () { skip(-skipMs()); },
    l: function () { skip(skipMs()); }, F2: function () { skip(skipMs()); },
    "<": function () { stepRate(-1); }, F3: function () { stepRate(-1); },
    ">": function () { stepRate(1); }, F4: function () { stepRate(1); },
    "0": function () { seek(0); },
    "?": openHelp
  };
  document.addEventListener("keydown", function (event) {
    var action = ACTIONS[event.key];
    if (!action || !shortcutsAllowed(event)) { return; }
    var t = event.target;
    // Space and Escape keep their meaning on controls and in the transcript box (scrolling).
    if ((event.key === " " || event.key === "Escape") && t && t.nodeType === 1 && t !== document.body &&
        (t.closest("a,button,summary,audio,video,[tabindex],[role=button],dialog,details") )) { return; }
    event.preventDefault();
    action();
  });

  /* --- the loudness strip (BBC audiowaveform JSON, one file per part) ---------------------- */
  var canvas = document.getElementById("oh-wave");
  var peaks = null;  // per part: {samples: [max abs 0..1], msPerSample}
  function marks() {
    var list = [];
    Array.prototype.forEach.call(document.querySelectorAll("li.index-point[data-start-ms]"), function (li) {
      list.push({kind: "index", start: parseInt(li.getAttribute("data-start-ms"), 10) || 0});
    });
    Array.prototype.forEach.call(document.querySelectorAll(".doc-passage[data-start-ms]"), function (li) {
      list.push({kind: "passage", start: parseInt(li.getAttribute("data-start-ms"), 10) || 0,
        end: parseInt(li.getAttribute("data-end-ms"), 10) || 0});
    });
    return list;
  }
  function parseWaveform(data) {
    if (!data || !data.data || !data.sample_rate || !data.samples_per_pixel) { return null; }
    var channels = data.channels || 1, values = data.data, scale = data.bits === 16 ? 32768 : 128;
    var stride = 2 * channels, out = [];
    for (var i = 0; i + 1 < values.length; i += stride) {
      out.push(Math.min(1, Math.max(Math.abs(values[i]), Math.abs(values[i + 1])) / scale));
    }
    return {samples: out, msPerSample: 1000 * data.samples_per_pixel / data.sample_rate};
  }
  function draw() {
    if (!canvas || !peaks || canvas.hidden) { return; }
    var ratio = window.devicePixelRatio || 1;
    var width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    var height = Math.round(48 * ratio);
    if (canvas.width !== width) { canvas.width = width; }
    if (canvas.height !== height) { canvas.height = height; }
    var g = canvas.getContext("2d");
    if (!g || !totalMs) { return; }
    var styles = window.getComputedStyle(canvas);
    var played = styles.getPropertyValue("--wave-played") || "#1f5fa8";
    var rest = styles.getPropertyValue("--wave-rest") || "#9aa5b4";
    g.clearRect(0, 0, width, height);
    var nowX = currentMs() / totalMs * width, mid = height / 2;
    for (var x = 0; x < width; x++) {
      var fromMs = x / width * totalMs, toMs = (x + 1) / width * totalMs, level = 0;
      var p = partAt(fromMs), wave = peaks[p.index];
      if (wave) {
        var a = Math.floor((fromMs - p.offsetMs) / wave.msPerSample);
        var b = Math.max(a + 1, Math.ceil((Math.min(toMs, p.offsetMs + p.durationMs) - p.offsetMs) / wave.msPerSample));
        for (var k = a; k < b && k < wave.samples.length; k++) { if (wave.samples[k] > level) { level = wave.samples[k]; } }
      }
      var h = Math.max(1, level * (height - 8));
      g.fillStyle = x <= nowX ? played : rest;
      g.fillRect(x, mid - h / 2, 1, h);
    }
    marks().forEach(function (m) {
      var x0 = m.start / totalMs * width;
      if (m.kind === "index") {
        g.fillStyle = "#b26b00";
        g.fillRect(Math.round(x0), 0, Math.max(1, ratio), height);
      } else {
        g.fillStyle = "rgba(120, 60, 160, 0.85)";
        g.fillRect(x0, height - 4 * ratio, Math.max(2, (m.end - m.start) / totalMs * width), 4 * ratio);
      }
    });
  }
  if (canvas && window.fetch) {
    var wanted = parts.filter(function (p) { return p.waveformUrl; });
    Promise.all(wanted.map(function (p) {
      return fetch(p.waveformUrl, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(parseWaveform)
        .catch(function () { return null; });
    })).then(function (waves) {
      if (!waves.some(function (w) { return w; })) { return; }  // no waveform yet: no strip
      peaks = parts.map(function () { return null; });
      wanted.forEach(function (p, i) { peaks[p.index] = waves[i]; });
      canvas.hidden = false;
      canvas.addEventListener("click", function (event) {
        var box = canvas.getBoundingClientRect();
        seek((event.clientX - box.left) / box.width * totalMs);
      });
      handlers.time.push(function () { window.requestAnimationFrame(draw); });
      window.addEventListener("resize", draw);
      draw();
    });
  }

  /* --- the player stays with the reader ---------------------------------------------------
     The player sits in the recordings panel, which scrolls away with the page; once its
     place has left the top of the window it is docked there (position: fixed over the
     same column; full width on a phone) and a placeholder keeps the page from jumping. */
  var placeholder = document.createElement("div");
  placeholder.className = "player-placeholder";
  root.parentNode.insertBefore(placeholder, root);
  function dock() {
    var box = placeholder.getBoundingClientRect();
    var docked = root.classList.contains("docked");
    var shouldDock = box.top < 0 && box.width > 0;
    if (shouldDock !== docked) {
      placeholder.style.height = shouldDock ? root.offsetHeight + "px" : "";
      root.classList.toggle("docked", shouldDock);
    }
    if (shouldDock) {
      root.style.left = box.left + "px";
      root.style.width = box.width + "px";
    } else {
      root.style.left = root.style.width = "";
    }
    document.documentElement.style.setProperty("--player-height", (shouldDock ? root.offsetHeight : 0) + "px");
  }
  window.addEventListener("scroll", dock, {passive: true});
  window.addEventListener("resize", function () { dock(); });
  dock();

  window.oralhistPlayer = {
    docked: function () { return root.classList.contains("docked"); },
    seek: seek,
    play: play,
    pause: pause,
    toggle: toggle,
    skip: skip,
    playing: function () { return !audio.paused; },
    rate: rate,
    playRange: playRange,
    setEnd: function (ms) { setEnd(ms, currentMs()); },
    endMs: function () { return endAt; },
    currentMs: currentMs,
    durationMs: function () { return totalMs; },
    onTime: function (callback) { if (typeof callback === "function") { handlers.time.push(callback); } },
    on: function (name, callback) { if (handlers[name] && typeof callback === "function") { handlers[name].push(callback); } },
    partAt: partAt,
    format: format,
    hms: format,
    shortcutsAllowed: shortcutsAllowed
  };

  var start = parseInt(root.getAttribute("data-start-ms"), 10) || 0;
  var end = parseInt(root.getAttribute("data-end-ms"), 10);
  current = 0;
  if (start > 0) { seek(start); } else { parts[0].el.classList.add("current"); update(); }
  if (!isNaN(end) && end > start) { setEnd(end, start); }
  document.dispatchEvent(new CustomEvent("oralhist:player-ready", { detail: window.oralhistPlayer }));
})();
