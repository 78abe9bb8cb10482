// /docs: Swagger UI on /openapi.json, with the settings the page carries as a JSON data block
// (a static script rather than an inline one, so the Content-Security-Policy trusts no inline code).
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("swagger-config").textContent);
  window.ui = SwaggerUIBundle({
    ...config,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
