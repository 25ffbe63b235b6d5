// Drives the VS Code workbench (code-server) in headless Chromium the way a user would, with the
// keyboard: open the fixture's Lean file, put the cursor on the `sorry`, Ctrl+. for Quick Fix, pick the
// lean-copilot action, wait for the proof, Ctrl+S. Writes {steps, quickFixEntries, diskText, ...} as
// JSON to cfg.result and a screenshot per step to cfg.artifacts. Assertions live in the pytest wrapper.
//
// Usage: node drive.mjs '<json config>'  (url, file, fileName, line, column, action, expected, result, artifacts)
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const cfg = JSON.parse(process.argv[2]);
mkdirSync(cfg.artifacts, { recursive: true });
const out = { steps: [], quickFixEntries: [], console: [] };
let shotIndex = 0;
const started = Date.now();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what, fn, timeoutMs, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const browser = await chromium.launch({
  executablePath: cfg.chromium ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.on("console", (msg) => { if (msg.type() === "error") out.console.push(msg.text().slice(0, 300)); });

async function shot(name) {
  shotIndex += 1;
  const path = join(cfg.artifacts, `${String(shotIndex).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path }).catch(() => undefined);
  out.steps.push(`${name} @${((Date.now() - started) / 1000).toFixed(1)}s`);
}

const diskText = () => readFileSync(cfg.file, "utf8");
const editorText = () => page.locator(".monaco-editor .view-lines").first().innerText().catch(() => "");
/** The visible rows of the Quick Fix (action widget) menu. */
const quickFixRows = () =>
  page.locator(".action-widget .monaco-list-row").evaluateAll((rows) =>
    rows.map((row) => ({ text: row.textContent ?? "", focused: row.classList.contains("focused") })));

try {
  await page.goto(cfg.url, { waitUntil: "domcontentloaded" });
  await page.waitForSelector(".monaco-workbench", { timeout: 90_000 });
  await page.waitForSelector(".statusbar", { timeout: 60_000 });
  await shot("workbench");

  // Quick Open: Ctrl+P, the file's name, Enter.
  await page.locator(".monaco-workbench").click({ position: { x: 600, y: 300 } }).catch(() => undefined);
  await page.keyboard.press("Control+P");
  await page.waitForSelector(".quick-input-widget input", { state: "visible", timeout: 20_000 });
  await page.keyboard.type(cfg.fileName, { delay: 20 });
  await until("the file in Quick Open", async () =>
    (await page.locator(".quick-input-list .monaco-list-row").count()) > 0, 20_000);
  await page.keyboard.press("Enter");
  await until("the file's text in the editor", async () => (await editorText()).includes("theorem"), 30_000);
  await shot("file-open");

  // The extension activates on the lean4 language; wait until its server reports idle.
  await until("the Lean Copilot status bar item", async () =>
    page.locator(".statusbar-item", { hasText: "Lean Copilot" }).count(), 60_000);
  await until("the server to be running", async () => {
    const html = await page.locator(".statusbar-item", { hasText: "Lean Copilot" }).first().innerHTML();
    return html.includes("codicon-check") || html.includes("codicon-error") || html.includes("circle-slash");
  }, 60_000);
  out.statusBefore = await page.locator(".statusbar-item", { hasText: "Lean Copilot" }).first().innerText();
  await shot("server-ready");

  // Go to line:column with Ctrl+G.
  await page.keyboard.press("Control+G");
  await page.waitForSelector(".quick-input-widget input", { state: "visible", timeout: 10_000 });
  await page.keyboard.type(`${cfg.line}:${cfg.column}`, { delay: 20 });
  await page.keyboard.press("Enter");
  await sleep(300);
  await shot("cursor-on-sorry");

  // Ctrl+. opens Quick Fix; the code actions come from our server (retry: the first request may
  // race the document's didOpen).
  let picked = false;
  for (let attempt = 0; attempt < 6 && !picked; attempt += 1) {
    await page.keyboard.press("Control+.");
    let rows = [];
    try {
      rows = await until("Quick Fix entries", async () => {
        const r = await quickFixRows();
        return r.some((row) => row.text.includes("lean-copilot")) ? r : null;
      }, 5_000);
    } catch {
      await shot(`quick-fix-empty-${attempt}`);
      await page.keyboard.press("Escape");
      await sleep(1000);
      continue;
    }
    out.quickFixEntries = rows.map((row) => row.text);
    await shot("quick-fix-menu");
    // Arrow down to the wanted entry, as a user would, then Enter.
    for (let i = 0; i < rows.length + 2; i += 1) {
      const focused = (await quickFixRows()).find((row) => row.focused);
      if (focused && focused.text.includes(cfg.action)) { picked = true; break; }
      await page.keyboard.press("ArrowDown");
      await sleep(100);
    }
    if (picked) {
      await page.keyboard.press("Enter");
    } else {
      await page.keyboard.press("Escape");
    }
  }
  if (!picked) throw new Error(`Quick Fix never offered "${cfg.action}"`);
  await shot("action-chosen");

  // The proof arrives as workspace/applyEdit; then save like a user and read the file back from disk.
  await until("the verified proof in the editor", async () => {
    const text = (await editorText()).replace(/\u00a0/g, " ");
    return !text.includes("sorry");
  }, cfg.timeoutMs ?? 90_000, 500);
  await shot("proof-applied");
  await page.keyboard.press("Control+S");
  await until("the file saved to disk", async () => !diskText().includes("sorry"), 20_000);
  out.statusAfter = await page.locator(".statusbar-item", { hasText: "Lean Copilot" }).first().innerText().catch(() => "");
  await shot("saved");
} catch (error) {
  out.error = String(error && error.stack ? error.stack : error);
  await shot("failure");
} finally {
  try { out.diskText = diskText(); } catch (error) { out.diskText = null; }
  out.editorText = (await editorText()).replace(/\u00a0/g, " ");
  writeFileSync(cfg.result, JSON.stringify(out, null, 2));
  await browser.close();
}
