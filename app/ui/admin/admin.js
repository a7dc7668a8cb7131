"use strict";
// The admin page: sites and their audit log. Every value from the server is set with textContent.
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("site-form");
  let sites = [];

  async function api(method, path, body) {
    const r = await fetch(path, {method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Requested-With": "parley-admin"},
      body: body === undefined ? undefined : JSON.stringify(body)});
    if (r.status === 401) { location.assign("/login"); throw new Error("signed out"); }
    const data = r.status === 204 ? null : await r.json();
    if (!r.ok) throw new Error(data && data.detail ? String(data.detail) : "error " + r.status);
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
        el("td", site.identity_required ? "required" : "optional"),
        el("td", site.enabled ? "enabled" : "disabled", site.enabled ? "" : "off"), actions);
      body.append(tr);
    }
    if (!sites.length) {
      const tr = document.createElement("tr");
      const td = el("td", "No sites yet: add one below.");
      td.colSpan = 7;
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
      language: form.language.value, identity_required: form.identity_required.checked};
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
