/* Upload with a progress bar: each chosen file is sent in turn with XMLHttpRequest to the
   JSON API (the same streaming endpoint as the page), showing the bytes sent of all of them.
   A refused file stops the rest; the files added before it stay (each is its own upload), and
   the message says which. Without JavaScript the plain form posts every file to the page
   route, which adds them all or none. */
(function () {
  "use strict";
  var form = document.getElementById("oh-upload");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var bar = document.getElementById("oh-upload-progress");
  var status = document.getElementById("oh-upload-status");
  var button = form.querySelector("button[type=submit]");

  function mb(n) { return (n / 1048576).toFixed(1) + " MB"; }
  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", !!isError);
  }
  function listed(names) { return names.join(", "); }

  form.addEventListener("submit", function (event) {
    var input = form.querySelector("input[type=file]");
    if (!input.files || !input.files.length) { return; }
    event.preventDefault();
    var files = Array.prototype.slice.call(input.files);
    var total = files.reduce(function (n, f) { return n + f.size; }, 0) || 1;
    var token = form.querySelector("input[name=csrf_token]");
    var label = form.querySelector("input[name=label]");
    var added = [];
    var notes = [];
    var sent = 0;  // bytes of the files already added

    bar.hidden = false;
    bar.value = 0;
    button.disabled = true;
    say("Uploading…");

    function stop(message) {
      button.disabled = false;
      bar.hidden = true;
      var before = added.length ? "Added " + listed(added) + " (reload the page to see them). " : "";
      var rest = files.length - added.length - 1;
      var after = rest > 0 ? " " + (rest === 1 ? "The file" : "The " + rest + " files") +
        " after it " + (rest === 1 ? "was" : "were") + " not sent." : "";
      say(before + message + after, true);
    }

    function send(i) {
      if (i === files.length) {
        bar.value = 100;
        say("Added " + listed(added) + "." + notes.join(""));
        window.location.reload();
        return;
      }
      var file = files[i];
      var which = files.length > 1 ? "file " + (i + 1) + " of " + files.length + " (" + file.name + ")" : "";
      var data = new FormData();  // csrf_token and label before the file, as the form has them
      if (token) { data.append("csrf_token", token.value); }
      if (files.length === 1 && label && label.value) { data.append("label", label.value); }
      data.append("file", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("data-api"));
      if (token) { xhr.setRequestHeader("X-CSRFToken", token.value); }
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var done = sent + Math.min(e.loaded, file.size);
          bar.value = Math.floor((done / total) * 100);
          say("Uploading… " + (which ? which + ", " : "") + mb(done) + " of " + mb(total));
        }
      });
      xhr.upload.addEventListener("load", function () {
        say("Checking the audio…" + (which ? " " + which : ""));
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (xhr.status === 201) {
          added.push(body ? body.original_filename : file.name);
          if (body && body.browser_playable === false) {
            notes.push(" Web browsers cannot play " + body.original_filename + ": it needs an access copy.");
          }
          sent += file.size;
          send(i + 1);
          return;
        }
        stop((body && body.error && body.error.message) || (file.name + ": the upload failed (HTTP " + xhr.status + ")."));
      });
      xhr.addEventListener("error", function () {
        stop("The connection was lost while sending " + file.name + "; nothing of it was kept. Please try again.");
      });
      xhr.send(data);
    }
    send(0);
  });
})();
