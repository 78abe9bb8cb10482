// /explore: the district–mechanism network (Cytoscape.js) and the district × mechanism matrix.
//
// Data: /api/districts, /api/mechanisms, /api/themes (and /api/themes/{id}), /api/topics and /api/matrix.
// Only named mechanisms and topics are drawn: umbrella categories are never counted as shared (data/README.md).
// One filter drives both views: mechanisms shared by at least N districts, optionally only
// those of one theme, hubs (mechanisms used by HUB_MIN or more districts) only when asked for;
// a layer of supervision topics (shared by at least N districts, too) when asked for.
// A chosen district is highlighted with its mechanisms and the districts sharing them. The
// filter lives in the address (?min=&theme=&hubs=1&topics=1&district=&sort=, kept with history.replaceState),
// so a view can be shared. Labels are drawn at least MIN_LABEL_PX high whatever the zoom.
// The Cytoscape instance is window.kgGraph, the CSV cell writer window.kgCsvField; #network[data-state]
// becomes "ready" once drawn.
(function () {
  "use strict";

  const lang = document.documentElement.lang === "en" ? "en" : "zh";
  const HUB_MIN = 12;
  const MIN_LABEL_PX = { district: 14, mechanism: 12, topic: 12 };
  const other = lang === "zh" ? "en" : "zh";
  const TEXT = {
    zh: {
      summary: (d, m, e, t) => `显示 ${d} 个区、${m} 个机制${t ? `、${t} 个监督议题` : ""}、${e} 条连线`,
      district: "区", total: "合计", districts: "个区", mechanism: "机制",
      error: "无法加载数据：", hubs: (n) => `（${n} 个）`,
    },
    en: {
      summary: (d, m, e, t) => `${d} districts, ${m} mechanisms, ${t ? `${t} supervision topics, ` : ""}${e} links shown`,
      district: "District", total: "Total", districts: "districts", mechanism: "Mechanism",
      error: "Could not load the data: ", hubs: (n) => `(${n})`,
    },
  }[lang];

  const container = document.getElementById("network");
  const minInput = document.getElementById("min-districts");
  const themeSelect = document.getElementById("theme");
  const districtSelect = document.getElementById("district");
  const hubsBox = document.getElementById("hubs");
  const hubCount = document.getElementById("hub-count");
  const topicsBox = document.getElementById("topics");
  const compareLink = document.getElementById("compare-link");
  const summary = document.getElementById("explore-summary");
  const hover = document.getElementById("network-hover");
  const table = document.getElementById("matrix");
  const csvLink = document.getElementById("matrix-csv");
  const errorBox = document.getElementById("explore-error");

  const themeCache = new Map();
  const state = { mechanisms: [], districts: [], topics: [], matrix: null, theme: null, sort: { key: null, desc: true } };

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
  function isHub(m) {
    return m.districts.length >= HUB_MIN;
  }

  function shownMechanisms() {
    const min = minDistricts();
    const inTheme = state.theme ? new Set(state.theme.mechanisms.map(idOf)) : null;
    return new Set(state.mechanisms
      .filter((m) => m.districts.length >= min && (!inTheme || inTheme.has(m.id)) && (hubsBox.checked || !isHub(m)))
      .map((m) => m.id));
  }

  // The supervision topics the topic layer shows (none unless it is switched on), as a Set of ids.
  function shownTopics() {
    const min = minDistricts();
    return new Set(topicsBox.checked ? state.topics.filter((t) => t.districts.length >= min).map((t) => t.id) : []);
  }

  // ---------------------------------------------------------------- the address

  function readAddress() {
    const params = new URLSearchParams(window.location.search);
    const min = parseInt(params.get("min"), 10);
    if (Number.isFinite(min) && min >= 1 && min <= 16) minInput.value = String(min);
    hubsBox.checked = params.get("hubs") === "1";
    topicsBox.checked = params.get("topics") === "1";
    const sort = params.get("sort") || "";
    if (/^-?[\w-]{1,80}$/.test(sort)) state.sort = { key: sort.replace(/^-/, ""), desc: sort.startsWith("-") };
    return { theme: params.get("theme") || "", district: params.get("district") || "" };
  }

  function writeAddress() {
    const params = new URLSearchParams(window.location.search);
    const set = (name, value) => (value ? params.set(name, value) : params.delete(name));
    set("min", minDistricts() === 2 ? "" : String(minDistricts()));
    set("theme", themeSelect.value);
    set("hubs", hubsBox.checked ? "1" : "");
    set("topics", topicsBox.checked ? "1" : "");
    set("district", districtSelect.value);
    set("sort", state.sort.key ? `${state.sort.desc ? "-" : ""}${state.sort.key}` : "");
    const query = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? `?${query}` : ""));
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
        size: 20, broad: m.narrower.length > 0 ? 1 : 0, hub: isHub(m) ? 1 : 0 } });
      for (const d of m.districts) {
        if (known.has(d)) elements.push({ group: "edges", data: { id: `${d}--${m.id}`, source: `district:${d}`, target: `mechanism:${m.id}` } });
      }
    }
    for (const t of state.topics) {
      elements.push({ group: "nodes", data: { id: `topic:${t.id}`, key: t.id, kind: "topic", label: label(t.label), size: 20 } });
      for (const d of t.districts) {
        if (known.has(d)) elements.push({ group: "edges", data: { id: `${d}--topic-${t.id}`, source: `district:${d}`, target: `topic:${t.id}`, layer: "topic" } });
      }
    }
    return cytoscape({
      container: container,
      elements: elements,
      minZoom: 0.05,
      maxZoom: 3,
      style: [
        { selector: "node", style: {
          "width": "data(size)", "height": "data(size)", "label": "data(label)", "font-size": 10,
          "text-valign": "bottom", "text-margin-y": 2, "text-wrap": "wrap", "text-max-width": 110,
          "color": "#1d2330", "text-outline-color": "#fff", "text-outline-width": 2, "border-width": 1, "border-color": "#fff" } },
        { selector: "node[kind = 'district']", style: { "shape": "ellipse", "background-color": "#b3261e", "font-size": 12, "font-weight": "bold" } },
        { selector: "node[kind = 'mechanism']", style: { "shape": "round-rectangle", "background-color": "#0b5cad" } },
        { selector: "node[broad = 1]", style: { "border-style": "dashed", "border-color": "#0b5cad", "border-width": 2,
          "background-color": "#6f9fd6" } },
        { selector: "node[kind = 'topic']", style: { "shape": "diamond", "background-color": "#2e7d32" } },
        { selector: "edge[layer = 'topic']", style: { "line-color": "#9ccc9f", "line-style": "dashed" } },
        { selector: "edge", style: { "width": 1, "line-color": "#c9ced8", "curve-style": "haystack", "opacity": 0.8 } },
        { selector: ".hidden", style: { "display": "none" } },
        { selector: ".faded", style: { "opacity": 0.2 } },
        { selector: ".dimmed", style: { "opacity": 0.12 } },
        { selector: "node.quiet, node.crowded", style: { "text-opacity": 0 } },
        { selector: "node.quiet.hover, node.crowded.hover", style: { "text-opacity": 1, "z-index": 20 } },
        { selector: "node.chosen", style: { "border-color": "#1d2330", "border-width": 4 } },
        { selector: "edge.chosen", style: { "line-color": "#b3261e", "opacity": 1, "width": 2.5 } },
        { selector: "node.hover", style: { "border-color": "#1d2330", "border-width": 3 } },
        { selector: "edge.hover", style: { "line-color": "#1d2330", "opacity": 1, "width": 2 } },
      ],
    });
  }

  function applyNetworkFilter(cy, shown, topics) {
    const themeDistricts = state.theme ? new Set(state.theme.districts.map(idOf)) : null;
    cy.batch(() => {
      cy.nodes().forEach((node) => {
        const kind = node.data("kind");
        node.toggleClass("hidden", (kind === "mechanism" && !shown.has(node.data("key"))) ||
          (kind === "topic" && !topics.has(node.data("key"))));
        node.toggleClass("faded", kind === "district" && themeDistricts !== null && !themeDistricts.has(node.data("key")));
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
    visible.layout({ name: "concentric", animate: false, concentric: (n) => (n.data("kind") === "district" ? 1 : 2),
      levelWidth: () => 1, minNodeSpacing: 8 }).run();
    visible.layout({ name: "cose", animate: false, randomize: false, fit: false,
      nodeRepulsion: () => 400000, idealEdgeLength: () => 100, nodeOverlap: 20, gravity: 0.3, numIter: 2000 }).run();
    fitNodes(cy, visible.nodes());
    fitLabels(cy);
    const districts = visible.nodes("[kind = 'district']").length;
    const topicCount = visible.nodes("[kind = 'topic']").length;
    summary.textContent = TEXT.summary(districts, visible.nodes().length - districts - topicCount, visible.edges().length,
      topicCount);
  }

  // Zoom and pan so that the nodes (not their labels, which are sized to the zoom) fill the box.
  function fitNodes(cy, nodes) {
    const box = nodes.boundingBox({ includeLabels: false });
    const padding = container.clientWidth < 600 ? 12 : 40;
    const width = Math.max(1, container.clientWidth - 2 * padding);
    const height = Math.max(1, container.clientHeight - 2 * padding);
    const zoom = Math.min(cy.maxZoom(), Math.max(cy.minZoom(), Math.min(width / Math.max(box.w, 1), height / Math.max(box.h, 1))));
    cy.zoom(zoom);
    cy.pan({ x: container.clientWidth / 2 - zoom * (box.x1 + box.w / 2), y: container.clientHeight / 2 - zoom * (box.y1 + box.h / 2) });
  }

  // Font sizes in model units such that labels are drawn MIN_LABEL_PX high at the current zoom.
  function fitLabels(cy) {
    const zoom = cy.zoom() || 1;
    cy.style()
      .selector("node[kind = 'district']").style("font-size", Math.max(12, MIN_LABEL_PX.district / zoom))
      .selector("node[kind = 'mechanism'], node[kind = 'topic']").style({ "font-size": Math.max(10, MIN_LABEL_PX.mechanism / zoom),
        "text-max-width": Math.max(110, 150 / zoom) })
      .update();
    // On a narrow screen (a phone) mechanism labels would cover each other: show them only for
    // the mechanisms of the chosen district, or on hover.
    const narrow = container.clientWidth < 600;
    cy.nodes().forEach((node) => {
      const mechanism = node.data("kind") !== "district";
      node.toggleClass("quiet", narrow && (districtSelect.value ? node.hasClass("dimmed") : mechanism));
    });
    hideCrowdedLabels(cy);
  }

  // No label drawn over another: labels are placed in order of importance (districts, then the
  // mechanisms and topics most districts share) and one that would overlap a placed label is
  // hidden until its node is hovered (its name is also in the matrix and the hover line).
  function hideCrowdedLabels(cy) {
    const weight = (node) => (node.data("kind") === "district" ? 1e6 : 0) + (node.hasClass("dimmed") ? 0 : 1e3) +
      node.connectedEdges().not(".hidden").length;
    const placed = [];
    const overlaps = (a, b) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
    cy.nodes().removeClass("crowded");
    cy.nodes().filter((node) => node.visible() && !node.hasClass("quiet"))
      .sort((a, b) => weight(b) - weight(a))
      .forEach((node) => {
        const box = node.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false });
        if (!box || box.w === 0) return;
        if (placed.some((other) => overlaps(box, other))) node.addClass("crowded");
        else placed.push(box);
      });
  }

  // Highlight the chosen district, its visible mechanisms and the districts that share them.
  function applyHighlight(cy) {
    const chosen = districtSelect.value;
    cy.batch(() => {
      cy.elements().removeClass("dimmed chosen");
      if (!chosen) return;
      const node = cy.getElementById(`district:${chosen}`);
      const edges = node.connectedEdges().not(".hidden");
      const mechanisms = edges.targets();
      const neighbours = mechanisms.connectedEdges().not(".hidden").sources();
      const keep = node.union(edges).union(mechanisms).union(neighbours).union(mechanisms.connectedEdges().not(".hidden"));
      cy.elements().not(keep).addClass("dimmed");
      node.addClass("chosen");
      edges.addClass("chosen");
    });
    fitLabels(cy);
    updateCompareLink(cy);
    table.querySelectorAll("tbody tr").forEach((tr) => tr.classList.toggle("chosen", tr.dataset.district === chosen));
  }

  // The two districts sharing the most shown mechanisms with the chosen one (tie: code order).
  function nearest(cy, chosen) {
    const mechanismsOf = (id) => cy.getElementById(`district:${id}`).connectedEdges().not(".hidden").targets("[kind = 'mechanism']");
    const mine = new Set(mechanismsOf(chosen).map((n) => n.id()));
    return state.districts.filter((d) => d.id !== chosen).map((d, index) => ({ id: d.id, index,
      shared: mechanismsOf(d.id).filter((n) => mine.has(n.id())).length }))
      .sort((a, b) => b.shared - a.shared || a.index - b.index).slice(0, 2).map((d) => d.id);
  }

  function updateCompareLink(cy) {
    const chosen = districtSelect.value;
    compareLink.hidden = !chosen;
    if (chosen) compareLink.href = `/compare?districts=${[chosen, ...nearest(cy, chosen)].join(",")}&lang=${lang}`;
  }

  function wireNetwork(cy) {
    cy.on("zoom", () => fitLabels(cy));
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

  // One CSV cell as app/ld/tables.py writes it: numbers as they are; text starting like a formula (= + - @ tab CR)
  // behind a ' (OWASP "CSV injection"), so that a spreadsheet shows it as text; quoted when it holds " , CR or LF.
  const FORMULA_START = /^[=+\-@\t\r]/;
  function csvField(value) {
    if (value == null) return "";
    if (typeof value === "number") return String(value);
    let text = String(value);
    if (FORMULA_START.test(text)) text = "'" + text;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }
  window.kgCsvField = csvField;

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
    writeAddress();
  }

  // ---------------------------------------------------------------- wiring

  function fillOptions(select, items) {
    for (const item of items) {
      const option = document.createElement("option");
      option.value = item.id;
      option.textContent = label(item.label);
      select.appendChild(option);
    }
  }

  async function main() {
    const [districts, mechanisms, themes, topics, matrix] = await Promise.all([
      getJson("/api/districts"), getJson("/api/mechanisms"), getJson("/api/themes"), getJson("/api/topics"),
      getJson("/api/matrix")]);
    state.districts = districts;
    // Umbrella categories are never counted as shared: only named mechanisms are drawn (as /api/matrix does).
    state.mechanisms = mechanisms.filter((m) => m.kind === "named");
    // The same rule for topics: an analyst's umbrella grouping is never counted as shared, nor drawn.
    state.topics = topics.filter((t) => t.kind === "named");
    state.matrix = matrix;
    fillOptions(themeSelect, themes);
    fillOptions(districtSelect, districts);
    hubCount.textContent = TEXT.hubs(state.mechanisms.filter(isHub).length);
    const wanted = readAddress();
    if (themes.some((t) => t.id === wanted.theme)) {
      themeSelect.value = wanted.theme;
      state.theme = await selectTheme(wanted.theme);
    }
    if (districts.some((d) => d.id === wanted.district)) districtSelect.value = wanted.district;
    const cy = buildGraph();
    window.kgGraph = cy;
    wireNetwork(cy);
    const refresh = () => {
      const shown = shownMechanisms();
      applyNetworkFilter(cy, shown, shownTopics());
      renderMatrix(shown);
      applyHighlight(cy);
      writeAddress();
    };
    refresh();
    document.getElementById("explore-controls").addEventListener("submit", (event) => event.preventDefault());
    minInput.addEventListener("input", refresh);
    hubsBox.addEventListener("change", refresh);
    topicsBox.addEventListener("change", refresh);
    districtSelect.addEventListener("change", () => {
      applyHighlight(cy);
      writeAddress();
    });
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
