/* Live progress of background jobs on the interview page (templates/jobs/_progress.html).
   Each live job is polled at GET /api/v1/jobs/<id> until it is done, failed or cancelled;
   Cancel posts to /api/v1/jobs/<id>/cancel with the page's CSRF token. */
(function () {
  "use strict";
  var FINISHED = { done: true, failed: true, cancelled: true };
  var POLL_MS = 1000;
  var section = document.querySelector("section.jobs");
  if (!section) { return; }
  var tokenField = section.querySelector("input.job-csrf");
  var token = tokenField ? tokenField.value : "";

  function text(el, value) { if (el) { el.textContent = value; } }
  function cap(word) { return word.charAt(0).toUpperCase() + word.slice(1); }

  function resultLine(item, job) {
    var line = item.querySelector(".job-result");
    if (!line) { return; }
    line.textContent = "";
    if (job.status !== "done" || !job.result || typeof job.result !== "object") { return; }
    var url = typeof job.result.url === "string" && job.result.url.charAt(0) === "/" ? job.result.url : null;
    var version = job.result.version;
    if (version !== undefined && version !== null) {
      line.appendChild(document.createTextNode("Done: proposed version " + version));
      if (url) {
        line.appendChild(document.createTextNode(", "));
        var a = document.createElement("a"); a.href = url; a.textContent = "review it";
        line.appendChild(a);
      }
      line.appendChild(document.createTextNode("."));
    } else if (url) {
      line.appendChild(document.createTextNode("Done: "));
      var link = document.createElement("a"); link.href = url; link.textContent = "see the result";
      line.appendChild(link);
      line.appendChild(document.createTextNode("."));
    }
  }

  function show(item, job) {
    item.dataset.jobStatus = job.status;
    item.className = "job status-" + job.status;
    var bar = item.querySelector("progress");
    if (bar) { bar.value = job.progress; bar.textContent = job.progress + "%"; }
    var stage = item.querySelector(".job-stage");
    if (stage) {
      stage.textContent = "";
      var status = document.createElement("span"); status.className = "job-status";
      status.textContent = cap(job.status); stage.appendChild(status);
      if (!FINISHED[job.status]) {
        var pct = document.createElement("span"); pct.className = "job-percent";
        pct.textContent = job.progress + "%";
        stage.appendChild(document.createTextNode(" · ")); stage.appendChild(pct);
      }
      var said = job.status === "failed" ? job.error : job.stage;
      if (said) {
        var s = document.createElement("span");
        s.className = job.status === "failed" ? "job-error" : "job-stage-text";
        s.textContent = said;
        stage.appendChild(document.createTextNode(" · ")); stage.appendChild(s);
      }
    }
    resultLine(item, job);
    var cancel = item.querySelector("button.job-cancel");
    if (cancel) {
      if (FINISHED[job.status]) { cancel.remove(); } else { cancel.disabled = !!job.cancel_requested; }
    }
  }

  function poll(item) {
    fetch(item.dataset.jobUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (job) {
        show(item, job);
        if (!FINISHED[job.status]) { setTimeout(function () { poll(item); }, POLL_MS); }
      })
      .catch(function () { setTimeout(function () { poll(item); }, POLL_MS * 5); });
  }

  function cancel(item, button) {
    button.disabled = true;
    fetch(item.dataset.cancelUrl, {
      method: "POST", credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": token }
    })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (answer) {
        if (answer.ok) { show(item, answer.body); return; }
        var message = answer.body && answer.body.error ? answer.body.error.message : "Could not cancel.";
        text(item.querySelector(".job-stage"), message);
      })
      .catch(function () { button.disabled = false; });
  }

  Array.prototype.forEach.call(section.querySelectorAll("li.job"), function (item) {
    var button = item.querySelector("button.job-cancel");
    if (button) { button.addEventListener("click", function () { cancel(item, button); }); }
    if (!FINISHED[item.dataset.jobStatus]) { poll(item); }
  });
})();
