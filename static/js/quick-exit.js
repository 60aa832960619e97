// The quick exit of sensitive pages: the button, or Escape pressed three times within two
// seconds, hides the page at once and replaces it with a neutral site, in place of this
// page's entry in the history (the back button does not lead back to it). The visit is
// forgotten on the way (its session cookie, by a beacon to /quitter), without waiting for
// it; without JavaScript, the link itself goes through /quitter.
(function () {
  "use strict";
  var link = document.querySelector("[data-quick-exit]");
  if (!link) {
    return;
  }
  var target = link.getAttribute("data-quick-exit");
  var forget = link.getAttribute("href");
  var presses = [];

  function leave(event) {
    if (event) {
      event.preventDefault();
    }
    document.body.classList.add("quick-exit--leaving");
    document.title = "…";
    if (navigator.sendBeacon) {
      navigator.sendBeacon(forget);
    }
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
