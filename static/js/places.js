// Suggestions of places while typing (WAI-ARIA 1.2 combobox with a list): arrows move
// through them, Enter or a tap picks one and searches, Escape closes them. Without
// JavaScript the field is a plain text field and the search understands what was typed.
// What it says comes from the page, in its language (the status's data-one, data-many with
// {n} for the count, data-none).
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("q-suggestions");
  var status = document.getElementById("q-status");
  var place = document.getElementById("lieu");
  if (!input || !list || !status || !place || !window.fetch) {
    return;
  }
  var options = [];
  var active = -1;
  var timer = null;
  var asked = "";

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", "q-suggestions");
  input.setAttribute("aria-expanded", "false");

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    active = index;
    options.forEach(function (item, i) {
      item.element.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", options[index].element.id);
      options[index].element.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function choose(index) {
    var chosen = options[index];
    input.value = chosen.place.label;
    place.value = chosen.place.code;
    close();
    input.form.submit();
  }

  function show(items) {
    list.textContent = "";
    options = items.map(function (item, i) {
      var element = document.createElement("li");
      element.id = "q-option-" + i;
      element.setAttribute("role", "option");
      element.setAttribute("aria-selected", "false");
      element.textContent = item.label;
      if (item.postcodes.length) {
        var codes = document.createElement("span");
        codes.className = "place-suggestions__codes";
        codes.textContent = " " + item.postcodes.slice(0, 3).join(", ") + (item.postcodes.length > 3 ? "…" : "");
        element.appendChild(codes);
      }
      element.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep the focus in the field
      });
      element.addEventListener("click", function () {
        choose(i);
      });
      list.appendChild(element);
      return { element: element, place: item };
    });
    active = -1;
    if (options.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = status.getAttribute(options.length > 1 ? "data-many" : "data-one")
        .replace("{n}", String(options.length));
    } else {
      close();
      status.textContent = status.getAttribute("data-none");
    }
  }

  function ask() {
    var text = input.value.trim();
    if (text.length < 2) {
      close();
      return;
    }
    asked = text;
    fetch("/api/v1/places?limit=8&q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { items: [] };
      })
      .then(function (body) {
        if (asked === input.value.trim()) {
          show(body.items || []);
        }
      })
      .catch(function () {
        close(); // the plain search still works
      });
  }

  input.addEventListener("input", function () {
    place.value = ""; // what is typed now is no longer the place chosen
    clearTimeout(timer);
    timer = setTimeout(ask, 200);
  });

  input.addEventListener("keydown", function (event) {
    var open = !list.hidden && options.length > 0;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (!open) {
        ask();
      } else {
        highlight((active + 1) % options.length);
      }
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      highlight(active <= 0 ? options.length - 1 : active - 1);
    } else if (event.key === "Enter" && open && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close();
    }
  });

  input.addEventListener("blur", function () {
    setTimeout(close, 150);
  });

  // After a search, the results' heading gets the focus, so that a screen reader (and a
  // phone's screen) starts there rather than at the top of the page.
  var results = document.getElementById("resultats");
  if (results && window.location.hash === "#resultats") {
    results.focus();
  }
})();
