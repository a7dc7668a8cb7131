// The article editor: list, edit with live preview, try it, publish/archive, history with diff and restore, import.
"use strict";
(() => {
  const { esc, api, toast, when } = Parley;
  const $ = (s, el = document) => el.querySelector(s);
  let articles = [], current = null, previewTimer = null, dirty = false;

  async function loadList() {
    articles = await api("/api/articles");
    renderList();
  }
  function renderList() {
    const q = $("#search").value.trim().toLowerCase(), st = $("#filter").value;
    const shown = articles.filter((a) => (!st || a.status === st) && (!q || (a.title + " " + a.body + " " + a.id).toLowerCase().includes(q)));
    const groups = {};
    for (const a of shown) (groups[a.category || "Uncategorised"] ||= []).push(a);
    $("#list").innerHTML = Object.keys(groups).sort().map((cat) => `<div class="cat">${esc(cat)}</div>` + groups[cat].map((a) =>
      `<a href="#${esc(a.id)}" data-id="${esc(a.id)}" class="${current && current.id === a.id ? "on" : ""}"><span class="t">${esc(a.title)}</span>
       <span class="m"><span class="badge ${esc(a.status)}">${esc(a.status)}</span> v${a.version} · ${esc(when(a.updated_at))}</span></a>`).join("")).join("")
      || `<div class="empty">No articles match.</div>`;
  }

  function formHtml(a, isNew) {
    const cats = [...new Set(articles.map((x) => x.category).filter(Boolean))].sort();
    return `
    <div class="head"><h1 id="h-title">${esc(isNew ? "New article" : a.title)}</h1>
      ${isNew ? "" : `<span class="badge ${esc(a.status)}" id="status">${esc(a.status)}</span><span class="muted">v${a.version}</span>
      <a class="btn sm" href="/kb/${esc(a.id)}" target="_blank" rel="noopener" ${a.status === "published" ? "" : "hidden"}>View live ↗</a>`}
      <button class="btn" id="save" type="button">${isNew ? "Create draft" : "Save"}</button>
      ${isNew ? "" : `${a.status !== "published" ? `<button class="btn ok" id="publish" type="button">Publish</button>` : ""}
      ${a.status !== "archived" ? `<button class="btn danger" id="archive" type="button">Archive</button>` : ""}`}
    </div>
    <div class="card">
      <div class="grid3">
        <div class="field"><label for="f-title">Title</label><input id="f-title" type="text" value="${esc(a.title)}"></div>
        <div class="field"><label for="f-category">Category</label><input id="f-category" type="text" list="cats" value="${esc(a.category || "")}">
          <datalist id="cats">${cats.map((c) => `<option value="${esc(c)}">`).join("")}</datalist></div>
        <div class="field"><label for="f-id">Article id</label><input id="f-id" type="text" value="${esc(a.id || "")}" ${isNew ? 'placeholder="from the title"' : "disabled"}></div>
      </div>
      <div class="grid2">
        <div class="field"><label for="f-questions">Example questions <small class="muted">(one per line)</small></label>
          <textarea id="f-questions" rows="4">${esc((a.questions || []).join("\n"))}</textarea>
          <div class="hint">How customers ask it. They are matched alongside the article body.</div></div>
        <div class="field"><label for="f-tags">Tags <small class="muted">(comma separated)</small></label><input id="f-tags" type="text" value="${esc((a.tags || []).join(", "))}"></div>
      </div>
      <div class="grid2">
        <div class="field"><label for="f-body">Body (Markdown)</label><textarea id="f-body" class="body">${esc(a.body)}</textarea></div>
        <div class="field"><label>Preview</label><div class="preview" id="preview" tabindex="0" role="region" aria-label="Preview"></div></div>
      </div>
    </div>
    <div class="card">
      <div class="tabs"><button type="button" class="on" data-tab="try">Try it</button>${isNew ? "" : `<button type="button" data-tab="history">History</button>`}</div>
      <div data-pane="try">
        <form id="try-form" class="row"><div class="grid2"><input id="try-text" type="text" placeholder="Type a customer question, e.g. “how long does a refund take?”" aria-label="Customer question">
          <div><button class="btn primary" type="submit">Ask the bot</button></div></div></form>
        <div class="tryout" id="tryout"></div>
      </div>
      <div data-pane="history" hidden><div class="grid2"><ul class="versions" id="versions"></ul><div id="diff"><p class="muted">Choose a version to see what changed.</p></div></div></div>
    </div>`;
  }

  function fields() {
    return {
      title: $("#f-title").value.trim(), category: $("#f-category").value.trim() || null, body: $("#f-body").value,
      questions: $("#f-questions").value.split("\n").map((s) => s.trim()).filter(Boolean),
      tags: $("#f-tags").value.split(",").map((s) => s.trim()).filter(Boolean),
    };
  }

  async function open(id) {
    if (id === null) { current = { id: "", title: "", body: "", questions: [], tags: [], category: "", status: "draft", isNew: true }; }
    else current = await api(`/api/articles/${encodeURIComponent(id)}`);
    dirty = false;
    $("#main").innerHTML = formHtml(current, !!current.isNew);
    renderList(); bind(); preview();
  }

  function bind() {
    const m = $("#main");
    m.addEventListener("input", (ev) => {
      if (ev.target.id === "try-text") return;
      dirty = true;
      if (ev.target.id === "f-body") { clearTimeout(previewTimer); previewTimer = setTimeout(preview, 200); }
      if (ev.target.id === "f-title") $("#h-title").textContent = ev.target.value || "Untitled";
    });
    $("#save").onclick = save;
    if ($("#publish")) $("#publish").onclick = () => setStatus("published");
    if ($("#archive")) $("#archive").onclick = () => setStatus("archived");
    $("#try-form").onsubmit = (ev) => { ev.preventDefault(); tryIt(); };
    m.querySelectorAll(".tabs button").forEach((b) => b.onclick = () => {
      m.querySelectorAll(".tabs button").forEach((x) => x.classList.toggle("on", x === b));
      m.querySelectorAll("[data-pane]").forEach((p) => p.hidden = p.dataset.pane !== b.dataset.tab);
      if (b.dataset.tab === "history") history();
    });
  }

  async function preview() {
    const body = $("#f-body").value;
    const { html } = await api("/api/articles/render", { method: "POST", json: { body } });  // rendered server-side, raw HTML escaped
    $("#preview").innerHTML = html || '<p class="muted">Nothing to preview yet.</p>';
  }

  async function save() {
    const f = fields();
    if (!f.title) return toast("The title is required", true);
    try {
      if (current.isNew) {
        const id = $("#f-id").value.trim();
        const a = await api("/api/articles", { method: "POST", json: { ...f, ...(id ? { id } : {}), status: "draft" } });
        toast("Draft created"); await loadList(); location.hash = a.id; return open(a.id);
      }
      const a = await api(`/api/articles/${encodeURIComponent(current.id)}`, { method: "PATCH", json: { ...f, base_version: current.version } });
      toast(a.version === current.version ? "No changes to save" : `Saved as version ${a.version}`);
      await loadList(); return open(a.id);
    } catch (e) { toast(e.message, true); }
  }

  async function setStatus(status) {
    try {
      if (dirty) await api(`/api/articles/${encodeURIComponent(current.id)}`, { method: "PATCH", json: { ...fields(), base_version: current.version } });
      const a = await api(`/api/articles/${encodeURIComponent(current.id)}/status`, { method: "POST", json: { status } });
      toast(status === "published" ? "Published: the bot can answer with it now" : "Archived: the bot no longer uses it");
      await loadList(); open(a.id);
    } catch (e) { toast(e.message, true); }
  }

  function resultHtml(title, r) {
    const max = Math.max(...r.candidates.map((c) => c.score), 0.01);
    return `<div class="result" data-against="${esc(r.against)}"><h3>${esc(title)}</h3>
      <div><span class="badge ${esc(r.action)}">${esc(r.action)}</span>${r.reason ? ` <span class="muted">${esc(r.reason.replace(/_/g, " "))}</span>` : ""}
      <span class="conf"> · confidence ${r.confidence.toFixed(2)}</span></div>
      ${r.article_id ? `<div class="art">→ ${esc(r.article_title)} <span class="muted">(${esc(r.article_id)})</span></div>` : ""}
      ${r.suggestions.length ? `<div class="muted">Did you mean: ${r.suggestions.map((s) => esc(s.title)).join(" · ")}</div>` : ""}
      <div class="sees"></div>
      <ul class="cands">${r.candidates.map((c) => `<li class="${c.draft ? "draft" : ""}"><span class="bar"><i data-w="${Math.round(100 * c.score / max)}"></i></span>
        <span class="sc">${c.score.toFixed(2)}</span><span class="name">${esc(c.title)}${c.draft ? " (this draft)" : ""}</span></li>`).join("")}</ul></div>`;
  }

  // The bot's reply as the widget shows it: the answer's HTML through the same allowlist, the rest
  // of the section behind "Show more", the options and the offer of a person.
  function customerView(r) {
    const box = document.createElement("div"); box.className = "sees";
    const label = document.createElement("div"); label.className = "sees-h"; label.textContent = "What the customer reads";
    const bubble = document.createElement("div"); bubble.className = "bubble";
    if (r.article_title) { const a = document.createElement("div"); a.className = "bubble-art"; a.textContent = r.article_title; bubble.append(a); }
    if (r.html) bubble.append(ParleyRich.render(r.html));
    else { const t = document.createElement("div"); t.className = "plain"; t.textContent = r.text; bubble.append(t); }
    if (r.more_html) {
      const rest = ParleyRich.render(r.more_html), more = document.createElement("button");
      rest.hidden = true; more.type = "button"; more.className = "more"; more.textContent = "Show more";
      more.onclick = () => { rest.hidden = !rest.hidden; more.textContent = rest.hidden ? "Show more" : "Show less"; };
      bubble.append(rest, more);
    }
    box.append(label, bubble);
    const chips = r.suggestions.map((s) => s.title);
    if (r.action === "clarify") chips.push("None of these — talk to a person");
    if (r.action === "no_answer") chips.push("Talk to a person");
    if (chips.length) {
      const row = document.createElement("div"); row.className = "chips";
      for (const c of chips) { const b = document.createElement("span"); b.className = "chip"; b.textContent = c; row.append(b); }
      box.append(row);
    }
    return box;
  }

  async function tryIt() {
    const text = $("#try-text").value.trim();
    if (!text) return;
    const f = fields();
    const draft = { title: f.title || "Untitled", body: f.body, questions: f.questions, ...(current.isNew ? ($("#f-id").value.trim() ? { id: $("#f-id").value.trim() } : {}) : { id: current.id }) };
    $("#tryout").innerHTML = '<p class="muted">Asking…</p>';
    try {
      const [pub, withDraft] = await Promise.all([
        api("/api/articles/try", { method: "POST", json: { text } }),
        api("/api/articles/try", { method: "POST", json: { text, draft } }),
      ]);
      $("#tryout").innerHTML = resultHtml("Published articles", pub) + resultHtml("With this draft", withDraft);
      $("#tryout").querySelectorAll(".sees").forEach((el, i) => el.replaceWith(customerView([pub, withDraft][i])));
      $("#tryout").querySelectorAll(".bar i").forEach((i) => i.style.width = i.dataset.w + "%");
    } catch (e) { $("#tryout").innerHTML = `<p class="muted">${esc(e.message)}</p>`; }
  }

  async function history() {
    const versions = await api(`/api/articles/${encodeURIComponent(current.id)}/versions`);
    $("#versions").innerHTML = versions.map((v) => `<li data-v="${v.version}"><span class="v">v${v.version}</span>
      <span class="who">${esc(v.author || "import")}<br><span class="when">${esc(when(v.created_at))}</span></span>
      <span>${v.changed.map((c) => `<span class="chg">${esc(c)}</span>`).join("")}</span></li>`).join("");
    $("#versions").querySelectorAll("li").forEach((li) => li.onclick = () => showDiff(+li.dataset.v, versions));
  }

  async function showDiff(v, versions) {
    $("#versions").querySelectorAll("li").forEach((li) => li.classList.toggle("on", +li.dataset.v === v));
    const from = v > 1 ? v - 1 : v;
    const d = await api(`/api/articles/${encodeURIComponent(current.id)}/diff?from=${from}&to=${v}`);
    const isCurrent = v === current.version;
    const lines = (ls) => ls.map((l) => `<div class="${l.startsWith("+") ? "add" : l.startsWith("-") ? "del" : l.startsWith("@@") ? "hunk" : ""}">${esc(l)}</div>`).join("");
    $("#diff").innerHTML = `<div class="head"><h1 class="sm">Version ${v}${v > 1 ? ` <small class="muted">compared with v${from}</small>` : " (first version)"}</h1>
      ${isCurrent ? '<span class="muted">current</span>' : `<button class="btn sm" id="restore" type="button">Restore v${v}</button>`}</div>
      ${v === 1 ? `<div class="diff">${lines(versions.find((x) => x.version === 1).body.split("\n").map((l) => "+" + l))}</div>` :
      (d.changes.map((c) => `<div><b>${esc(c.field)}</b>${c.lines.length ? `<div class="diff">${lines(c.lines)}</div>` :
        `: <span class="del">${esc(c.before ?? "—")}</span> → <span class="add">${esc(c.after ?? "—")}</span>`}</div>`).join("") || '<p class="muted">No changes.</p>')}`;
    if ($("#restore")) $("#restore").onclick = async () => {
      const a = await api(`/api/articles/${encodeURIComponent(current.id)}/versions/${v}/restore`, { method: "POST" });
      toast(`Restored version ${v} as version ${a.version}`); await loadList(); await open(a.id);
      $("#main").querySelector('[data-tab="history"]').click();
    };
  }

  function importDialog() {
    const m = $("#import-modal"); m.hidden = false; $("#imp-report").innerHTML = "";
    $("#imp-format").onchange = () => $("#imp-map-row").hidden = $("#imp-format").value !== "csv";
    $("#imp-close").onclick = () => { m.hidden = true; };
    $("#imp-go").onclick = async () => {
      const file = $("#imp-file").files[0];
      if (!file) return toast("Choose a file first", true);
      const fmt = $("#imp-format").value, params = new URLSearchParams({ format: fmt, filename: file.name });
      if (fmt === "csv") {
        const map = ["question", "answer", "category"].map((k) => [k, $("#map-" + k).value.trim()]).filter(([, v]) => v).map(([k, v]) => `${k}=${v}`).join(",");
        if (map) params.set("map", map);
      }
      const bar = m.querySelector(".progress"); bar.hidden = false; const fill = bar.querySelector("i");
      // Upload progress through XHR (fetch has no upload progress); the server then stores and indexes.
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/articles/import?" + params); xhr.withCredentials = true; xhr.setRequestHeader("X-Requested-With", "parley-editor");
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) fill.style.width = Math.round(60 * e.loaded / e.total) + "%"; };
      xhr.onload = async () => {
        fill.style.width = "100%";
        let r; try { r = JSON.parse(xhr.responseText); } catch { r = { detail: xhr.responseText }; }
        if (xhr.status !== 200) { $("#imp-report").innerHTML = `<p class="skip">${esc(r.detail || xhr.statusText)}</p>`; return; }
        $("#imp-report").innerHTML = `<p><b>${r.created.length}</b> created · <b>${r.updated.length}</b> updated · <b>${r.unchanged.length}</b> unchanged · <b>${r.skipped.length}</b> skipped${r.rejected ? " — <span class='skip'>the file was rejected</span>" : ""}</p>
          <ul>${[...r.created, ...r.updated].slice(0, 12).map((i) => `<li>${esc(i.outcome)}: ${esc(i.title)}</li>`).join("")}
          ${r.skipped.map((s) => `<li class="skip">${esc(s)}</li>`).join("")}</ul>`;
        await loadList();
      };
      xhr.send(file);
    };
  }

  Parley.start(async () => {
    await loadList();
    $("#search").oninput = renderList; $("#filter").onchange = renderList;
    $("#new").onclick = () => { location.hash = ""; open(null); };
    $("#import").onclick = importDialog;
    $("#list").addEventListener("click", (ev) => { const a = ev.target.closest("a[data-id]"); if (a) { ev.preventDefault(); location.hash = a.dataset.id; open(a.dataset.id); } });
    const id = decodeURIComponent(location.hash.slice(1));
    if (id && articles.some((a) => a.id === id)) open(id);
  });
})();
