// /query: YASGUI on this service's /sparql, one tab per queries/examples/*.rq.
//
// Nothing leaves this origin: the endpoint is same-origin, the endpoint catalogue lists only it,
// prefix autocompletion uses YASQE's bundled prefixes (prefixCcApi stays null) and the
// property/class autocompleters, which ask lov.linkeddata.es, are removed.
// YASGUI's own persistence stays off (persistenceId: null), so tabs or endpoints left in
// localStorage by other YASGUI pages are never restored; what the user typed is kept here instead,
// under one key (STORE_KEY): the text of each tab, the tabs the user added, the active tab.
//
// Results: IRIs are shown as prefixed names (the service's prefix table, then the query's own
// PREFIX declarations) and an IRI under the base IRI links to its page on this service
// (/id/…); numbers typed xsd:integer, xsd:decimal, xsd:double … are shown as plain numbers.
(function () {
  "use strict";

  const OFF_ORIGIN_AUTOCOMPLETERS = ["property", "class"];
  const STORE_KEY = "bjrd-kg.query";
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const NUMERIC = new Set(["integer", "decimal", "double", "float", "int", "long", "short", "byte",
    "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
    "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte"].map((name) => XSD + name));

  const root = document.getElementById("yasgui");
  const examples = JSON.parse(document.getElementById("kg-examples").textContent);
  const editor = JSON.parse(document.getElementById("kg-editor").textContent);
  // YASGUI parses the endpoint with new URL(), so give it the absolute same-origin URL.
  const endpoint = new URL(root.dataset.endpoint, window.location.href).href;
  const exampleIds = new Set(examples.map((example) => example.name));

  const escapeHtml = (text) => String(text).replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  // The query a new tab starts with: every prefix of the service declared.
  const prefixLines = Object.entries(editor.prefixes).map(([prefix, ns]) => `PREFIX ${prefix}: <${ns}>`).join("\n");
  const NEW_TAB_QUERY = `${prefixLines}\n\nSELECT ?district ?label WHERE {\n  ?district a bjrd:District ; rdfs:label ?label .\n  FILTER (lang(?label) = "zh")\n}\nORDER BY ?district\n`;

  // ---- results: prefixed names, local links, numbers
  const Table = Yasgui.Yasr.plugins.table;
  const literal = Table.prototype.formatLiteral;

  function shorten(iri, prefixes) {
    let shown = iri;
    let longest = 0;
    for (const [prefix, ns] of Object.entries({ ...editor.prefixes, ...(prefixes || {}) })) {
      if (ns && iri.startsWith(ns) && ns.length > longest && !/[/#?]/.test(iri.slice(ns.length))) {
        shown = `${prefix}:${iri.slice(ns.length)}`;
        longest = ns.length;
      }
    }
    return shown;
  }

  function localHref(iri) {
    return iri.startsWith(editor.base + "/") ? iri.slice(editor.base.length) : iri;
  }

  // Whole cells by default (a label cut to "东城…" says little); the table's toggle still cuts them.
  const draw = Table.prototype.draw;
  Table.prototype.draw = function (config) {
    const wanted = { ...(config || {}) };
    if (wanted.isEllipsed === undefined && (this.persistentConfig || {}).isEllipsed === undefined) wanted.isEllipsed = false;
    return draw.call(this, wanted);
  };
  Table.prototype.getUriLinkFromBinding = function (binding, prefixes) {
    const iri = binding.value;
    return `<a class="iri" href="${escapeHtml(localHref(iri))}" title="${escapeHtml(iri)}">${escapeHtml(shorten(iri, prefixes))}</a>`;
  };
  Table.prototype.formatLiteral = function (binding, prefixes) {
    if (binding.datatype && NUMERIC.has(binding.datatype)) {
      return `<span class="number" title="${escapeHtml(shorten(binding.datatype, prefixes))}">${escapeHtml(binding.value)}</span>`;
    }
    if (binding["xml:lang"]) {
      return `${escapeHtml(binding.value)} <sup class="lang">@${escapeHtml(binding["xml:lang"])}</sup>`;
    }
    if (!binding.datatype || binding.datatype === XSD + "string") return escapeHtml(binding.value);
    return literal.call(this, binding, prefixes);
  };

  // ---- the editor
  const yasqeDefaults = Yasgui.defaults.yasqe;
  yasqeDefaults.autocompleters = yasqeDefaults.autocompleters.filter((name) => !OFF_ORIGIN_AUTOCOMPLETERS.includes(name));
  yasqeDefaults.prefixCcApi = null;
  // Autocompletion lists are cached in localStorage unless their persistenceId is null.
  for (const completer of Object.values(Yasgui.Yasqe.Autocompleters)) completer.persistenceId = null;
  // PREFIX completion offers the service's prefixes first (typing `dist:` then declares it too).
  const prefixCompleter = Yasgui.Yasqe.Autocompleters.prefixes;
  if (prefixCompleter) {
    const bundled = prefixCompleter.get;
    const ours = Object.entries(editor.prefixes).map(([prefix, ns]) => `${prefix}: <${ns}>`);
    const declared = new Set(Object.keys(editor.prefixes));
    prefixCompleter.get = function (yasqe, token) {
      return Promise.resolve(bundled.call(this, yasqe, token)).then((list) =>
        [...ours, ...list.filter((entry) => !declared.has(entry.split(":")[0]))]);
    };
  }

  function readSaved() {
    try {
      const saved = JSON.parse(window.localStorage.getItem(STORE_KEY) || "{}");
      return saved && typeof saved === "object" && Array.isArray(saved.tabs) ? saved : { tabs: [] };
    } catch (error) {
      return { tabs: [] };
    }
  }
  const saved = readSaved();
  const savedText = new Map(saved.tabs.map((tab) => [tab.id, tab]));

  const yasgui = new Yasgui(root, {
    persistenceId: null,
    autoAddOnInit: false,
    // A query in the address (/query?query=DESCRIBE…, the entity pages' SPARQL link) opens as a tab; the
    // page's own ?lang= is not a parameter for /sparql.
    populateFromUrl: (config) => {
      config.requestConfig.args = (config.requestConfig.args || []).filter((arg) => arg.name !== "lang");
      return config;
    },
    copyEndpointOnNewTab: true,
    requestConfig: { endpoint: endpoint, method: "POST" },
    endpointCatalogueOptions: { getData: () => [{ endpoint: endpoint }], keys: [] },
    yasqe: { editorHeight: "320px", resizeable: true, value: NEW_TAB_QUERY },
    yasr: { defaultPlugin: "table", prefixes: editor.prefixes },
  });

  const fromUrl = yasgui.getTab();
  const userTabs = saved.tabs.filter((tab) => !exampleIds.has(tab.id) && typeof tab.query === "string" &&
    typeof tab.id === "string" && !yasgui.getTab(tab.id));
  const known = new Set([...exampleIds, ...userTabs.map((tab) => tab.id)]);
  const first = examples.length ? examples[0].name : null;
  const active = fromUrl ? null : (known.has(saved.active) ? saved.active : first);
  examples.forEach((example) => {
    const kept = savedText.get(example.name);
    yasgui.addTab(example.name === active, {
      id: example.name,
      name: example.title,
      yasqe: { value: kept && typeof kept.query === "string" ? kept.query : example.query },
      requestConfig: { endpoint: endpoint },
    });
  });
  for (const tab of userTabs) {
    yasgui.addTab(tab.id === active, { id: tab.id, name: String(tab.name || tab.id), yasqe: { value: tab.query },
      requestConfig: { endpoint: endpoint } });
  }
  if (!yasgui.getTab()) yasgui.addTab(true);

  function tabText(tab) {
    const yasqe = tab.getYasqe && tab.getYasqe();
    return yasqe ? yasqe.getValue() : tab.persistentJson.yasqe.value;
  }

  function save() {
    const tabs = yasgui.persistentConfig.getTabs().map((id) => {
      const tab = yasgui.getTab(id);
      return { id: id, name: tab.getName(), query: tabText(tab) };
    });
    const current = yasgui.getTab();
    try {
      window.localStorage.setItem(STORE_KEY, JSON.stringify({ tabs: tabs, active: current ? current.getId() : null }));
    } catch (error) {
      // Storage full or disabled: the editor still works, it just forgets on reload.
    }
  }
  let pending = null;
  const saveSoon = () => {
    window.clearTimeout(pending);
    pending = window.setTimeout(save, 300);
  };
  root.addEventListener("input", saveSoon);
  root.addEventListener("keyup", saveSoon);
  for (const event of ["tabSelect", "tabAdd", "tabClose", "tabChange", "tabOrderChanged", "query"]) {
    yasgui.on(event, saveSoon);
  }
  window.addEventListener("pagehide", save);

  // ---- share links: only the PREFIX lines the query uses (a new tab declares all 24)
  function usedPrefixesOnly(query) {
    const lines = query.split("\n");
    const declaration = /^\s*PREFIX\s+([A-Za-z][\w.-]*)?:\s*<[^>]*>\s*$/i;
    const body = lines.filter((line) => !declaration.test(line)).join("\n");
    return lines.filter((line) => {
      const match = declaration.exec(line);
      if (!match || match[1] === undefined) return true;
      return new RegExp(`(^|[^\\w.:-])${match[1].replace(/[.-]/g, "\\$&")}:`).test(body);
    }).join("\n");
  }
  const TabProto = Object.getPrototypeOf(yasgui.getTab());
  const shareable = TabProto.getShareableLink;
  TabProto.getShareableLink = function (base) {
    const url = new URL(shareable.call(this, base), window.location.href);
    const params = new URLSearchParams(url.hash.slice(1));  // YASGUI puts the tab's settings after #
    const query = params.get("query");
    if (query !== null) {
      params.set("query", usedPrefixesOnly(query));
      url.hash = params.toString();
    }
    return url.href;
  };

  // ---- friendly errors: line:column, a plain sentence and the line itself, wrapped in the page
  const lang = document.documentElement.lang.startsWith("zh") ? "zh" : "en";
  function explain(message, query) {
    const at = /(?:at |line )(\d+)(?::|, column )(\d+)/.exec(message);
    const line = at ? Number(at[1]) : null;
    const column = at ? Number(at[2]) : null;
    const box = document.createElement("div");
    box.className = "kg-query-error";
    box.setAttribute("role", "alert");
    const head = document.createElement("p");
    head.textContent = line === null
      ? (lang === "zh" ? "查询无法执行：" : "The query could not be run: ") + message.replace(/^SPARQL syntax error:?\s*/, "")
      : (lang === "zh"
        ? `第 ${line} 行第 ${column} 列有语法错误：从这里起查询读不通——请检查该处是否缺少词项、括号、句点或引号。`
        : `Syntax error at line ${line}, column ${column}: the query cannot be read from there — check for a missing term, bracket, dot or quotation mark.`);
    box.appendChild(head);
    const text = line !== null ? (query.split("\n")[line - 1] || "") : "";
    if (text) {
      const pre = document.createElement("pre");
      pre.textContent = `${line} | ${text}\n${" ".repeat(String(line).length + 3 + Math.max(column - 1, 0))}^`;
      box.appendChild(pre);
    }
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = lang === "zh" ? "服务器的原始信息" : "The server's message";
    const raw = document.createElement("pre");
    raw.textContent = message;
    details.append(summary, raw);
    box.appendChild(details);
    return box;
  }
  new MutationObserver(() => {
    for (const result of root.querySelectorAll(".errorResult:not([data-explained])")) {
      const raw = result.querySelector(":scope > pre");
      const message = raw ? raw.textContent.trim() : "";
      if (!message) continue;  // drawn in steps: wait for the server's message
      result.dataset.explained = "1";
      const tab = yasgui.getTab();
      result.prepend(explain(message, tab ? tabText(tab) : ""));
    }
  }).observe(root, { childList: true, subtree: true });

  // ---- labels: a toggle that shows rdfs:label / skos:prefLabel in the page's language for result IRIs
  const labelBox = document.getElementById("kg-labels");
  const labels = new Map();
  async function fetchLabels(iris) {
    const missing = iris.filter((iri) => !labels.has(iri)).slice(0, 300);
    if (!missing.length) return;
    missing.forEach((iri) => labels.set(iri, null));
    const query = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n" +
      `SELECT ?s ?l WHERE { VALUES ?s { ${missing.map((iri) => `<${iri}>`).join(" ")} }\n` +
      `  ?s rdfs:label|skos:prefLabel ?l FILTER(LANGMATCHES(LANG(?l), "${lang}")) }`;
    const response = await fetch(endpoint, { method: "POST", headers: { Accept: "application/sparql-results+json",
      "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ query: query }) });
    if (!response.ok) return;
    for (const row of (await response.json()).results.bindings) labels.set(row.s.value, row.l.value);
  }
  async function applyLabels() {
    const links = [...root.querySelectorAll(".yasr a.iri")];
    if (!labelBox || !labelBox.checked) {
      links.forEach((a) => { if (a.dataset.short && a.textContent !== a.dataset.short) a.textContent = a.dataset.short; });
      return;
    }
    await fetchLabels([...new Set(links.map((a) => a.title))]);
    for (const a of links) {
      const label = labels.get(a.title);
      if (!a.dataset.short) a.dataset.short = a.textContent;
      if (label && a.textContent !== label) a.textContent = label;
    }
  }
  let labelling = 0;
  new MutationObserver(() => {
    window.clearTimeout(labelling);
    labelling = window.setTimeout(() => applyLabels().then(drawChart), 50);
  }).observe(root, { childList: true, subtree: true });
  if (labelBox) labelBox.addEventListener("change", applyLabels);

  // ---- a bar chart of counts: the first numeric column against the first other one (plain SVG)
  const chartBox = document.getElementById("kg-chart");
  const chartView = document.getElementById("kg-chart-view");
  function shownValue(binding) {
    if (!binding) return "";
    if (binding.type === "uri") return (labelBox && labelBox.checked && labels.get(binding.value)) || shorten(binding.value);
    return binding.value;
  }
  function drawChart() {
    if (!chartView) return;
    chartView.replaceChildren();
    const tab = yasgui.getTab();
    const results = tab && tab.yasr && tab.yasr.results;
    const rows = results && !results.hasError() ? results.getBindings() : null;
    chartView.hidden = !(chartBox && chartBox.checked);
    if (chartView.hidden) return;
    const vars = rows ? results.getVariables() : [];
    const numeric = vars.find((v) => rows.length && rows.every((r) => r[v] && r[v].datatype && NUMERIC.has(r[v].datatype)));
    const name = vars.find((v) => v !== numeric);
    if (!rows || !numeric) {
      const note = document.createElement("p");
      note.className = "muted";
      note.textContent = lang === "zh" ? "图表需要一列数字（如 COUNT 的结果）。" : "A chart needs a column of numbers (a COUNT, say).";
      chartView.appendChild(note);
      return;
    }
    const shown = rows.slice(0, 100);
    const max = Math.max(...shown.map((r) => Number(r[numeric].value)), 1);
    const rowHeight = 22;
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", `0 0 600 ${shown.length * rowHeight + 4}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `${numeric} / ${name || ""}`);
    svg.classList.add("kg-bars");
    shown.forEach((row, i) => {
      const value = Number(row[numeric].value);
      const y = i * rowHeight + 2;
      const label = document.createElementNS(svg.namespaceURI, "text");
      label.setAttribute("x", "0");
      label.setAttribute("y", String(y + 15));
      label.textContent = String(shownValue(name ? row[name] : null)).slice(0, 28);
      const bar = document.createElementNS(svg.namespaceURI, "rect");
      bar.setAttribute("x", "210");
      bar.setAttribute("y", String(y + 3));
      bar.setAttribute("height", "16");
      bar.setAttribute("width", String(Math.max(1, (value / max) * 340)));
      const number = document.createElementNS(svg.namespaceURI, "text");
      number.setAttribute("x", String(215 + (value / max) * 340));
      number.setAttribute("y", String(y + 15));
      number.textContent = String(value);
      svg.append(label, bar, number);
    });
    chartView.appendChild(svg);
  }
  if (chartBox) chartBox.addEventListener("change", drawChart);
  yasgui.on("queryResponse", () => window.setTimeout(drawChart, 0));
  yasgui.on("tabSelect", () => window.setTimeout(drawChart, 0));

  // For scripts and tests: the editor, the example names in tab order, and saving now.
  window.kgYasgui = yasgui;
  window.kgExamples = examples.map((example) => example.name);
  window.kgSaveQuery = save;
  window.kgUsedPrefixesOnly = usedPrefixesOnly;
})();
