// The waiting page: asks the line where it stands, shows the position, and opens the form
// as soon as it is this visitor's turn (the page's meta refresh does the same without script).
(function () {
  var box = document.getElementById("queue");
  if (!box || !window.fetch) { return; }
  var shown = document.getElementById("queue-position");
  var label = box.getAttribute("data-position-label");
  function ask() {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin" })
      .then(function (answer) { return answer.json(); })
      .then(function (state) {
        if (state.admitted) { window.location.reload(); return; }
        shown.textContent = label.replace("__", String(state.position));
        window.setTimeout(ask, (state.refresh || 5) * 1000 / 2);
      })
      .catch(function () { window.setTimeout(ask, 10000); });
  }
  window.setTimeout(ask, 2000);
})();
