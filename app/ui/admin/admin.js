"use strict";
// The admin page: sites and their audit log. Every value from the server is set with textContent.
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("site-form");
  let sites = [];
  const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  try {  // time zone suggestions from the browser
    for (const z of Intl.supportedValuesOf("timeZone")) { const o = document.createElement("option"); o.value = z; $("f-tz-list").append(o); }
  } catch (err) { /* older browsers: type the zone */ }

  // The form's hours as the API's business_hours (null: none); the server validates them.
  function hoursFromForm() {
    const zone = form.time_zone.value.trim();
    if (!zone) return null;
    const weekly = {};
    for (const d of DAYS) {
      const text = form["h_" + d].value.trim();
      if (!text || /^closed$/i.test(text)) continue;
      weekly[d] = text.split(",").map((r) => r.trim().split(/\s*-\s*/));
    }
    return {time_zone: zone, weekly, holidays: form.holidays.value.split(/\s+/).filter(Boolean)};
  }

  function hoursToForm(hours) {
    form.time_zone.value = hours ? hours.time_zone : "";
    for (const d of DAYS) form["h_" + d].value = hours && hours.weekly[d] ? hours.weekly[d].map((r) => r.join("-")).join(", ") : "";
    form.holidays.value = hours ? hours.holidays.join("\n") : "";
  }

  function hoursCell(site) {
    if (!site.business_hours) return el("td", "always (when an agent is online)");
    const when = site.next_change ? new Date(site.next_change).toLocaleString([], {weekday: "short", hour: "2-digit", minute: "2-digit"}) : "";
    return el("td", (site.open_now ? "open now" : "closed now") + (when ? (site.open_now ? ", closes " : ", opens ") + when : "")
      + " · " + site.business_hours.time_zone);
  }

  async function api(method, path, body) {
    const r = await fetch(path, {method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Requested-With": "parley-admin"},
      body: body === undefined ? undefined : JSON.stringify(body)});
    if (r.status === 401) { location.assign("/login"); throw new Error("signed out"); }
    const data = r.status === 204 ? null : await r.json();
    if (!r.ok) {
      const d = data && data.detail;  // a refusal's reason, or the fields a malformed body got wrong
      throw new Error(Array.isArray(d) ? d.map((x) => (x.loc || []).slice(1).join(".") + ": " + x.msg).join("; ")
        : d ? String(d) : "error " + r.status);
    }
    return data;
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function button(label, onClick, name) {
    const b = el("button", label, "btn btn-sm");
    b.type = "button";
    b.setAttribute("aria-label", label + " " + name);
    b.addEventListener("click", onClick);
    return b;
  }

  function say(text) { $("status").textContent = text; }

  function showTag(site) {
    $("tag-site").textContent = site.name;
    $("tag-value").textContent = site.script_tag;
    $("tag-box").hidden = false;
  }

  function showSecret(site) {
    $("secret-site").textContent = site.name;
    $("secret-value").textContent = site.identity_secret;
    $("secret-grace").textContent = site.previous_secret_valid_until
      ? "The previous secret keeps working until " + new Date(site.previous_secret_valid_until).toLocaleString() + "."
      : "";
    $("secret-box").hidden = false;
    $("secret-box").scrollIntoView({block: "nearest"});
  }

  function renderSites() {
    const body = $("sites").querySelector("tbody");
    body.replaceChildren();
    for (const site of sites) {
      const tr = document.createElement("tr");
      const name = el("td");
      name.append(el("strong", site.name));
      const origins = el("td");
      const list = el("ul");
      for (const o of site.allowed_origins) list.append(el("li", o));
      origins.append(list);
      const actions = el("td");
      actions.append(button("Script tag", () => showTag(site), site.name),
        button("Edit", () => edit(site), site.name),
        button("Rotate secret", () => rotate(site), site.name),
        site.enabled ? button("Disable", () => setEnabled(site, false), site.name)
          : button("Enable", () => setEnabled(site, true), site.name));
      tr.append(name, el("td", site.key, "mono-cell"), origins, el("td", site.language),
        el("td", site.identity_required ? "required" : "optional"), hoursCell(site),
        el("td", site.enabled ? "enabled" : "disabled", site.enabled ? "" : "off"), actions);
      body.append(tr);
    }
    if (!sites.length) {
      const tr = document.createElement("tr");
      const td = el("td", "No sites yet: add one below.");
      td.colSpan = 8;
      tr.append(td);
      body.append(tr);
    }
  }

  function renderAudit(entries) {
    const body = $("audit").querySelector("tbody");
    body.replaceChildren();
    for (const e of entries) {
      const tr = document.createElement("tr");
      const what = Object.entries(e.detail || {}).map(([k, v]) => k + ": " + JSON.stringify(v)).join("; ");
      tr.append(el("td", new Date(e.created_at).toLocaleString()), el("td", e.actor), el("td", e.action),
        el("td", e.target), el("td", what));
      body.append(tr);
    }
  }

  async function load() {
    try {
      sites = await api("GET", "/api/admin/sites");
      renderSites();
      renderAudit(await api("GET", "/api/admin/audit?limit=100"));
    } catch (err) { say(err.message); }
  }

  function resetForm() {
    form.reset();
    form.editing.value = "";
    form.key.disabled = false;
    $("form-h").textContent = "Add a site";
    $("f-submit").textContent = "Create site";
    $("f-cancel").hidden = true;
    $("form-error").textContent = "";
  }

  function edit(site) {
    form.editing.value = site.key;
    form.name.value = site.name;
    form.key.value = site.key;
    form.key.disabled = true;
    form.origins.value = site.allowed_origins.join("\n");
    form.language.value = site.language;
    form.identity_required.checked = site.identity_required;
    hoursToForm(site.business_hours);
    $("form-h").textContent = "Edit " + site.name;
    $("f-submit").textContent = "Save changes";
    $("f-cancel").hidden = false;
    form.name.focus();
  }

  async function rotate(site) {
    const hours = prompt("Hours the current secret keeps working (0 = stop it now):", "24");
    if (hours === null) return;
    try {
      showSecret(await api("POST", "/api/admin/sites/" + encodeURIComponent(site.key) + "/secret",
        {grace_hours: Number(hours) || 0}));
      say("New identity secret for " + site.name + ".");
      await load();
    } catch (err) { say(err.message); }
  }

  async function setEnabled(site, enabled) {
    try {
      await api("PATCH", "/api/admin/sites/" + encodeURIComponent(site.key), {enabled});
      say(site.name + (enabled ? " enabled." : " disabled: its widget stops."));
      await load();
    } catch (err) { say(err.message); }
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    $("form-error").textContent = "";
    const body = {name: form.name.value.trim(),
      allowed_origins: form.origins.value.split(/\s+/).filter(Boolean),
      language: form.language.value, identity_required: form.identity_required.checked,
      business_hours: hoursFromForm()};
    try {
      if (form.editing.value) {
        const site = await api("PATCH", "/api/admin/sites/" + encodeURIComponent(form.editing.value), body);
        say("Saved " + site.name + ".");
      } else {
        if (form.key.value.trim()) body.key = form.key.value.trim();
        const site = await api("POST", "/api/admin/sites", body);
        say("Created " + site.name + ".");
        showSecret(site);
        showTag(site);
      }
      resetForm();
      await load();
    } catch (err) { $("form-error").textContent = err.message; }
  });
  $("f-cancel").addEventListener("click", resetForm);
  $("secret-done").addEventListener("click", () => {
    $("secret-value").textContent = "";
    $("secret-box").hidden = true;
  });
  $("tag-copy").addEventListener("click", async () => {
    try { await navigator.clipboard.writeText($("tag-value").textContent); say("Copied."); }
    catch (err) { say("Select the tag and copy it."); }
  });
  load();
})();

// API tokens and webhooks (issue 14). Every value from the server is set with textContent too.
(function () {
  const $ = (id) => document.getElementById(id);
  async function api(method, path, body) {
    const r = await fetch(path, {method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Requested-With": "parley-admin"},
      body: body === undefined ? undefined : JSON.stringify(body)});
    const data = r.status === 204 ? null : await r.json();
    if (!r.ok) throw new Error(data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : "error " + r.status);
    return data;
  }
  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function say(text) { $("status").textContent = text; }
  function once(title, value) {
    $("once-h").textContent = title;
    $("once-value").textContent = value;
    $("once-box").hidden = false;
    $("once-box").scrollIntoView({block: "nearest"});
  }
  let users = [];

  async function loadTokens() {
    const tokens = await api("GET", "/api/admin/tokens");
    const body = $("tokens").querySelector("tbody");
    body.replaceChildren();
    for (const t of tokens) {
      const tr = document.createElement("tr");
      const who = users.find((u) => u.id === t.user_id);
      const actions = el("td");
      if (!t.revoked_at) {
        const b = el("button", "Revoke", "btn btn-sm");
        b.type = "button";
        b.setAttribute("aria-label", "Revoke " + t.name);
        b.addEventListener("click", async () => {
          try { await api("DELETE", "/api/admin/tokens/" + t.id); say("Revoked " + t.name + "."); await loadTokens(); }
          catch (err) { say(err.message); }
        });
        actions.append(b);
      }
      tr.append(el("td", t.name), el("td", t.prefix + "…", "mono-cell"), el("td", who ? who.email : String(t.user_id)),
        el("td", t.scopes.join(" ")), el("td", t.last_used_at ? new Date(t.last_used_at).toLocaleString() : "never"),
        el("td", t.revoked_at ? "revoked" : "active", t.revoked_at ? "off" : ""), actions);
      body.append(tr);
    }
  }

  async function loadHooks() {
    const hooks = await api("GET", "/api/admin/webhooks");
    const body = $("hooks").querySelector("tbody");
    body.replaceChildren();
    for (const h of hooks) {
      const tr = document.createElement("tr");
      const counts = Object.entries(h.deliveries).map(([k, v]) => v + " " + k).join(", ") || "none yet";
      const actions = el("td");
      const toggle = el("button", h.enabled ? "Disable" : "Enable", "btn btn-sm");
      toggle.type = "button";
      toggle.setAttribute("aria-label", (h.enabled ? "Disable " : "Enable ") + h.url);
      toggle.addEventListener("click", async () => {
        try { await api("PATCH", "/api/admin/webhooks/" + h.id, {enabled: !h.enabled}); await loadHooks(); }
        catch (err) { say(err.message); }
      });
      actions.append(toggle);
      tr.append(el("td", h.url, "mono-cell"), el("td", h.events.join(" ")),
        el("td", h.enabled ? "enabled" : "disabled" + (h.disabled_reason ? ": " + h.disabled_reason : ""), h.enabled ? "" : "off"),
        el("td", counts), actions);
      body.append(tr);
    }
  }

  $("token-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.target;
    $("token-error").textContent = "";
    const scopes = [...form.querySelectorAll("input[name=scope]:checked")].map((i) => i.value);
    try {
      const t = await api("POST", "/api/admin/tokens", {name: form.name.value.trim(), scopes,
        user_id: Number(form.user.value) || null});
      once("API token " + t.name, t.token);
      form.reset();
      await loadTokens();
    } catch (err) { $("token-error").textContent = err.message; }
  });
  $("hook-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.target;
    $("hook-error").textContent = "";
    try {
      const h = await api("POST", "/api/admin/webhooks", {url: form.url.value.trim(),
        events: form.events.value.split(/\s+/).filter(Boolean)});
      once("Signing secret for " + h.url, h.secret);
      form.reset();
      await loadHooks();
    } catch (err) { $("hook-error").textContent = err.message; }
  });
  $("once-done").addEventListener("click", () => { $("once-value").textContent = ""; $("once-box").hidden = true; });

  (async () => {
    try {
      users = await api("GET", "/api/admin/users");
      const select = $("t-user");
      for (const u of users.filter((u) => u.active)) {
        const o = el("option", u.email + " (" + u.role + ")");
        o.value = String(u.id);
        select.append(o);
      }
      await loadTokens();
      await loadHooks();
    } catch (err) { say(err.message); }
  })();
})();
