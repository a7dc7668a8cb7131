// Managers' dashboard: KPIs and inline SVG charts drawn here (no chart library, nothing fetched from outside).
"use strict";
(() => {
  const { esc, api, svg } = Parley;
  const $ = (s) => document.querySelector(s);
  const COLORS = ["#4f46e5", "#12b76a", "#f04438", "#f79009", "#0ba5ec", "#7a5af8"];
  const fmt = (v, unit = "") => v === null || v === undefined ? "—" : `${v}${unit}`;
  const dur = (s) => s === null || s === undefined ? "—" : s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;

  function lines(el, dates, series) {
    const W = 560, H = 220, L = 34, B = 24, T = 8, max = Math.max(1, ...series.flatMap((s) => s.values));
    const x = (i) => L + (dates.length > 1 ? i * (W - L - 8) / (dates.length - 1) : (W - L) / 2), y = (v) => T + (H - T - B) * (1 - v / max);
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "conversations per day" });
    for (let k = 0; k <= 4; k++) {
      const v = Math.round(max * k / 4), yy = y(max * k / 4);
      s.append(svg("line", { x1: L, x2: W - 4, y1: yy, y2: yy, stroke: "#eaecf0" }), svg("text", { x: L - 6, y: yy + 4, "text-anchor": "end", "font-size": 10, fill: "#667085" }, String(v)));
    }
    const every = Math.max(1, Math.ceil(dates.length / 7));
    dates.forEach((d, i) => { if (i % every === 0 || i === dates.length - 1) s.append(svg("text", { x: x(i), y: H - 6, "text-anchor": "middle", "font-size": 10, fill: "#667085" }, d.slice(5))); });
    series.forEach((ser, k) => {
      s.append(svg("polyline", { points: ser.values.map((v, i) => `${x(i)},${y(v)}`).join(" "), fill: "none", stroke: COLORS[k], "stroke-width": 2, "stroke-linejoin": "round" }));
      ser.values.forEach((v, i) => { const c = svg("circle", { cx: x(i), cy: y(v), r: dates.length > 40 ? 0 : 2.5, fill: COLORS[k] }); c.append(svg("title", {}, `${dates[i]}: ${v} ${ser.name}`)); s.append(c); });
    });
    el.replaceChildren(s);
  }

  function bars(el, items, unit = "%", max = null) {
    if (!items.length) { el.innerHTML = '<p class="muted">No data in this period.</p>'; return; }
    const W = 560, row = 30, H = items.length * row + 6, L = 150, top = max ?? Math.max(1, ...items.map((i) => i.value || 0));
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
    items.forEach((it, k) => {
      const y = 4 + k * row, w = ((it.value || 0) / top) * (W - L - 60);
      s.append(svg("text", { x: L - 8, y: y + 17, "text-anchor": "end", "font-size": 12, fill: "#344054" }, it.label));
      s.append(svg("rect", { x: L, y: y + 4, width: W - L - 60, height: 18, rx: 4, fill: "#f2f4f7" }));
      s.append(svg("rect", { x: L, y: y + 4, width: Math.max(0, w), height: 18, rx: 4, fill: it.color || COLORS[k % COLORS.length] }));
      s.append(svg("text", { x: L + Math.max(0, w) + 6, y: y + 17, "font-size": 12, fill: "#344054" }, it.value === null ? "—" : `${it.value}${unit}`));
    });
    el.replaceChildren(s);
  }

  async function load() {
    const q = new URLSearchParams();
    if ($("#since").value) q.set("since", $("#since").value);
    if ($("#until").value) q.set("until", $("#until").value);
    const a = await api("/api/analytics?" + q);
    $("#csv").href = "/api/analytics.csv?" + q;
    const kpi = (l, n, s) => `<div class="kpi"><div class="l">${esc(l)}</div><div class="n">${esc(n)}</div><div class="s">${esc(s)}</div></div>`;
    $("#kpis").innerHTML = [
      kpi("Conversations", a.conversations, `${a.since.slice(0, 10)} → ${a.until.slice(0, 10)}`),
      kpi("Self-service rate", fmt(a.self_service_rate, "%"), `${a.self_service_confirmed} confirmed · ${a.self_service_assumed} assumed`),
      kpi("Escalation rate", fmt(a.escalation_rate, "%"), `${a.escalations} escalations`),
      kpi("CSAT", fmt(a.csat.overall, "%"), `${a.csat.ratings} ratings · avg ${fmt(a.csat.average)}`),
      kpi("First agent reply", dur(a.first_reply_seconds_median), `median · p90 ${dur(a.first_reply_seconds_p90)}`),
      kpi("Handle time", dur(a.handle_seconds_median), "median, claim → resolve"),
      kpi("Recontacts (7 days)", a.recontacts_7d, `${fmt(a.recontact_rate, "%")} of conversations`),
      kpi("Articles cited", a.top_articles.reduce((n, t) => n + t.views, 0), `${a.top_articles.length} distinct articles`),
    ].join("");
    lines($("#c-conv"), a.series.dates, [{ name: "conversations", values: a.series.conversations }, { name: "self-served", values: a.series.self_service }, { name: "escalated", values: a.series.escalated }]);
    bars($("#c-esc"), Object.entries(a.escalation_rate_by_reason).map(([k, v]) => ({ label: k.replace(/_/g, " "), value: v, color: "#f04438" })));
    bars($("#c-self"), [{ label: "confirmed (said it helped)", value: a.self_service_confirmed, color: "#12b76a" }, { label: "assumed (left satisfied)", value: a.self_service_assumed, color: "#6ce9a6" }], "");
    bars($("#c-csat"), [{ label: "overall", value: a.csat.overall }, { label: "bot only", value: a.csat.bot_only }, { label: "bot → human", value: a.csat.bot_to_human }, { label: "human", value: a.csat.human }], "%", 100);
    $("#top").innerHTML = `<tr><th>Article</th><th class="n">Views</th><th class="n">Helpful</th><th class="n">Not helpful</th><th class="n">Helpfulness</th></tr>` +
      (a.top_articles.map((t) => `<tr><td><a href="/editor#${esc(t.article_id)}">${esc(t.title)}</a></td><td class="n">${t.views}</td><td class="n">${t.helpful}</td><td class="n">${t.not_helpful}</td><td class="n">${fmt(t.helpfulness, "%")}</td></tr>`).join("")
        || `<tr><td colspan="5" class="muted">No bot answers in this period.</td></tr>`);
  }
  Parley.start(() => {
    const today = new Date(), past = new Date(Date.now() - 29 * 864e5), iso = (d) => d.toISOString().slice(0, 10);
    $("#since").value = iso(past); $("#until").value = iso(today);
    $("#apply").onclick = load; load();
  });
})();
