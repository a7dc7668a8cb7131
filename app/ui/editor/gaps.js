// Content gaps: clusters of unanswered questions, one-click draft or add-as-examples, and the outcome after publishing.
"use strict";
(() => {
  const { esc, api, toast, when, svg } = Parley;
  const $ = (s, el = document) => el.querySelector(s);
  const REASONS = { low_confidence: "low confidence", out_of_scope: "out of scope", not_helpful: "not helpful", abandoned_clarify: "abandoned clarify", not_covered: "no article", while_queued: "asked while queued" };
  let articles = [];

  function spark(values) {
    const w = 200, h = 40, max = Math.max(1, ...values), step = values.length > 1 ? w / (values.length - 1) : w;
    const s = svg("svg", { viewBox: `0 0 ${w} ${h + 2}`, width: w, height: h + 2, class: "spark", role: "img", "aria-label": "questions per day" });
    const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(h - (v / max) * (h - 4) + 1).toFixed(1)}`);
    s.append(svg("polyline", { points: `0,${h + 1} ${pts.join(" ")} ${w},${h + 1}`, fill: "#eef2ff", stroke: "none" }));
    s.append(svg("polyline", { points: pts.join(" "), fill: "none", stroke: "#4f46e5", "stroke-width": 2, "stroke-linejoin": "round" }));
    return s;
  }

  function outcome(a) {
    if (!a) return "";
    if (a.status !== "published") return `<div class="outcome same">Draft <a href="/editor#${esc(a.article_id)}">${esc(a.title)}</a> covers these questions — publish it to close the gap.</div>`;
    return `<div class="outcome ${a.went_down ? "down" : "same"}">Covered by <a href="/editor#${esc(a.article_id)}">${esc(a.title)}</a> since ${esc(when(a.since))}:
      ${a.before_per_day}/day before → ${a.after_per_day}/day after ${a.went_down ? "▼ escalations went down" : "— no drop yet"}</div>`;
  }

  async function load() {
    const days = $("#days").value, threshold = $("#threshold").value;
    const [gaps, arts] = await Promise.all([api(`/api/gaps?days=${days}&threshold=${threshold}&abandon_minutes=10`), api("/api/articles")]);
    articles = arts;
    $("#summary").textContent = `${gaps.total} question${gaps.total === 1 ? "" : "s"} in ${gaps.clusters.length} group${gaps.clusters.length === 1 ? "" : "s"}`;
    const options = articles.filter((a) => a.status !== "archived").map((a) => `<option value="${esc(a.id)}">${esc(a.title)}</option>`).join("");
    $("#gaps").innerHTML = gaps.clusters.length ? gaps.clusters.map((c, i) => `
      <article class="gap" data-i="${i}">
        <div class="count">${c.customers}<small>customer${c.customers === 1 ? "" : "s"}</small></div>
        <div><h3>“${esc(c.label)}”</h3>
          <div class="tagchips">${Object.entries(c.reasons).map(([k, v]) => `<span>${esc(REASONS[k] || k)} × ${v}</span>`).join("")}
            <span>last asked ${esc(when(c.last_seen))}</span></div>
          <ul>${c.examples.map((e) => `<li>${esc(e.question)}${e.count > 1 ? ` <span class="muted">×${e.count}</span>` : ""}</li>`).join("")}</ul>
          ${c.agent_replies.length ? `<div class="reply"><b>Agent replied:</b> ${esc(c.agent_replies[0])}</div>` : ""}
          ${outcome(c.addressed)}
        </div>
        <div class="acts"><div class="trend"></div>
          <button class="btn primary sm" data-act="draft" type="button">Create draft article</button>
          <select aria-label="Article to add the questions to"><option value="">Add to an article…</option>${options}</select>
          <button class="btn sm" data-act="add" type="button">Add questions</button></div>
      </article>`).join("") : `<div class="card empty">No gaps in this period: every question got an answer.</div>`;
    gaps.clusters.forEach((c, i) => $(`.gap[data-i="${i}"] .trend`).append(spark(c.trend)));
    $("#gaps").onclick = async (ev) => {
      const btn = ev.target.closest("button[data-act]"); if (!btn) return;
      const el = btn.closest(".gap"), c = gaps.clusters[+el.dataset.i];
      try {
        if (btn.dataset.act === "draft") {
          const a = await api("/api/gaps/draft", { method: "POST", json: { questions: c.questions, title: c.label, agent_reply: c.agent_replies[0] || null } });
          toast("Draft created"); location.href = "/editor#" + encodeURIComponent(a.id);
        } else {
          const id = el.querySelector("select").value; if (!id) return toast("Choose an article first", true);
          const a = await api("/api/gaps/add-questions", { method: "POST", json: { article_id: id, questions: c.questions } });
          toast(`Added ${c.questions.length} question(s) to “${a.title}” (v${a.version})`); load();
        }
      } catch (e) { toast(e.message, true); }
    };
  }
  // What the desk taught: suggested example questions (accept / dismiss) and the votes per article.
  // Built with textContent: a customer's question is never read as HTML.
  function node(tag, attrs = {}, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) { if (k === "text") n.textContent = v; else n.setAttribute(k, v); }
    n.append(...kids.filter((k) => k !== null && k !== undefined));
    return n;
  }
  async function loadLearned() {
    const l = await api(`/api/gaps/learned?days=${$("#days").value}`);
    const box = $("#suggestions");
    box.replaceChildren(...(l.suggestions.length ? l.suggestions.map((s) => {
      const row = node("div", { class: "sugg" },
        node("div", {}, node("q", { text: s.question }), " ",
          node("span", { class: "muted", text: `→ ` }), node("a", { href: "/editor#" + encodeURIComponent(s.article_id), text: s.title }),
          node("div", { class: "muted", text: `${s.cases.length} case${s.cases.length === 1 ? "" : "s"}${s.agents.length ? " · cited by " + s.agents.join(", ") : ""}${s.last_resolved ? " · " + when(s.last_resolved) : ""}` })),
        node("div", { class: "acts" }, node("button", { class: "btn primary sm", type: "button", "data-act": "accept", text: "Accept" }),
          node("button", { class: "btn sm", type: "button", "data-act": "dismiss", text: "Dismiss" })));
      row.querySelectorAll("button").forEach((b) => { b.onclick = async () => {
        try {
          const r = await api(`/api/gaps/learned/${b.dataset.act}`, { method: "POST", json: { article_id: s.article_id, question: s.question } });
          toast(b.dataset.act === "accept" ? `Added to “${r.title}” (v${r.version})` : "Dismissed");
          loadLearned();
        } catch (e) { toast(e.message, true); }
      }; });
      return row;
    }) : [node("p", { class: "muted", text: "Nothing yet: suggestions appear when agents resolve escalated cases with an article." })]));
    const head = node("tr", {}, ...["Article", "Answers", "Helpful", "Not helpful", "Helpfulness", "Voted down for"].map((h, i) => node("th", i && i < 5 ? { class: "n", text: h } : { text: h })));
    $("#votes").replaceChildren(head, ...(l.votes.length ? l.votes.map((v) => node("tr", {},
      node("td", {}, node("a", { href: "/editor#" + encodeURIComponent(v.article_id), text: v.title })),
      node("td", { class: "n", text: String(v.answers) }), node("td", { class: "n", text: String(v.helpful) }),
      node("td", { class: "n", text: String(v.not_helpful) }), node("td", { class: "n", text: v.helpfulness === null ? "—" : `${v.helpfulness}%` }),
      node("td", { class: "muted", text: v.unhelpful_questions.map((q) => `“${q}”`).join(" · ") }))) : [node("tr", {}, node("td", { colspan: 6, class: "muted", text: "No votes in this period." }))]));
  }
  Parley.start(() => { load(); loadLearned(); $("#days").onchange = () => { load(); loadLearned(); }; $("#threshold").onchange = load; });
})();
