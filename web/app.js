// alliance-map: the public map. Plain JavaScript, no build step; MapLibre GL JS is served
// by the binary from web/node_modules (CSP build: its worker is a same-origin file).
"use strict";

(function () {
  const ENGLAND = [[-6.42, 49.86], [1.77, 55.82]];
  const timings = (window.__allianceMap = { started: performance.now() });
  const $ = (id) => document.getElementById(id);
  const resultEl = $("result");
  const errorEl = $("search-error");
  const listEl = $("alliance-list");
  let alliances = []; // from /api/v1/alliances
  let colours = {}; // code -> colour, from the boundary document
  let hoveredId = null;

  maplibregl.setWorkerUrl("/assets/maplibre-gl-csp-worker.js");

  // ---- small helpers -------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "style") e.style.cssText = v;
      else e.setAttribute(k, v);
    }
    for (const c of children.flat()) if (c != null) e.append(c.nodeType ? c : String(c));
    return e;
  }

  async function getJson(url) {
    let response;
    try {
      response = await fetch(url, { headers: { accept: "application/json" } });
    } catch (e) {
      throw { kind: "network", detail: "The alliance-map service is not responding. Check your connection and try again." };
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw { kind: "http", status: response.status, detail: body.detail || response.statusText };
    return body;
  }

  function showError(message) {
    errorEl.textContent = message;
    errorEl.hidden = false;
  }

  function clearError() {
    errorEl.hidden = true;
    errorEl.textContent = "";
  }

  function setUrl(search, hash) {
    const url = new URL(window.location.href);
    url.search = search ? "?" + new URLSearchParams(search).toString() : "";
    url.hash = hash ? hash : "";
    history.replaceState(null, "", url);
  }

  // ---- the map -------------------------------------------------------------
  const map = new maplibregl.Map({
    container: "map",
    bounds: ENGLAND,
    fitBoundsOptions: { padding: 10 },
    attributionControl: false,
    style: { version: 8, sources: {}, layers: [{ id: "sea", type: "background", paint: { "background-color": "#cfe3ef" } }] },
  });
  timings.map = map; // for the browser tests
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-left");
  map.addControl(new maplibregl.AttributionControl({ compact: window.innerWidth < 600, customAttribution: $("licence-text").textContent.trim().replace(/\s+/g, " ") }));
  map.getCanvas().setAttribute("aria-label", "Interactive map; the list of alliances beside it carries the same information.");

  function addLayers(config) {
    if (config.basemap) {
      map.addSource("basemap", { type: "raster", tiles: [config.basemap.tiles], tileSize: 256, attribution: config.basemap.attribution || "" });
      map.addLayer({ id: "basemap", type: "raster", source: "basemap" });
    }
    map.addSource("countries", { type: "geojson", data: "/api/v1/boundaries/countries.geojson" });
    map.addSource("alliances", { type: "geojson", data: "/api/v1/boundaries/alliances.geojson", promoteId: "code" });
    map.addSource("stps", { type: "geojson", data: "/api/v1/boundaries/stps.geojson", promoteId: "code" });
    map.addSource("pick", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    if (!config.basemap) {
      map.addLayer({ id: "land", type: "fill", source: "countries", paint: { "fill-color": "#f2efe9", "fill-outline-color": "#9a9a9a" } });
    }
    map.addLayer({
      id: "alliance-fill", type: "fill", source: "alliances",
      paint: {
        "fill-color": ["get", "colour"],
        "fill-opacity": ["case", ["boolean", ["feature-state", "hover"], false], 0.95, config.basemap ? 0.55 : 0.8],
      },
    });
    map.addLayer({ id: "alliance-line", type: "line", source: "alliances", paint: { "line-color": "#3a3a3a", "line-width": 1.2 } });
    map.addLayer({
      id: "stp-line", type: "line", source: "stps",
      paint: { "line-color": "#1b1b1b", "line-width": 0.8, "line-dasharray": [3, 2] },
    });
    map.addLayer({
      id: "alliance-selected", type: "line", source: "alliances",
      filter: ["==", ["get", "code"], ""],
      paint: { "line-color": "#000000", "line-width": 3 },
    });
    map.addLayer({
      id: "pick", type: "circle", source: "pick",
      paint: { "circle-radius": 7, "circle-color": "#ffbf47", "circle-stroke-color": "#000", "circle-stroke-width": 2 },
    });
  }

  function select(code) {
    if (map.getLayer("alliance-selected")) map.setFilter("alliance-selected", ["==", ["get", "code"], code || ""]);
    for (const b of listEl.querySelectorAll("button")) b.setAttribute("aria-current", String(b.dataset.code === code));
  }

  function mark(lon, lat) {
    const src = map.getSource("pick");
    if (src) src.setData({ type: "FeatureCollection", features: [{ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [lon, lat] } }] });
  }

  // ---- the result panel ----------------------------------------------------
  function allianceDetails(code) {
    const a = alliances.find((x) => x.code === code);
    if (!a) return null;
    const stps = el("ul", {}, a.stps.map((s) =>
      el("li", {}, `${s.name} (${s.code})`, s.whole ? null : el("span", { class: "partial" }, " — partly: ", s.ccgs.map((c) => c.name).join(", ")))));
    const ccgs = el("details", {}, el("summary", {}, `${a.ccgs.length} CCGs`), el("ul", {}, a.ccgs.map((c) => el("li", {}, `${c.name} (${c.code})`))));
    return [el("h3", {}, "Its STP footprints"), stps, ccgs];
  }

  function kindText(kind) {
    return kind === "national_cancer_vanguard" ? "National Cancer Vanguard" : "Cancer Alliance";
  }

  /// Replaces the panel's content; `parts` may nest arrays and hold nulls.
  function panel(...parts) {
    resultEl.replaceChildren(...parts.flat(2).filter((p) => p != null));
  }

  function showAnswer(title, answer) {
    if (!answer.alliance) {
      const where = answer.country && answer.country !== "England" ? ` It is in ${answer.country}.` : "";
      panel(el("p", { class: "codes" }, title), el("h2", { id: "result-alliance" }, "Outside England's Cancer Alliances"),
        el("p", {}, `No Cancer Alliance or STP covers this place.${where} Cancer Alliances cover England only.`));
      select(null);
    } else {
      const a = answer.alliance;
      panel(
        el("p", { class: "codes" }, title),
        el("h2", { id: "result-alliance" }, a.name),
        el("p", {}, `${kindText(a.kind)} ${a.code}`),
        el("p", {}, "STP footprint: ", el("strong", { id: "result-stp" }, answer.stp.name), ` (${answer.stp.code})`),
        answer.match === "nearest" ? el("p", { class: "help" }, `Just outside the mapped boundary (${Math.round(answer.distance_m)} m); nearest area shown.`) : null,
        allianceDetails(a.code));
      select(a.code);
    }
    resultEl.focus({ preventScroll: true });
  }

  function showAlliance(code, fly) {
    const a = alliances.find((x) => x.code === code);
    if (!a) return;
    clearError();
    panel(el("h2", { id: "result-alliance" }, a.name), el("p", {}, `${kindText(a.kind)} ${a.code}`), allianceDetails(code));
    select(code);
    setUrl(null, "alliance=" + code);
    if (fly) map.fitBounds([[a.bbox[0], a.bbox[1]], [a.bbox[2], a.bbox[3]]], { padding: 30, duration: 600 });
    resultEl.focus({ preventScroll: true });
  }

  // ---- lookups ---------------------------------------------------------------
  async function lookupPoint(lon, lat, fly) {
    clearError();
    try {
      const answer = await getJson(`/api/v1/lookup?lon=${lon.toFixed(6)}&lat=${lat.toFixed(6)}`);
      mark(lon, lat);
      if (fly) map.flyTo({ center: [lon, lat], zoom: Math.max(map.getZoom(), 8.5), duration: 600 });
      setUrl({ lon: lon.toFixed(5), lat: lat.toFixed(5) });
      showAnswer(`Point ${lat.toFixed(5)}, ${lon.toFixed(5)}`, answer);
    } catch (e) {
      showError(e.detail || "Something went wrong.");
    }
  }

  async function lookupPostcode(text) {
    clearError();
    try {
      const answer = await getJson(`/api/v1/postcodes/${encodeURIComponent(text)}`);
      mark(answer.lon, answer.lat);
      map.flyTo({ center: [answer.lon, answer.lat], zoom: Math.max(map.getZoom(), 8.5), duration: 600 });
      setUrl({ postcode: answer.postcode });
      showAnswer(`Postcode ${answer.postcode}`, answer);
    } catch (e) {
      if (e.kind === "http" && e.status === 400) showError(`That doesn't look like a UK postcode. ${e.detail}`);
      else if (e.kind === "http" && e.status === 404) showError(`We couldn't find that postcode. ${e.detail}`);
      else if (e.kind === "http" && e.status === 503) showError("Postcode search is not available on this server; click the map instead.");
      else showError(e.detail || "Something went wrong.");
    }
  }

  /// Two numbers: "lat, lon" when the first looks like a UK latitude, else "lon, lat".
  function parseCoordinates(text) {
    const m = text.trim().match(/^(-?\d+(?:\.\d+)?)\s*[, ]\s*(-?\d+(?:\.\d+)?)$/);
    if (!m) return null;
    const [a, b] = [parseFloat(m[1]), parseFloat(m[2])];
    if (a >= 49 && a <= 61 && b >= -9 && b <= 3) return { lat: a, lon: b };
    if (b >= -90 && b <= 90 && a >= -180 && a <= 180) return { lon: a, lat: b };
    return null;
  }

  function search(text) {
    const value = text.trim();
    if (!value) return showError("Type a postcode, such as LS1 1AZ, or coordinates such as 53.80, -1.55.");
    const point = parseCoordinates(value);
    if (point) return lookupPoint(point.lon, point.lat, true);
    return lookupPostcode(value);
  }

  $("search").addEventListener("submit", (e) => {
    e.preventDefault();
    search($("q").value);
  });

  $("locate").addEventListener("click", () => {
    clearError();
    if (!navigator.geolocation) return showError("Your browser cannot share your location.");
    navigator.geolocation.getCurrentPosition(
      (pos) => lookupPoint(pos.coords.longitude, pos.coords.latitude, true),
      () => showError("Your location is not available (permission denied or no signal)."),
      { timeout: 10000 });
  });

  $("toggle-stps").addEventListener("change", (e) => {
    if (map.getLayer("stp-line")) map.setLayoutProperty("stp-line", "visibility", e.target.checked ? "visible" : "none");
  });

  // ---- the alliance list (the text alternative to the map) -------------------
  function buildList() {
    listEl.replaceChildren(...alliances.map((a) => {
      const b = el("button", { type: "button", "data-code": a.code, "aria-current": "false" },
        el("span", { class: "swatch", style: `background:${colours[a.code] || "#ddd"}`, "aria-hidden": "true" }),
        el("span", {}, a.name));
      b.addEventListener("click", () => showAlliance(a.code, true));
      b.addEventListener("keydown", (e) => {
        const items = [...listEl.querySelectorAll("button")];
        const i = items.indexOf(b);
        if (e.key === "ArrowDown" && i < items.length - 1) { items[i + 1].focus(); e.preventDefault(); }
        if (e.key === "ArrowUp" && i > 0) { items[i - 1].focus(); e.preventDefault(); }
      });
      return el("li", {}, b);
    }));
  }

  // ---- start -------------------------------------------------------------------
  async function restoreFromUrl() {
    const params = new URLSearchParams(window.location.search);
    const hash = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    if (params.get("postcode")) {
      $("q").value = params.get("postcode");
      await lookupPostcode(params.get("postcode"));
    } else if (params.get("lon") && params.get("lat")) {
      const [lon, lat] = [parseFloat(params.get("lon")), parseFloat(params.get("lat"))];
      if (Number.isFinite(lon) && Number.isFinite(lat)) await lookupPoint(lon, lat, true);
    } else if (hash.get("alliance")) {
      showAlliance(hash.get("alliance"), true);
    }
  }

  const listReady = getJson("/api/v1/alliances").then((body) => {
    alliances = body.alliances;
  });
  const configReady = getJson("/api/v1/config").catch(() => ({}));

  map.on("load", async () => {
    addLayers(await configReady);
    map.on("mousemove", "alliance-fill", (e) => {
      map.getCanvas().style.cursor = "pointer";
      const id = e.features[0] && e.features[0].id;
      if (id === hoveredId) return;
      if (hoveredId) map.setFeatureState({ source: "alliances", id: hoveredId }, { hover: false });
      hoveredId = id;
      if (id) map.setFeatureState({ source: "alliances", id }, { hover: true });
    });
    map.on("mouseleave", "alliance-fill", () => {
      map.getCanvas().style.cursor = "";
      if (hoveredId) map.setFeatureState({ source: "alliances", id: hoveredId }, { hover: false });
      hoveredId = null;
    });
    map.on("click", (e) => lookupPoint(e.lngLat.lng, e.lngLat.lat, false));
    map.on("sourcedata", (e) => {
      if (e.sourceId === "alliances" && e.isSourceLoaded && !timings.drawn) {
        map.once("idle", () => {
          if (timings.drawn) return;
          timings.drawn = performance.now();
          document.body.dataset.ready = "true";
        });
      }
    });
    try {
      const doc = await fetch("/api/v1/boundaries/alliances.geojson").then((r) => r.json());
      for (const f of doc.features) colours[f.properties.code] = f.properties.colour;
      await listReady;
      buildList();
      await restoreFromUrl();
    } catch (e) {
      showError(e.detail || "The alliance-map service is not responding.");
    }
  });
  listReady.catch((e) => showError(e.detail || "The alliance-map service is not responding."));
})();
