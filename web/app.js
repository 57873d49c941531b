// alliance-map: the public map. Plain JavaScript, no build step; MapLibre GL JS is served
// by the binary from web/node_modules (CSP build: its worker is a same-origin file).
//
// State lives in the URL: `?postcode=` or `?lon=&lat=` (the answer), `?date=` (the period of
// editions shown, absent for the default 2017 one) and `#alliance=CODE`. The map, the answer
// and the URL always show the same period.
"use strict";

(function () {
  const ENGLAND = [[-6.42, 49.86], [1.77, 55.82]];
  const timings = (window.__allianceMap = { started: performance.now() });
  let drewFirst;
  timings.firstDraw = new Promise((resolve) => { drewFirst = resolve; });
  const $ = (id) => document.getElementById(id);
  const resultEl = $("result");
  const listEl = $("alliance-list");
  const announceEl = $("announce");
  let alliances2017 = []; // from /api/v1/alliances: the 2017 alliances with their STPs and CCGs
  let editions = null; // from /api/v1/editions
  let period = null; // the period shown: {from, until, alliance, footprint, sub_area, notes?}
  let shown = { alliances: [], footprints: [] }; // the period's areas, from its boundary documents
  let place = null; // the current answer: {point:{lon,lat}} | {postcode} | {alliance: code}
  let timeline = null; // {key, periods, superseded_since} for the current place
  let hoveredId = null;
  let generation = 0; // bumped by every period switch, to drop stale drawings
  let asked = 0; // bumped by every question, to drop stale answers
  const documents = new Map(); // period start -> Promise of its TileJSON (with alliances, footprints)

  maplibregl.setWorkerUrl("/assets/maplibre-gl-csp-worker.js");

  // ---- small helpers -------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "style") e.style.cssText = v;
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(3)) if (c != null && c !== false) e.append(c.nodeType ? c : String(c));
    return e;
  }

  /// The answers boot.js asked for from the page's head, each taken over once (by its URL).
  const boot = window.__allianceBoot || {};
  const booted = new Map(Object.entries({
    [`/api/v1/tiles.json?date=${boot.date}`]: boot.tileJson,
    "/api/v1/config": boot.config,
    "/api/v1/editions": boot.editions,
  }).filter(([, r]) => r));

  async function getJson(url) {
    let response;
    const early = booted.get(url);
    booted.delete(url);
    try {
      response = await (early || fetch(url, { headers: { accept: "application/json" } }));
    } catch (e) {
      throw { kind: "network", detail: "The alliance-map service is not responding. Check your connection and try again." };
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw { kind: "http", status: response.status, detail: body.detail || response.statusText };
    return body;
  }

  const DEFAULT_TITLE = document.title;
  /// The page title follows the answer: "… — Which Cancer Alliance am I in? — alliance-map".
  function setTitle(text) {
    document.title = text ? `${text} — ${DEFAULT_TITLE}` : DEFAULT_TITLE;
  }

  /// Shows an error *in place of* the answer (an old answer left showing would read as this
  /// question's), says it once in the live region, and marks the search box invalid when it
  /// was the search. `opts.more`: nodes after the message (a suggestion, shares).
  function showError(message, opts = {}) {
    const title = opts.title || "Something went wrong";
    resultEl.replaceChildren(
      el("h2", { id: "result-error-title" }, title),
      el("p", { id: "search-error", class: "error" }, message),
      ...(opts.more || []).flat(3).filter(Boolean));
    $("q").setAttribute("aria-describedby", "search-help search-error");
    if (opts.invalid) $("q").setAttribute("aria-invalid", "true");
    else $("q").removeAttribute("aria-invalid");
    select(null);
    mark(null);
    setTitle(title);
    if (!opts.quiet) announce(`${title}. ${message}`);
    if (opts.focus) reveal();
  }

  function clearError() {
    $("q").removeAttribute("aria-invalid");
    $("q").setAttribute("aria-describedby", "search-help");
  }

  /// A note above the answer (e.g. a shared link's date that is not held), not an error.
  function showNotice(message) {
    const old = $("notice");
    if (old) old.remove();
    resultEl.prepend(el("p", { id: "notice", class: "note" }, message));
  }

  /// Brings the answer into view and gives it the focus: on a phone it is below the map, and
  /// after Enter in the list it may be scrolled out of the side panel.
  function reveal() {
    resultEl.focus({ preventScroll: true });
    const phone = window.matchMedia("(max-width: 760px)").matches;
    const side = $("side");
    if (!phone) {
      // On a wide screen the side panel scrolls on its own: bring the answer's top into it.
      const delta = resultEl.getBoundingClientRect().top - side.getBoundingClientRect().top - 8;
      if (delta < 0 || delta > side.clientHeight - 80) side.scrollTop += delta;
    }
    // Then the window: its top must show (a click on a desktop map with the answer already in
    // sight moves nothing; on a phone the answer is below the map, so it always scrolls).
    const top = resultEl.getBoundingClientRect().top;
    if (phone || top < 0 || top > window.innerHeight - 80) window.scrollBy(0, top - 8);
  }

  function announce(message) {
    // Re-set even an identical message so that it is read again.
    announceEl.textContent = "";
    setTimeout(() => { announceEl.textContent = message; }, 50);
  }

  // ---- dates and words ---------------------------------------------------------
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
  const ISO = /^(\d{4})-(\d{2})-(\d{2})$/;

  function parts(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    return { y, m, d };
  }
  /// "1 April 2017"
  function longDate(iso) {
    const { y, m, d } = parts(iso);
    return `${d} ${MONTHS[m - 1]} ${y}`;
  }
  /// "Apr 2017"
  function shortMonth(iso) {
    const { y, m } = parts(iso);
    return `${MONTHS[m - 1].slice(0, 3)} ${y}`;
  }
  /// The day before `iso` (an exclusive end made inclusive).
  function dayBefore(iso) {
    const { y, m, d } = parts(iso);
    return new Date(Date.UTC(y, m - 1, d) - 86400000).toISOString().slice(0, 10);
  }
  function spanText(from, until) {
    return until ? `${longDate(from)} to ${longDate(dayBefore(until))}` : `${longDate(from)} onwards`;
  }

  function edition(code) {
    return editions && editions.editions.find((e) => e.edition === code);
  }

  /// Plain words for a layer; `area` (or, without one, the edition) says which kind.
  function layerWords(layer, area, editionCode, short) {
    const kind = (area && area.kind) || (edition(editionCode) || {}).area_kind;
    if (layer === "alliance") return kind === "national_cancer_vanguard" ? "National Cancer Vanguard" : "Cancer Alliance";
    if (layer === "footprint") {
      if (kind === "icb") return "Integrated Care Board";
      if (kind === "stp") return short ? "STP" : "Sustainability and Transformation Partnership (STP)";
      return short ? "STP or Integrated Care Board" : "Sustainability and Transformation Partnership or Integrated Care Board";
    }
    if (kind === "sub_icb_location") return "Sub-ICB Location";
    if (kind === "ccg") return short ? "CCG" : "Clinical Commissioning Group (CCG)";
    return short ? "CCG or Sub-ICB Location" : "Clinical Commissioning Group or Sub-ICB Location";
  }

  function footprintPlural(p) {
    const kind = (edition(p.footprint) || {}).area_kind;
    return kind === "icb" ? "Integrated Care Boards" : "STP footprints";
  }

  function isDefault(p) {
    return !editions || p.from === editions.periods[0].from;
  }
  function isLatest(p) {
    return editions && p.from === editions.periods[editions.periods.length - 1].from;
  }

  /// The period holding `date` (YYYY-MM-DD or "latest"), or null.
  function periodOf(date) {
    if (!editions) return null;
    const list = editions.periods;
    if (date === "latest") return list[list.length - 1];
    if (!ISO.test(date || "")) return null;
    return list.find((p) => p.from <= date && (!p.until || date < p.until)) || null;
  }

  /// When the latest held editions stopped being current, if known.
  function supersededSince() {
    const last = editions.periods[editions.periods.length - 1];
    const dates = ["alliance", "footprint", "sub_area"].map((k) => (edition(last[k]) || {}).superseded_since).filter(Boolean).sort();
    return dates[0] || last.until || null;
  }

  // ---- the URL ---------------------------------------------------------------------
  function writeUrl(push) {
    const url = new URL(window.location.href);
    const search = new URLSearchParams();
    if (place && place.postcode) search.set("postcode", place.postcode);
    if (place && place.point) {
      search.set("lon", place.point.lon.toFixed(5));
      search.set("lat", place.point.lat.toFixed(5));
    }
    if (period && !isDefault(period)) search.set("date", period.from);
    const text = search.toString();
    url.search = text ? "?" + text : "";
    url.hash = place && place.alliance ? "alliance=" + place.alliance : "";
    if (url.href === window.location.href) return;
    if (push) history.pushState(null, "", url);
    else history.replaceState(null, "", url);
  }

  /// Each period's TileJSON, fetched once.
  const tileJsons = new Map();
  function tileJsonOf(from) {
    if (!tileJsons.has(from)) {
      const tj = getJson(`/api/v1/tiles.json?date=${from}`);
      tj.catch(() => tileJsons.delete(from));
      tileJsons.set(from, tj);
    }
    return tileJsons.get(from);
  }

  // ---- the map -------------------------------------------------------------
  /// A button that brings back the whole of England.
  function ResetView() {}
  ResetView.prototype.onAdd = function (m) {
    const div = el("div", { class: "maplibregl-ctrl maplibregl-ctrl-group" });
    const button = el("button", { type: "button", class: "reset-view", title: "Show all of England", "aria-label": "Reset the view: show all of England" }, "⌂");
    button.addEventListener("click", () => m.fitBounds(ENGLAND, { padding: 10 }));
    div.append(button);
    return div;
  };
  ResetView.prototype.onRemove = function () {};

  const map = new maplibregl.Map({
    container: "map",
    bounds: ENGLAND,
    fitBoundsOptions: { padding: 10 },
    attributionControl: false,
    // Labels appear at once: a fade-in keeps the map "moving" 300 ms longer, and nobody needs it.
    fadeDuration: 0,
    style: {
      version: 8,
      // No paint transitions: the layers added at the start would otherwise keep the map
      // redrawing for 300 ms (each frame in software WebGL competes with the map's worker).
      transition: { duration: 0, delay: 0 },
      // Label glyphs come from this server (DejaVu Sans, made from the open font): no CDN.
      glyphs: `${window.location.origin}/api/v1/fonts/{fontstack}/{range}.pbf`,
      sources: {},
      layers: [{ id: "sea", type: "background", paint: { "background-color": "#cfe3ef" } }],
    },
  });
  timings.map = map; // for the browser tests
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-left");
  map.addControl(new ResetView(), "top-left");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  // Compact (collapsed behind an "i" button) whenever the map is narrow, so the licence text
  // does not cover a phone's map; the footer carries it in full.
  // On the map, the first two sentences of the licence statement (the source and the OS
  // copyright line); the footer below the map carries all of it.
  const licence = $("licence-text").textContent.trim().replace(/\s+/g, " ");
  const short = (licence.match(/^(.*?\.\s.*?\.)(\s|$)/) || [null, licence])[1];
  const attribution = new maplibregl.AttributionControl({ customAttribution: short === licence ? licence : `${short} <a href="#licence-text">Full credits</a>.` });
  map.addControl(attribution);
  function collapseAttribution() {
    const c = map.getContainer().querySelector(".maplibregl-ctrl-attrib");
    if (c && c.classList.contains("maplibregl-compact")) {
      c.classList.remove("maplibregl-compact-show");
      c.removeAttribute("open");
    }
  }
  map.on("load", collapseAttribution);
  map.on("resize", () => setTimeout(collapseAttribution, 0));

  /// "What's here?": the answer for the point under the cross at the map's centre, the
  /// keyboard's way to ask the map (Enter on the focused map does the same).
  function WhatsHere() {}
  WhatsHere.prototype.onAdd = function (m) {
    const div = el("div", { class: "maplibregl-ctrl maplibregl-ctrl-group whats-here" });
    const button = el("button", { type: "button", id: "whats-here", title: "What is at the cross in the middle of the map?" }, "What's here?");
    button.addEventListener("click", () => identifyCentre());
    div.append(button);
    return div;
  };
  WhatsHere.prototype.onRemove = function () {};
  map.addControl(new WhatsHere(), "top-right");

  const canvas = map.getCanvas();
  canvas.setAttribute("aria-label", "Interactive map. Arrow keys move it, + and − zoom. Press Enter for the answer at the cross in the middle. The list of alliances beside it carries the same information.");
  canvas.setAttribute("aria-describedby", "search-help");
  // The cross marking the point "What's here?" answers for; shown while the map has the
  // keyboard focus, and while the map is being moved.
  const crosshair = el("div", { id: "crosshair", "aria-hidden": "true" });
  map.getContainer().append(crosshair);
  canvas.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      identifyCentre();
    }
  });
  function identifyCentre() {
    const c = map.getCenter();
    return ask({ point: { lon: c.lng, lat: c.lat } }, { focus: true, fly: false });
  }
  timings.identifyCentre = identifyCentre; // for the browser tests

  // Printing: a WebGL canvas prints blank (its drawing buffer is cleared once shown), so the
  // page prints a picture of the map taken just before, drawn synchronously.
  const printImage = $("map-print");
  window.addEventListener("beforeprint", () => {
    try {
      map.redraw();
      printImage.src = canvas.toDataURL("image/png");
      printImage.alt = $("map").getAttribute("aria-label") || "The map";
      printImage.hidden = false;
    } catch (e) {
      printImage.hidden = true; // the answer still prints
    }
  });
  window.addEventListener("afterprint", () => { printImage.hidden = true; });

  const EMPTY = { type: "FeatureCollection", features: [] };
  const GEONAMES = 'Place names: <a href="https://www.geonames.org/">GeoNames</a>, <a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>';

  /// The tile URL templates of a TileJSON, absolute (MapLibre needs them so; braces kept).
  function tileUrls(tj) {
    return tj.tiles.map((t) => (t.startsWith("/") ? window.location.origin + t : t));
  }

  /// Draws from the vector tiles of `tj` (a period's TileJSON): cut from the exact boundaries,
  /// so the map agrees with the answers at every zoom.
  function addLayers(config, tj) {
    if (config.basemap) {
      map.addSource("basemap", { type: "raster", tiles: [config.basemap.tiles], tileSize: 256, attribution: config.basemap.attribution || "" });
      map.addLayer({ id: "basemap", type: "raster", source: "basemap" });
    }

    map.addSource("tiles", { type: "vector", tiles: tileUrls(tj), minzoom: tj.minzoom, maxzoom: tj.maxzoom, promoteId: { alliances: "code" }, attribution: GEONAMES });
    if (!config.basemap) {
      // The land backdrop (the UK's countries, 90 KB) comes after the alliances are drawn: the
      // alliances are what the page is for, and parsing the backdrop would delay them.
      timings.firstDraw.then(() => {
        map.addSource("countries", { type: "geojson", data: "/api/v1/boundaries/countries.geojson" });
        map.addLayer({ id: "land", type: "fill", source: "countries", paint: { "fill-color": "#f2efe9", "fill-outline-color": "#9a9a9a" } }, "alliance-fill");
      });
    }
    const tiles = (layer) => ({ source: "tiles", "source-layer": layer });
    map.addLayer({
      id: "alliance-fill", type: "fill", ...tiles("alliances"),
      paint: {
        "fill-color": ["get", "colour"],
        "fill-opacity": ["case", ["boolean", ["feature-state", "hover"], false], 0.95, config.basemap ? 0.55 : 0.8],
      },
    });
    map.addLayer({ id: "district-line", type: "line", ...tiles("districts"), minzoom: 8, paint: { "line-color": "#5c5c5c", "line-width": 0.6, "line-opacity": 0.7 } });
    map.addLayer({ id: "alliance-line", type: "line", ...tiles("alliances"), paint: { "line-color": "#3a3a3a", "line-width": 1.2 } });
    map.addLayer({
      id: "stp-line", type: "line", ...tiles("footprints"),
      layout: { visibility: $("toggle-stps").checked ? "visible" : "none" },
      paint: { "line-color": "#1b1b1b", "line-width": 0.8, "line-dasharray": [3, 2] },
    });
    map.addLayer({
      id: "alliance-selected", type: "line", ...tiles("alliances"),
      filter: ["==", ["get", "code"], ""],
      paint: { "line-color": "#000000", "line-width": 3 },
    });
    const halo = { "text-halo-color": "rgba(255,255,255,0.9)", "text-halo-width": 1.5 };
    map.addLayer({
      id: "district-label", type: "symbol", ...tiles("district_labels"), minzoom: 8,
      layout: { "text-field": ["get", "name"], "text-font": ["DejaVu Sans Book"], "text-size": 11, "text-transform": "uppercase", "text-letter-spacing": 0.08, "text-max-width": 8 },
      paint: { "text-color": "#4a4a4a", ...halo },
    });
    map.addLayer({
      id: "place-label", type: "symbol", ...tiles("places"),
      layout: {
        "text-field": ["get", "name"], "text-font": ["DejaVu Sans Book"], "symbol-sort-key": ["get", "rank"],
        "text-size": ["interpolate", ["linear"], ["zoom"], 5, 11, 10, 13, 14, 15],
      },
      paint: { "text-color": "#1b1b1b", ...halo },
    });
    map.addLayer({
      id: "alliance-label", type: "symbol", ...tiles("alliance_labels"), maxzoom: 9,
      layout: { "text-field": ["get", "name"], "text-font": ["DejaVu Sans Bold"], "text-size": 12, "text-max-width": 9, "symbol-sort-key": 0 },
      paint: { "text-color": "#000000", ...halo },
    });
  }

  function select(code) {
    if (map.getLayer("alliance-selected")) map.setFilter("alliance-selected", ["==", ["get", "code"], code || ""]);
    for (const b of listEl.querySelectorAll("button")) b.setAttribute("aria-current", String(b.dataset.code === code));
  }

  /// Marks the point answered for (none: `lon` null). The marker's source and layer are added
  /// on the first mark, on top: an empty source at the first load would cost the map a frame.
  function mark(lon, lat) {
    const data = lon == null ? EMPTY : { type: "FeatureCollection", features: [{ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [lon, lat] } }] };
    const src = map.getSource("pick");
    if (src) src.setData(data);
    else if (lon != null && map.getSource("tiles")) {
      map.addSource("pick", { type: "geojson", data });
      map.addLayer({
        id: "pick", type: "circle", source: "pick",
        paint: { "circle-radius": 7, "circle-color": "#ffbf47", "circle-stroke-color": "#000", "circle-stroke-width": 2 },
      });
    }
  }

  /// The tiles, alliances and footprints of `date` (its TileJSON; each period's fetched once).
  function fetchDocuments(date) {
    const docs = tileJsonOf(date).catch((e) => {
      throw { kind: e.kind || "http", detail: e.kind === "network" ? "The alliance-map service is not responding." : `The boundaries in force on ${date} could not be loaded.` };
    });
    docs.catch(() => {}); // handled by whoever awaits it
    return docs;
  }

  // The boundaries the URL asks for are fetched at once, while the map and the editions load.
  let early = (() => {
    const d = new URLSearchParams(window.location.search).get("date") || "2017-04-01";
    return ISO.test(d) || d === "latest" ? { date: d, docs: fetchDocuments(d) } : null;
  })();

  /// The boundary documents of a period, fetched once.
  function documentsOf(p) {
    if (!documents.has(p.from)) {
      const fits = early && (early.date === "latest" ? isLatest(p) : p.from <= early.date && early.date < p.until);
      const docs = fits ? early.docs : fetchDocuments(p.from);
      if (fits) early = null;
      docs.catch(() => documents.delete(p.from));
      documents.set(p.from, docs);
    }
    return documents.get(p.from);
  }

  /// Resolves once the map has drawn the alliances just set.
  function drawn() {
    return new Promise((resolve) => {
      const onData = (e) => {
        if (e.sourceId === "tiles" && e.isSourceLoaded) {
          map.off("sourcedata", onData);
          map.once("idle", resolve);
        }
      };
      map.on("sourcedata", onData);
    });
  }

  // ---- the edition switch ---------------------------------------------------------
  function buildEditionSwitch() {
    const choices = $("edition-choices");
    choices.replaceChildren(...editions.periods.map((p, i) => {
      const id = `edition-${p.from}`;
      const latest = isLatest(p);
      return el("div", { class: "choice" },
        el("input", { type: "radio", name: "edition", id, value: p.from }),
        el("label", { for: id },
          shortMonth(p.from),
          latest ? " (latest held)" : i === 0 ? " (first)" : null,
          el("span", { class: "visually-hidden" }, `, in force until ${longDate(dayBefore(p.until))}`)));
    }));
    choices.addEventListener("change", (e) => {
      if (e.target.name === "edition") switchPeriod(periodOf(e.target.value), { push: true, announce: true });
    });
    const since = supersededSince();
    $("edition-latest").textContent = since
      ? `The latest boundaries held here are those in force from ${longDate(editions.latest)}. They were replaced on ${longDate(since)} by newer editions (Cancer Alliances from April 2024, Integrated Care Boards from 2024) that this map does not hold yet.`
      : `The latest boundaries held here are those in force from ${longDate(editions.latest)}.`;
    $("editions").hidden = false;
    $("editions").addEventListener("submit", (e) => e.preventDefault());
  }

  function periodSummary(p) {
    const names = ["alliance", "footprint", "sub_area"].map((k) => p[k] && edition(p[k])).filter(Boolean).map((e) => e.title);
    const span = spanText(p.from, p.until);
    const missing = p.sub_area ? "" : " No CCG or Sub-ICB Location boundaries are held for these dates.";
    const latest = isLatest(p) ? ` These are the latest held; they were replaced on ${longDate(supersededSince())}.` : "";
    return `Showing the boundaries in force from ${span}: ${names.join("; ")}.${missing}${latest}`;
  }

  /// Shows period `p`: its boundaries on the map, its list of alliances, the answer asked again for it.
  async function switchPeriod(p, opts = {}) {
    if (!p) return;
    const mine = ++generation;
    period = p;
    timings.period = p.from;
    const radio = $(`edition-${p.from}`);
    if (radio) radio.checked = true;
    $("edition-summary").textContent = periodSummary(p);
    writeUrl(opts.push);
    let docs;
    try {
      docs = await documentsOf(p);
    } catch (e) {
      if (mine === generation) showError(e.detail || "The boundaries could not be loaded.");
      return;
    }
    if (mine !== generation && period !== p) return;
    shown = {
      alliances: docs.alliances,
      footprints: docs.footprints,
    };
    const tj = docs;
    if (hoveredId) map.setFeatureState({ source: "tiles", sourceLayer: "alliances", id: hoveredId }, { hover: false });
    hoveredId = null;
    const source = map.getSource("tiles");
    const urls = tileUrls(tj);
    const changed = (source.tiles || []).join() !== urls.join();
    const done = changed ? drawn() : map.loaded() && map.isSourceLoaded("tiles") ? Promise.resolve() : new Promise((r) => map.once("idle", r));
    if (changed) source.setTiles(urls);
    timings.alliances = shown.alliances.map((a) => a.code).sort(); // for the browser tests
    const nA = shown.alliances.length;
    const nF = shown.footprints.length;
    const ed = edition(p.alliance);
    $("map").setAttribute("aria-label", `Map of England's ${nA} Cancer Alliances and ${nF} ${footprintPlural(p)}, as in force from ${spanText(p.from, p.until)}. The same information is in the list beside the map.`);
    $("list-title").textContent = `The ${nA} Cancer Alliances${ed ? ` (${ed.title.replace(/^.*\(/, "").replace(/\)$/, "")} edition)` : ""}`;
    $("toggle-stps-text").textContent = footprintPlural(p);
    buildList();
    const reask = place && opts.reask !== false;
    const answered = reask ? ask(place, { focus: false, fly: false, quiet: true }) : Promise.resolve(null);
    if (!place) select(null);
    await done;
    if (period !== p) return;
    document.body.dataset.drawn = p.from;
    if (!timings.drawn) {
      timings.drawn = performance.now();
      document.body.dataset.ready = "true";
      drewFirst();
    }
    const said = await answered;
    if (opts.announce && period === p) {
      announce(`The map now shows the boundaries in force from ${spanText(p.from, p.until)}: ${nA} Cancer Alliances and ${nF} ${footprintPlural(p)}.${said ? " " + said : ""}`);
    }
  }

  // ---- the result panel ----------------------------------------------------
  /// The 2017 details (STPs and CCGs) from /api/v1/alliances.
  function allianceDetails2017(code) {
    const a = alliances2017.find((x) => x.code === code);
    if (!a) return null;
    const stps = el("ul", {}, a.stps.map((s) =>
      el("li", {}, `${s.name} (${s.code})`, s.whole ? null : el("span", { class: "partial" }, " — partly: ", s.ccgs.map((c) => c.name).join(", ")))));
    const ccgs = el("details", {}, el("summary", {}, `${a.ccgs.length} CCGs`), el("ul", {}, a.ccgs.map((c) => el("li", {}, `${c.name} (${c.code})`))));
    return [el("h3", {}, "Its STP footprints"), stps, ccgs];
  }

  /// An alliance's footprints in the period shown, from the footprint boundaries.
  function allianceDetails(code) {
    if (period && isDefault(period) && alliances2017.some((x) => x.code === code)) return allianceDetails2017(code);
    const name = (c) => (shown.alliances.find((a) => a.code === c) || { name: c }).name;
    const mine = shown.footprints.filter((f) => (f.alliances || []).includes(code));
    if (!mine.length) return null;
    return [
      el("h3", {}, `Its ${footprintPlural(period)}`),
      el("ul", {}, mine.map((f) => el("li", {}, `${f.name} (${f.code})`,
        f.alliances.length > 1 ? el("span", { class: "partial" }, " — partly; the rest is in ", f.alliances.filter((c) => c !== code).map(name).join(", ")) : null))),
    ];
  }

  function kindText(kind) {
    return kind === "national_cancer_vanguard" ? "National Cancer Vanguard" : "Cancer Alliance";
  }

  /// Replaces the panel's content; `parts` may nest arrays and hold nulls.
  function panel(...parts) {
    resultEl.replaceChildren(...parts.flat(3).filter((p) => p != null));
  }

  function areaText(area) {
    return `${area.name} (${area.code})`;
  }

  /// One line on what the answer's kind of area is, for readers who have never heard of it.
  function whatItIs(kind) {
    return kind === "national_cancer_vanguard"
      ? "In 2017 three National Cancer Vanguards did the work of a Cancer Alliance in parts of London and Greater Manchester: they brought hospitals, GPs and other NHS services together to improve cancer care."
      : "A Cancer Alliance brings together the hospitals, GPs and other NHS services of an area to find cancers earlier and improve treatment and care.";
  }

  /// An alliance's name for a sentence: "Greater Manchester" (National Cancer Vanguard), not
  /// "National Cancer Vanguard: Greater Manchester National Cancer Vanguard".
  function shortName(a) {
    return a.name.replace(/^National Cancer Vanguard:\s*/, "");
  }

  /// The place an answer is for, in words: "Postcode S40 1LL", "53.23500, -1.42140".
  function placeWords(answer, q) {
    if (answer.postcode) return `Postcode ${answer.postcode}`;
    const { lon, lat } = q && q.point ? q.point : answer;
    return `The point ${lat.toFixed(5)}, ${lon.toFixed(5)}`;
  }

  /// "42 m", "1.2 km"
  function metres(m) {
    return m < 1 ? "less than 1 m" : m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1)} km`;
  }

  /// The answer in plain words first (which alliance, what that is, the district, a nearby
  /// border), then the NHS areas by name; codes and lists go in a disclosure after the
  /// timeline (see showAnswer).
  function answerBody(subject, answer, around) {
    const asOf = answer.as_of || (period && period.from);
    const heading = el("p", { class: "codes" }, subject, asOf ? ` — as at ${longDate(asOf)}` : null);
    const notes = (answer.notes || []).map((n) => el("li", {}, n));
    const superseded = answer.superseded_since
      ? el("p", { class: "note" }, `These boundaries were replaced on ${longDate(answer.superseded_since)} by newer editions that this map does not hold.`)
      : null;
    const district = around && around.district
      ? el("p", { id: "result-district" }, "Local council area: ", el("strong", {}, around.district.name), " (local authority district)")
      : null;
    if (!answer.alliance) {
      const where = answer.country && answer.country !== "England" ? `It is in ${answer.country}. ` : answer.country ? "" : "It is at sea. ";
      return [heading, el("h2", { id: "result-alliance" }, "Outside England's Cancer Alliances"),
        el("p", {}, `No Cancer Alliance, STP or Integrated Care Board covers this place. ${where}Cancer Alliances cover England only.`),
        district];
    }
    const a = answer.alliance;
    const fp = answer.footprint || (answer.stp ? { ...answer.stp, kind: "stp" } : null);
    const sub = answer.sub_area;
    const border = around && around.border;
    const aKind = kindText(a.kind);
    const lead = subject.startsWith("Postcode") ? "This postcode is in the " : "This place is in the ";
    return [
      heading,
      el("h2", { class: "lead" }, lead, el("strong", { id: "result-alliance" }, shortName(a)), ` ${aKind}`),
      el("p", { class: "explain" }, whatItIs(a.kind)),
      district,
      border ? el("p", { class: "note border", id: "result-border" },
        el("strong", {}, "Near a border: "),
        border.distance_m < 1 ? "this place is on the border with the " : `this place is ${metres(border.distance_m)} from the border with the `,
        el("strong", {}, shortName(border.alliance)), ` ${kindText(border.alliance.kind)}. `,
        "Boundaries are drawn from mapped lines: so close to one, check a postcode if the exact side matters.") : null,
      answer.match === "nearest" ? el("p", { class: "note" }, `This place is just outside the mapped boundary (${metres(answer.distance_m)}); the nearest area is shown.`) : null,
      el("dl", { class: "areas" },
        el("dt", {}, `NHS area: ${layerWords("footprint", fp, period && period.footprint)}`),
        el("dd", {}, fp ? el("strong", { id: "result-stp" }, fp.name) : "None held for this date"),
        el("dt", {}, `Local NHS area: ${layerWords("sub_area", sub, period && period.sub_area)}`),
        el("dd", { id: "result-sub-area" }, sub ? sub.name : "None held for this date")),
      notes.length ? el("ul", { class: "notes" }, notes) : null,
      superseded,
    ];
  }

  /// The codes of an answer's areas and the alliance's footprints and sub-areas, for those
  /// who need them, behind a disclosure.
  function detailsOf(answer) {
    const a = answer.alliance;
    if (!a) return null;
    const fp = answer.footprint || (answer.stp ? { ...answer.stp, kind: "stp" } : null);
    const sub = answer.sub_area;
    const codes = el("dl", { class: "areas", id: "result-codes" },
      el("dt", {}, kindText(a.kind)), el("dd", {}, `${kindText(a.kind)} ${a.code}`, ` (edition ${a.edition})`),
      fp ? [el("dt", {}, layerWords("footprint", fp, period && period.footprint)), el("dd", {}, areaText(fp), fp.edition ? ` (edition ${fp.edition})` : null)] : null,
      sub ? [el("dt", {}, layerWords("sub_area", sub, period && period.sub_area)), el("dd", {}, areaText(sub), ` (edition ${sub.edition})`)] : null);
    return el("details", { id: "result-details" }, el("summary", {}, "Codes, and the alliance's NHS areas"), codes, allianceDetails(a.code));
  }

  /// "Copy link": the URL holds the answer (and its date), so a link reopens it.
  function copyLink() {
    const b = el("button", { type: "button", id: "copy-link", class: "secondary" }, "Copy link to this answer");
    const status = el("span", { id: "copy-status", class: "help" });
    b.addEventListener("click", async () => {
      const url = window.location.href;
      try {
        await navigator.clipboard.writeText(url);
        status.textContent = " Link copied.";
        announce("Link copied.");
      } catch (e) {
        // No clipboard (permission, an old browser): show the link selected, to copy by hand.
        const field = el("input", { type: "text", readonly: true, value: url, "aria-label": "Link to this answer", class: "link-field" });
        status.replaceChildren(" Copy this link: ", field);
        field.focus();
        field.select();
      }
    });
    return el("p", { class: "actions" }, b, status);
  }

  /// One line of a period in the timeline: what happened to `layer` since the period before.
  function changeLine(layer, prev, cur, p) {
    const label = layerWords(layer, cur || prev, p[layer], true);
    const line = (tag, ...text) => el("li", {}, tag ? el("strong", { class: "tag" }, tag) : null, tag ? " " : null, `${label}: `, ...text);
    if (!prev && !cur) return null;
    if (!cur) return line("Not held", "no boundaries held for these dates");
    if (!prev) return line("Changed", areaText(cur));
    if (prev.code !== cur.code) {
      if (prev.name === cur.name) return line("New code", `${cur.name}, now ${cur.code} (was ${prev.code})`);
      return line("Changed", `${areaText(cur)}, was ${areaText(prev)}`);
    }
    if (prev.name !== cur.name) return line("Renamed", `${areaText(cur)}, was called ${prev.name}`);
    return null;
  }

  const LAYERS = ["alliance", "footprint", "sub_area"];

  function timelineView(t) {
    const ps = t.periods;
    if (!ps.length) return null;
    if (ps.every((q) => !q.alliance)) {
      return el("p", { class: "help", id: "timeline" }, "No Cancer Alliance covers this place in any edition held (April 2017 to March 2024).");
    }
    const alliancesChanged = ps.filter((q, i) => i > 0 && (q.alliance && q.alliance.code) !== (ps[i - 1].alliance && ps[i - 1].alliance.code));
    const summary = alliancesChanged.length
      ? `Its Cancer Alliance changed ${alliancesChanged.length === 1 ? "once" : alliancesChanged.length + " times"}: on ${alliancesChanged.map((q) => longDate(q.from)).join(" and ")}.`
      : `Its Cancer Alliance stayed the same from ${longDate(ps[0].from)} to ${longDate(dayBefore(ps[ps.length - 1].until))}.`;
    const seenNotes = new Set();
    const items = ps.map((q, i) => {
      const current = period && q.from === period.from;
      const lines = i === 0
        ? LAYERS.map((k) => q[k] ? el("li", {}, `${layerWords(k, q[k], q[k] && q[k].edition, true)}: ${areaText(q[k])}`) : el("li", {}, `${layerWords(k, null, null, true)}: none held`))
        : LAYERS.map((k) => changeLine(k, ps[i - 1][k], q[k], q)).filter(Boolean);
      const notes = (q.notes || []).filter((n) => !seenNotes.has(n));
      notes.forEach((n) => seenNotes.add(n));
      return el("li", { class: current ? "period current" : "period", "aria-current": current ? "true" : null },
        el("p", { class: "when" },
          el("button", { type: "button", class: "linkish", "data-date": q.from, "aria-label": `${spanText(q.from, q.until)}: show on the map` }, spanText(q.from, q.until)),
          current ? el("span", { class: "shown" }, " (shown on the map)") : null),
        el("ul", { class: "lines" }, lines.length ? lines : el("li", {}, "No change.")),
        notes.map((n) => el("p", { class: "help" }, n)));
    });
    const list = el("ol", { class: "timeline" }, items);
    list.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-date]");
      if (b) switchPeriod(periodOf(b.dataset.date), { push: true, announce: true });
    });
    return el("section", { id: "timeline", "aria-labelledby": "timeline-title" },
      el("h3", { id: "timeline-title" }, "This place in every edition"),
      el("p", {}, summary),
      t.superseded_since ? el("p", { class: "help" }, `Editions from ${longDate(t.superseded_since)} on are not held.`) : null,
      list);
  }

  /// A sentence for the live region about an answer.
  function spoken(subject, answer, t, around) {
    const asOf = answer.as_of ? ` as at ${longDate(answer.as_of)}` : "";
    if (!answer.alliance) return `${subject}: outside England's Cancer Alliances${asOf}.`;
    const changes = t ? t.periods.filter((q, i) => i > 0 && (q.alliance && q.alliance.code) !== (t.periods[i - 1].alliance && t.periods[i - 1].alliance.code)).length : 0;
    const district = around && around.district ? ` Local council area: ${around.district.name}.` : "";
    const border = around && around.border ? ` Near a border: ${metres(around.border.distance_m)} from the ${shortName(around.border.alliance)} ${kindText(around.border.alliance.kind)}.` : "";
    const history = t ? ` Its Cancer Alliance changed ${changes === 0 ? "no times" : changes === 1 ? "once" : changes + " times"} between 2017 and 2024; the timeline follows the answer.` : "";
    return `${subject} is in the ${shortName(answer.alliance)} ${kindText(answer.alliance.kind)}${asOf}.${district}${border}${history}`;
  }

  function showAnswer(subject, answer, t, around, opts) {
    panel(answerBody(subject, answer, around), copyLink(), t ? timelineView(t) : null, detailsOf(answer));
    select(answer.alliance ? answer.alliance.code : null);
    setTitle(answer.alliance ? `${subject.replace(/^The point /, "")} is in the ${shortName(answer.alliance)} ${kindText(answer.alliance.kind)}` : `${subject.replace(/^The point /, "")}: outside England's Cancer Alliances`);
    if (opts.focus) reveal();
    const said = spoken(subject, answer, t, around);
    if (!opts.quiet) announce(said);
    return said;
  }

  function showAlliance(code, opts) {
    const a = shown.alliances.find((x) => x.code === code);
    if (!a) {
      const name = (alliances2017.find((x) => x.code === code) || {}).name;
      panel(el("h2", { id: "result-alliance" }, name || code),
        el("p", {}, `${name ? `${name} (${code})` : code} is not a Cancer Alliance in the boundaries in force from ${spanText(period.from, period.until)}.`),
        el("p", {}, "Choose another date above, or see ", el("a", { href: "#changes" }, "what changed between two dates"), "."));
      select(null);
      setTitle(`${name || code}: not a Cancer Alliance on these dates`);
      if (opts.focus) reveal();
      return `${code} is not a Cancer Alliance on these dates.`;
    }
    const details = allianceDetails(code);
    panel(el("p", { class: "codes" }, `Boundaries in force from ${spanText(period.from, period.until)}`),
      el("h2", { class: "lead" }, el("strong", { id: "result-alliance" }, shortName(a)), ` ${kindText(a.kind)}`),
      el("p", { class: "explain" }, whatItIs(a.kind)),
      el("p", {}, "It is outlined in black on the map. Search for a postcode or click the map to see which alliance a place is in."),
      copyLink(),
      el("details", { id: "result-details" }, el("summary", {}, "Codes, and the alliance's NHS areas"),
        el("p", {}, `${kindText(a.kind)} ${a.code}`), details));
    select(code);
    setTitle(`${shortName(a)} ${kindText(a.kind)}`);
    if (opts.fly) map.fitBounds([[a.bbox[0], a.bbox[1]], [a.bbox[2], a.bbox[3]]], { padding: 30, duration: 600 });
    if (opts.focus) reveal();
    const said = `${shortName(a)} ${kindText(a.kind)}: shown on the map.`;
    if (!opts.quiet) announce(said);
    return said;
  }

  // ---- questions -------------------------------------------------------------
  /// The date asked for: the period's start, or "latest" for the latest (whose answers then say
  /// since when they are superseded).
  function dateParam() {
    if (!period) return "";
    return isLatest(period) ? "date=latest" : `date=${period.from}`;
  }

  /// The district and any nearby alliance border of a point (decoration: null on failure).
  function surroundings(lon, lat) {
    return getJson(`/api/v1/surroundings?lon=${lon.toFixed(6)}&lat=${lat.toFixed(6)}&${dateParam()}`).catch(() => null);
  }

  /// A postcode district (outward code) alone: "LS1", "SW1A".
  const OUTCODE = /^[A-Z]{1,2}[0-9][A-Z0-9]?$/;

  /// A real postcode of district `outcode`: the nearest to its centre, from the postcode index.
  async function examplePostcode(outcode, centroid) {
    try {
      const near = await getJson(`/api/v1/postcodes?lon=${centroid.lon.toFixed(6)}&lat=${centroid.lat.toFixed(6)}&radius=2000&limit=25`);
      const hit = (near.postcodes || near.results || []).find((p) => (p.postcode || "").split(" ")[0] === outcode);
      return hit ? hit.postcode : null;
    } catch (e) {
      return null;
    }
  }

  /// A postcode district: its alliance shares, the map zoomed to it, and a real full postcode
  /// to try.
  async function askOutcode(outcode, opts, mine) {
    const p = period;
    const d = await getJson(`/api/v1/outcodes/${encodeURIComponent(outcode)}?${dateParam()}`);
    const example = await examplePostcode(outcode, d.centroid);
    if (mine !== asked || period !== p) return null;
    place = { postcode: outcode };
    writeUrl(false);
    mark(d.centroid.lon, d.centroid.lat);
    if (opts.fly) map.flyTo({ center: [d.centroid.lon, d.centroid.lat], zoom: 12, duration: 600 });
    const shares = (d.alliances || []).map((s) => el("li", {}, el("strong", {}, s.name), ` ${kindText(s.kind)}: ${percent(s.share)} of its postcodes`));
    const tryIt = example ? el("button", { type: "button", class: "linkish", id: "try-postcode" }, example) : null;
    if (tryIt) tryIt.addEventListener("click", () => { $("q").value = example; lookupPostcode(example); });
    const message = `${outcode} is a postcode district, not a full postcode${example ? ` — try ${example}` : ": add the last part, a number and two letters"}.`;
    showError(message, {
      title: `${outcode} is a postcode district`,
      more: [
        example ? el("p", {}, "Try a full postcode, such as ", tryIt, ", for an exact answer.") : null,
        shares.length ? [el("p", {}, `The ${d.postcodes.toLocaleString("en-GB")} postcodes of ${outcode} are in:`), el("ul", { id: "outcode-shares" }, shares)] : null,
        d.straddles_alliances ? el("p", { class: "note" }, `${outcode} crosses an alliance border: the full postcode decides.`) : null,
      ].filter(Boolean),
      focus: opts.focus,
      quiet: opts.quiet,
    });
    // showError clears the pin; the district's centre stays marked.
    mark(d.centroid.lon, d.centroid.lat);
    return `${outcode} is a postcode district.`;
  }

  /// Plain words for a postcode the server refused (its detail names the part at fault).
  function malformedWords(text, detail) {
    const shown = text.trim().slice(0, 20);
    const d = detail || "";
    const why = /only contain letters/.test(d) ? "A postcode has only letters, numbers and one space."
      : /5 to 7/.test(d) ? "A full postcode has 5 to 7 letters and numbers, in two parts."
      : /inward/.test(d) ? "The last part of a postcode is a number and two letters."
      : /outward/.test(d) ? "The first part of a postcode is one or two letters, then a number (and sometimes another letter or number)."
      : "";
    return `“${shown}” doesn't look like a UK postcode. ${why} A full postcode looks like LS1 1AZ or SW1A 1AA.`;
  }

  /// Asks `q` for the period shown and shows the answer; resolves to the sentence announced.
  async function ask(q, opts) {
    const mine = ++asked;
    const p = period;
    clearError();
    if (q.alliance) {
      place = q;
      writeUrl(false);
      return showAlliance(q.alliance, opts);
    }
    const compact = q.postcode ? q.postcode.toUpperCase().replace(/\s+/g, "") : "";
    try {
      if (q.postcode && OUTCODE.test(compact)) return await askOutcode(compact, opts, mine);
      let answer;
      let key;
      let around;
      if (q.point) {
        const { lon, lat } = q.point;
        key = `point:${lon.toFixed(6)},${lat.toFixed(6)}`;
        const timelineUrl = `/api/v1/timeline?lon=${lon.toFixed(6)}&lat=${lat.toFixed(6)}`;
        const tl = timeline && timeline.key === key ? Promise.resolve(timeline) : getJson(timelineUrl).then((t) => ({ ...t, key })).catch(() => null);
        [answer, around] = await Promise.all([
          getJson(`/api/v1/lookup?lon=${lon.toFixed(6)}&lat=${lat.toFixed(6)}&${dateParam()}`),
          surroundings(lon, lat),
          tl.then((t) => { timeline = t; })]);
      } else {
        answer = await getJson(`/api/v1/postcodes/${encodeURIComponent(q.postcode)}?${dateParam()}`);
        key = `postcode:${answer.postcode}`;
        const tl = timeline && timeline.key === key ? Promise.resolve(timeline)
          : getJson(`/api/v1/postcodes/${encodeURIComponent(answer.postcode)}/timeline`).then((t) => ({ ...t, key })).catch(() => null);
        [around] = await Promise.all([surroundings(answer.lon, answer.lat), tl.then((t) => { timeline = t; })]);
      }
      if (mine !== asked || period !== p) return null;
      const lon = q.point ? q.point.lon : answer.lon;
      const lat = q.point ? q.point.lat : answer.lat;
      place = q.point ? q : { postcode: answer.postcode };
      mark(lon, lat);
      // Near a border, close enough to see on which side the point lies.
      if (opts.fly) map.flyTo({ center: [lon, lat], zoom: Math.max(map.getZoom(), around && around.border ? 14 : 8.5), duration: 600 });
      writeUrl(false);
      return showAnswer(placeWords(answer, q), answer, timeline && timeline.key === key ? timeline : null, around, opts);
    } catch (e) {
      if (mine !== asked) return null;
      // The URL names the question, so a shared link shows the same error.
      place = q.point ? q : { postcode: q.postcode.trim().slice(0, 20) };
      writeUrl(false);
      const shown = q.postcode ? q.postcode.trim().slice(0, 20) : "";
      const err = { focus: opts.focus, quiet: opts.quiet, invalid: Boolean(q.postcode) };
      if (q.postcode && e.kind === "http" && e.status === 400 && /postcode/i.test(e.detail || "")) {
        showError(malformedWords(q.postcode, e.detail), { ...err, title: "That is not a postcode" });
      } else if (q.postcode && e.kind === "http" && e.status === 404) {
        const elsewhere = /is in ([^;]+);/.exec(e.detail || "");
        showError(elsewhere
          ? `${shown.toUpperCase()} is a postcode of ${elsewhere[1]}, which has no Cancer Alliance: they cover England only.`
          : OUTCODE.test(compact) ? `We couldn't find the postcode district ${compact}. Check it for typing mistakes, or type the full postcode.`
          : `We couldn't find the postcode ${shown.toUpperCase()}. Check it for typing mistakes. Very new postcodes may not be listed yet.`,
        { ...err, title: elsewhere ? "Outside England" : "Postcode not found" });
      } else if (q.postcode && e.kind === "http" && e.status === 503) {
        showError("Postcode search is not available on this server right now. Click the map instead, or try again later.", { ...err, invalid: false, title: "Postcode search unavailable" });
      } else if (e.kind === "network") {
        showError(e.detail, { ...err, invalid: false, title: "The service is not responding" });
      } else {
        showError(e.detail || "Something went wrong. Try again.", { ...err, invalid: false });
      }
      return null;
    }
  }

  function lookupPoint(lon, lat, fly) {
    return ask({ point: { lon, lat } }, { focus: true, fly });
  }

  function lookupPostcode(text) {
    return ask({ postcode: text }, { focus: true, fly: true });
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
    if (!value) return showError("Type a postcode, such as LS1 1AZ, or a latitude and longitude, such as 53.80, -1.55.", { title: "Nothing to search for", invalid: true, focus: true });
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
    if (!navigator.geolocation) return showError("Your browser cannot share your location. Search for a postcode instead.", { title: "Location not available" });
    navigator.geolocation.getCurrentPosition(
      (pos) => lookupPoint(pos.coords.longitude, pos.coords.latitude, true),
      () => showError("Your location is not available: the browser was not allowed to share it, or has no signal. Search for a postcode instead.", { title: "Location not available", focus: true }),
      { timeout: 10000 });
  });

  $("toggle-stps").addEventListener("change", (e) => {
    if (map.getLayer("stp-line")) map.setLayoutProperty("stp-line", "visibility", e.target.checked ? "visible" : "none");
  });

  // ---- the alliance list (the text alternative to the map) -------------------
  const byName = (a, b) => a.name.localeCompare(b.name, "en-GB");
  const filterEl = $("alliance-filter");

  function visibleItems() {
    return [...listEl.querySelectorAll("li:not([hidden]) button")];
  }

  function buildList() {
    const current = place && place.alliance;
    listEl.replaceChildren(...[...shown.alliances].sort(byName).map((a) => {
      const b = el("button", { type: "button", "data-code": a.code, "aria-current": String(a.code === current) },
        el("span", { class: "swatch", style: `background:${a.colour || "#ddd"}`, "aria-hidden": "true" }),
        el("span", {}, a.name));
      b.addEventListener("click", () => {
        ask({ alliance: a.code }, { focus: true, fly: true });
      });
      b.addEventListener("keydown", (e) => {
        const items = visibleItems();
        const i = items.indexOf(b);
        // At the ends too the arrows are the list's (not a scroll of the panel).
        if (e.key === "ArrowDown") { if (i < items.length - 1) items[i + 1].focus(); e.preventDefault(); }
        if (e.key === "ArrowUp") { (i > 0 ? items[i - 1] : filterEl).focus(); e.preventDefault(); }
      });
      return el("li", { "data-name": a.name.toLowerCase() }, b);
    }));
    applyFilter(false);
  }

  let filterTimer = null;
  /// Shows only the alliances whose name (or code) holds the filter's words; says how many,
  /// on screen at once and in the live region once typing pauses.
  function applyFilter(speak) {
    const words = filterEl.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const items = [...listEl.children];
    let n = 0;
    for (const li of items) {
      const code = li.firstChild.dataset.code.toLowerCase();
      const hit = words.every((w) => li.dataset.name.includes(w) || code === w);
      li.hidden = !hit;
      if (hit) n++;
    }
    const text = words.length ? (n ? `${n} of ${items.length} alliances match “${filterEl.value.trim()}”.` : `No alliance matches “${filterEl.value.trim()}”.`) : "";
    $("filter-status").textContent = text;
    clearTimeout(filterTimer);
    if (speak && text) filterTimer = setTimeout(() => announce(text), 600);
  }
  filterEl.addEventListener("input", () => applyFilter(true));
  // The skip link focuses the filter without touching the URL (whose hash holds an answer).
  document.querySelector(".skip").addEventListener("click", (e) => {
    e.preventDefault();
    filterEl.focus();
  });
  filterEl.addEventListener("keydown", (e) => {
    const first = visibleItems()[0];
    if (e.key === "ArrowDown" && first) { first.focus(); e.preventDefault(); }
    // Enter with matches opens the first: typing part of a name and Enter is enough.
    if (e.key === "Enter" && first) { e.preventDefault(); first.click(); }
  });

  // ---- what changed between two editions ------------------------------------------
  const KIND_WORDS = {
    alliance: { plural: "Cancer Alliances", one: "Cancer Alliance" },
    footprint: { plural: "STPs and Integrated Care Boards", one: "area" },
    sub_area: { plural: "CCGs and Sub-ICB Locations", one: "area" },
  };
  /// Shares below this (of both areas) are slivers from redrawn coastlines and generalisation.
  const NOISE = 0.005;
  /// A pair is part of a split, merger or recoding when it holds at least this share of either area.
  const MAJOR = 0.1;

  function editionsOfKind(kind) {
    return editions.editions.filter((e) => e.kind === kind).sort((a, b) => a.from.localeCompare(b.from));
  }

  function fillCompareDates() {
    const kind = $("compare-kind").value;
    const list = editionsOfKind(kind);
    const option = (e) => el("option", { value: e.from }, `${spanText(e.from, e.until)} — ${e.title}`);
    const before = [$("compare-from").value, $("compare-to").value];
    $("compare-from").replaceChildren(...list.map(option));
    $("compare-to").replaceChildren(...list.map(option));
    const has = (v) => list.some((e) => e.from === v);
    const inForce = period && period[kind] ? edition(period[kind]) : null;
    $("compare-from").value = has(before[0]) ? before[0] : list[0].from;
    $("compare-to").value = has(before[1]) ? before[1] : inForce && inForce.from !== list[0].from ? inForce.from : list[list.length - 1].from;
  }

  function percent(v) {
    if (v == null) return null;
    if (v >= 0.995 && v < 1) return "over 99%";
    if (v > 0 && v < 0.01) return "under 1%";
    return `${Math.round(v * 100)}%`;
  }

  function shares(pair, side) {
    const area = percent(pair[`area_share_of_${side}`]);
    const postcodes = percent(pair[`postcode_share_of_${side}`]);
    return postcodes ? `${area} of its area, ${postcodes} of its postcodes` : `${area} of its area`;
  }

  /// Groups the crosswalk's pairs into what happened: splits, mergers, recodings, renamings,
  /// boundary moves, unchanged areas.
  function classify(pairs) {
    const big = (q) => Math.max(q.area_share_of_from, q.area_share_of_to, q.postcode_share_of_from || 0, q.postcode_share_of_to || 0);
    const major = pairs.filter((q) => q.area_share_of_from >= MAJOR || q.area_share_of_to >= MAJOR);
    const minor = pairs.filter((q) => !major.includes(q) && big(q) >= NOISE && q.from.code !== q.to.code);
    // Components of the major pairs (union-find over "f:CODE" and "t:CODE").
    const parent = new Map();
    const find = (x) => { while (parent.get(x) !== x) x = parent.get(x); return x; };
    const add = (x) => { if (!parent.has(x)) parent.set(x, x); };
    for (const q of major) {
      const [a, b] = [`f:${q.from.code}`, `t:${q.to.code}`];
      add(a); add(b);
      parent.set(find(a), find(b));
    }
    const groups = new Map();
    for (const q of major) {
      const root = find(`f:${q.from.code}`);
      if (!groups.has(root)) groups.set(root, []);
      groups.get(root).push(q);
    }
    const touched = new Set(minor.flatMap((q) => [`f:${q.from.code}`, `t:${q.to.code}`]));
    const out = { split: [], merged: [], reorganised: [], recoded: [], renamed: [], moved: minor, unchanged: [] };
    for (const g of groups.values()) {
      const froms = [...new Map(g.map((q) => [q.from.code, q.from])).values()];
      const tos = [...new Map(g.map((q) => [q.to.code, q.to])).values()];
      if (froms.length === 1 && tos.length === 1) {
        const [f, t] = [froms[0], tos[0]];
        if (f.code !== t.code) out.recoded.push(g[0]);
        else if (f.name !== t.name) out.renamed.push(g[0]);
        else out.unchanged.push({ area: t, moved: touched.has(`f:${f.code}`) || touched.has(`t:${t.code}`) });
      } else if (froms.length === 1) out.split.push({ from: froms[0], pairs: g });
      else if (tos.length === 1) out.merged.push({ to: tos[0], pairs: g });
      else out.reorganised.push({ froms, tos, pairs: g });
    }
    const alpha = (a, b) => a.localeCompare(b);
    out.split.sort((a, b) => alpha(a.from.name, b.from.name));
    out.merged.sort((a, b) => alpha(a.to.name, b.to.name));
    out.recoded.sort((a, b) => alpha(a.from.name, b.from.name));
    out.unchanged.sort((a, b) => alpha(a.area.name, b.area.name));
    out.moved.sort((a, b) => big(b) - big(a));
    return out;
  }

  function changesView(body) {
    const words = KIND_WORDS[body.kind] || KIND_WORDS.alliance;
    const from = edition(body.from.edition) || { title: body.from.edition };
    const to = edition(body.to.edition) || { title: body.to.edition };
    const heading = el("h3", { id: "compare-title" }, `${from.title} → ${to.title}`);
    if (body.from.edition === body.to.edition) {
      return [heading, el("p", {}, `Both dates use the same edition (${body.from.edition}): nothing changed.`)];
    }
    const c = classify(body.pairs);
    const kept = c.unchanged.filter((u) => !u.moved);
    const adjusted = c.unchanged.filter((u) => u.moved);
    const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;
    const summary = [
      c.split.length && count(c.split.length, "split", "splits"),
      c.merged.length && count(c.merged.length, "merger", "mergers"),
      c.reorganised.length && count(c.reorganised.length, "reorganised group", "reorganised groups"),
      c.recoded.length && count(c.recoded.length, "new code", "new codes"),
      c.renamed.length && count(c.renamed.length, "renaming", "renamings"),
      c.moved.length && count(c.moved.length, "smaller boundary move", "smaller boundary moves"),
      kept.length + adjusted.length ? count(kept.length + adjusted.length, "kept its code", "kept their codes") : "none kept its code",
    ].filter(Boolean).join(", ");
    const items = [];
    for (const s of c.split) {
      items.push(el("li", { "data-change": "split", "data-from": s.from.code },
        el("strong", {}, "Split: "), `${areaText(s.from)} became `,
        s.pairs.map((q, i) => [i ? (i === s.pairs.length - 1 ? " and " : ", ") : "", `${areaText(q.to)} (${shares(q, "from")})`]), "."));
    }
    for (const m of c.merged) {
      items.push(el("li", { "data-change": "merged", "data-to": m.to.code },
        el("strong", {}, "Merged: "), m.pairs.map((q, i) => [i ? (i === m.pairs.length - 1 ? " and " : ", ") : "", areaText(q.from)]),
        ` became ${areaText(m.to)} (`, m.pairs.map((q, i) => [i ? "; " : "", `${q.from.name}: ${shares(q, "to")}`]), ")."));
    }
    for (const r of c.reorganised) {
      items.push(el("li", { "data-change": "reorganised" },
        el("strong", {}, "Redrawn: "), `${r.froms.length} ${body.kind === "alliance" ? words.plural : "areas"} became ${r.tos.length}, shared out like this:`,
        el("ul", {}, r.froms.map((f) => {
          const mine = r.pairs.filter((q) => q.from.code === f.code);
          return el("li", { "data-from": f.code }, `${areaText(f)} → `,
            mine.map((q, i) => [i ? "; " : "", `${areaText(q.to)}: ${shares(q, "from")}`]));
        }))));
    }
    for (const q of c.recoded) {
      items.push(el("li", { "data-change": "recoded", "data-from": q.from.code, "data-to": q.to.code },
        el("strong", {}, "New code: "), `${areaText(q.from)} became ${q.from.name === q.to.name ? q.to.code : areaText(q.to)}`,
        q.area_share_of_from < 0.98 || q.area_share_of_to < 0.98 ? ` (${shares(q, "from")}; it is ${percent(q.area_share_of_to)} of the new area)` : "", "."));
    }
    const renamed = c.renamed.map((q) => el("li", { "data-change": "renamed", "data-from": q.from.code },
      el("strong", {}, "Renamed: "), `${areaText(q.from)} is now called ${q.to.name}.`));
    if (renamed.length <= 5) items.push(...renamed);
    for (const q of c.moved) {
      items.push(el("li", { "data-change": "moved", "data-from": q.from.code, "data-to": q.to.code },
        el("strong", {}, "Boundary moved: "), `part of ${areaText(q.from)} (${shares(q, "from")}) went to ${areaText(q.to)}.`));
    }
    return [
      heading,
      el("p", { id: "compare-summary" }, `${words.plural} on ${longDate(body.from.date)} compared with ${longDate(body.to.date)}: ${summary}.`),
      items.length ? el("ul", { class: "changes", "aria-labelledby": "compare-title" }, items) : el("p", {}, renamed.length ? "No area changed its boundary or code." : "No area changed."),
      renamed.length > 5 ? el("details", {}, el("summary", {}, `${renamed.length} renamed, with the same code and area`), el("ul", { class: "changes" }, renamed)) : null,
      kept.length || adjusted.length ? el("details", {}, el("summary", {}, `${count(kept.length + adjusted.length, "area", "areas")} kept their code`),
        el("ul", {}, [...kept, ...adjusted].map((u) => el("li", {}, areaText(u.area), u.moved ? " — with a boundary move listed above" : "")))) : null,
      body.method ? el("p", { class: "help" }, `How the shares were worked out: ${body.method}.`) : null,
    ];
  }

  async function compare() {
    const kind = $("compare-kind").value;
    const from = $("compare-from").value;
    const to = $("compare-to").value;
    const status = $("compare-status");
    const out = $("compare-result");
    status.classList.remove("visually-hidden");
    status.textContent = "Comparing… (the first comparison can take a few seconds)";
    out.replaceChildren();
    try {
      const body = await getJson(`/api/v1/crosswalk?kind=${kind}&from=${from}&to=${to}`);
      out.replaceChildren(...changesView(body).flat(2).filter(Boolean));
      // Said once, in the page's live region; the same words are on screen in the summary.
      status.classList.add("visually-hidden");
      status.textContent = `Compared: ${out.querySelector("#compare-summary") ? out.querySelector("#compare-summary").textContent : "same edition, nothing changed."}`;
      announce(status.textContent);
    } catch (e) {
      if (e.kind === "http" && e.status === 404) {
        $("compare").hidden = true;
        status.textContent = "This server cannot compare editions yet: the comparison is not available.";
      } else {
        status.textContent = `The comparison failed: ${e.detail || "something went wrong."}`;
      }
      announce(status.textContent);
    }
  }

  $("compare-kind").addEventListener("change", fillCompareDates);
  // Links to the comparison move there without touching the URL (which holds the answer).
  // So do the map's "Full credits" link (to the licence text in the footer).
  document.addEventListener("click", (e) => {
    const a = e.target.closest && e.target.closest('a[href="#changes"], a[href="#licence-text"]');
    if (!a) return;
    e.preventDefault();
    const target = $(a.getAttribute("href").slice(1));
    target.scrollIntoView({ block: "start" });
    if (target.tabIndex >= 0 || target.hasAttribute("tabindex")) target.focus({ preventScroll: true });
  });
  $("compare").addEventListener("submit", (e) => {
    e.preventDefault();
    compare();
  });

  // ---- start -------------------------------------------------------------------
  /// Shows what the URL says: its period, then its answer.
  async function applyUrl(initial) {
    const params = new URLSearchParams(window.location.search);
    const hash = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    let p = editions ? editions.periods[0] : null;
    const date = params.get("date");
    let notice = null;
    if (date && editions) {
      const found = periodOf(date);
      if (found) p = found;
      else notice = `No boundaries are held for the date “${date.slice(0, 20)}”: they run from ${longDate(editions.periods[0].from)} to ${longDate(dayBefore(editions.periods[editions.periods.length - 1].until))}. Showing those of ${longDate(p.from)}.`;
    }
    let q = null;
    if (params.get("postcode")) {
      $("q").value = params.get("postcode");
      q = { postcode: params.get("postcode") };
    } else if (params.get("lon") && params.get("lat")) {
      const [lon, lat] = [parseFloat(params.get("lon")), parseFloat(params.get("lat"))];
      if (Number.isFinite(lon) && Number.isFinite(lat)) q = { point: { lon, lat } };
    } else if (hash.get("alliance")) {
      q = { alliance: hash.get("alliance") };
    }
    place = q;
    if (!q) {
      resultEl.replaceChildren(el("p", { class: "hint" }, "Search for a postcode, click the map, or choose an alliance from the list."));
      mark(null);
      setTitle(null);
      clearError();
    }
    if (p) await switchPeriod(p, { push: false, announce: false, reask: false });
    // A shared link's answer flies there and takes the focus, as a new search would.
    if (q) {
      await listReady.catch(() => {}); // the 2017 details of an alliance
      await ask(q, { focus: initial, fly: initial });
    }
    if (notice) showNotice(notice);
  }

  const listReady = getJson("/api/v1/alliances").then((body) => {
    alliances2017 = body.alliances;
  });
  const configReady = getJson("/api/v1/config").catch(() => ({}));
  const editionsReady = getJson("/api/v1/editions").then((body) => {
    editions = body;
  });

  // The layers are added as soon as the (inline) style has loaded and the period's TileJSON is
  // here, before the map's first frame: the tiles are asked for with that frame, not after it
  // (the map's "load" event waits for them now).
  const styleLoaded = new Promise((resolve) => map.once("style.load", resolve));
  map.on("load", () => { timings.mapLoad = performance.now(); });
  (async () => {
    const d = new URLSearchParams(window.location.search).get("date");
    const [config, tj] = await Promise.all([
      configReady,
      tileJsonOf(d && (ISO.test(d) || d === "latest") ? d : "2017-04-01").catch(() => tileJsonOf("2017-04-01")),
    ]);
    await styleLoaded;
    addLayers(config, tj);
    map.on("mousemove", "alliance-fill", (e) => {
      map.getCanvas().style.cursor = "pointer";
      const id = e.features[0] && e.features[0].id;
      if (id === hoveredId) return;
      if (hoveredId) map.setFeatureState({ source: "tiles", sourceLayer: "alliances", id: hoveredId }, { hover: false });
      hoveredId = id;
      if (id) map.setFeatureState({ source: "tiles", sourceLayer: "alliances", id }, { hover: true });
    });
    map.on("mouseleave", "alliance-fill", () => {
      map.getCanvas().style.cursor = "";
      if (hoveredId) map.setFeatureState({ source: "tiles", sourceLayer: "alliances", id: hoveredId }, { hover: false });
      hoveredId = null;
    });
    map.on("click", (e) => lookupPoint(e.lngLat.lng, e.lngLat.lat, false));
    try {
      await editionsReady;
      buildEditionSwitch();
      fillCompareDates();
      window.addEventListener("popstate", () => applyUrl(false));
      await applyUrl(true);
    } catch (e) {
      showError(e.detail || "The alliance-map service is not responding.", { title: "The service is not responding" });
    }
  })().catch((e) => showError(e.detail || "The map could not be loaded.", { title: "The service is not responding" }));
  listReady.catch((e) => showError(e.detail || "The alliance-map service is not responding.", { title: "The service is not responding" }));
})();
