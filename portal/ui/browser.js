// Manabi in the browser (portal/ui/document.py puts this into every page's <head>):
// 1. <html lang> follows the page's language (the address's ?lang=, Japanese without it),
//    so that screen readers read Japanese with a Japanese voice;
// 2. on Japanese pages, Streamlit's own English texts (its uploader, form hints, date picker,
//    toolbars; their aria-labels, titles and placeholders) are worded in Japanese, from the
//    catalogue's streamlit.* keys; switching to English puts Streamlit's words back.
(() => {
  if (window.__manabiDocument) return;
  window.__manabiDocument = true;
  const RULES = __MANABI_TEXTS__;
  const exact = new Map();
  const patterns = [];
  for (const rule of RULES) {
    if (!rule.en.includes("{")) { exact.set(rule.en, rule.ja); continue; }
    const names = [];
    const source = rule.en.split(/(\{\w+\})/).map((part) => {
      const name = /^\{(\w+)\}$/.exec(part);
      if (name) { names.push(name[1]); return "(.+?)"; }
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }).join("");
    patterns.push({ re: new RegExp("^" + source + "$"), names, ja: rule.ja });
  }
  const ATTRIBUTES = ["aria-label", "aria-valuetext", "title", "placeholder"];
  // Texts people wrote (Markdown, code, what they type) are never touched.
  // A button's label is Markdown too (Streamlit's "Upload"); a date's parts are editable (yyyy).
  const SKIP = '[data-testid="stMarkdownContainer"]:not(button [data-testid="stMarkdownContainer"]), '
    + '[data-testid="stIconMaterial"], [translate="no"], code, pre, textarea, '
    + '[contenteditable="true"]:not([role="spinbutton"]), noscript';

  // A heading's link (Streamlit puts it inside the heading's Markdown) is Streamlit's, not text
  // people wrote: its aria-label is worded all the same.
  const HEADING_LINKS = '[data-testid="stHeaderActionElements"] [aria-label]';

  const language = () => (new URLSearchParams(window.location.search).get("lang") === "en" ? "en" : "ja");
  // Streamlit's date picker (react-aria) and number formats follow the browser's language, not
  // the page's: the browser is told the page's, and told again when it changes.
  const LOCALES = { ja: "ja-JP", en: "en-US" };
  try {
    Object.defineProperty(navigator, "language", { configurable: true, get: () => LOCALES[language()] });
    Object.defineProperty(navigator, "languages", { configurable: true, get: () => [LOCALES[language()]] });
  } catch (e) { /* an older browser keeps its own language */ }

  function japanese(text) {
    const trimmed = text.trim();
    if (!trimmed || !/[A-Za-z]/.test(trimmed)) return null;
    let found = exact.get(trimmed);
    if (found === undefined) {
      for (const p of patterns) {
        const m = p.re.exec(trimmed);
        if (!m) continue;
        found = p.ja.replace(/\{(\w+)\}/g, (_, name) => {
          const value = m[1 + p.names.indexOf(name)];
          return value === undefined ? "" : value;
        });
        break;
      }
    }
    if (found === undefined) return null;
    return text.replace(trimmed, found);
  }

  // What we changed, to put Streamlit's words back when the visitor switches to English.
  const shownTexts = new WeakMap(); // text node -> {original, shown}
  const shownAttributes = new WeakMap(); // element -> {name: {original, shown}}

  function wordText(node, lang) {
    const kept = shownTexts.get(node);
    let original = node.nodeValue;
    if (kept && node.nodeValue === kept.shown) original = kept.original;
    const wanted = lang === "ja" ? japanese(original) : null;
    if (wanted === null) {
      if (kept) { shownTexts.delete(node); if (node.nodeValue !== original) node.nodeValue = original; }
      return;
    }
    shownTexts.set(node, { original, shown: wanted });
    if (node.nodeValue !== wanted) node.nodeValue = wanted;
  }

  function wordAttributes(element, lang) {
    for (const name of ATTRIBUTES) {
      if (!element.hasAttribute(name)) continue;
      const keptAll = shownAttributes.get(element) || {};
      const kept = keptAll[name];
      const value = element.getAttribute(name);
      const original = kept && value === kept.shown ? kept.original : value;
      const wanted = lang === "ja" ? japanese(original) : null;
      if (wanted === null) {
        if (kept) { delete keptAll[name]; if (value !== original) element.setAttribute(name, original); }
        continue;
      }
      keptAll[name] = { original, shown: wanted };
      shownAttributes.set(element, keptAll);
      if (value !== wanted) element.setAttribute(name, wanted);
    }
  }

  function word(root, lang) {
    if (root.nodeType === Node.TEXT_NODE) {
      const parent = root.parentElement;
      if (parent && !parent.closest(SKIP)) wordText(root, lang);
      return;
    }
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    if (root.matches(HEADING_LINKS)) wordAttributes(root, lang);
    root.querySelectorAll(HEADING_LINKS).forEach((e) => wordAttributes(e, lang));
    if (root.closest(SKIP)) return;
    wordAttributes(root, lang);
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => (n.nodeType === Node.ELEMENT_NODE && n.matches(SKIP)
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    });
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (n.nodeType === Node.TEXT_NODE) wordText(n, lang); else wordAttributes(n, lang);
    }
  }

  let lastLang = null;
  function sync(mutations) {
    const lang = language();
    if (document.documentElement.lang !== lang) document.documentElement.lang = lang;
    if (lang !== lastLang || !mutations) {
      if (lastLang !== null && lang !== lastLang) window.dispatchEvent(new Event("languagechange"));
      lastLang = lang;
      if (document.body) word(document.body, lang);
      return;
    }
    for (const m of mutations) {
      if (m.type === "childList") m.addedNodes.forEach((n) => word(n, lang));
      else if (m.type === "characterData") word(m.target, lang);
      else if (m.type === "attributes") {
        if (!m.target.closest(SKIP) || m.target.matches(HEADING_LINKS)) wordAttributes(m.target, lang);
      }
    }
  }

  const observer = new MutationObserver((mutations) => {
    observer.disconnect(); // our own changes are not news
    sync(mutations);
    observe();
  });
  function observe() {
    observer.observe(document.documentElement, {
      subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ATTRIBUTES,
    });
  }
  // Streamlit changes the address (?lang=) without loading a new document.
  for (const name of ["pushState", "replaceState"]) {
    const original = history[name];
    history[name] = function (...args) {
      const result = original.apply(this, args);
      observer.disconnect(); sync(null); observe();
      return result;
    };
  }
  window.addEventListener("popstate", () => { observer.disconnect(); sync(null); observe(); });
  document.documentElement.lang = language();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => { sync(null); observe(); });
  } else { sync(null); observe(); }
})();
