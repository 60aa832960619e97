// The manage page of a video appointment: a button that checks, from this device and this
// network, that the video service answers, and says so in plain words. Without a script,
// the button stays hidden and the page says to open the link a few minutes early. What it
// says comes from the page, in its language (data-visio-testing, -reachable, -unreachable).
document.querySelectorAll("[data-visio-test]").forEach(function (block) {
  var button = block.querySelector("button");
  var result = block.querySelector("[data-visio-result]");
  var origin = block.getAttribute("data-visio-test");
  var unreachable = block.getAttribute("data-visio-unreachable");
  button.hidden = false;
  button.addEventListener("click", function () {
    result.textContent = block.getAttribute("data-visio-testing");
    var done = false;
    var timer = window.setTimeout(function () {
      if (!done) {
        done = true;
        result.textContent = unreachable;
      }
    }, 8000);
    fetch(origin + "/", { mode: "no-cors", cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" })
      .then(function () {
        if (done) { return; }
        done = true;
        window.clearTimeout(timer);
        result.textContent = block.getAttribute("data-visio-reachable");
      })
      .catch(function () {
        if (done) { return; }
        done = true;
        window.clearTimeout(timer);
        result.textContent = unreachable;
      });
  });
});
