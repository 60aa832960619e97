// The proof-of-work widget's solver runs in a worker served by this site (the strict CSP
// allows no inline or blob worker): register it before the widget starts.
const widget = document.querySelector("altcha-widget[data-worker]");
if (widget && globalThis.$altcha) {
  const url = widget.dataset.worker;
  globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(url));
}
