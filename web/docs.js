// Renders the server's OpenAPI document as plain HTML (no third-party viewer, no CDN).
"use strict";

(async function () {
  const root = document.getElementById("docs");
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children.flat()) if (c != null) e.append(c.nodeType ? c : String(c));
    return e;
  };
  let spec;
  try {
    spec = await fetch("/api/v1/openapi.json").then((r) => r.json());
  } catch (e) {
    root.replaceChildren(el("p", { role: "alert" }, "The API description could not be loaded."));
    return;
  }
  const ref = (schema) => (schema && schema.$ref ? schema.$ref.split("/").pop() : schema && schema.type) || "";
  const parts = [el("h2", {}, `${spec.info.title} ${spec.info.version}`)];
  for (const para of (spec.info.description || "").split("\n\n")) parts.push(el("p", {}, para));
  parts.push(el("h2", {}, "Endpoints"));
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const section = el("section", { class: "endpoint", id: `${method}-${path}`.replace(/[^a-z0-9]+/gi, "-") },
        el("h3", {}, el("span", { class: `method ${method}` }, method.toUpperCase()), path),
        op.summary ? el("p", {}, op.summary) : null,
        op.description ? el("p", {}, op.description) : null);
      if (op.parameters && op.parameters.length) {
        section.append(el("table", {},
          el("thead", {}, el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"), el("th", {}, "type"), el("th", {}, "required"), el("th", {}, "description"))),
          el("tbody", {}, op.parameters.map((p) => el("tr", {},
            el("td", {}, el("code", {}, p.name)), el("td", {}, p.in), el("td", {}, ref(p.schema)),
            el("td", {}, p.required ? "yes" : "no"), el("td", {}, p.description || ""))))));
      }
      if (op.requestBody) {
        const content = op.requestBody.content || {};
        const [type, body] = Object.entries(content)[0] || [];
        section.append(el("p", {}, "Request body: ", el("code", {}, type || ""), " ", ref(body && body.schema)));
      }
      const rows = Object.entries(op.responses || {}).map(([status, r]) => {
        const [type, body] = Object.entries(r.content || {})[0] || [];
        return el("tr", {}, el("td", {}, status), el("td", {}, r.description || ""), el("td", {}, type ? `${type} ${ref(body.schema)}` : ""));
      });
      section.append(el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "status"), el("th", {}, "meaning"), el("th", {}, "body"))), el("tbody", {}, rows)));
      parts.push(section);
    }
  }
  parts.push(el("h2", {}, "Schemas"));
  for (const [name, schema] of Object.entries((spec.components && spec.components.schemas) || {})) {
    parts.push(el("h3", { id: `schema-${name}` }, name), el("pre", {}, JSON.stringify(schema, null, 2)));
  }
  root.replaceChildren(...parts);
})();
