// Unhappy customers: why each is on the list, the transcript one click away, and a follow-up action.
// Every value from the server is put into the page as text (textContent), never as HTML.
"use strict";
(() => {
  const { api, toast, when } = Parley;
  const $ = (s, el = document) => el.querySelector(s);
  const KIND = { low_rating: "Rated low", frustration: "Frustrated", repeated_failure: "Failed twice", recontact: "Came back" };
  const PAGE = 25;
  let offset = 0, agents = [];

  function el(tag, attrs = {}, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined) continue;
      if (k === "text") n.textContent = v; else if (k.startsWith("on")) n[k] = v; else n.setAttribute(k, v);
    }
    n.append(...kids.filter((k) => k !== null && k !== undefined));
    return n;
  }

  function who(e) {
    if (e.sender === "agent") return (e.data.agent && e.data.agent.name) || "Agent";
    return { customer: "Customer", bot: "Bot", system: "Desk" }[e.sender] || e.sender;
  }

  async function transcript(item, box) {
    if (!box.hidden) { box.hidden = true; return; }
    box.hidden = false; box.replaceChildren(el("p", { class: "muted", text: "Loading the transcript…" }));
    try {
      const c = await api(`/api/cases/${item.case_id}`);
      const lines = c.transcript.filter((e) => ["message", "handoff", "note", "rating", "feedback"].includes(e.kind)).map((e) => {
        let text = e.text;
        if (e.kind === "rating") text = `rated ${e.data.score} of 5` + (e.text ? `: “${e.text}”` : "");
        if (e.kind === "feedback") text = `marked the answer ${e.data.helpful ? "helpful" : "not helpful"}`;
        let body = el("span", { class: "x", text });
        if (e.sender === "bot" && e.data && typeof e.data.html === "string") {  // the article as the customer saw it,
          body = el("div", { class: "x md" }); body.innerHTML = e.data.html;      // rendered by knowledge_base/render.py
        }
        return el("li", { class: `ln ${e.sender} ${e.kind}` }, el("span", { class: "w", text: `${when(e.created_at)} · ${who(e)}${e.kind === "note" ? " (internal note)" : ""}` }),
          body);
      });
      box.replaceChildren(el("ol", { class: "transcript" }, ...lines));
    } catch (e) { box.replaceChildren(el("p", { class: "err", text: e.message })); }
  }

  async function followUp(item, select, row) {
    const agentId = select.value ? Number(select.value) : null;
    try {
      const r = await api(`/api/unhappy/${item.case_id}/follow-up`, { method: "POST", json: { agent_id: agentId } });
      toast(r.status === "assigned" ? `Follow-up case #${r.case_id} assigned` : `Follow-up case #${r.case_id} is in the queue`);
      row.querySelectorAll("button.follow, select").forEach((b) => { b.disabled = true; });
      $(".state", row).textContent = r.status === "assigned" ? "follow-up assigned" : "follow-up queued";
    } catch (e) { toast(e.message, true); }
  }

  function row(item) {
    const reasons = el("div", { class: "why" }, ...item.reasons.map((r) => el("div", { class: `reason ${r.kind}` },
      el("b", { text: KIND[r.kind] || r.kind }), " ", el("span", { text: r.detail }), " ", el("span", { class: "muted", text: "· " + when(r.at) }))));
    const pick = el("select", { "aria-label": "Follow up with" }, el("option", { value: "", text: "Back to the queue" }),
      ...agents.map((a) => el("option", { value: a.id, text: `${a.name} (${a.active_cases}/${a.capacity})` })));
    const box = el("div", { class: "tx", hidden: "" });
    const tr = el("tr", { "data-case": item.case_id },
      el("td", {}, el("div", { class: "cust", text: item.customer || "Anonymous visitor" }),
        el("div", { class: "muted", text: `case #${item.case_id} · ${item.escalation_reason.replace(/_/g, " ")}` })),
      el("td", {}, reasons, box),
      el("td", {}, el("div", { text: item.agent_name || "—" }), el("div", { class: "muted state", text: item.status })),
      el("td", {}, el("div", { class: "acts" },
        el("button", { class: "btn sm", type: "button", onclick: () => transcript(item, box), text: "Transcript" }),
        el("a", { class: "btn sm", href: item.console_url, text: "Open in console" }),
        item.can_follow_up ? pick : el("span", { class: "muted", text: `with ${item.conversation_status === "queued" ? "the queue" : "an agent"} now` }),
        item.can_follow_up ? el("button", { class: "btn primary sm follow", type: "button", text: "Follow up" }) : null)));
    const btn = $("button.follow", tr);
    if (btn) btn.onclick = () => followUp(item, pick, tr);
    return tr;
  }

  async function load() {
    const q = new URLSearchParams({ days: $("#days").value, recontact_days: $("#recontact_days").value, limit: PAGE, offset });
    if ($("#kind").value) q.set("kind", $("#kind").value);
    const page = await api("/api/unhappy?" + q);
    $("#summary").textContent = `${page.total} case${page.total === 1 ? "" : "s"}`;
    $("#rows").replaceChildren(el("tr", {}, ...["Customer", "Why", "Agent", ""].map((h) => el("th", { text: h }))),
      ...(page.items.length ? page.items.map(row) : [el("tr", {}, el("td", { colspan: 4, class: "muted", text: "No unhappy customers in this period." }))]));
    $("#page").textContent = page.total ? `${offset + 1}–${offset + page.items.length} of ${page.total}` : "";
    $("#prev").disabled = offset === 0;
    $("#next").disabled = offset + page.items.length >= page.total;
  }

  Parley.start(async () => {
    try { agents = await api("/api/console/agents"); } catch (e) { agents = []; }
    $("#filters").onchange = () => { offset = 0; load(); };
    $("#prev").onclick = () => { offset = Math.max(0, offset - PAGE); load(); };
    $("#next").onclick = () => { offset += PAGE; load(); };
    load();
  }, ["agent", "admin"]);
})();
