// The bot's thresholds: calibrated, an editor's override, or the operator's; every text via textContent.
"use strict";
(() => {
  const $ = (s) => document.querySelector(s);
  const fmt = (v) => (typeof v === "number" ? v.toFixed(3) : "—");
  const SOURCES = { calibrated: "calibrated", editor: "editor override", operator: "operator setting" };

  function cell(row, text, tag = "td") { const c = document.createElement(tag); c.textContent = text; row.append(c); return c; }
  function table(el, head, rows) {
    el.querySelectorAll("tr").forEach((r) => r.remove());
    if (head) { const r = el.insertRow(); head.forEach((h) => cell(r, h, "th")); }
    rows.forEach((values) => { const r = el.insertRow(); values.forEach((v) => cell(r, v)); });
  }
  function badge(el, source) { el.textContent = SOURCES[source] || source; el.className = "badge " + source; }

  function histogram(cal, eff) {
    const box = $("#hist"); box.replaceChildren();
    const bins = cal.offtopic_score_histogram || [];
    const top = Math.max(1, ...bins);
    bins.forEach((n, i) => {
      const b = document.createElement("div"); b.className = "b";
      b.style.height = `${(100 * n) / top}%`;  // CSSOM, allowed by the page's CSP
      b.title = `${(i / bins.length).toFixed(2)}–${((i + 1) / bins.length).toFixed(2)}: ${n}`;
      box.append(b);
    });
    for (const [kind, value] of [["answer", eff.answer_threshold], ["offer", eff.offer_threshold]]) {
      const l = document.createElement("div"); l.className = "line " + kind;
      l.style.left = `${Math.min(100, Math.max(0, value * 100))}%`; box.append(l);
    }
    box.setAttribute("aria-label", `Histogram of ${cal.negatives} off-topic scores`);
  }

  function show(data) {
    const cal = data.calibration, eff = data.effective;
    $("#eff-answer").textContent = fmt(eff.answer_threshold); badge($("#src-answer"), eff.answer_source);
    $("#eff-offer").textContent = fmt(eff.offer_threshold); badge($("#src-offer"), eff.offer_source);
    const op = [];
    if (data.overrides.answer_threshold !== null) op.push(`PARLEY_ANSWER_THRESHOLD=${data.overrides.answer_threshold}`);
    if (data.overrides.out_of_scope_threshold !== null) op.push(`PARLEY_OUT_OF_SCOPE_THRESHOLD=${data.overrides.out_of_scope_threshold}`);
    $("#operator").hidden = !op.length;
    $("#operator").textContent = op.length ? `The server's configuration sets ${op.join(" and ")}; it wins over the calibration and over an override saved here.` : "";
    const mine = data.editor_override;
    $("#state").textContent = mine ? `Override saved ${Parley.when(mine.updated_at)}` : "Calibrated";
    $("#answer").value = (mine ? mine.answer_threshold : cal.answer_threshold).toFixed(3);
    $("#offer").value = (mine ? mine.offer_threshold : cal.offer_threshold).toFixed(3);
    $("#reset").disabled = !mine;
    const fb = cal.feedback;
    const when = cal.computed_at ? Parley.when(new Date(cal.computed_at * 1000).toISOString()) : "not yet";
    $("#derived").textContent =
      `${cal.negatives} bundled off-topic customer messages (questions no help centre answers) were scored against your ` +
      `${data.articles} published articles. The answer threshold is their ${Math.round(cal.answer_quantile * 100)}th percentile ` +
      `(${fmt(cal.feedback ? cal.feedback.answer_from_content : cal.answer_threshold)}): a question must look more covered than nearly all of them; the offer threshold is their ` +
      `${Math.round(cal.offer_quantile * 100)}th percentile (${fmt(cal.offer_threshold)}). Last computed ${when}` +
      (data.current ? ", for the knowledge base as it is now." : "; a recalibration for the latest change is running.");
    $("#votes").textContent = !fb ? "No customer has voted on an answer the bot gave at once yet. Votes move the answer threshold once there are enough of them." :
      fb.shift > 0 ? `Customers voted on ${fb.votes} answers the bot gave at once (${fb.helpful} helpful, ${fb.not_helpful} not helpful). ` +
        `The unhelpful ones just above the threshold raised it from ${fmt(fb.answer_from_content)} to ${fmt(cal.answer_threshold)}: those questions now get “I found these” instead of an answer.` :
      `Customers voted on ${fb.votes} answers the bot gave at once (${fb.helpful} helpful, ${fb.not_helpful} not helpful); ` +
        "they do not show answers just above the threshold going wrong, so it stays where the content puts it.";
    histogram(cal, eff);
    table($("#quantiles"), ["quantile", "score"], Object.entries(cal.offtopic_score_quantiles).map(([k, v]) => [k === "q100" ? "max" : k.replace("q", "") + "th", fmt(v)]));
    const s = cal.offtopic_score_summary || {};
    table($("#summary"), ["", "score"], [["messages", String(cal.negatives)], ["lowest", fmt(s.min)], ["mean", fmt(s.mean)], ["standard deviation", fmt(s.std)], ["highest", fmt(s.max)]]);
    const h = data.history || [];
    table($("#history"), ["when", "who", "change"], h.length ? h.map((e) => [Parley.when(e.at), e.actor,
      e.answer_threshold === null ? "back to calibrated" : `answer ${fmt(e.answer_threshold)}, offer ${fmt(e.offer_threshold)}`]) : [["—", "—", "no change yet: calibrated"]]);
  }

  async function load() { show(await Parley.api("/api/bot/calibration")); }

  function main() {
    $("#override").onsubmit = async (ev) => {
      ev.preventDefault();
      const err = $("#form-err"); err.textContent = "";
      const answer = Number($("#answer").value), offer = Number($("#offer").value);
      if (!$("#answer").value || !$("#offer").value || !Number.isFinite(answer) || !Number.isFinite(offer)) { err.textContent = "Both thresholds are numbers between 0 and 1."; return; }
      if (answer < 0 || answer > 1 || offer < 0 || offer > 1) { err.textContent = "Both thresholds are between 0 and 1."; return; }
      if (offer > answer) { err.textContent = "The offer threshold cannot be above the answer threshold."; return; }
      try {
        show(await Parley.api("/api/bot/calibration/override", { method: "PUT", json: { answer_threshold: answer, offer_threshold: offer } }));
        Parley.toast("Override saved");
      } catch (e) { err.textContent = e.message; }
    };
    $("#reset").onclick = async () => {
      try { show(await Parley.api("/api/bot/calibration/override", { method: "DELETE" })); Parley.toast("Back to the calibrated thresholds"); }
      catch (e) { $("#form-err").textContent = e.message; }
    };
    load().catch((e) => Parley.toast(e.message, true));
  }
  Parley.start(main);
})();
