// The quick exit of sensitive pages: the button, or Escape pressed three times within two
// seconds, hides the page at once and replaces it with a neutral site, in place of this
// page's entry in the history (the back button does not lead back to it).
(function () {
  "use strict";
  var link = document.querySelector("[data-quick-exit]");
  if (!link) {
    return;
  }
  var target = link.getAttribute("href");
  var presses = [];

  function leave(event) {
    if (event) {
      event.preventDefault();
    }
    document.body.classList.add("quick-exit--leaving");
    document.title = "…";
    window.location.replace(target);
  }

  link.addEventListener("click", leave);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") {
      return;
    }
    var now = Date.now();
    presses = presses.filter(function (time) { return now - time < 2000; });
    presses.push(now);
    if (presses.length >= 3) {
      leave();
    }
  });
})();
