// End-to-end browser tests of the map page, driven by tests/browser.rs against the real
// server: node web/e2e/map.mjs BASE_URL OUT_DIR. Prints "ok - …" / "not ok - …" per check and
// exits non-zero if any failed. Screenshots and the timing go to OUT_DIR.
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [base, outDir] = process.argv.slice(2);
if (!base || !outDir) {
  console.error("usage: node map.mjs BASE_URL OUT_DIR");
  process.exit(64);
}
mkdirSync(outDir, { recursive: true });
const host = new URL(base).host;
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({
  executablePath,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
    // WebGL in headless Chromium without a GPU: the software rasteriser.
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
  ],
});

let failures = 0;
const results = {};

/// A fresh page that records console errors, page errors and any request leaving the server.
async function openPage(path, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.problems = [];
  page.on("console", (m) => { if (m.type() === "error") page.problems.push(`console error: ${m.text()}`); });
  page.on("pageerror", (e) => page.problems.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.protocol !== "data:" && u.protocol !== "blob:" && u.host !== host) page.problems.push(`request left localhost: ${r.url()}`);
  });
  await page.goto(base + path);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
  return page;
}

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    failures++;
    console.log(`not ok - ${name}\n  ${String(e && e.stack || e).split("\n").join("\n  ")}`);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function resultAlliance(page, expected) {
  await page.waitForFunction((want) => {
    const h = document.getElementById("result-alliance");
    return h && h.textContent.trim() === want;
  }, expected, { timeout: 15000 });
}

async function clickAt(page, lon, lat) {
  const xy = await page.evaluate(([lon, lat]) => {
    const p = window.__allianceMap.map.project([lon, lat]);
    const r = window.__allianceMap.map.getCanvas().getBoundingClientRect();
    return [r.left + p.x, r.top + p.y];
  }, [lon, lat]);
  await page.mouse.click(xy[0], xy[1]);
}

await check("the page loads, draws all 19 alliances, shows the licence, with no errors or outside requests", async () => {
  const page = await openPage("/");
  const timing = await page.evaluate(() => ({ drawn_ms: window.__allianceMap.drawn, nav: performance.getEntriesByType("navigation")[0].startTime }));
  results.navigation_to_drawn_ms = Math.round(timing.drawn_ms - timing.nav);
  const codes = await page.evaluate(() => [...new Set(window.__allianceMap.map.queryRenderedFeatures({ layers: ["alliance-fill"] }).map((f) => f.properties.code))]);
  assert(codes.length === 19, `rendered ${codes.length} alliances: ${codes}`);
  const list = await page.locator("#alliance-list button").count();
  assert(list === 19, `the list has ${list} alliances`);
  const attribution = await page.locator(".maplibregl-ctrl-attrib").innerText();
  assert(attribution.includes("Open Government Licence") && attribution.includes("Contains OS data"), attribution);
  await page.screenshot({ path: join(outDir, "1-initial.png") });
  assert(page.problems.length === 0, page.problems.join("\n"));
  await page.context().close();
});

await check("clicking Leeds shows West Yorkshire and its STP", async () => {
  const page = await openPage("/");
  await clickAt(page, -1.5492, 53.7997);
  await resultAlliance(page, "West Yorkshire");
  assert((await page.locator("#result-stp").innerText()) === "West Yorkshire", "STP");
  const params = new URL(page.url()).searchParams;
  const [lon, lat] = [parseFloat(params.get("lon")), parseFloat(params.get("lat"))];
  assert(Math.abs(lon + 1.5492) < 0.02 && Math.abs(lat - 53.7997) < 0.02, `URL keeps the point: ${page.url()}`);
  await page.screenshot({ path: join(outDir, "2-click-leeds.png") });
  assert(page.problems.length === 0, page.problems.join("\n"));
  await page.context().close();
});

await check("a postcode search flies there and shows its alliance; the URL keeps it", async () => {
  const page = await openPage("/");
  await page.fill("#q", "s40 1ll");
  await page.press("#q", "Enter");
  await resultAlliance(page, "South Yorkshire, Bassetlaw, North Derbyshire and Hardwick");
  assert((await page.locator("#result-stp").innerText()) === "Derbyshire", "split STP");
  assert(decodeURIComponent(page.url()).includes("postcode=S40+1LL"), page.url());
  const partial = await page.locator("#result .partial").first().innerText();
  assert(partial.includes("North Derbyshire"), `partial STP flagged: ${partial}`);
  await page.screenshot({ path: join(outDir, "3-postcode.png") });
  assert(page.problems.length === 0, page.problems.join("\n"));
  await page.context().close();
});

await check("malformed, unknown and non-English postcodes are explained inline", async () => {
  const page = await openPage("/");
  await page.fill("#q", "LS1-1AZ");
  await page.click("button[type=submit]");
  await page.waitForSelector("#search-error:not([hidden])");
  const e1 = await page.locator("#search-error").innerText();
  assert(e1.includes("doesn't look like a UK postcode"), e1);
  await page.screenshot({ path: join(outDir, "4-malformed.png") });
  await page.fill("#q", "ZZ99 9ZZ");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.getElementById("search-error").textContent.includes("couldn't find"));
  await page.fill("#q", "BT1 1AA");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.getElementById("search-error").textContent.includes("Northern Ireland"));
  await page.fill("#q", "EH1 1YZ");
  await page.click("button[type=submit]");
  await resultAlliance(page, "Outside England's Cancer Alliances");
  assert((await page.locator("#result").innerText()).includes("in Scotland"), "names the country");
  await page.context().close();
});

await check("when the API is down the page says so", async () => {
  const page = await openPage("/");
  await page.route("**/api/v1/postcodes/**", (route) => route.abort());
  await page.fill("#q", "LS1 1AZ");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.getElementById("search-error").textContent.includes("not responding"));
  await page.context().close();
});

await check("shared URLs restore their view", async () => {
  let page = await openPage("/?lon=-1.4216&lat=53.2350");
  await resultAlliance(page, "South Yorkshire, Bassetlaw, North Derbyshire and Hardwick");
  await page.context().close();
  page = await openPage("/?postcode=LS1%201AZ");
  await resultAlliance(page, "West Yorkshire");
  await page.context().close();
  page = await openPage("/#alliance=E56000013");
  await resultAlliance(page, "Thames Valley");
  const current = await page.locator('#alliance-list button[aria-current="true"]').innerText();
  assert(current.includes("Thames Valley"), current);
  await page.screenshot({ path: join(outDir, "5-shared-alliance.png") });
  await page.context().close();
});

await check("the alliance list works by keyboard alone", async () => {
  const page = await openPage("/");
  await page.keyboard.press("Tab"); // the skip link
  assert((await page.evaluate(() => document.activeElement.className)) === "skip", "skip link first");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  assert((await page.evaluate(() => document.activeElement.dataset.code)) === "E56000003", "first alliance focused");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await resultAlliance(page, "Cheshire and Merseyside");
  assert((await page.evaluate(() => document.activeElement.id)) === "result", "focus moves to the answer");
  const outline = await page.evaluate(() => {
    const b = document.querySelector("#alliance-list button");
    b.focus();
    return getComputedStyle(b).outlineStyle;
  });
  assert(outline !== "none", "visible focus");
  await page.context().close();
});

await check("works on a 375 px phone screen", async () => {
  const page = await openPage("/", { width: 375, height: 740 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(overflow <= 375, `page is ${overflow}px wide`);
  const mapBox = await page.locator("#map").boundingBox();
  assert(mapBox.width >= 370 && mapBox.height > 300, JSON.stringify(mapBox));
  await page.fill("#q", "TR21 0HE");
  await page.press("#q", "Enter");
  await resultAlliance(page, "Peninsula");
  await page.screenshot({ path: join(outDir, "6-phone.png"), fullPage: true });
  assert(page.problems.length === 0, page.problems.join("\n"));
  await page.context().close();
});

await check("the API docs page renders the OpenAPI document", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(base + "/docs");
  await page.waitForSelector(".endpoint");
  const text = await page.locator("#docs").innerText();
  for (const path of ["/api/v1/lookup", "/api/v1/postcodes/{postcode}", "/api/v1/outcodes/{outcode}", "/api/v1/boundaries/{layer}"]) {
    assert(text.includes(path), `docs list ${path}`);
  }
  assert((await page.locator("footer").innerText()).includes("Contains OS data"), "licence on the docs page");
  await page.screenshot({ path: join(outDir, "7-docs.png") });
  await context.close();
});

await browser.close();
writeFileSync(join(outDir, "timing.json"), JSON.stringify(results, null, 2) + "\n");
console.log(`navigation to alliances drawn: ${results.navigation_to_drawn_ms} ms`);
console.log(`${failures === 0 ? "browser tests passed" : `${failures} browser checks failed`}`);
process.exit(failures === 0 ? 0 : 1);
