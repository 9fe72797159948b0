// The reading app: fixed-layout books a page or a two-page spread at a time (in the
// book's page-progression direction), reflowable ones a chapter at a time, with zoom,
// keyboard, swipes, read-aloud and reading settings kept on the server.
"use strict";
(function () {
  const cfg = JSON.parse(document.getElementById("config").textContent);
  const book = cfg.book;
  const t = cfg.strings;
  const base = "/ebooks/read/" + encodeURIComponent(cfg.token);
  const rtl = book.direction === "rtl";
  const $ = (id) => document.getElementById(id);
  const stage = $("stage"), spreadBox = $("spread"), statusLine = $("status");
  const cache = new Map();
  let spreads = [], current = 0, zoom = 1, twoUp = false, speaking = false;
  let settings = Object.assign({ font_size: 100, line_height: 180, theme: "light", ruby: true }, book.settings);

  function fetchPage(index) {
    if (!cache.has(index)) {
      cache.set(index, fetch(base + "/pages/" + index, { credentials: "same-origin" }).then((r) => {
        if (!r.ok) { throw new Error(r.status); }
        return r.json();
      }));
    }
    return cache.get(index);
  }

  // Pages in reading order grouped into spreads. The first page of a spread sits on the
  // side the book opens from (left for ltr, right for rtl); page-spread-* says which
  // side a page wants, and a page wanting the other side first stands alone.
  function buildSpreads() {
    const result = [];
    let open = null;
    const firstSide = rtl ? "right" : "left";
    book.pages.forEach((page, index) => {
      if (!twoUp || !page.fixed || page.spread === "center") {
        if (open) { result.push(open); open = null; }
        result.push([index]);
        return;
      }
      const side = page.spread || (open ? (rtl ? "left" : "right") : firstSide);
      if (open) {
        if (side !== firstSide) { open.push(index); result.push(open); open = null; return; }
        result.push(open); open = null;
      }
      if (side === firstSide) { open = [index]; } else { result.push([index]); }
    });
    if (open) { result.push(open); }
    return result;
  }

  function spreadOf(pageIndex) {
    const found = spreads.findIndex((s) => s.includes(pageIndex));
    return found < 0 ? 0 : found;
  }

  function layoutSpread() {
    // rendition:spread: "none" never pairs pages, "both" always does, the others in a landscape window.
    const landscape = window.innerWidth > window.innerHeight;
    twoUp = book.layout === "pre-paginated" && book.spread !== "none" && (book.spread === "both" || landscape);
    const page = spreads.length ? spreads[current][0] : Math.min(book.position, book.pages.length - 1);
    spreads = buildSpreads();
    current = spreadOf(page);
  }

  function pageBox(page, scale) {
    const box = document.createElement("div");
    box.className = "page";
    box.style.width = Math.round(page.width * scale) + "px";
    box.style.height = Math.round(page.height * scale) + "px";
    if (page.kind === "xhtml") {
      const inner = document.createElement("div");
      inner.className = "fixed-html";
      inner.style.width = page.width + "px";
      inner.style.height = page.height + "px";
      inner.style.transform = "scale(" + scale + ")";
      inner.innerHTML = page.html;  // sanitised on the server (nh3)
      box.appendChild(inner);
    } else {
      const img = document.createElement("img");
      img.src = page.src;
      img.alt = "";
      box.appendChild(img);
    }
    return box;
  }

  function flowBox(page) {
    const box = document.createElement("div");
    box.className = "flow " + (book.writing === "vertical" ? "vertical" : book.writing === "rtl" ? "rtl" : "");
    box.lang = book.language;
    box.style.fontSize = settings.font_size + "%";
    box.style.lineHeight = settings.line_height / 100;
    box.innerHTML = page.html;  // sanitised on the server (nh3)
    return box;
  }

  async function render() {
    stopReading();
    const indices = spreads[current];
    const pages = await Promise.all(indices.map(fetchPage));
    const flow = pages.length === 1 && !pages[0].fixed;
    spreadBox.className = rtl ? "rtl" : "";
    spreadBox.replaceChildren();
    stage.classList.toggle("zoomed", zoom > 1 && !flow);
    if (flow) {
      spreadBox.style.width = spreadBox.style.height = "100%";
      spreadBox.appendChild(flowBox(pages[0]));
    } else {
      spreadBox.style.width = spreadBox.style.height = "";
      const height = Math.max(...pages.map((p) => p.height));
      // Pages of one spread are shown at the same height, side by side.
      const widths = pages.map((p) => p.width * height / p.height);
      const fit = Math.min(stage.clientWidth / widths.reduce((a, b) => a + b, 0), stage.clientHeight / height);
      pages.forEach((p, i) => {
        const box = pageBox(p, fit * zoom * (height / p.height));
        box.dataset.index = indices[i];
        spreadBox.appendChild(box);
      });
    }
    spreadBox.dataset.pages = indices.join(",");
    const first = indices[0] + 1, last = indices[indices.length - 1] + 1;
    statusLine.textContent = (first === last ? String(first) : first + "–" + last) + " / " + book.pages.length;
    const atStart = current === 0, atEnd = current === spreads.length - 1;
    $(rtl ? "turn-right" : "turn-left").disabled = atStart;
    $(rtl ? "turn-left" : "turn-right").disabled = atEnd;
    // A button disabled under the keyboard's focus drops it to nowhere: the page takes it.
    if (document.activeElement && document.activeElement.disabled) { stage.focus(); }
    updateAloud();
    // Read ahead: the next spread's pages are fetched while this one is read.
    if (!atEnd) { spreads[current + 1].forEach(fetchPage); }
  }

  function savePosition() {
    fetch(base + "/position", { method: "POST", headers: { "Content-Type": "application/json" },
                                body: JSON.stringify({ index: spreads[current][0] }) });
  }

  function go(delta) {
    const target = Math.max(0, Math.min(spreads.length - 1, current + delta));
    if (target === current) { return; }
    current = target;
    zoom = 1;
    render();
    savePosition();
  }
  const next = () => go(1), previous = () => go(-1);

  // ------------------------------------------------------------------ controls
  const left = $("turn-left"), right = $("turn-right");
  left.setAttribute("aria-label", rtl ? t.next : t.previous);
  left.title = left.getAttribute("aria-label");
  right.setAttribute("aria-label", rtl ? t.previous : t.next);
  right.title = right.getAttribute("aria-label");
  left.addEventListener("click", rtl ? next : previous);
  right.addEventListener("click", rtl ? previous : next);

  document.addEventListener("keydown", (event) => {
    if (event.target.tagName === "SELECT" || event.target.tagName === "INPUT") { return; }
    const keys = {
      ArrowLeft: rtl ? next : previous, ArrowRight: rtl ? previous : next,
      PageDown: next, PageUp: previous, Home: () => go(-spreads.length), End: () => go(spreads.length),
      "+": () => setZoom(zoom * 1.25), "-": () => setZoom(zoom / 1.25), "0": () => setZoom(1),
    };
    if (keys[event.key]) { keys[event.key](); event.preventDefault(); }
  });

  let touchX = null;
  stage.addEventListener("touchstart", (e) => { touchX = e.touches.length === 1 ? e.touches[0].clientX : null; },
                         { passive: true });
  stage.addEventListener("touchend", (e) => {
    if (touchX === null || zoom > 1) { return; }
    const dx = e.changedTouches[0].clientX - touchX;
    touchX = null;
    if (Math.abs(dx) < 50) { return; }
    // The finger drags the page: leftwards shows the next page in an ltr book, rightwards in rtl.
    (dx < 0) !== rtl ? next() : previous();
  });

  function setZoom(value) {
    zoom = Math.max(1, Math.min(4, value));
    render();
  }
  $("zoom-in").addEventListener("click", () => setZoom(zoom * 1.25));
  $("zoom-out").addEventListener("click", () => setZoom(zoom / 1.25));
  $("zoom-fit").addEventListener("click", () => setZoom(1));

  const toc = $("toc");
  if (book.toc.length) {
    const placeholder = new Option(t.toc, "");
    toc.appendChild(placeholder);
    book.toc.forEach((entry) => {
      toc.appendChild(new Option("\u3000".repeat(entry.level - 1) + entry.label, entry.index));
    });
    toc.addEventListener("change", () => {
      if (toc.value === "") { return; }
      current = spreadOf(Number(toc.value));
      toc.value = "";
      render();
      savePosition();
    });
  } else {
    $("toc-box").classList.add("hidden");
  }

  // ------------------------------------------------------------------ reading settings
  const fontSize = $("font-size"), lineHeight = $("line-height"), theme = $("theme"), ruby = $("ruby");
  [80, 100, 120, 150, 180, 220].forEach((v) => fontSize.appendChild(new Option(v + "%", v)));
  [140, 180, 220, 260].forEach((v) => lineHeight.appendChild(new Option(v + "%", v)));
  function applySettings() {
    document.body.className = "theme-" + settings.theme + (settings.ruby ? "" : " no-ruby");
    fontSize.value = settings.font_size;
    lineHeight.value = settings.line_height;
    theme.value = settings.theme;
    ruby.checked = settings.ruby;
    document.querySelectorAll(".flow").forEach((box) => {
      box.style.fontSize = settings.font_size + "%";
      box.style.lineHeight = settings.line_height / 100;
    });
  }
  function changeSettings() {
    settings = { font_size: Number(fontSize.value), line_height: Number(lineHeight.value),
                 theme: theme.value, ruby: ruby.checked };
    applySettings();
    fetch(base + "/settings", { method: "POST", headers: { "Content-Type": "application/json" },
                                body: JSON.stringify(settings) });
  }
  [fontSize, lineHeight, theme, ruby].forEach((el) => el.addEventListener("change", changeSettings));
  if (book.layout === "pre-paginated" && book.pages.every((p) => p.fixed)) {
    $("text-box").classList.add("hidden");  // a picture book has no text to size
  } else if (book.layout !== "pre-paginated") {
    $("zoom-box").classList.add("hidden");
  }

  // ------------------------------------------------------------------ read-aloud
  // The browser's own speech synthesis, in the book's language; without such a voice
  // the control stays hidden rather than reading Japanese with an English voice.
  const aloud = $("read-aloud");
  function voice() {
    if (!("speechSynthesis" in window)) { return null; }
    const lang = book.language.split("-")[0];
    return speechSynthesis.getVoices().find((v) => v.lang.toLowerCase().replace("_", "-").split("-")[0] === lang)
      || null;
  }
  function spokenText() {
    const clone = spreadBox.cloneNode(true);
    clone.querySelectorAll("rt, rp").forEach((el) => el.remove());
    const alts = [...clone.querySelectorAll("img[alt]")].map((img) => img.alt);
    return [clone.textContent, ...alts].join(" ").replace(/\s+/g, " ").trim();
  }
  function updateAloud() {
    aloud.classList.toggle("hidden", voice() === null);
    aloud.disabled = spokenText() === "";
  }
  function stopReading() {
    if (speaking && "speechSynthesis" in window) { speechSynthesis.cancel(); }
    speaking = false;
    aloud.setAttribute("aria-pressed", "false");
    aloud.textContent = t.read_aloud;
  }
  aloud.addEventListener("click", () => {
    if (speaking) { stopReading(); return; }
    const utterance = new SpeechSynthesisUtterance(spokenText());
    utterance.voice = voice();
    utterance.lang = book.language;
    utterance.onend = stopReading;
    speaking = true;
    aloud.setAttribute("aria-pressed", "true");
    aloud.textContent = t.stop_reading;
    speechSynthesis.speak(utterance);
  });
  if ("speechSynthesis" in window) { speechSynthesis.addEventListener("voiceschanged", updateAloud); }

  // ------------------------------------------------------------------ start
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { layoutSpread(); render(); }, 150);
  });
  applySettings();
  layoutSpread();
  // Full screen, the keys work at once; embedded in the portal, the page keeps its focus.
  render().then(() => { document.body.dataset.ready = "1"; if (window.top === window) { stage.focus(); } });
})();
