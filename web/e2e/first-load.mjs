// Measures the map page's first load in headless Chromium against a running server (for
// docs/PERFORMANCE.md, not a pass/fail test): bytes on the wire (encoded, as the network
// received them) until the alliances are drawn, navigation → drawn, then a zoom to 14 at a
// border and the tiles it fetched against the tiles in view.
// node web/e2e/first-load.mjs BASE_URL [RUNS]
import { chromium } from "playwright-core";

const [base, runs = "5"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--disable-quic"],
});
for (let run = 0; run < Number(runs); run++) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  // Every request, the map's worker's (tiles) included; sizes as received (compressed).
  let bytes = 0;
  const byKind = {};
  const tiles = [];
  context.on("request", (r) => { if (r.url().includes("/api/v1/tiles/")) tiles.push(r.url()); });
  const workerTimes = [];
  context.on("requestfinished", (r) => {
    const t = r.timing();
    const u = r.url().replace(base, "");
    // Wall-clock start (ms since the epoch), made relative to the page's time origin below.
    if (u.startsWith("/api/v1/tiles/") || u.startsWith("/api/v1/fonts/")) workerTimes.push([u, t.startTime, t.startTime + t.responseEnd]);
  });
  context.on("requestfinished", async (r) => {
    const s = await r.sizes().catch(() => null);
    if (!s) return;
    const n = s.responseBodySize + s.responseHeadersSize;
    bytes += n;
    const u = new URL(r.url());
    const kind = u.pathname.startsWith("/api/v1/tiles/") ? "tiles" : u.pathname.startsWith("/api/v1/fonts/") ? "glyphs" : u.pathname;
    byKind[kind] = (byKind[kind] || 0) + n;
  });
  // E2E_LIVE_WEB=1: the page's script from web/ on disk (as in map.mjs), to time a change
  // before rebuilding the binary.
  // E2E_WEB_DIR=DIR: the page, its script and style sheet from DIR (e.g. an older version,
  // `git show REV:web/app.js`…), for an A/B comparison on the same server and machine load.
  const webDir = process.env.E2E_WEB_DIR || (process.env.E2E_LIVE_WEB && new URL("..", import.meta.url).pathname);
  if (webDir) {
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    for (const [pattern, file, type] of [["**/assets/app.js", "app.js", "text/javascript"], ["**/assets/style.css", "style.css", "text/css"], ["**/assets/boot.js", "boot.js", "text/javascript"]]) {
      await context.route(pattern, (r) => r.fulfill({ contentType: type, body: readFileSync(join(webDir, file)) }));
    }
    await context.route((u) => u.pathname === "/", async (route) => {
      const served = await (await route.fetch()).text();
      const attribution = (served.match(/<p id="licence-text"[^>]*>([\s\S]*?)<\/p>/) || ["", ""])[1];
      await route.fulfill({ contentType: "text/html; charset=utf-8", body: readFileSync(join(webDir, "index.html"), "utf8").replace("<!--attribution-->", attribution) });
    });
  }
  // EXPERIMENT=no-countries: the backdrop answered empty, to see what it costs.
  if (process.env.EXPERIMENT === "no-countries") {
    await context.route("**/boundaries/countries.geojson*", (r) => r.fulfill({ contentType: "application/geo+json", body: '{"type":"FeatureCollection","features":[]}' }));
  }
  await page.goto(base + "/");
  await page.waitForSelector("body[data-ready=true]", { timeout: 60000 });
  const drawnMs = await page.evaluate(() => Math.round(window.__allianceMap.drawn - performance.getEntriesByType("navigation")[0].startTime));
  if (process.env.WATERFALL) {
    // What the page waits for: each main-thread resource's start and end, the map's load
    // event and the drawing (the worker's tile and glyph requests appear in Playwright's
    // request events instead, timed from the context).
    const w = await page.evaluate(() => ({
      resources: performance.getEntriesByType("resource").map((e) => [Math.round(e.startTime), Math.round(e.responseEnd), e.transferSize, e.name.replace(location.origin, "")]),
      nav: performance.getEntriesByType("navigation").map((e) => [Math.round(e.responseEnd), Math.round(e.domInteractive), Math.round(e.domContentLoadedEventEnd)])[0],
      origin: performance.timeOrigin,
      mapLoad: Math.round(window.__allianceMap.mapLoad),
      drawn: Math.round(window.__allianceMap.drawn),
    }));
    console.log(`  document ${w.nav}; map load ${w.mapLoad} ms; drawn ${w.drawn} ms`);
    for (const [s, e, n, u] of w.resources) console.log(`  ${String(s).padStart(5)} → ${String(e).padStart(5)} ms ${String(n).padStart(7)} B ${u}`);
    for (const [u, s, e] of workerTimes) console.log(`  worker ${String(Math.round(s - w.origin)).padStart(5)} → ${String(Math.round(e - w.origin)).padStart(5)} ms ${u}`);
  }
  await page.waitForTimeout(500);
  const top = Object.entries(byKind).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k} ${(v / 1024).toFixed(0)} KB`).join(", ");
  console.log(`run ${run + 1}: navigation → drawn ${drawnMs} ms; ${(bytes / 1024).toFixed(0)} KB on the wire (${top})`);
  if (run === 0) {
    // Zoom to 14 at the Barnsley / West Yorkshire border: which tiles come?
    tiles.length = 0;
    await page.evaluate(() => window.__allianceMap.map.jumpTo({ center: [-1.4838, 53.5948], zoom: 14 }));
    await page.waitForTimeout(300);
    await page.waitForFunction(() => window.__allianceMap.map.areTilesLoaded(), null, { timeout: 30000 });
    const view = await page.evaluate(() => {
      const b = window.__allianceMap.map.getBounds();
      return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    });
    const tileOf = (lon, lat, z) => {
      const n = 2 ** z, r = (lat * Math.PI) / 180;
      return [Math.floor(((lon + 180) / 360) * n), Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)];
    };
    const [x0, y0] = tileOf(view[0], view[3], 12), [x1, y1] = tileOf(view[2], view[1], 12);
    const outside = tiles.filter((u) => {
      const m = u.match(/tiles\/(\d+)\/(\d+)\/(\d+)/);
      return !(m && +m[1] === 12 && +m[2] >= x0 && +m[2] <= x1 && +m[3] >= y0 && +m[3] <= y1);
    });
    console.log(`zoom 14 at the border: ${tiles.length} tile requests, ${(x1 - x0 + 1) * (y1 - y0 + 1)} zoom-12 tiles cover the view, ${outside.length} outside it ${outside.join(" ")}`);
  }
  await context.close();
}
await browser.close();
