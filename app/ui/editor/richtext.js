// Answer HTML as the widget shows it, for "Try it". The HTML comes from the server's one Markdown
// renderer (knowledge_base/render.py) and is still not trusted: it is parsed inertly and only an
// allowlist of elements is rebuilt, with no attributes but a checked link href and a cell's
// alignment; anything else becomes its text. This is a copy of rich() in widget/src/chat.js (the
// widget is built and served on its own, so the two cannot share a file): change both together.
"use strict";
const ParleyRich = (() => {
  const TAGS = /^(P|BR|HR|STRONG|EM|B|I|CODE|PRE|BLOCKQUOTE|UL|OL|LI|H[1-6]|TABLE|THEAD|TBODY|TR|TH|TD|A)$/;
  function linkHref(u) {
    try {
      const x = new URL(String(u), location.origin + "/");
      return /^(https?|mailto):$/.test(x.protocol) ? x.href : null;
    } catch { return null; }
  }
  function copy(from, to) {
    for (const n of from.childNodes) {
      if (n.nodeType === 3) { to.append(document.createTextNode(n.nodeValue)); continue; }
      if (n.nodeType !== 1) continue;
      const tag = n.tagName;
      if (!TAGS.test(tag)) { to.append(document.createTextNode(tag === "IMG" ? n.alt || "" : n.textContent)); continue; }
      const href = tag === "A" ? linkHref(n.getAttribute("href") || "") : null;
      if (tag === "A" && !href) { copy(n, to); continue; }
      let e = document.createElement(tag);
      if (href) { e.href = href; e.target = "_blank"; e.rel = "noopener noreferrer nofollow"; }
      if (tag === "TD" || tag === "TH") {
        // markdown-it writes style="text-align:right"; only that one declaration is kept (through
        // the CSSOM, which the CSP allows; a style attribute would be refused).
        const al = /^\s*(left|right|center)\s*$/i.exec(n.getAttribute("align") || "") ||
          /(?:^|;)\s*text-align\s*:\s*(left|right|center)\s*(?:;|$)/i.exec(n.getAttribute("style") || "");
        if (al) e.style.textAlign = al[1].toLowerCase();
      }
      copy(n, e);
      if (tag === "TABLE") { const w = document.createElement("div"); w.className = "tw"; w.append(e); e = w; }
      to.append(e);
    }
  }
  function render(html) {
    const box = document.createElement("div");
    box.className = "md";
    copy(new DOMParser().parseFromString(String(html), "text/html").body, box);
    return box;
  }
  return { render };
})();
