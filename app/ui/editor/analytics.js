// Managers' dashboard: KPIs and inline SVG charts drawn here (no chart library, nothing fetched from outside).
"use strict";
(() => {
  const { esc, api, svg } = Parley;
  const $ = (s) => document.querySelector(s);
  const COLORS = ["#4f46e5", "#12b76a", "#f04438", "#f79009", "#0ba5ec", "#7a5af8"];
  const fmt = (v, unit = "") => v === null || v === undefined ? "—" : `${v}${unit}`;
  const pct = (part, whole) => whole ? Math.round(1000 * part / whole) / 10 : null;
  const REASONS = {};  // reason -> label, from GET /api/vocabulary (app/vocabulary.py)
  const dur = (s) => s === null || s === undefined ? "—" : s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;

  // Integer ticks that never repeat (a max of 3 gives 0 1 2 3, not 0 1 2 2 3).
  function ticks(max) {
    const step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000].find((s) => max / s <= 5) || Math.ceil(max / 5);
    const top = Math.max(step, Math.ceil(max / step) * step), out = [];
    for (let v = 0; v <= top; v += step) out.push(v);
    return out;
  }

  // One line per series. Lines that coincide stay visible: each is narrower than the one below it (a
  // wide pale band, a solid line, a thin dashed one on top), so the lower ones show at both edges.
  const LINE_STYLES = [
    { width: 9, opacity: 0.35, dash: null, marker: "circle" },
    { width: 4, opacity: 1, dash: null, marker: "square" },
    { width: 1.75, opacity: 1, dash: "5 4", marker: "diamond" },
  ];
  function marker(shape, cx, cy, color) {
    if (shape === "square") return svg("rect", { x: cx - 3, y: cy - 3, width: 6, height: 6, fill: color });
    if (shape === "diamond") return svg("path", { d: `M${cx} ${cy - 4}L${cx + 4} ${cy}L${cx} ${cy + 4}L${cx - 4} ${cy}Z`, fill: "#fff", stroke: color, "stroke-width": 1.5 });
    return svg("circle", { cx, cy, r: 4, fill: color, "fill-opacity": 0.5 });
  }
  function lines(el, dates, series) {
    const W = 560, H = 230, L = 40, R = 14, B = 26, T = 10;
    const grid = ticks(Math.max(1, ...series.flatMap((s) => s.values))), max = grid[grid.length - 1];
    const x = (i) => L + (dates.length > 1 ? i * (W - L - R) / (dates.length - 1) : (W - L - R) / 2), y = (v) => T + (H - T - B) * (1 - v / max);
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "conversations per day" });
    for (const v of grid) {
      s.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#eaecf0" }), svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#667085" }, String(v)));
    }
    const every = Math.max(1, Math.ceil(dates.length / 7));
    dates.forEach((d, i) => {
      if (i % every && i !== dates.length - 1) return;
      if (i === dates.length - 1 && i % every && i - Math.floor(i / every) * every < every / 2) return;  // too close to the previous label
      const anchor = dates.length === 1 ? "middle" : i === 0 ? "start" : i === dates.length - 1 ? "end" : "middle";
      s.append(svg("text", { x: x(i), y: H - 7, "text-anchor": anchor, "font-size": 11, fill: "#667085" }, d.slice(5)));
    });
    series.forEach((ser, k) => {
      const st = LINE_STYLES[k % LINE_STYLES.length], color = ser.color || COLORS[k];
      const line = svg("polyline", { points: ser.values.map((v, i) => `${x(i)},${y(v)}`).join(" "), fill: "none", stroke: color, "stroke-width": st.width,
        "stroke-opacity": st.opacity, "stroke-linejoin": "round", "stroke-linecap": "round", "data-series": ser.name });
      if (st.dash) line.setAttribute("stroke-dasharray", st.dash);
      s.append(line);
      if (dates.length <= 40) ser.values.forEach((v, i) => { const m = marker(st.marker, x(i), y(v), color); m.append(svg("title", {}, `${dates[i]}: ${v} ${ser.name}`)); s.append(m); });
    });
    el.replaceChildren(s);
  }

  // Horizontal bars on a stated axis (0..max, 100 for percentages), the label above each bar so no
  // label is ever cut, the value at the bar's end, and an axis with its ticks under the bars.
  function bars(el, items, { unit = "%", max = 100, colour = null, axis = true } = {}) {
    if (!items.length) { el.replaceChildren(Object.assign(document.createElement("p"), { className: "muted", textContent: "No data in this period." })); return; }
    const W = 560, row = 42, L = 4, R = 64, top = Math.max(1, max), track = W - L - R, H = items.length * row + (axis ? 22 : 4);
    // role=img hides the bars' own <title>s from screen readers, so the picture's name carries the figures.
    const said = items.map((it) => `${it.label}: ${it.value === null || it.value === undefined ? "no data" : it.value + unit}`);
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": said.join("; ") });
    const grid = svg("g", { class: "axis" }), rows = svg("g");
    s.append(grid, rows);  // the axis first, so its lines run under the bars, never across them
    items.forEach((it, k) => {
      const y0 = 4 + k * row, v = it.value, w = v === null || v === undefined ? 0 : Math.min(1, Math.max(0, v / top)) * track;
      const color = it.color || (colour ? colour(v) : COLORS[k % COLORS.length]);
      rows.append(svg("text", { x: L, y: y0 + 12, "font-size": 13, fill: "#344054" }, it.label));
      rows.append(svg("rect", { x: L, y: y0 + 18, width: track, height: 16, rx: 4, fill: "#f2f4f7", "fill-opacity": 0.7 }));
      const bar = svg("rect", { x: L, y: y0 + 18, width: w, height: 16, rx: 4, fill: color, "data-label": it.label, "data-value": v ?? "" });
      bar.append(svg("title", {}, `${it.label}: ${v === null || v === undefined ? "no data" : v + unit}`));
      rows.append(bar);
      rows.append(svg("text", { x: L + track + 8, y: y0 + 31, "font-size": 13, "font-weight": 600, fill: "#344054" }, v === null || v === undefined ? "—" : `${v}${unit}`));
    });
    if (axis) {
      const yA = items.length * row + 6;
      for (const f of [0, 0.25, 0.5, 0.75, 1]) {
        const xx = L + f * track, label = `${Math.round(top * f * 10) / 10}${unit}`;
        if (f > 0) grid.append(svg("line", { x1: xx, x2: xx, y1: 18, y2: yA, stroke: "#d0d5dd", "stroke-dasharray": "2 3" }));
        grid.append(svg("text", { x: xx, y: yA + 12, "font-size": 11, fill: "#667085", "text-anchor": f === 0 ? "start" : f === 1 ? "end" : "middle" }, label));
      }
    }
    el.replaceChildren(s);
  }
  // CSAT by meaning: 80 % and up is good (green), under 60 % bad (red), amber between.
  const csatColour = (v) => v === null || v === undefined ? "#d0d5dd" : v >= 80 ? "#12b76a" : v >= 60 ? "#f79009" : "#f04438";

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
    lines($("#c-conv"), a.series.dates, [{ name: "conversations", values: a.series.conversations, color: COLORS[0] },
      { name: "self-served", values: a.series.self_service, color: COLORS[1] }, { name: "escalated", values: a.series.escalated, color: COLORS[2] }]);
    bars($("#c-esc"), Object.entries(a.escalation_rate_by_reason).sort((p, q) => q[1] - p[1]).map(([k, v]) => ({
      label: `${(REASONS[k] || k.replace(/_/g, " ")).toLowerCase()} (${a.escalations_by_reason[k]})`, value: v, color: "#f04438" })));
    const served = a.self_service_confirmed + a.self_service_assumed;
    bars($("#c-self"), [{ label: `confirmed: the customer said it helped (${a.self_service_confirmed})`, value: pct(a.self_service_confirmed, a.conversations), color: "#12b76a" },
      { label: `assumed: left without a complaint (${a.self_service_assumed})`, value: pct(a.self_service_assumed, a.conversations), color: "#6ce9a6" },
      { label: `self-served in all (${served})`, value: pct(served, a.conversations), color: "#027a48" }]);
    const n = a.csat.counts || {};
    bars($("#c-csat"), [{ label: `overall (${a.csat.ratings} ratings)`, value: a.csat.overall }, { label: `bot only (${n.bot_only ?? 0})`, value: a.csat.bot_only },
      { label: `bot → human (${n.bot_to_human ?? 0})`, value: a.csat.bot_to_human }, { label: `human only (${n.human ?? 0})`, value: a.csat.human }], { colour: csatColour });
    $("#top").innerHTML = `<tr><th>Article</th><th class="n">Views</th><th class="n">Helpful</th><th class="n">Not helpful</th><th class="n">Helpfulness</th></tr>` +
      (a.top_articles.map((t) => `<tr><td><a href="/editor#${esc(t.article_id)}">${esc(t.title)}</a></td><td class="n">${t.views}</td><td class="n">${t.helpful}</td><td class="n">${t.not_helpful}</td><td class="n">${fmt(t.helpfulness, "%")}</td></tr>`).join("")
        || `<tr><td colspan="5" class="muted">No bot answers in this period.</td></tr>`);
  }
  Parley.start(() => {
    const today = new Date(), past = new Date(Date.now() - 29 * 864e5), iso = (d) => d.toISOString().slice(0, 10);
    $("#since").value = iso(past); $("#until").value = iso(today);
    $("#apply").onclick = load;
    api("/api/vocabulary").then((v) => Object.assign(REASONS, v.reasons)).catch(() => {}).finally(load);
  });
})();
