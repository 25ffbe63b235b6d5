// Drives the VS Code workbench (code-server) in headless Chromium the way a user would, with the
// keyboard and the mouse, through a list of scenarios in one session, each on its own fixture file:
//   quickfix  Ctrl+. on the cursor, pick a lean-copilot action, wait for the proof (sc.gone leaves), Ctrl+S
//   inline    open a line after `by`, type its indent, wait for the ghost text, Tab accepts it, Ctrl+S
//   cancel    Prove on a search Lean never finishes, click the status bar item while it says searching
//   error     Prove on a search that ends in an error; the status item says so; clicking it restarts
// Writes {scenarios: {name: {...}}} as JSON to cfg.result and screenshots per step to
// cfg.artifacts/<scenario>/. Assertions live in the pytest wrapper (tests/e2e/test_vscode_e2e.py).
//
// Usage: node drive.mjs '<json config>'  (url, root, result, artifacts, timeoutMs, scenarios: [{name, kind,
//   fileName, line, column, action}])
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const cfg = JSON.parse(process.argv[2]);
const started = Date.now();
const out = { scenarios: {}, console: [] };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const elapsed = () => Number(((Date.now() - started) / 1000).toFixed(1));

async function until(what, fn, timeoutMs, everyMs = 200) {
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

// --- reading the workbench -------------------------------------------------------------------------

const nbsp = (text) => (text ?? "").replace(/\u00a0/g, " ");
const editorText = async () =>
  nbsp(await page.locator(".monaco-editor .view-lines").first().innerText().catch(() => ""));
/** The ghost text of an inline suggestion (rendered in the editor, not part of the document). */
const ghostText = async () =>
  nbsp((await page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text")
    .allTextContents().catch(() => [])).join(""));
const quickFixRows = () =>
  page.locator(".action-widget .monaco-list-row").evaluateAll((rows) =>
    rows.map((row) => ({ text: row.textContent ?? "", focused: row.classList.contains("focused") })));
const statusItem = () => page.locator(".statusbar-item", { hasText: "Lean Copilot" }).first();
/** What the status bar item shows: its text, which codicon, whether it has the error background. */
async function status() {
  const item = statusItem();
  const [text, html, cls] = await Promise.all([
    item.innerText().catch(() => ""), item.innerHTML().catch(() => ""), item.getAttribute("class").catch(() => ""),
  ]);
  const icon = (html.match(/codicon-(check|sync|error|loading|circle-slash)\b/) ?? [])[1] ?? null;
  const background = await item.evaluate((el) => getComputedStyle(el).backgroundColor).catch(() => "");
  return { text: nbsp(text).trim(), icon, errorKind: (cls ?? "").includes("error-kind"), background };
}
const toasts = async () =>
  (await page.locator(".notifications-toasts .notification-list-item-message").allInnerTexts().catch(() => []))
    .map(nbsp);
const activeTabDirty = async () =>
  (await page.locator(".tabs-container .tab.active").first().getAttribute("class").catch(() => "") ?? "")
    .includes("dirty");

// --- acting as the user ----------------------------------------------------------------------------

async function openFile(fileName) {
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+P");
  await page.waitForSelector(".quick-input-widget input", { state: "visible", timeout: 20_000 });
  await page.keyboard.type(fileName, { delay: 20 });
  await until(`${fileName} in Quick Open`, async () =>
    (await page.locator(".quick-input-list .monaco-list-row", { hasText: fileName }).count()) > 0, 20_000);
  await page.keyboard.press("Enter");
  await until(`${fileName} in the editor`, async () =>
    (await page.locator(".tabs-container .tab.active", { hasText: fileName }).count()) > 0, 20_000);
  await until(`${fileName}'s text`, async () => (await editorText()).includes("theorem"), 20_000);
}

async function goTo(line, column) {
  await page.keyboard.press("Control+G");
  await page.waitForSelector(".quick-input-widget input", { state: "visible", timeout: 10_000 });
  await page.keyboard.type(`${line}:${column}`, { delay: 20 });
  await page.keyboard.press("Enter");
  await sleep(300);
}

/** Ctrl+. and the arrow keys to `action`, then Enter (retried: the first request may race didOpen). */
async function quickFix(action, r, shot) {
  for (let attempt = 0; attempt < 6; attempt += 1) {
    await page.keyboard.press("Control+.");
    let rows = [];
    try {
      rows = await until("Quick Fix entries", async () => {
        const found = await quickFixRows();
        return found.some((row) => row.text.includes("lean-copilot")) ? found : null;
      }, 5_000);
    } catch {
      await page.keyboard.press("Escape");
      await sleep(1000);
      continue;
    }
    r.quickFixEntries = rows.map((row) => row.text);
    await shot("quick-fix-menu");
    for (let i = 0; i < rows.length + 2; i += 1) {
      const focused = (await quickFixRows()).find((row) => row.focused);
      if (focused && focused.text.includes(action)) {
        await page.keyboard.press("Enter");
        return;
      }
      await page.keyboard.press("ArrowDown");
      await sleep(100);
    }
    await page.keyboard.press("Escape");
  }
  throw new Error(`Quick Fix never offered "${action}"`);
}

async function save(file) {
  await page.keyboard.press("Control+S");
  await until("the file saved", async () => !(await activeTabDirty()), 20_000);
  return readFileSync(file, "utf8");
}

async function waitForStatus(what, predicate, timeoutMs) {
  return until(`the status item to be ${what}`, async () => {
    const s = await status();
    return predicate(s) ? s : null;
  }, timeoutMs, 100);
}

// --- scenarios -------------------------------------------------------------------------------------

const scenarios = {
  async quickfix(sc, r, shot) {
    await openFile(sc.fileName);
    await goTo(sc.line, sc.column);
    await shot("cursor");
    await quickFix(sc.action, r, shot);
    await shot("action-chosen");
    r.sawSearching = false;
    const gone = sc.gone ?? "sorry";
    await until(`every "${gone}" replaced in the editor`, async () => {
      if ((await status()).icon === "sync") r.sawSearching = true;
      return !(await editorText()).includes(gone);
    }, cfg.timeoutMs, 100);
    await shot("proof-applied");
    r.diskText = await save(sc.file);
    await sleep(500);
    r.toasts = await toasts();
    r.statusAfter = await status();
    await shot("saved");
  },

  async inline(sc, r, shot) {
    await openFile(sc.fileName);
    await goTo(sc.line, sc.column);
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("  ", { delay: 50 });
    await shot("typed-indent");
    // VS Code asks the server (textDocument/inlineCompletion) as the user types; nothing else is pressed.
    r.ghostText = await until("the ghost text", async () => (await ghostText()).trim() || null, 30_000);
    r.dirtyWhileShown = await activeTabDirty();
    await shot("ghost-text");
    await page.keyboard.press("Tab");
    await until("the ghost text gone", async () => !(await ghostText()).trim(), 10_000);
    r.ghostTextAfter = await ghostText();
    await shot("accepted");
    r.diskText = await save(sc.file);
    await shot("saved");
  },

  async cancel(sc, r, shot) {
    await openFile(sc.fileName);
    await goTo(sc.line, sc.column);
    r.original = readFileSync(sc.file, "utf8");
    await quickFix(sc.action, r, shot);
    r.searching = await waitForStatus("searching", (s) => s.icon === "sync", 20_000);
    await shot("searching");
    await sleep(1500); // well inside the check Lean never finishes
    r.stillSearching = await status();
    const clickedAt = Date.now();
    await statusItem().click();
    await page.mouse.move(650, 300); // off the item, so its hover does not cover what follows
    r.idle = await waitForStatus("idle", (s) => s.icon === "check", 15_000);
    r.cancelTookS = (Date.now() - clickedAt) / 1000;
    await shot("cancelled");
    await sleep(3000); // a late edit would land here
    r.editorText = await editorText();
    r.dirty = await activeTabDirty();
    r.diskText = readFileSync(sc.file, "utf8");
    r.toasts = await toasts();
    r.statusLater = await status();
    await shot("later");
  },

  async error(sc, r, shot) {
    await openFile(sc.fileName);
    await goTo(sc.line, sc.column);
    await quickFix(sc.action, r, shot);
    r.error = await waitForStatus("error", (s) => s.icon === "error", 60_000);
    r.errorToast = await until("the error message", async () =>
      (await toasts()).find((t) => t.includes("could not search")) ?? null, 20_000);
    await sleep(1000); // a second notification of the same error would be up by now
    r.errorToasts = (await toasts()).filter((t) => t.includes("could not search"));
    await shot("error");
    r.errorLater = await status();
    // The message's button opens the search's transcript. (The mouse leaves the status bar first: the
    // item's hover, left open by the cancel scenario's click, would cover the notification.)
    await page.mouse.move(650, 300);
    await until("the status item's hover gone", async () => (await page.locator(".hover-contents").count()) === 0, 10_000)
      .catch(() => undefined);
    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "could not search" }).first();
    r.toastButtons = await toast.locator(".monaco-button").allInnerTexts().catch(() => []);
    await toast.locator(".monaco-button", { hasText: "Show transcript" }).first().click();
    r.transcriptTab = await until("the transcript in an editor", async () => {
      const name = await page.locator(".tabs-container .tab.active").first().innerText().catch(() => "");
      return name.includes(".md") ? name.trim() : null;
    }, 20_000);
    r.transcriptText = await editorText();
    await shot("transcript");
    await statusItem().click(); // the error item restarts the server
    r.restarted = await waitForStatus("idle after the restart", (s) => s.icon === "check", 60_000);
    await shot("restarted");
    r.editorText = await editorText();
    r.dirty = await activeTabDirty();
    r.diskText = readFileSync(sc.file, "utf8");
  },
};

try {
  await page.goto(cfg.url, { waitUntil: "domcontentloaded" });
  await page.waitForSelector(".monaco-workbench", { timeout: 90_000 });
  await page.waitForSelector(".statusbar", { timeout: 60_000 });
  await page.locator(".monaco-workbench").click({ position: { x: 600, y: 300 } }).catch(() => undefined);
  for (const sc of cfg.scenarios) {
    const r = { steps: [], started: elapsed() };
    out.scenarios[sc.name] = r;
    const dir = join(cfg.artifacts, sc.name);
    mkdirSync(dir, { recursive: true });
    let n = 0;
    const shot = async (name) => {
      n += 1;
      await page.screenshot({ path: join(dir, `${String(n).padStart(2, "0")}-${name}.png`) }).catch(() => undefined);
      r.steps.push(`${name} @${elapsed()}s`);
    };
    try {
      if (!out.statusReady) {
        // The extension activates on the first lean4 file; its server then reports idle.
        await openFile(sc.fileName);
        out.statusReady = await waitForStatus("ready", (s) => s.icon === "check", 60_000);
        await shot("server-ready");
      }
      await scenarios[sc.kind](sc, r, shot);
    } catch (error) {
      r.failure = String(error && error.stack ? error.stack : error);
      await shot("failure");
      for (let i = 0; i < 3; i += 1) await page.keyboard.press("Escape");
    } finally {
      try { r.diskTextEnd = readFileSync(sc.file, "utf8"); } catch { r.diskTextEnd = null; }
      r.statusEnd = await status().catch(() => null);
      r.finished = elapsed();
    }
  }
} catch (error) {
  out.failure = String(error && error.stack ? error.stack : error);
  await page.screenshot({ path: join(cfg.artifacts, "failure.png") }).catch(() => undefined);
} finally {
  writeFileSync(cfg.result, JSON.stringify(out, null, 2));
  await browser.close();
}
