/* The deposit page's audio: each chosen file is sent at once, in turn, to the API
   (POST /api/v1/deposit/audio, streamed into storage and checked), with a progress bar; each
   file kept is added to the list as a ticked part of the deposit. The Deposit button waits
   while files are still going up. Without this script, "Upload audio" posts the files to
   /deposit/audio and the page comes back with them listed. */
(function () {
  "use strict";
  var audioForm = document.getElementById("oh-deposit-audio");
  var input = document.getElementById("f-audio");
  if (!audioForm || !input || !window.XMLHttpRequest || !window.FormData) { return; }
  var api = audioForm.getAttribute("data-api");
  var token = audioForm.querySelector("input[name=csrf_token]");
  var bar = document.getElementById("oh-audio-progress");
  var status = document.getElementById("oh-audio-status");
  var list = document.getElementById("oh-staged");
  var send = document.getElementById("oh-audio-send");
  var submit = document.getElementById("oh-deposit-submit");
  var busy = false;
  send.style.display = "none";  // files go up as soon as they are chosen

  function mb(n) { return (n / 1048576).toFixed(1) + " MB"; }
  function hms(ms) {
    var s = Math.floor(ms / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    return h + ":" + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }
  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", !!isError);
  }
  function addRow(item) {
    var li = document.createElement("li");
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.name = "staged";
    box.value = String(item.id);
    box.checked = true;
    box.setAttribute("form", "oh-deposit");
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + item.original_filename));
    var meta = document.createElement("span");
    meta.className = "muted";
    meta.textContent = hms(item.duration_ms) + " · " + String(item.format).toUpperCase();
    li.appendChild(label);
    li.appendChild(meta);
    list.appendChild(li);
  }
  function done(message, isError) {
    busy = false;
    submit.disabled = false;
    bar.hidden = !isError ? bar.hidden : true;
    input.value = "";
    say(message, isError);
  }

  input.addEventListener("change", function () {
    var files = Array.prototype.slice.call(input.files || []);
    if (!files.length || busy) { return; }
    busy = true;
    submit.disabled = true;
    var total = files.reduce(function (n, f) { return n + f.size; }, 0) || 1;
    var sent = 0;
    var kept = [];
    bar.hidden = false;
    bar.value = 0;

    function next(i) {
      if (i === files.length) {
        bar.value = 100;
        done("Uploaded and checked: " + kept.join(", ") + ". Now fill in the rest of the form.");
        return;
      }
      var file = files[i];
      var data = new FormData();
      if (token) { data.append("csrf_token", token.value); }
      data.append("file", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", api);
      if (token) { xhr.setRequestHeader("X-CSRFToken", token.value); }
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var now = sent + Math.min(e.loaded, file.size);
          bar.value = Math.floor((now / total) * 100);
          say("Uploading " + file.name + "… " + mb(now) + " of " + mb(total));
        }
      });
      xhr.upload.addEventListener("load", function () { say("Checking " + file.name + "…"); });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (xhr.status === 201 && body) {
          body.items.forEach(addRow);
          kept.push(file.name);
          sent += file.size;
          next(i + 1);
        } else {
          var why = body && body.error ? body.error.message : "The upload failed (" + xhr.status + ").";
          done((kept.length ? "Kept " + kept.join(", ") + ". " : "") + file.name + ": " + why, true);
        }
      });
      xhr.addEventListener("error", function () {
        done(file.name + ": the connection was lost; choose the file again.", true);
      });
      xhr.send(data);
    }
    next(0);
  });
})();
