/* Upload with a progress bar: the form is sent with XMLHttpRequest to the JSON API (the
   same streaming endpoint as the page), showing bytes sent. Without JavaScript the plain
   form posts to the page route. */
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

  form.addEventListener("submit", function (event) {
    var input = form.querySelector("input[type=file]");
    if (!input.files || !input.files.length) { return; }
    event.preventDefault();
    var data = new FormData(form);  // csrf_token and label come before the file
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("data-api"));
    var token = form.querySelector("input[name=csrf_token]");
    if (token) { xhr.setRequestHeader("X-CSRFToken", token.value); }
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    bar.value = 0;
    button.disabled = true;
    say("Uploading…");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.floor((e.loaded / e.total) * 100);
        say("Uploading… " + mb(e.loaded) + " of " + mb(e.total));
      }
    });
    xhr.upload.addEventListener("load", function () { say("Checking the audio…"); });
    xhr.addEventListener("load", function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 201) {
        bar.value = 100;
        var note = body && body.browser_playable === false
          ? " Web browsers cannot play this format: it needs an access copy." : "";
        say("Added " + (body ? body.original_filename : "the recording") + "." + note);
        window.location.reload();
        return;
      }
      button.disabled = false;
      bar.hidden = true;
      say((body && body.error && body.error.message) || ("The upload failed (HTTP " + xhr.status + ")."), true);
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      bar.hidden = true;
      say("The connection was lost; nothing was kept. Please try again.", true);
    });
    xhr.send(data);
  });
})();
