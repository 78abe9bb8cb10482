// The index tables (/id/{kind}/): the filter box filters the rows as you type, and the address,
// the sort and facet links and the CSV/JSON links follow it (the server reads the same `q`, so a
// reload, a bookmark or a download shows the same rows). Without JavaScript the form does the same.
(function () {
  "use strict";
  const box = document.getElementById("table-q");
  const table = document.getElementById("index-table");
  if (!box || !table) return;
  const rows = [...table.tBodies[0].rows].filter((row) => !row.classList.contains("empty"));
  const count = document.getElementById("shown-count");
  const texts = rows.map((row) => (row.textContent + " " + (row.dataset.id || "")).toLowerCase());
  const links = () => document.querySelectorAll(".index-table a[href^='?']");

  function withQ(href, q) {
    const url = new URL(href, location.href);
    if (q) url.searchParams.set("q", q); else url.searchParams.delete("q");
    return url.search || "?";
  }

  function apply() {
    const q = box.value.trim();
    const words = q.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    rows.forEach((row, i) => {
      const keep = words.every((w) => texts[i].includes(w));
      row.hidden = !keep;
      if (keep) shown += 1;
    });
    if (count) count.textContent = String(shown);
    links().forEach((a) => a.setAttribute("href", withQ(a.getAttribute("href"), q)));
    const url = new URL(location.href);
    if (q) url.searchParams.set("q", q); else url.searchParams.delete("q");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }

  let timer = 0;
  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(apply, 150);
  });
})();
