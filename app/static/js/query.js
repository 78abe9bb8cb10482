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
    populateFromUrl: true,
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

  // For scripts and tests: the editor, the example names in tab order, and saving now.
  window.kgYasgui = yasgui;
  window.kgExamples = examples.map((example) => example.name);
  window.kgSaveQuery = save;
})();
