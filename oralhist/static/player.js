/* The interview player: one <audio> element walking through the interview's parts on one
   global timeline (ms over all parts, in order).

   window.oralhistPlayer = { seek(ms), play(), currentMs(), durationMs(), onTime(cb), partAt(ms) }
   is the API the transcript area uses. partAt(ms) -> {index, number, label, offsetMs,
   durationMs, localMs, text: "Part 2, 00:03:10"}. The start comes from data-start-ms (the
   server parsed ?t=). */
(function () {
  "use strict";
  var root = document.getElementById("oh-player");
  var audio = document.getElementById("oh-audio");
  if (!root || !audio) { return; }
  var where = document.getElementById("oh-where");
  var slider = document.getElementById("oh-timeline");
  var parts = Array.prototype.map.call(document.querySelectorAll("#oh-parts li.part"), function (li, i) {
    return {
      index: i, number: i + 1, src: li.getAttribute("data-src"), label: li.getAttribute("data-label"),
      offsetMs: parseInt(li.getAttribute("data-offset-ms"), 10) || 0,
      durationMs: parseInt(li.getAttribute("data-duration-ms"), 10) || 0, el: li
    };
  });
  if (!parts.length) { return; }
  var totalMs = parts[parts.length - 1].offsetMs + parts[parts.length - 1].durationMs;
  var current = 0;          // index of the part loaded in <audio>
  var pendingLocalMs = null; // where to go once the part's metadata is loaded
  var listeners = [];

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hms(ms) {
    var s = Math.floor(Math.max(0, ms) / 1000);
    return pad(Math.floor(s / 3600)) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
  }
  function clamp(ms) { return Math.max(0, Math.min(ms, Math.max(totalMs - 1, 0))); }

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
      text: (parts.length > 1 ? "Part " + p.number + ", " : "") + hms(local)
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
    }
    parts.forEach(function (p) { p.el.classList.toggle("current", p.index === current); });
    applyPending();
    if (wasPlaying) { play(); }
  }
  function seek(ms) {
    var at = partAt(ms);
    load(at.index, at.localMs, false);
    update();
  }
  function play() {
    var promise = audio.play();
    if (promise && promise.catch) { promise.catch(function () {}); }
    return promise;
  }
  function update() {
    var ms = currentMs();
    if (where) { where.textContent = partAt(ms).text; }
    if (slider && document.activeElement !== slider) { slider.value = String(ms); }
    listeners.forEach(function (cb) { try { cb(ms); } catch (e) { /* a listener's bug stays its own */ } });
  }

  audio.addEventListener("loadedmetadata", applyPending);
  audio.addEventListener("timeupdate", update);
  audio.addEventListener("seeked", update);
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

  window.oralhistPlayer = {
    seek: seek,
    play: play,
    pause: function () { audio.pause(); },
    currentMs: currentMs,
    durationMs: function () { return totalMs; },
    onTime: function (callback) { if (typeof callback === "function") { listeners.push(callback); } },
    partAt: partAt,
    hms: hms
  };

  var start = parseInt(root.getAttribute("data-start-ms"), 10) || 0;
  current = 0;
  if (start > 0) { seek(start); } else { parts[0].el.classList.add("current"); update(); }
  document.dispatchEvent(new CustomEvent("oralhist:player-ready", { detail: window.oralhistPlayer }));
})();
