// /query: YASGUI on this service's /sparql, one tab per queries/examples/*.rq.
//
// Nothing leaves this origin: the endpoint is same-origin, the endpoint catalogue lists only it,
// prefix autocompletion uses YASQE's bundled prefixes (prefixCcApi stays null) and the
// property/class autocompleters, which ask lov.linkeddata.es, are removed.
// Nothing is persisted either (persistenceId: null, for YASGUI and its autocompleters), so every
// visit shows exactly the examples the service has now, not tabs left in localStorage earlier.
(function () {
  "use strict";

  const OFF_ORIGIN_AUTOCOMPLETERS = ["property", "class"];

  const root = document.getElementById("yasgui");
  const examples = JSON.parse(document.getElementById("kg-examples").textContent);
  // YASGUI parses the endpoint with new URL(), so give it the absolute same-origin URL.
  const endpoint = new URL(root.dataset.endpoint, window.location.href).href;

  const yasqeDefaults = Yasgui.defaults.yasqe;
  yasqeDefaults.autocompleters = yasqeDefaults.autocompleters.filter((name) => !OFF_ORIGIN_AUTOCOMPLETERS.includes(name));
  yasqeDefaults.prefixCcApi = null;
  // Autocompletion lists are cached in localStorage unless their persistenceId is null.
  for (const completer of Object.values(Yasgui.Yasqe.Autocompleters)) completer.persistenceId = null;

  const yasgui = new Yasgui(root, {
    persistenceId: null,
    autoAddOnInit: examples.length === 0,
    populateFromUrl: true,
    copyEndpointOnNewTab: true,
    requestConfig: { endpoint: endpoint, method: "POST" },
    endpointCatalogueOptions: { getData: () => [{ endpoint: endpoint }], keys: [] },
    yasqe: { editorHeight: "320px", resizeable: true },
    yasr: { defaultPlugin: "table" },
  });

  const fromUrl = yasgui.getTab();
  examples.forEach((example, index) => {
    yasgui.addTab(!fromUrl && index === 0, {
      id: example.name,
      name: example.title,
      yasqe: { value: example.query },
      requestConfig: { endpoint: endpoint },
    });
  });

  // For scripts and tests: the editor, and the example names in tab order.
  window.kgYasgui = yasgui;
  window.kgExamples = examples.map((example) => example.name);
})();
