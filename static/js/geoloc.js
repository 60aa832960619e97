// "Autour de moi": only shown when the browser can locate; the postcode search works without it.
// What it says comes from the page, in its language (data-searching, data-unavailable).
(function () {
  "use strict";
  var button = document.getElementById("autour-de-moi");
  var field = document.getElementById("near");
  var status = document.getElementById("geoloc-status");
  if (!button || !field || !("geolocation" in navigator)) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = status.getAttribute("data-searching");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        field.value = position.coords.latitude.toFixed(5) + "," + position.coords.longitude.toFixed(5);
        document.getElementById("q").value = "";
        button.form.submit();
      },
      function () {
        status.textContent = status.getAttribute("data-unavailable");
      },
      { timeout: 10000, maximumAge: 600000 }
    );
  });
})();
