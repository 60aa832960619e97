// The manage page of a video appointment: a button that checks, from this device and this
// network, that the video service answers, and says so in plain words. Without a script,
// the button stays hidden and the page says to open the link a few minutes early.
document.querySelectorAll("[data-visio-test]").forEach(function (block) {
  var button = block.querySelector("button");
  var result = block.querySelector("[data-visio-result]");
  var origin = block.getAttribute("data-visio-test");
  button.hidden = false;
  button.addEventListener("click", function () {
    result.textContent = "Test en cours…";
    var done = false;
    var timer = window.setTimeout(function () {
      if (!done) {
        done = true;
        result.textContent = "Le service de visio ne répond pas depuis cet appareil. Essayez un autre réseau (wifi ou données mobiles) ; sinon, appelez l'unité.";
      }
    }, 8000);
    fetch(origin + "/", { mode: "no-cors", cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" })
      .then(function () {
        if (done) { return; }
        done = true;
        window.clearTimeout(timer);
        result.textContent = "Le service de visio répond depuis cet appareil : le lien devrait s'ouvrir à l'heure du rendez-vous.";
      })
      .catch(function () {
        if (done) { return; }
        done = true;
        window.clearTimeout(timer);
        result.textContent = "Le service de visio ne répond pas depuis cet appareil. Essayez un autre réseau (wifi ou données mobiles) ; sinon, appelez l'unité.";
      });
  });
});
