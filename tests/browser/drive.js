// Drives Debian's Chromium headless over Playwright for tests/browser.rs: opens the page at a
// deep link, reads every partition row, saves a screenshot, moves the slider, reads them again.
// Prints one JSON document on stdout; the Rust test does every comparison.
// Usage: node drive.js PLAYWRIGHT_CORE_DIR PAGE.html HASH SCREENSHOT.png SLIDER_MS PROFILE_DIR
"use strict";
const [, , pwDir, pagePath, hash, screenshot, sliderMs, profile] = process.argv;
const { chromium } = require(pwDir);
const { pathToFileURL } = require("url");

const TIMEOUT_MS = 120000;

async function rows(page) {
  return page.$$eval("tr.partition-row", (trs) => trs.map((tr) => ({
    group: tr.dataset.group, topic: tr.dataset.topic, partition: tr.dataset.partition,
    owner: tr.dataset.owner, committed: tr.dataset.committed, log_end: tr.dataset.logEnd,
    lag: tr.dataset.lag,
  })));
}

async function state(page) {
  return page.evaluate(() => ({
    t: document.body.dataset.t,
    variant: document.body.dataset.variant,
    hash: location.hash,
    states: Array.from(document.querySelectorAll("[data-state]")).map((e) => e.dataset.state),
    feed_current: (document.querySelector("#feed li.current") || {}).textContent || null,
    chart_canvases: document.querySelectorAll("#chart canvas").length,
  }));
}

(async () => {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    timeout: TIMEOUT_MS,
    viewport: { width: 1600, height: 1000 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  const page = context.pages()[0] || (await context.newPage());
  const url = pathToFileURL(pagePath).href;
  const console_errors = [];
  const requests = [];
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") console_errors.push(m.type() + ": " + m.text()); });
  page.on("pageerror", (e) => console_errors.push("pageerror: " + e.message));
  page.on("request", (r) => { if (!r.url().startsWith(url)) requests.push(r.url()); });
  await page.goto(url + hash, { waitUntil: "load" });
  await page.waitForSelector("#chart canvas");
  await page.evaluate(() => document.fonts.ready);
  const at_link = { state: await state(page), rows: await rows(page) };
  await page.screenshot({ path: screenshot, fullPage: false });
  await page.evaluate((ms) => {
    const s = document.getElementById("slider");
    s.value = String(ms);
    s.dispatchEvent(new Event("input", { bubbles: true }));
  }, Number(sliderMs));
  const after_slider = { state: await state(page), rows: await rows(page) };
  await page.click("#lang");
  const french_title = await page.textContent("h1");
  await context.close();
  process.stdout.write(JSON.stringify({ at_link, after_slider, french_title, console_errors, requests }) + "\n");
})().catch((e) => { console.error(e && e.stack || String(e)); process.exit(1); });
