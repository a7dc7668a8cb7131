// Shared by the editor pages: session check, login form, JSON fetch, toasts, escaping.
"use strict";
const Parley = (() => {
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  async function api(path, opts = {}) {
    const init = { credentials: "same-origin", ...opts, headers: { "X-Requested-With": "parley-editor", ...(opts.headers || {}) } };
    if (opts.json !== undefined) { init.body = JSON.stringify(opts.json); init.headers["Content-Type"] = "application/json"; delete init.json; }
    const r = await fetch(path, init);
    if (r.status === 401) { showLogin(); throw new Error("not logged in"); }
    const type = r.headers.get("content-type") || "";
    const data = type.includes("json") ? await r.json() : await r.text();
    if (!r.ok) throw new Error((data && data.detail) || r.statusText);
    return data;
  }
  function toast(msg, bad) {
    let t = document.querySelector(".toast");
    if (!t) { t = document.createElement("div"); t.className = "toast"; document.body.append(t); }
    t.textContent = msg; t.classList.toggle("bad", !!bad); t.classList.add("show");
    clearTimeout(toast.timer); toast.timer = setTimeout(() => t.classList.remove("show"), 2600);
  }
  function showLogin() {
    document.querySelector("#app").hidden = true;
    const box = document.querySelector("#login"); box.hidden = false;
    box.querySelector("form").onsubmit = async (ev) => {
      ev.preventDefault();
      const f = ev.target;
      const r = await fetch("/api/auth/login", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: f.email.value, password: f.password.value }) });
      if (!r.ok) { box.querySelector(".err").textContent = r.status === 429 ? "Too many attempts; wait a minute." : "Wrong email or password."; return; }
      location.reload();
    };
  }
  async function start(main, roles = ["editor", "admin"]) {
    const r = await fetch("/api/auth/me", { credentials: "same-origin" });
    if (!r.ok) return showLogin();
    const me = await r.json();
    if (!roles.includes(me.role)) {
      showLogin(); document.querySelector("#login .err").textContent = "This page is for " + roles.join("s and ") + "s; you are logged in as " + me.role + ".";
      return;
    }
    document.querySelector("#app").hidden = false;
    document.querySelector(".who span").textContent = me.name;
    document.querySelector(".who button").onclick = async () => { await fetch("/api/auth/logout", { method: "POST", credentials: "same-origin", headers: { "X-Requested-With": "parley-editor" } }); location.reload(); };
    main(me);
  }
  const when = (iso) => new Date(iso).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  const svg = (tag, attrs = {}, text) => { const el = document.createElementNS("http://www.w3.org/2000/svg", tag); for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v); if (text !== undefined) el.textContent = text; return el; };
  return { esc, api, toast, start, when, svg };
})();
