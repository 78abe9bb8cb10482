// /explore: the district–mechanism network (Cytoscape.js) and the district × mechanism matrix.
//
// Data: /api/districts, /api/mechanisms, /api/themes (and /api/themes/{id}) and /api/matrix.
// One filter drives both views: mechanisms shared by at least N districts, optionally only
// those of one theme. The Cytoscape instance is window.kgGraph; #network[data-state] becomes
// "ready" once the data is drawn.
(function () {
  "use strict";

  const lang = document.documentElement.lang === "en" ? "en" : "zh";
  const other = lang === "zh" ? "en" : "zh";
  const TEXT = {
    zh: {
      summary: (d, m, e) => `显示 ${d} 个区、${m} 个机制、${e} 条连线`,
      district: "区", total: "合计", districts: "个区", mechanism: "机制",
      error: "无法加载数据：",
    },
    en: {
      summary: (d, m, e) => `${d} districts, ${m} mechanisms, ${e} links shown`,
      district: "District", total: "Total", districts: "districts", mechanism: "Mechanism",
      error: "Could not load the data: ",
    },
  }[lang];

  const container = document.getElementById("network");
  const minInput = document.getElementById("min-districts");
  const themeSelect = document.getElementById("theme");
  const summary = document.getElementById("explore-summary");
  const hover = document.getElementById("network-hover");
  const table = document.getElementById("matrix");
  const csvLink = document.getElementById("matrix-csv");
  const errorBox = document.getElementById("explore-error");

  const themeCache = new Map();
  const state = { mechanisms: [], districts: [], matrix: null, theme: null, sort: { key: null, desc: true } };

  function label(value) {
    if (value && typeof value === "object") return value[lang] || value[other] || "";
    return value == null ? "" : String(value);
  }

  function idOf(item) {
    return typeof item === "string" ? item : item.id;
  }

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  }

  function pagePath(kind, id) {
    return `/id/${kind}/${encodeURIComponent(id)}?lang=${lang}`;
  }

  // ---------------------------------------------------------------- filter

  function minDistricts() {
    const value = parseInt(minInput.value, 10);
    return Number.isFinite(value) && value >= 1 ? value : 1;
  }

  // The mechanisms both views show, as a Set of ids.
  function shownMechanisms() {
    const min = minDistricts();
    const inTheme = state.theme ? new Set(state.theme.mechanisms.map(idOf)) : null;
    return new Set(state.mechanisms
      .filter((m) => m.districts.length >= min && (!inTheme || inTheme.has(m.id)))
      .map((m) => m.id));
  }

  async function selectTheme(id) {
    if (!id) return null;
    if (!themeCache.has(id)) themeCache.set(id, await getJson(`/api/themes/${encodeURIComponent(id)}`));
    return themeCache.get(id);
  }

  // ---------------------------------------------------------------- network

  function buildGraph() {
    const elements = [];
    for (const d of state.districts) {
      elements.push({ group: "nodes", data: { id: `district:${d.id}`, key: d.id, kind: "district", label: label(d.label), size: 20 } });
    }
    const known = new Set(state.districts.map((d) => d.id));
    for (const m of state.mechanisms) {
      elements.push({ group: "nodes", data: { id: `mechanism:${m.id}`, key: m.id, kind: "mechanism", label: label(m.label),
        size: 20 } });
      for (const d of m.districts) {
        if (known.has(d)) elements.push({ group: "edges", data: { id: `${d}--${m.id}`, source: `district:${d}`, target: `mechanism:${m.id}` } });
      }
    }
    return cytoscape({
      container: container,
      elements: elements,
      minZoom: 0.2,
      maxZoom: 3,
      style: [
        { selector: "node", style: {
          "width": "data(size)", "height": "data(size)", "label": "data(label)", "font-size": 10,
          "text-valign": "bottom", "text-margin-y": 2, "text-wrap": "wrap", "text-max-width": 110,
          "color": "#1d2330", "text-outline-color": "#fff", "text-outline-width": 2, "border-width": 1, "border-color": "#fff" } },
        { selector: "node[kind = 'district']", style: { "shape": "ellipse", "background-color": "#b3261e", "font-size": 12, "font-weight": "bold" } },
        { selector: "node[kind = 'mechanism']", style: { "shape": "round-rectangle", "background-color": "#0b5cad" } },
        { selector: "edge", style: { "width": 1, "line-color": "#c9ced8", "curve-style": "haystack", "opacity": 0.8 } },
        { selector: ".hidden", style: { "display": "none" } },
        { selector: ".faded", style: { "opacity": 0.2 } },
        { selector: "node.hover", style: { "border-color": "#1d2330", "border-width": 3 } },
        { selector: "edge.hover", style: { "line-color": "#1d2330", "opacity": 1, "width": 2 } },
      ],
    });
  }

  function applyNetworkFilter(cy, shown) {
    const themeDistricts = state.theme ? new Set(state.theme.districts.map(idOf)) : null;
    cy.batch(() => {
      cy.nodes().forEach((node) => {
        const mechanism = node.data("kind") === "mechanism";
        node.toggleClass("hidden", mechanism && !shown.has(node.data("key")));
        node.toggleClass("faded", !mechanism && themeDistricts !== null && !themeDistricts.has(node.data("key")));
      });
      cy.edges().forEach((edge) => edge.toggleClass("hidden", edge.target().hasClass("hidden")));
      const visible = cy.nodes().not(".hidden");
      const degrees = visible.map((node) => node.connectedEdges().not(".hidden").length);
      const max = Math.max(1, ...degrees);
      visible.forEach((node, i) => node.data("size", 14 + 40 * Math.sqrt(degrees[i] / max)));
    });
    const visible = cy.elements().not(".hidden");
    // Start from rings (districts outside, mechanisms inside), then let the force layout pull
    // each mechanism towards its districts: the same input gives the same picture every time.
    visible.layout({ name: "concentric", animate: false, concentric: (n) => (n.data("kind") === "mechanism" ? 2 : 1),
      levelWidth: () => 1, minNodeSpacing: 8 }).run();
    visible.layout({ name: "cose", animate: false, randomize: false, fit: true, padding: 20,
      nodeRepulsion: () => 400000, idealEdgeLength: () => 100, nodeOverlap: 20, gravity: 0.3, numIter: 2000 }).run();
    const districts = visible.nodes("[kind = 'district']").length;
    summary.textContent = TEXT.summary(districts, visible.nodes().length - districts, visible.edges().length);
  }

  function wireNetwork(cy) {
    cy.on("tap", "node", (event) => {
      const node = event.target;
      window.location.href = pagePath(node.data("kind"), node.data("key"));
    });
    cy.on("mouseover", "node", (event) => {
      const node = event.target;
      node.addClass("hover");
      node.connectedEdges().addClass("hover");
      container.style.cursor = "pointer";
      const count = node.connectedEdges().not(".hidden").length;
      hover.textContent = `${node.data("label")} · ${count} ${node.data("kind") === "district" ? TEXT.mechanism : TEXT.districts}`;
    });
    cy.on("mouseout", "node", (event) => {
      event.target.removeClass("hover");
      event.target.connectedEdges().removeClass("hover");
      container.style.cursor = "";
      hover.textContent = "";
    });
  }

  // ---------------------------------------------------------------- matrix

  function matrixView(shown) {
    const m = state.matrix;
    const columns = m.mechanisms.map((mech, index) => ({ ...mech, index })).filter((c) => shown.has(c.id));
    let rows = m.districts.map((d, index) => ({ ...d, index, cells: columns.map((c) => m.matrix[index][c.index]) }));
    rows.forEach((r) => { r.total = r.cells.reduce((a, b) => a + b, 0); });
    const { key, desc } = state.sort;
    if (key !== null) {
      const sign = desc ? -1 : 1;
      rows = rows.slice().sort((a, b) => {
        let x;
        if (key === "district") x = a.index - b.index;
        else if (key === "total") x = a.total - b.total;
        else {
          const col = columns.findIndex((c) => c.id === key);
          x = col < 0 ? 0 : a.cells[col] - b.cells[col];
        }
        return sign * x || b.total - a.total || a.index - b.index;
      });
    }
    return { columns, rows };
  }

  function headerCell(text, sortKey, extra) {
    const th = document.createElement("th");
    th.scope = "col";
    th.dataset.sort = sortKey;
    th.tabIndex = 0;
    if (state.sort.key === sortKey) th.setAttribute("aria-sort", state.sort.desc ? "descending" : "ascending");
    const span = document.createElement("span");
    span.textContent = text;
    th.appendChild(span);
    if (extra) th.title = extra;
    return th;
  }

  function renderMatrix(shown) {
    const { columns, rows } = matrixView(shown);
    const max = Math.max(1, ...columns.map((c) => c.count));
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    head.appendChild(headerCell(TEXT.district, "district"));
    head.firstChild.classList.add("corner");
    for (const c of columns) {
      const th = headerCell(label(c.label), c.id, `${label(c.label)} · ${c.count} ${TEXT.districts}`);
      th.classList.add("mech");
      head.appendChild(th);
    }
    head.appendChild(headerCell(TEXT.total, "total")).classList.add("total");
    const body = table.createTBody();
    for (const r of rows) {
      const tr = body.insertRow();
      tr.dataset.district = r.id;
      const th = document.createElement("th");
      th.scope = "row";
      const a = document.createElement("a");
      a.href = pagePath("district", r.id);
      a.textContent = label(r.label);
      th.appendChild(a);
      tr.appendChild(th);
      r.cells.forEach((value, i) => {
        const td = tr.insertCell();
        td.dataset.value = value;
        if (value) {
          const strength = 0.25 + 0.75 * (columns[i].count / max);
          td.style.backgroundColor = `rgba(179, 38, 30, ${strength.toFixed(2)})`;
          td.title = `${label(r.label)} · ${label(columns[i].label)}`;
        }
      });
      const total = tr.insertCell();
      total.className = "total";
      total.textContent = r.total;
    }
    csvLink.dataset.rows = rows.length;
    updateCsv(columns, rows);
  }

  function csvField(value) {
    const text = String(value);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  function updateCsv(columns, rows) {
    const lines = [["district", ...columns.map((c) => c.id)].map(csvField).join(",")];
    lines.push(["label", ...columns.map((c) => label(c.label))].map(csvField).join(","));
    for (const r of rows) lines.push([r.id, ...r.cells].map(csvField).join(","));
    if (csvLink.href.startsWith("blob:")) URL.revokeObjectURL(csvLink.href);
    csvLink.href = URL.createObjectURL(new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" }));
  }

  function onSort(event) {
    const th = event.target.closest("th[data-sort]");
    if (!th) return;
    const key = th.dataset.sort;
    state.sort = state.sort.key === key ? { key, desc: !state.sort.desc } : { key, desc: key !== "district" };
    renderMatrix(shownMechanisms());
  }

  // ---------------------------------------------------------------- wiring

  function fillThemes(themes) {
    for (const theme of themes) {
      const option = document.createElement("option");
      option.value = theme.id;
      option.textContent = label(theme.label);
      themeSelect.appendChild(option);
    }
  }

  async function main() {
    const [districts, mechanisms, themes, matrix] = await Promise.all([
      getJson("/api/districts"), getJson("/api/mechanisms"), getJson("/api/themes"), getJson("/api/matrix")]);
    state.districts = districts;
    state.mechanisms = mechanisms;
    state.matrix = matrix;
    fillThemes(themes);
    const cy = buildGraph();
    window.kgGraph = cy;
    wireNetwork(cy);
    const refresh = () => {
      const shown = shownMechanisms();
      applyNetworkFilter(cy, shown);
      renderMatrix(shown);
    };
    refresh();
    document.getElementById("explore-controls").addEventListener("submit", (event) => event.preventDefault());
    minInput.addEventListener("input", refresh);
    themeSelect.addEventListener("change", async () => {
      container.dataset.state = "loading";
      state.theme = await selectTheme(themeSelect.value);
      refresh();
      container.dataset.state = "ready";
    });
    table.addEventListener("click", onSort);
    table.addEventListener("keydown", (event) => { if (event.key === "Enter") onSort(event); });
    container.dataset.state = "ready";
  }

  main().catch((error) => {
    container.dataset.state = "error";
    errorBox.hidden = false;
    errorBox.textContent = TEXT.error + error.message;
  });
})();
