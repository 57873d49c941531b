// End-to-end browser tests of the map page, driven by tests/browser.rs against the real
// server: node web/e2e/map.mjs BASE_URL OUT_DIR. Prints "ok - …" / "not ok - …" per check and
// exits non-zero if any failed. Screenshots and the timing go to OUT_DIR.
import { chromium } from "playwright-core";
import axe from "axe-core";
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

/// E2E_ONLY=text runs only the checks whose name contains it (for working on one).
const only = process.env.E2E_ONLY;

async function check(name, fn) {
  if (only && !name.includes(only)) return;
  const start = performance.now();
  try {
    await fn();
    console.log(`ok - ${name} (${((performance.now() - start) / 1000).toFixed(1)} s)`);
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

/// Waits until the map has drawn the period starting `from`; returns the alliance codes in the
/// map's source data (whatever the zoom).
async function drawnAlliances(page, from) {
  await page.waitForSelector(`body[data-drawn="${from}"]`, { timeout: 20000 });
  return page.evaluate(() => window.__allianceMap.alliances);
}

/// The alliance codes rendered in the map's view.
async function renderedAlliances(page) {
  return page.evaluate(() => [...new Set(window.__allianceMap.map.queryRenderedFeatures({ layers: ["alliance-fill"] }).map((f) => f.properties.code))].sort());
}

/// Runs axe-core (WCAG 2.1 A and AA, and best practice) on the page as it is; fails on any violation.
async function axeClean(page, what) {
  await page.evaluate(axe.source);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
  }));
  const found = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("\n    ")}`);
  assert(found.length === 0, `axe, ${what}:\n  ${found.join("\n  ")}`);
  return result.passes.length;
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
  // Northern Ireland's postcodes come from the NSPL: BT1 1AA is answered, outside England's
  // alliances, naming the country.
  await page.waitForFunction(() => document.getElementById("result").textContent.includes("Northern Ireland"));
  await page.fill("#q", "EH1 1YZ");
  await page.click("button[type=submit]");
  await resultAlliance(page, "Outside England's Cancer Alliances");
  // The Northern Ireland answer before it reads the same heading: wait for this one's country.
  await page.waitForFunction(() => document.getElementById("result").innerText.includes("in Scotland"), null, { timeout: 15000 });
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
  const page = await openPage("/", { width: 375, height: 667 });
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

await check("the edition switch: 2017 by default and dated, every period one click away, the latest dated and flagged", async () => {
  const page = await openPage("/");
  const choices = await page.locator('#edition-choices input[name="edition"]').evaluateAll((xs) => xs.map((x) => [x.value, x.checked, x.labels[0].innerText]));
  assert(choices.length === 8, `8 periods offered: ${JSON.stringify(choices)}`);
  assert(choices[0][0] === "2017-04-01" && choices[0][1], `2017 chosen by default: ${JSON.stringify(choices[0])}`);
  assert(choices[7][0] === "2023-07-01" && choices[7][2].includes("latest"), `the latest labelled: ${JSON.stringify(choices[7])}`);
  const summary = await page.locator("#edition-summary").innerText();
  assert(summary.includes("1 April 2017 to 31 March 2018") && summary.includes("(July 2017)"), summary);
  const latest = await page.locator("#edition-latest").innerText();
  assert(latest.includes("1 July 2023") && latest.includes("replaced on 1 April 2024") && latest.includes("not hold"), latest);
  const before = await drawnAlliances(page, "2017-04-01");
  assert(before.length === 19 && before.includes("E56000009"), `2017: ${before.length} alliances drawn`);
  await page.click("#edition-2023-07-01");
  const after = await drawnAlliances(page, "2023-07-01");
  assert(after.length === 21 && after.includes("E56000031") && !after.includes("E56000009"), `2023: ${after.length} alliances in the source: ${after}`);
  const rendered = await renderedAlliances(page);
  assert(rendered.length === 21 && rendered.includes("E56000031"), `2023: ${rendered.length} alliances rendered: ${rendered}`);
  assert((await page.locator("#alliance-list button").count()) === 21, "the list follows the map");
  assert((await page.locator("#list-title").innerText()).includes("21 Cancer Alliances (July 2023"), "the list is dated");
  assert(new URL(page.url()).searchParams.get("date") === "2023-07-01", `the URL keeps the date: ${page.url()}`);
  assert((await page.locator("#edition-summary").innerText()).includes("replaced on 1 April 2024"), "the latest says it is superseded");
  await page.screenshot({ path: join(outDir, "8-edition-2023.png") });
  await page.goBack();
  assert((await drawnAlliances(page, "2017-04-01")).length === 19, "back returns to 2017");
  assert(await page.locator("#edition-2017-04-01").isChecked(), "and its choice");
  assert(page.problems.length === 0, page.problems.join("\n"));
  await page.context().close();
});

await check("an answer shows the place's timeline across editions, with changes in words; switching re-asks it", async () => {
  const page = await openPage("/?lon=-1.4214&lat=53.2350");
  await resultAlliance(page, "South Yorkshire, Bassetlaw, North Derbyshire and Hardwick");
  await page.waitForSelector("#timeline ol.timeline > li");
  const periods = await page.locator("#timeline ol.timeline > li").allInnerTexts();
  assert(periods.length === 8, `8 periods: ${periods.length}`);
  assert(periods[0].includes("1 April 2017") && periods[0].includes("E56000006"), periods[0]);
  assert(periods[3].includes("1 July 2019") && /changed/i.test(periods[3]) && periods[3].includes("East Midlands (E56000024)"), periods[3]);
  assert(periods[5].includes("Integrated Care Board") && /changed/i.test(periods[5]), periods[5]);
  assert(periods[7].includes("1 July 2023") && /new code/i.test(periods[7]) && periods[7].includes("E56000031"), periods[7]);
  assert(periods[0].includes("shown on the map") && !periods[3].includes("shown on the map"), "the period shown is marked");
  assert((await page.locator("#timeline").innerText()).includes("changed 2 times"), "a one-line summary");
  // Switch from the timeline itself: the map, the answer and the URL follow.
  await page.click('#timeline button[data-date="2019-07-01"]');
  await resultAlliance(page, "East Midlands");
  assert((await page.locator("#result").innerText()).includes("Cancer Alliance E56000024"), "the 2019 answer");
  assert((await drawnAlliances(page, "2019-07-01")).length === 20, "the 2019 map");
  assert(await page.locator("#edition-2019-07-01").isChecked(), "the switch follows");
  const params = new URL(page.url()).searchParams;
  assert(params.get("date") === "2019-07-01" && params.get("lon"), `URL: ${page.url()}`);
  await page.waitForFunction(() => document.getElementById("announce").textContent.includes("East Midlands"));
  // And from the switch: the 2023 answer names its Integrated Care Board and Sub-ICB Location.
  await page.click("#edition-2023-07-01");
  await page.waitForFunction(() => (document.querySelector("#result .codes") || {}).textContent.includes("as at 1 July 2023"));
  const text = await page.locator("#result").innerText();
  assert(text.includes("Integrated Care Board") && text.includes("NHS Derby and Derbyshire Integrated Care Board") && text.includes("Sub-ICB Location"), text);
  assert(text.includes("replaced on 1 April 2024"), `the latest answer says it is superseded: ${text}`);
  await page.screenshot({ path: join(outDir, "9-timeline.png"), fullPage: true });
  // A shared link with a date opens on that period, with a postcode's timeline.
  const postcode = await openPage("/?postcode=S40%201LL&date=2021-04-01");
  await resultAlliance(postcode, "East Midlands");
  assert((await drawnAlliances(postcode, "2021-04-01")).length === 21, "a shared ?date= opens on that period");
  assert(await postcode.locator("#edition-2021-04-01").isChecked(), "with its choice checked");
  await postcode.waitForSelector("#timeline ol.timeline > li.current");
  assert((await postcode.locator("#timeline li.current").innerText()).includes("1 April 2021"), "a postcode's timeline, its period marked");
  assert(page.problems.length === 0 && postcode.problems.length === 0, [...page.problems, ...postcode.problems].join("\n"));
  await postcode.context().close();
  await page.context().close();
});

await check("what changed between two dates: the East of England split, by keyboard", async () => {
  const page = await openPage("/");
  await page.click('a[href="#changes"]');
  assert((await page.evaluate(() => document.activeElement.id)) === "changes", "the link takes the focus to the comparison");
  assert(!page.url().includes("#"), `and leaves the URL alone: ${page.url()}`);
  await page.keyboard.press("Tab");
  assert((await page.evaluate(() => document.activeElement.id)) === "compare-kind", "its first control is next");
  await page.keyboard.press("Tab");
  assert((await page.evaluate(() => document.activeElement.id)) === "compare-from", "from is next");
  await page.selectOption("#compare-from", "2017-04-01");
  await page.selectOption("#compare-to", "2019-07-01");
  await page.focus("#compare-to");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  const split = page.locator('#compare-result li[data-change="split"][data-from="E56000009"]');
  await split.waitFor({ timeout: 60000 });
  const text = await split.innerText();
  assert(text.includes("E56000022") && text.includes("E56000023") && /% of its area/.test(text), text);
  const status = await page.locator("#compare-status").innerText();
  assert(status.includes("split"), `the status says what was found: ${status}`);
  await page.setViewportSize({ width: 1280, height: 2400 }); // the side panel is as tall as the window
  await page.locator("#changes").screenshot({ path: join(outDir, "10-what-changed.png") });
  assert(page.problems.length === 0, page.problems.join("\n"));
  // A server without crosswalks: the view hides its form and says so.
  await page.route("**/api/v1/crosswalk?**", (route) => route.fulfill({ status: 404, contentType: "application/problem+json", body: '{"status":404,"detail":"nothing is served at /api/v1/crosswalk"}' }));
  await page.click("#compare button[type=submit]");
  await page.waitForSelector("#compare", { state: "hidden" });
  assert((await page.locator("#compare-status").innerText()).includes("cannot compare editions"), "a 404 is explained");
  await page.context().close();
});

await check("the edition switch works by keyboard alone, with a visible focus", async () => {
  const page = await openPage("/");
  await page.focus("#locate");
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => [document.activeElement.name, document.activeElement.value]);
  assert(focused[0] === "edition" && focused[1] === "2017-04-01", `Tab reaches the chosen period: ${focused}`);
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement.labels[0]).outlineStyle);
  assert(outline !== "none", "visible focus on the period");
  await page.keyboard.press("ArrowRight");
  assert((await drawnAlliances(page, "2018-04-01")).length === 19, "ArrowRight: 2018");
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft"); // wraps round to the latest
  assert((await drawnAlliances(page, "2023-07-01")).length === 21, "ArrowLeft twice: the latest");
  await page.waitForFunction(() => document.getElementById("announce").textContent.includes("21 Cancer Alliances"));
  assert(page.problems.length === 0, page.problems.join("\n"));
  await page.context().close();
});

await check("axe-core finds no accessibility violations (desktop with an answer and a comparison; phone)", async () => {
  const page = await openPage("/?postcode=S40%201LL&date=2023-07-01");
  await resultAlliance(page, "East Midlands");
  await page.waitForSelector("#timeline ol.timeline > li");
  await page.selectOption("#compare-from", "2017-04-01");
  await page.selectOption("#compare-to", "2019-07-01");
  await page.click("#compare button[type=submit]");
  await page.waitForFunction(() => !document.getElementById("compare-status").textContent.startsWith("Comparing"), null, { timeout: 60000 });
  results.axe_rules_passed = await axeClean(page, "desktop");
  // The same page on a phone, with another period's answer (no sub-area held: the notes show).
  await page.setViewportSize({ width: 375, height: 667 });
  await page.click("#edition-2019-07-01");
  await page.waitForFunction(() => (document.querySelector("#result .codes") || {}).textContent.includes("as at 1 July 2019"));
  await axeClean(page, "375 × 667");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(overflow <= 375, `page is ${overflow}px wide`);
  await page.screenshot({ path: join(outDir, "11-phone-timeline.png"), fullPage: true });
  assert(page.problems.length === 0, page.problems.join("\n"));
  await page.context().close();
});

await check("the API docs page renders the OpenAPI document", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(base + "/docs");
  await page.waitForSelector(".endpoint");
  const text = await page.locator("#docs").innerText();
  for (const path of ["/api/v1/lookup", "/api/v1/postcodes/{postcode}", "/api/v1/outcodes/{outcode}", "/api/v1/boundaries/{layer}",
    "/api/v1/editions", "/api/v1/timeline", "/api/v1/crosswalk"]) {
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
