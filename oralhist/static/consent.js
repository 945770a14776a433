// Archivists' redaction form: selecting words in the transcript fills start and end with
// the times of the segments the selection spans (the server widens the range to whole
// words when word times are known). Loaded only where the consent panel is shown.
(function () {
  "use strict";
  const form = document.getElementById("redaction-form");
  const start = document.getElementById("redact-start");
  const end = document.getElementById("redact-end");
  if (!form || !start || !end) return;

  function segmentOf(node) {
    const el = node && (node.nodeType === 1 ? node : node.parentElement);
    return el ? el.closest("li.segment[data-start-ms]") : null;
  }

  function seconds(ms) {
    return (Number(ms) / 1000).toFixed(3);
  }

  document.addEventListener("selectionchange", function () {
    const selection = document.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return;
    const first = segmentOf(selection.anchorNode);
    const last = segmentOf(selection.focusNode);
    if (!first || !last) return;
    const starts = [first, last].map((li) => li.dataset.startMs).filter((v) => v !== "");
    const ends = [first, last]
      .map((li) => li.dataset.endMs || li.dataset.startMs)
      .filter((v) => v !== "");
    if (!starts.length || !ends.length) return;
    start.value = seconds(Math.min(...starts.map(Number)));
    end.value = seconds(Math.max(...ends.map(Number)));
    form.classList.add("from-selection");
  });
})();
