// /read: the passage an address names (/read#q-936-990) is marked whole, every piece of it, not only
// the piece its anchor sits on (a passage is cut into pieces where other passages begin or end).
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll(".read-text .targeted").forEach((a) => a.classList.remove("targeted"));
    const found = /^#q-(\d+)-(\d+)$/.exec(window.location.hash);
    if (!found) return;
    const [start, end] = [Number(found[1]), Number(found[2])];
    document.querySelectorAll(".read-text a[data-span]").forEach((a) => {
      const [from, to] = a.dataset.span.split("-").map(Number);
      if (from >= start && to <= end) a.classList.add("targeted");
    });
  }
  window.addEventListener("hashchange", mark);
  mark();
})();
