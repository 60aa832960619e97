// Sensitive pages stay out of the browser's history (SPEC §17): on a page of a discreet
// visit (body[data-discreet]), every link of the site and every search form replaces the
// current history entry instead of adding one; elsewhere, a link marked data-replace (one
// that leads into a sensitive page) does the same. A form that sends data (POST) adds an
// entry, as browsers do: the page it leaves is first renamed the site's home page in the
// history, so that going back to it loads the home page. So the back button, after the
// quick exit, never shows a sensitive page again.
(function () {
  "use strict";
  var everywhere = document.body.hasAttribute("data-discreet");

  function sameSite(url) {
    return url.origin === window.location.origin;
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
        event.shiftKey || event.altKey) {
      return;
    }
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || link.hasAttribute("download") || link.target === "_blank" ||
        link.hasAttribute("data-quick-exit")) {
      return;
    }
    if (!everywhere && !link.hasAttribute("data-replace")) {
      return;
    }
    var url = new URL(link.href, window.location.href);
    if (!sameSite(url) || (url.hash && url.pathname === window.location.pathname &&
        url.search === window.location.search)) {
      return;  // another site (an official service), or an anchor of this page
    }
    event.preventDefault();
    window.location.replace(url.href);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!everywhere || event.defaultPrevented) {
      return;
    }
    if ((form.method || "get").toLowerCase() !== "get") {
      // It navigates as usual, adding an entry; the one it leaves says the home page.
      window.history.replaceState(null, "", document.body.getAttribute("data-home") || "/");
      return;
    }
    var url = new URL(form.action || window.location.href, window.location.href);
    if (!sameSite(url)) {
      return;
    }
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) {
      data.append(event.submitter.name, event.submitter.value);
    }
    url.search = new URLSearchParams(data).toString();
    event.preventDefault();
    window.location.replace(url.href);
  });
})();
