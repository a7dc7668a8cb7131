"use strict";
/* The agent console: one websocket (/ws/agent) for everything live, REST for history and look-ups.
   Every piece of text from customers, agents or the server is inserted with textContent. */
(function () {
  const $ = (id) => document.getElementById(id);
  // Escalation reasons and bot actions in plain words, defined once in app/vocabulary.py (GET /api/vocabulary)
  const REASONS = {};
  // What the bot did, in plain words (system lines and the Live tab never show internal names).
  const ACTIONS = {};
  const MAX_CHARS = 4000;
  const LATE_SECONDS = 120;

  const state = {
    me: null, ws: null, retry: 0, refSeq: 0, pending: new Map(),
    queue: [], knownQueued: null, agentsOnline: 0,
    chats: new Map(),   // conversation id -> chat
    active: null,       // conversation id shown in the centre
    presence: "online",
    muted: localStorage.getItem("parley.muted") === "1",
    canned: [], agents: [], teams: [], queueTeam: "",
  };
  const PRIORITIES = {urgent: "Urgent", high: "High", normal: "Normal", low: "Low"};

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c != null) node.append(c);
    return node;
  }
  function toast(text, kind) {
    const t = el("div", {class: "toast " + (kind || ""), text});
    $("toasts").append(t);
    setTimeout(() => t.remove(), kind === "error" ? 6000 : 3500);
  }
  function since(iso) {
    const s = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 1000));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + String(s % 60).padStart(2, "0") + "s";
    return Math.floor(s / 3600) + "h " + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
  }
  const clock = (iso) => new Date(iso).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
  const stamp = (iso) => new Date(iso).toLocaleString([], {dateStyle: "medium", timeStyle: "short"});
  function customerName(contact, fallbackId) {
    contact = contact || {};
    return contact.name || contact.email || (contact.user_id ? "User " + contact.user_id : "Visitor " + String(fallbackId || "").slice(-4));
  }
  // One way out to the sign-in page. A logout ends the session three ways at once (the click, the
  // socket the server closes, any request then answered 401); a second navigation would abort the first.
  let leaving = false;
  function toLogin() {
    if (leaving) return;
    leaving = true;
    if (state.ws) { state.ws.onclose = null; state.ws.close(); }
    location.assign("/login");
  }
  async function api(path, opts) {
    const r = await fetch(path, Object.assign({credentials: "same-origin", headers: {"Content-Type": "application/json", "X-Requested-With": "parley-console"}}, opts || {}));
    if (r.status === 401) { toLogin(); throw new Error("signed out"); }
    const body = r.status === 204 ? null : await r.json().catch(() => null);
    if (!r.ok) throw new Error((body && body.detail) || ("request failed: " + r.status));
    return body;
  }

  // ------------------------------------------------------------------ socket
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + "/ws/agent");
    state.ws = ws;
    setConn("connecting", "Connecting…");
    ws.onopen = () => { state.retry = 0; setConn("online", "Connected"); };
    ws.onmessage = (m) => { try { onFrame(JSON.parse(m.data)); } catch (e) { console.error(e); } };
    ws.onclose = (e) => {
      for (const p of state.pending.values()) p.reject({code: "disconnected", detail: "the connection dropped"});
      state.pending.clear();
      if (e.code === 1008) { toLogin(); return; }
      setConn("offline", "Reconnecting…");
      const wait = Math.min(10000, 500 * 2 ** state.retry++);
      setTimeout(connect, wait);
    };
  }
  function setConn(kind, text) { const c = $("conn-status"); c.dataset.state = kind; c.textContent = text; }
  function send(frame) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return Promise.reject({code: "disconnected", detail: "not connected; retrying"});
    const ref = "r" + (++state.refSeq);
    frame.ref = ref;
    state.ws.send(JSON.stringify(frame));
    return new Promise((resolve, reject) => {
      state.pending.set(ref, {resolve, reject});
      setTimeout(() => { if (state.pending.delete(ref)) reject({code: "timeout", detail: "no answer from the server"}); }, 15000);
    });
  }
  function sendQuiet(frame) { if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(frame)); }

  function onFrame(f) {
    if ((f.type === "ack" || f.type === "error") && f.ref && state.pending.has(f.ref)) {
      const p = state.pending.get(f.ref); state.pending.delete(f.ref);
      f.type === "ack" ? p.resolve(f) : p.reject(f);
      if (f.type === "ack") return;
    }
    switch (f.type) {
      case "hello": return onHello(f);
      case "queue": return onQueue(f);
      case "case": return onCase(f.case);
      case "transcript": return onTranscript(f);
      case "event": return onEvent(f.conversation_id, f.event);
      case "typing": return onTyping(f);
      case "error": if (!f.ref) toast(f.detail || f.code, "error"); return;
    }
  }

  async function onHello(f) {
    const first = !state.me;
    state.me = f.agent;
    $("me-name").textContent = f.agent.name;
    $("tab-team").hidden = f.agent.role !== "admin";
    if (state.presence !== "online") sendQuiet({type: "presence", status: state.presence});
    for (const [id, chat] of state.chats) sendQuiet({type: "open", conversation_id: id, last_seq: chat.lastSeq});
    if (first) {
      try {
        const mine = await api("/api/console/history?status=assigned&agent_id=" + f.agent.id);
        for (const row of mine.reverse()) openChat(row.conversation_id, false);
      } catch (e) { toast(e.message, "error"); }
      loadCanned(); loadAgents();
    }
  }

  // ------------------------------------------------------------------ queue
  function onQueue(f) {
    state.queue = f.cases || [];
    state.agentsOnline = f.agents_online || 0;
    const ids = new Set(state.queue.map((c) => c.id));
    if (state.knownQueued) {
      const fresh = state.queue.filter((c) => !state.knownQueued.has(c.id));
      if (fresh.length) alertNewCase(fresh[fresh.length - 1]);
    }
    state.knownQueued = ids;
    renderQueue();
    for (const c of state.queue) {  // a case returned to the queue from one of my chats
      const chat = state.chats.get(c.conversation_id);
      if (chat && chat.case && chat.case.id === c.id) { chat.case = Object.assign({}, chat.case, c); chat.status = "queued"; }
    }
    if (state.active && state.chats.get(state.active)) renderHead();
  }
  function caseLabels(c) {  // team, priority (when not normal) and tags, as badges
    return [c.team_name || teamName(c.team_id) ? el("span", {class: "badge team-badge", text: c.team_name || teamName(c.team_id)}) : null,
      c.priority && c.priority !== "normal" ? el("span", {class: "badge prio-" + c.priority, text: PRIORITIES[c.priority] || c.priority}) : null,
      ...(c.tags || []).map((t) => el("span", {class: "tag", text: t}))];
  }
  function teamName(id) { const t = id && state.teams.find((x) => x.id === id); return t ? t.name : ""; }
  async function loadTeams() {
    try { state.teams = await api("/api/teams"); } catch (e) { state.teams = []; }
    const opts = () => state.teams.map((t) => el("option", {value: t.id, text: t.name}));
    const qs = $("queue-team");
    qs.replaceChildren(el("option", {value: "", text: "All teams"}), el("option", {value: "none", text: "No team"}), ...opts());
    qs.value = state.queueTeam; if (qs.value !== state.queueTeam) { state.queueTeam = ""; qs.value = ""; }
    const hs = $("h-team"), keep = hs.value;
    hs.replaceChildren(el("option", {value: "", text: "Any team"}), ...opts());
    hs.value = keep;
    renderQueue(); loadAgents();
  }
  function inQueueFilter(c) {
    return !state.queueTeam || (state.queueTeam === "none" ? !c.team_id : String(c.team_id) === state.queueTeam);
  }
  function renderQueue() {
    const list = $("queue-list");
    list.replaceChildren(...state.queue.filter(inQueueFilter).map((c) => {
      const li = el("li", {class: "case-item" + (state.active === c.conversation_id ? " active" : ""),
        dataset: {conv: c.conversation_id, caseId: c.id}, onclick: () => peek(c)},
        el("span", {class: "case-who", text: customerName(c.contact, c.conversation_id)}),
        el("span", {class: "case-wait", dataset: {since: c.queued_at}, text: since(c.queued_at)}),
        el("span", {class: "case-last", text: c.last_message || "(no message yet)"}),
        el("div", {class: "case-meta"},
          el("span", {class: "badge " + c.reason, text: REASONS[c.reason] || c.reason}), ...caseLabels(c),
          el("button", {class: "btn btn-sm btn-primary claim", type: "button", text: "Claim",
            onclick: (e) => { e.stopPropagation(); claim(c); }})));
      return li;
    }));
    $("queue-count").textContent = state.queue.length;
    $("queue-count-tab").textContent = state.queue.length;
    $("queue-empty").hidden = state.queue.length > 0;
    $("agents-online").textContent = state.agentsOnline + " online";
    document.title = (state.queue.length ? "(" + state.queue.length + ") " : "") + "Inbox · Parley";
  }
  function tick() {
    for (const node of document.querySelectorAll("[data-since]")) {
      node.textContent = since(node.dataset.since);
      node.classList.toggle("late", (Date.now() - new Date(node.dataset.since)) / 1000 > LATE_SECONDS);
    }
  }

  let audio = null;
  function chime() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const now = audio.currentTime;
      [660, 880].forEach((hz, i) => {
        const o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = hz; o.type = "sine";
        g.gain.setValueAtTime(0.0001, now + i * 0.16);
        g.gain.exponentialRampToValueAtTime(0.2, now + i * 0.16 + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.16 + 0.3);
        o.connect(g).connect(audio.destination); o.start(now + i * 0.16); o.stop(now + i * 0.16 + 0.32);
      });
    } catch (e) { /* no audio device */ }
  }
  function alertNewCase(c) {
    window.parleyAlerts = (window.parleyAlerts || 0) + 1;  // read by the browser tests
    if (state.muted || state.presence !== "online") return;
    window.parleyAlertsPlayed = (window.parleyAlertsPlayed || 0) + 1;
    chime();
    if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
      new Notification("New customer waiting", {body: (REASONS[c.reason] || c.reason) + ": " + (c.last_message || ""), tag: "case-" + c.id});
    }
  }

  async function claim(c) {
    try {
      await send({type: "claim", case_id: c.id});
      ensureChat(c.conversation_id);
      select(c.conversation_id);
    } catch (e) {
      toast(e.code === "already_claimed" ? "Someone else just took this customer." : e.code === "at_capacity" ? capacityText(e) : (e.detail || "Could not claim"), "error");
    }
  }
  function capacityText(e) { loadAgents(); return "You are at your capacity: " + (e.detail || "resolve a chat first") + "."; }
  async function join(id) {  // take over a conversation the bot is handling
    try {
      const ack = await send({type: "join", conversation_id: id});
      const chat = ensureChat(id);
      chat.peek = false; chat.case = ack.case; chat.status = "assigned";
      showView("inbox"); select(id); loadLive();
      toast("You joined the chat. The bot has stopped answering.");
    } catch (e) {
      toast(e.code === "at_capacity" ? capacityText(e) : e.code === "invalid_state" ? "The bot is no longer handling this chat: " + (e.detail || "") : (e.detail || "Could not join"), "error");
      loadLive();
    }
  }
  function watch(id) {  // read a bot conversation before joining it
    ensureChat(id, {peek: true});
    showView("inbox"); select(id);
    sendQuiet({type: "open", conversation_id: id, last_seq: 0});
  }
  function peek(c) {  // read a waiting case before claiming it
    ensureChat(c.conversation_id, {peek: true});
    select(c.conversation_id);
    sendQuiet({type: "open", conversation_id: c.conversation_id, last_seq: 0});
  }

  // ------------------------------------------------------------------ chats
  function ensureChat(id, opts) {
    let chat = state.chats.get(id);
    if (!chat) {
      chat = {id, events: [], lastSeq: 0, case: null, status: null, contact: {}, unread: false, peek: !!(opts && opts.peek),
        drafts: JSON.parse(sessionStorage.getItem("parley.draft." + id) || '{"reply":"","note":""}'), mode: "reply",
        typingUntil: 0, loaded: false};
      state.chats.set(id, chat);
    } else if (!(opts && opts.peek)) chat.peek = false;
    return chat;
  }
  function openChat(id, focus) {
    ensureChat(id);
    sendQuiet({type: "open", conversation_id: id, last_seq: 0});
    if (focus) select(id);
    renderMine();
  }
  function mine(chat) { return chat.case && state.me && chat.case.agent_id === state.me.id && !chat.peek; }
  function onTranscript(f) {
    const chat = ensureChat(f.conversation_id, {peek: state.chats.has(f.conversation_id) ? state.chats.get(f.conversation_id).peek : true});
    chat.case = f.case; chat.status = f.status; chat.contact = f.contact || {}; chat.loaded = true; chat.past = undefined;
    if (chat.case && state.me && chat.case.agent_id === state.me.id && chat.case.status === "assigned") chat.peek = false;
    for (const e of f.events) addEvent(chat, e);
    renderMine();
    if (state.active === chat.id) renderChat();
  }
  function addEvent(chat, e) {
    if (e.seq <= chat.lastSeq) return false;
    chat.events.push(e); chat.lastSeq = e.seq;
    return true;
  }
  function onEvent(id, e) {
    const chat = state.chats.get(id);
    if (!chat || !addEvent(chat, e)) return;
    if (e.sender === "customer" && e.kind === "message") chat.typingUntil = 0;
    if (state.active === id) { appendEvent(e); renderTyping(); }
    else if (e.sender === "customer") { chat.unread = true; renderMine(); }
    if (e.type === "handoff" || e.kind === "handoff") { chat.status = e.status; if (state.active === id) renderHead(); }
    if (e.kind === "rating" && chat.case) { chat.case.rating = (e.data || {}).score; if (state.active === id) renderFacts(); }
  }
  function onCase(c) {
    const chat = state.chats.get(c.conversation_id);
    const isMine = state.me && c.agent_id === state.me.id && c.status === "assigned";
    if (isMine && (!chat || chat.peek || !chat.case || chat.case.id !== c.id || chat.case.agent_id !== c.agent_id)) {
      const wasMine = chat && mine(chat);
      ensureChat(c.conversation_id).case = c;
      if (!wasMine) {
        openChat(c.conversation_id, !state.active);
        if (chat && chat.case && chat.case.agent_id !== state.me.id) toast("A chat was transferred to you.");
        else if (!chat) toast("A new chat was assigned to you.");
      }
    }
    if (chat) {
      const before = chat.case;
      chat.case = c; chat.status = c.status === "bot" ? "bot" : c.status;
      if (before && mine({case: before, peek: false}) && c.status === "queued") toast("A chat returned to the queue (" + (c.reason || "") + ").");
      if (before && before.agent_id === (state.me && state.me.id) && c.status === "assigned" && c.agent_id !== state.me.id) toast("Chat transferred.");
    }
    renderMine();
    if (state.active === c.conversation_id) { renderHead(); renderFacts(); }
  }
  function onTyping(f) {
    const chat = state.chats.get(f.conversation_id);
    if (!chat || f.sender !== "customer") return;
    chat.typingUntil = f.active ? Date.now() + 6000 : 0;
    if (state.active === chat.id) renderTyping();
  }

  function renderMine() {
    const chats = [...state.chats.values()].filter((c) => !c.peek && c.case);
    const list = $("mine-list");
    list.replaceChildren(...chats.map((chat) => {
      const last = [...chat.events].reverse().find((e) => e.kind === "message" && e.visibility === "public");
      const open = chat.case.status === "assigned" && chat.case.agent_id === (state.me && state.me.id);
      const hasDraft = (chat.drafts.reply || chat.drafts.note).trim().length > 0;
      return el("li", {class: "case-item" + (state.active === chat.id ? " active" : ""), dataset: {conv: chat.id},
        onclick: () => select(chat.id)},
        el("span", {class: "case-who", text: customerName(chat.contact, chat.id)}),
        el("span", {class: "case-wait"}, chat.unread ? el("span", {class: "unread", title: "New message"}) : null),
        el("span", {class: "case-last", text: last ? (last.sender === "agent" ? "You: " : "") + last.text : ""}),
        el("div", {class: "case-meta"},
          el("span", {class: "badge " + (open ? "status-assigned" : "status-" + chat.case.status),
            text: open ? "Open" : chat.case.status === "bot" ? "Handed back" : chat.case.status === "assigned" ? "Transferred" : chat.case.status}),
          hasDraft ? el("span", {class: "draft-flag", text: "Draft"}) : null,
          !open ? el("button", {class: "btn btn-sm btn-ghost", type: "button", text: "Close",
            onclick: (e) => { e.stopPropagation(); closeChat(chat.id); }}) : null));
    }));
    const open = chats.filter((c) => c.case.status === "assigned" && state.me && c.case.agent_id === state.me.id).length;
    const cap = state.me && state.me.capacity;
    $("mine-count").textContent = cap ? open + " / " + cap : open;
    $("mine-count").title = cap ? "Open chats / your capacity (set by an admin in Team)" : "";
    $("mine-count").classList.toggle("full", !!cap && open >= cap);
    $("mine-empty").hidden = chats.length > 0;
    for (const li of $("queue-list").children) li.classList.toggle("active", li.dataset.conv === state.active);
  }
  function closeChat(id) {
    state.chats.delete(id);
    sessionStorage.removeItem("parley.draft." + id);
    if (state.active === id) { state.active = null; renderChat(); }
    renderMine();
  }

  function saveDraft() {
    const chat = state.chats.get(state.active);
    if (!chat) return;
    chat.drafts[chat.mode] = $("draft").value;
    sessionStorage.setItem("parley.draft." + chat.id, JSON.stringify(chat.drafts));
  }
  function select(id) {
    if (state.active && state.active !== id) saveDraft();
    state.active = id;
    const chat = state.chats.get(id);
    if (chat) chat.unread = false;
    renderChat(); renderMine(); renderQueue();
    if (chat && !chat.peek) $("draft").focus();
  }

  function renderChat() {
    const chat = state.chats.get(state.active);
    $("chat-empty").hidden = !!chat;
    $("chat-pane").hidden = !chat;
    $("exports").hidden = !(chat && chat.case);
    if (!chat) { $("customer-facts").replaceChildren(el("dt", {class: "sr", text: "Customer"}), el("dd", {class: "muted wide", text: "Open a chat to see who you are talking to."})); $("case-facts").replaceChildren(); $("past-list").replaceChildren(); return; }
    renderHead(); renderPacket(chat); renderFacts();
    $("transcript").replaceChildren();
    for (const e of chat.events) appendEvent(e, true);
    scrollDown(true);
    setMode(chat.mode, true);
    $("draft").value = chat.drafts[chat.mode] || "";
    updateCounter(); renderTyping();
  }
  function renderHead() {
    const chat = state.chats.get(state.active);
    if (!chat) return;
    const c = chat.case;
    const owned = c && state.me && c.status === "assigned" && c.agent_id === state.me.id;
    const queued = c && c.status === "queued";
    $("chat-title").textContent = customerName(chat.contact, chat.id);
    $("chat-sub").textContent = c && chat.status !== "bot" ? "Case #" + c.id + " · " + (c.reason === "agent_takeover" ? "taken over from the bot " : (REASONS[c.reason] || c.reason) + " · escalated ") + stamp(c.queued_at)
      : "With the bot" + (chat.events.length ? " since " + stamp(chat.events[0].created_at) : "");
    const withBot = chat.status === "bot" && !owned;
    $("claim-btn").hidden = !queued;
    $("join-btn").hidden = !withBot;
    $("transfer").hidden = !owned; $("handback-btn").hidden = !owned; $("resolve-btn").hidden = !owned;
    const banner = $("chat-banner");
    let note = "";
    if (withBot) note = "The bot is handling this chat. Join it to take over: the bot stops and the customer sees that you joined.";
    else if (!c) note = "This conversation has no open case.";
    else if (queued) note = "Waiting in the queue. Claim it to reply.";
    else if (c.status === "resolved") note = "Resolved" + (c.rating ? " · rated " + c.rating + "/5" : "") + ". You can still add internal notes.";
    else if (c.status === "bot") note = "Handed back to the bot.";
    else if (c.status === "assigned" && !owned) note = "Another agent owns this chat. You can read it and add notes.";
    banner.textContent = note; banner.hidden = !note;
    const replyTab = document.querySelector('.ctab[data-mode="reply"]');
    replyTab.disabled = !owned;
    if (!owned && chat.mode === "reply") setMode("note");
    if (owned && chat.mode === "note" && !chat.drafts.note && !chat.userPickedNote) setMode("reply");
  }
  function renderPacket(chat) {
    const p = (chat.status !== "bot" && chat.case && chat.case.packet) || null;
    $("packet").hidden = !p;
    if (!p) return;
    $("packet-reason").textContent = REASONS[p.reason] || p.reason;
    $("packet-reason").className = "badge " + p.reason;
    $("packet-confidence").textContent = p.confidence != null ? "bot confidence " + Math.round(p.confidence * 100) + "%" : "";
    $("packet-question").textContent = p.question || (p.reason === "customer_request" ? "Nothing yet: the customer asked for a person first." : "—");
    const offered = (p.offered || []);
    $("packet-offered").replaceChildren(...(offered.length ? offered.map((o) => el("li", {},
      el("span", {text: o.title}),
      el("span", {class: o.helpful === true ? "vote-yes" : o.helpful === false ? "vote-no" : "vote-none",
        text: o.helpful === true ? "helpful" : o.helpful === false ? "not helpful" : "no feedback"}),
      o.confidence != null ? el("span", {class: "muted small", text: Math.round(o.confidence * 100) + "%"}) : null))
      : [el("li", {class: "muted", text: "No article was offered."})]));
    const files = p.attachments || [];
    $("packet-files-row").hidden = !files.length;
    $("packet-files").textContent = files.join(", ");
  }
  function fact(dl, label, value, mark) {
    if (value == null || value === "") return;
    dl.append(el("dt", {text: label}), el("dd", {}, el("span", {text: String(value)}),
      mark ? el("span", {class: "mark " + mark, text: mark === "verified" ? "verified" : "not verified", title: mark === "verified"
        ? "Signed by your site: this is who they are signed in as" : "Typed by the visitor or not signed by your site"}) : null));
  }
  function pageFact(dl, ctx) {
    if (!ctx.page_url && !ctx.page_title) return;
    let link = null;
    try { const u = new URL(ctx.page_url); if (u.protocol === "https:" || u.protocol === "http:") link = u.href; } catch (e) { link = null; }
    const label = ctx.page_title || ctx.page_url;
    dl.append(el("dt", {text: "Page"}), el("dd", {},
      link ? el("a", {href: link, target: "_blank", rel: "noopener noreferrer nofollow", text: label, title: link}) : el("span", {text: label}),
      ctx.page_title && ctx.page_url ? el("span", {class: "muted small block", text: ctx.page_url}) : null));
  }
  function localTime(zone) {
    try {
      const now = new Date();
      const theirs = now.toLocaleTimeString([], {timeZone: zone, hour: "2-digit", minute: "2-digit"});
      const day = now.toLocaleDateString([], {timeZone: zone, weekday: "short"});
      return theirs + " " + day + " (" + zone.replace(/_/g, " ") + ")";
    } catch (e) { return null; }
  }
  const LANGS = {en: "English", fr: "French", de: "German", es: "Spanish", it: "Italian", pt: "Portuguese", nl: "Dutch"};
  function languageName(code) {
    if (!code) return null;
    try { const n = new Intl.DisplayNames(["en"], {type: "language"}).of(code); if (n && n !== code) return n; } catch (e) { /* old browser */ }
    return LANGS[String(code).slice(0, 2)] || code;
  }
  async function loadPast(chat) {
    if (chat.past !== undefined) return;
    chat.past = null;
    try { chat.past = await api("/api/console/conversations/" + encodeURIComponent(chat.id) + "/context"); }
    catch (e) { chat.past = {past: [], past_note: "could not load"}; }
    if (state.active === chat.id) renderPast(chat);
  }
  function renderPast(chat) {
    const list = $("past-list");
    const info = chat && chat.past;
    if (!info) { list.replaceChildren(el("li", {class: "muted small", text: chat ? "Loading…" : ""})); return; }
    list.replaceChildren(...(info.past.length ? info.past.map((p) => el("li", {},
      el("span", {class: "past-when", text: stamp(p.created_at)}),
      el("span", {class: "past-what", text: p.first_message || "(no message)"}),
      el("span", {class: "muted small", text: (p.reason ? (REASONS[p.reason] || p.reason) + " · " : "") + (p.status === "resolved" ? "resolved" : p.status === "bot" ? "with the bot" : p.status)
        + (p.rating ? " · rated " + p.rating + "/5" : "")})))
      : [el("li", {class: "muted small", text: info.past_note ? info.past_note.charAt(0).toUpperCase() + info.past_note.slice(1) + "." : "None."})]));
  }
  function renderFacts() {
    const chat = state.chats.get(state.active);
    const cf = $("customer-facts"), kf = $("case-facts");
    cf.replaceChildren(); kf.replaceChildren();
    if (!chat) return;
    const ct = chat.contact || {};
    const signed = ct.verified_fields || [];
    const mark = (k) => ct[k] ? (signed.includes(k) ? "verified" : "claimed") : null;
    fact(cf, "Name", ct.name || (ct.email ? null : "Visitor (not signed in)"), mark("name"));
    fact(cf, "Email", ct.email || (chat.case && chat.case.contact_email), mark("email"));
    fact(cf, "User ID", ct.user_id, mark("user_id"));
    const ctx = ct.context || {};
    pageFact(cf, ctx);
    fact(cf, "Browser", ctx.browser);
    fact(cf, "Language", languageName(ctx.language || chat.lang));
    fact(cf, "Local time", ctx.time_zone ? localTime(ctx.time_zone) : null);
    renderPast(chat); loadPast(chat);
    const c = chat.case;
    if (!c) return;
    fact(kf, "Case", "#" + c.id); fact(kf, "Status", c.status); fact(kf, "Reason", REASONS[c.reason] || c.reason);
    fact(kf, c.reason === "agent_takeover" ? "Joined" : "Escalated", stamp(c.queued_at)); fact(kf, "Assigned", c.assigned_at && stamp(c.assigned_at));
    fact(kf, "Resolved", c.resolved_at && stamp(c.resolved_at));
    fact(kf, "Rating", c.rating ? c.rating + "/5" + (c.rating_comment ? " · " + c.rating_comment : "") : null);
    fact(kf, "Team", teamName(c.team_id) || c.team_name || "None");
    renderLabels(c);
    $("export-json").href = "/api/console/cases/" + c.id + "/export?format=json";
    $("export-txt").href = "/api/console/cases/" + c.id + "/export?format=txt";
  }
  function renderLabels(c) {  // the open case's priority and tags, editable by any agent
    $("case-labels").hidden = !c;
    if (!c) return;
    $("case-priority").value = c.priority || "normal";
    $("case-tags").replaceChildren(...(c.tags || []).map((t) => el("li", {class: "tag"}, el("span", {text: t}),
      el("button", {type: "button", class: "tag-x", "aria-label": "Remove tag " + t, text: "×",
        onclick: () => saveLabels({tags: (c.tags || []).filter((x) => x !== t)})}))));
  }
  async function saveLabels(change) {
    const chat = state.chats.get(state.active);
    if (!chat || !chat.case) return;
    try {
      const saved = await api("/api/cases/" + chat.case.id, {method: "PATCH", body: JSON.stringify(change)});
      chat.case = Object.assign({}, chat.case, {priority: saved.priority, tags: saved.tags, team_id: saved.team_id});
      renderFacts();
    } catch (err) { toast(err.message, "error"); renderLabels(chat.case); }
  }
  // The bot's text is the article's Markdown: agents read it as plain text (still textContent, no HTML).
  function plainMarkdown(text) {
    return String(text || "").replace(/^\s{0,3}#{1,6}\s+/gm, "").replace(/(\*\*|__)(.+?)\1/g, "$2")
      .replace(/`([^`]+)`/g, "$1").replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, "$1 ($2)");
  }
  function articleTitle(events, d) {  // the title of the article a vote was about, from the answer it voted on
    const answer = (events || []).find((x) => x.seq === d.seq) || (events || []).find((x) => x.article && x.article.id === d.article_id);
    const a = answer && (answer.article || (answer.data || {}).article);
    return a && a.title ? "\u201c" + a.title + "\u201d" : "an answer";
  }
  function eventNode(e, events) {
    if (e.type === "handoff" || e.kind === "handoff" || (e.sender === "system" && e.kind === "message")) {
      return el("li", {class: "sys", dataset: {seq: e.seq}, text: e.text || ("Status: " + e.status)});
    }
    if (e.kind === "feedback") {
      const d = e.data || {};
      const chat = state.chats.get(e.conversation_id || state.active);
      return el("li", {class: "sys", dataset: {seq: e.seq}, text: "The customer found " + articleTitle(events || (chat && chat.events), d) + (d.helpful ? " helpful" : " not helpful")});
    }
    if (e.kind === "rating") {
      const d = e.data || {};
      return el("li", {class: "sys", dataset: {seq: e.seq}, text: "Customer rated " + d.score + "/5" + (e.text ? ": " + e.text : "")});
    }
    if (e.kind !== "message" && e.kind !== "note") return null;
    const cls = e.kind === "note" ? "note" : e.sender;
    const who = e.kind === "note" ? "Internal note · " + ((e.agent || (e.data || {}).agent || {}).name || "agent")
      : e.sender === "agent" ? (e.agent || {}).name || "Agent" : e.sender === "bot" ? "Bot" + (ACTIONS[e.action] && e.action !== "answer" ? " · " + ACTIONS[e.action] : "") : "Customer";
    const file = e.attachment || (e.data || {}).attachment;
    return el("li", {class: "msg " + cls, dataset: {seq: e.seq}},
      el("span", {class: "who", text: who + " · " + clock(e.created_at)}),
      file ? el("div", {class: "bubble has-file"}, fileNode(file))
        : el("div", {class: "bubble", text: e.sender === "bot" ? plainMarkdown(e.text) : e.text}),
      e.article ? el("span", {class: "cite", text: "Article: " + e.article.title + (e.confidence != null ? " · " + Math.round(e.confidence * 100) + "%" : "")}) : null);
  }
  // An attachment: an image as a thumbnail opening the full file, anything else as a chip (name, size)
  // that downloads it. The staff route authorises by the session cookie; names are set as text.
  function fileSize(n) { return n < 1024 ? n + " B" : n < 1048576 ? Math.round(n / 1024) + " KB" : (n / 1048576).toFixed(1) + " MB"; }
  function fileNode(a) {
    const url = "/api/console/attachments/" + encodeURIComponent(a.id);
    if (a.image) {
      return el("a", {href: url, target: "_blank", rel: "noopener", title: a.name},
        el("img", {class: "thumb", src: url, alt: a.name, loading: "lazy"}));
    }
    return el("a", {class: "file-chip", href: url, download: a.name},
      el("span", {text: a.name}), el("span", {class: "muted", text: (a.content_type === "application/pdf" ? "PDF" : "Text") + " · " + fileSize(a.size)}));
  }
  async function attachFile(file) {
    const chat = state.chats.get(state.active);
    if (!chat || !file) return;
    if (!mine(chat) || chat.mode !== "reply") { toast("Only the agent assigned to this chat can send files, as a reply.", "error"); return; }
    const btn = $("attach-btn");
    btn.disabled = true; btn.textContent = "Uploading…";
    try {
      const r = await fetch("/api/console/conversations/" + encodeURIComponent(chat.id) + "/attachments", {
        method: "POST", credentials: "same-origin", body: file,
        headers: {"X-Requested-With": "parley-console", "X-Filename": encodeURIComponent(file.name || "")}});
      if (r.status === 401) { toLogin(); return; }
      const body = await r.json().catch(() => null);
      if (!r.ok) {
        const d = body && body.detail;
        toast(r.status === 413 ? "The file is too large." : r.status === 415 ? "Only images, PDF and text files can be sent."
          : (d && (d.detail || d)) || ("Not sent: " + r.status), "error");
      }  // stored: the socket brings the event in seq order, as for every message
    } catch (err) { toast("The file was not sent: " + err.message, "error"); }
    finally { btn.disabled = false; btn.textContent = "Attach"; }
  }
  function appendEvent(e, bulk) {
    const node = eventNode(e);
    if (!node) return;
    const list = $("transcript");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.append(node);
    if (!bulk) scrollDown(atBottom || e.sender === "agent");
  }
  function scrollDown(force) { const list = $("transcript"); if (force) list.scrollTop = list.scrollHeight; }
  function renderTyping() {
    const chat = state.chats.get(state.active);
    $("typing-text").textContent = chat && chat.typingUntil > Date.now() ? customerName(chat.contact, chat.id) + " is typing…" : "";
  }

  // ------------------------------------------------------------------ composer
  function setMode(mode, quiet) {
    const chat = state.chats.get(state.active);
    if (chat && !quiet) { chat.drafts[chat.mode] = $("draft").value; chat.mode = mode; $("draft").value = chat.drafts[mode] || ""; }
    else if (chat) chat.mode = mode;
    $("composer").dataset.mode = mode;
    for (const t of document.querySelectorAll(".ctab")) t.classList.toggle("active", t.dataset.mode === mode);
    $("draft").placeholder = mode === "note" ? "Write an internal note: only agents see it…" : "Write a reply…";
    $("send-btn").textContent = mode === "note" ? "Add note" : "Send";
    updateCounter();
  }
  function updateCounter() {
    const n = $("draft").value.length;
    const c = $("counter");
    c.textContent = n > MAX_CHARS * 0.8 ? n + " / " + MAX_CHARS : "";
    c.classList.toggle("over", n > MAX_CHARS);
  }
  let typingSent = 0, typingTimer = null;
  function typed() {
    const chat = state.chats.get(state.active);
    saveDraft(); updateCounter(); renderMine();
    if (!chat || chat.mode !== "reply" || !mine(chat)) return;
    if (Date.now() - typingSent > 3000) { typingSent = Date.now(); sendQuiet({type: "typing", conversation_id: chat.id, active: true}); }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { typingSent = 0; sendQuiet({type: "typing", conversation_id: chat.id, active: false}); }, 4000);
  }
  async function submit(e) {
    if (e) e.preventDefault();
    const chat = state.chats.get(state.active);
    if (!chat) return;
    const text = $("draft").value.trim();
    if (!text) return;
    if (text.length > MAX_CHARS) { toast("The message is " + text.length + " characters; the limit is " + MAX_CHARS + ".", "error"); return; }
    const mode = chat.mode;
    const frame = mode === "note" ? {type: "note", conversation_id: chat.id, text}
      : {type: "message", conversation_id: chat.id, text, client_msg_id: "m" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8)};
    $("send-btn").disabled = true;
    try {
      await send(frame);
      if (state.chats.get(chat.id)) {
        chat.drafts[mode] = "";
        if (state.active === chat.id && chat.mode === mode) $("draft").value = "";
        sessionStorage.setItem("parley.draft." + chat.id, JSON.stringify(chat.drafts));
      }
      if (mode === "reply") { clearTimeout(typingTimer); typingSent = 0; sendQuiet({type: "typing", conversation_id: chat.id, active: false}); }
      updateCounter(); renderMine();
    } catch (err) {
      toast(err.code === "not_owner" ? "Another agent owns this chat now; your text is kept." : (err.detail || "Not sent") , "error");
    } finally { $("send-btn").disabled = false; }
  }
  function insertText(text) {
    const ta = $("draft");
    const start = ta.selectionStart ?? ta.value.length, end = ta.selectionEnd ?? ta.value.length;
    const before = ta.value.slice(0, start), after = ta.value.slice(end);
    const sep = before && !/\s$/.test(before) ? " " : "";
    ta.value = before + sep + text + after;
    const pos = (before + sep + text).length;
    ta.focus(); ta.setSelectionRange(pos, pos);
    typed();
  }

  // "/bye" then Tab or Enter in the composer: the canned reply replaces the shortcut.
  const HINT = "Enter to send · Shift+Enter for a new line · /shortcut + Tab for a canned reply";
  function shortcutAtCursor() {
    const ta = $("draft");
    if (ta.selectionStart !== ta.selectionEnd) return null;
    const before = ta.value.slice(0, ta.selectionStart);
    const m = /(^|\s)\/([a-z0-9_-]{0,40})$/i.exec(before);
    if (!m) return null;
    const typed = m[2].toLowerCase();
    const exact = state.canned.find((c) => c.shortcut === typed);
    const prefixed = state.canned.filter((c) => c.shortcut.startsWith(typed));
    return {start: before.length - typed.length - 1, end: before.length, typed,
      reply: exact || (typed && prefixed.length === 1 ? prefixed[0] : null), options: prefixed};
  }
  function expandShortcut(hit) {
    const ta = $("draft");
    ta.value = ta.value.slice(0, hit.start) + hit.reply.body + ta.value.slice(hit.end);
    const pos = hit.start + hit.reply.body.length;
    ta.setSelectionRange(pos, pos);
    typed(); shortcutHint();
  }
  function shortcutHint() {
    const hit = shortcutAtCursor();
    const hint = $("composer-hint");
    if (!hit || !hit.options.length) { hint.textContent = HINT; hint.classList.remove("hot"); return; }
    hint.classList.add("hot");
    hint.textContent = hit.reply ? "/" + hit.reply.shortcut + " · " + hit.reply.title + ": Tab or Enter inserts it"
      : hit.options.slice(0, 4).map((c) => "/" + c.shortcut).join("  ") + (hit.options.length > 4 ? "  …" : "");
  }

  async function loadCanned() { try { state.canned = await api("/api/console/canned"); } catch (e) { state.canned = []; } }
  function renderCanned() {
    const q = $("canned-filter").value.toLowerCase();
    const items = state.canned.filter((c) => !q || (c.shortcut + " " + c.title + " " + c.body).toLowerCase().includes(q));
    $("canned-list").replaceChildren(...(items.length ? items.map((c) => el("li", {onclick: () => { insertText(c.body); closePops(); }},
      el("span", {class: "pop-title", text: "/" + c.shortcut + " · " + c.title}), el("span", {class: "pop-sub", text: c.body})))
      : [el("li", {class: "muted", text: "No canned reply matches."})]));
  }
  let articleTimer = null, articleSeq = 0;
  async function searchArticles() {
    const q = $("article-q").value;
    const mySeq = ++articleSeq;
    try {
      const hits = await api("/api/console/articles?q=" + encodeURIComponent(q));
      if (mySeq !== articleSeq) return;  // a newer search is on its way
      $("article-list").replaceChildren(...(hits.length ? hits.map((a) => el("li", {dataset: {article: a.id},
        onclick: () => { insertText(a.title + ": " + location.origin + a.url); closePops(); }},
        el("span", {class: "pop-title", text: a.title}), el("span", {class: "pop-sub", text: a.snippet})))
        : [el("li", {class: "muted", text: "No article matches."})]));
    } catch (e) { toast(e.message, "error"); }
  }
  function closePops() { $("canned-pop").hidden = true; $("article-pop").hidden = true; }
  function togglePop(id, onOpen) {
    const pop = $(id), open = pop.hidden;
    closePops();
    pop.hidden = !open;
    if (open) onOpen();
  }

  async function loadAgents() {
    try { state.agents = await api("/api/console/agents"); } catch (e) { state.agents = []; }
    const self = state.me && state.agents.find((a) => a.id === state.me.id);
    if (self && self.capacity !== state.me.capacity) { state.me.capacity = self.capacity; renderMine(); }
    const sel = $("transfer");
    sel.replaceChildren(el("option", {value: "", text: "Transfer…"}), el("optgroup", {label: "To an agent"}, ...state.agents.filter((a) => !state.me || a.id !== state.me.id)
      .map((a) => el("option", {value: a.id, text: a.name + " · " + a.presence + " (" + a.active_cases + "/" + a.capacity + ")",
        disabled: a.presence !== "online" ? true : null}))),
      state.teams.length ? el("optgroup", {label: "To a team's queue"}, ...state.teams.map((t) => el("option", {value: "team:" + t.id, text: t.name}))) : null);
    const hs = $("h-agent");
    const keep = hs.value;
    hs.replaceChildren(el("option", {value: "", text: "Any agent"}), ...state.agents.map((a) => el("option", {value: a.id, text: a.name})));
    hs.value = keep;
  }
  async function caseAction(kind, extra) {
    const chat = state.chats.get(state.active);
    if (!chat || !chat.case) return;
    try {
      const ack = await send(Object.assign({type: kind, case_id: chat.case.id}, extra || {}));
      if (ack.case) chat.case = ack.case;
      renderHead(); renderFacts(); renderMine();
      toast(kind === "resolve" ? "Resolved. The customer was asked for a rating." : kind === "hand_back" ? "Handed back to the bot." : "Transferred.");
    } catch (err) { toast(err.detail || "That did not work", "error"); }
  }

  // ------------------------------------------------------------------ live: customers with the bot now
  let liveRequest = 0, liveAt = 0;
  function decisionText(d) {
    if (!d || !d.action) return "No answer yet";
    const pct = d.confidence != null ? " (" + Math.round(d.confidence * 100) + "% sure)" : "";
    if (d.action === "answer" && d.article_title) return "Answered with \u201c" + d.article_title + "\u201d" + pct;
    const words = ACTIONS[d.action] || "replied";
    return words.charAt(0).toUpperCase() + words.slice(1) + pct;
  }
  async function loadLive() {
    const mine = ++liveRequest;
    liveAt = Date.now();
    try {
      const rows = await api("/api/console/live");
      if (mine !== liveRequest) return;
      $("live-count").textContent = rows.length;
      $("live-rows").replaceChildren(...rows.map((r) => {
        const low = r.decision && r.decision.confidence != null && r.decision.confidence < 0.5;
        return el("tr", {dataset: {conv: r.conversation_id}},
          el("td", {}, el("div", {class: "live-who", text: r.customer || "Visitor " + r.conversation_id.slice(-4)}),
            r.page_url ? el("div", {class: "muted small trunc", text: r.page_url}) : null),
          el("td", {class: "live-msgs"}, ...r.messages.slice(-3).map((m) => el("div", {class: "live-line " + m.sender},
            el("span", {class: "live-sender", text: m.sender === "customer" ? "Customer" : m.sender === "bot" ? "Bot" : "Desk"}),
            el("span", {class: "live-text", text: m.text})))),
          el("td", {}, el("span", {class: "decision" + (low ? " low" : ""), text: decisionText(r.decision)})),
          el("td", {class: "nowrap", text: since(r.last_activity_at) + " ago"}),
          el("td", {class: "nowrap"},
            el("button", {class: "btn btn-sm btn-ghost", type: "button", text: "Read", onclick: () => watch(r.conversation_id)}),
            el("button", {class: "btn btn-sm btn-primary", type: "button", text: "Join", onclick: () => join(r.conversation_id)})));
      }));
      $("live-empty").hidden = rows.length > 0;
    } catch (err) { if (mine === liveRequest) toast(err.message, "error"); }
  }

  // ------------------------------------------------------------------ history
  let historyRequest = 0;  // only the newest search may fill the table: an older, slower reply must not overwrite it
  async function loadHistory(e) {
    if (e) e.preventDefault();
    const params = new URLSearchParams();
    for (const [k, v] of new FormData($("history-form"))) if (v) params.set(k, v);
    const mine = ++historyRequest;
    try {
      const rows = await api("/api/console/history?" + params);
      if (mine !== historyRequest) return;
      $("history-rows").replaceChildren(...rows.map((r) => el("tr", {dataset: {caseId: r.id}, tabindex: 0, onclick: (ev) => showCase(r.id, ev.currentTarget),
        onkeydown: (ev) => { if (ev.key === "Enter") showCase(r.id, ev.currentTarget); }},
        el("td", {text: "#" + r.id}), el("td", {text: r.customer || "Visitor"}), el("td", {class: "trunc", text: r.last_message}),
        el("td", {}, el("span", {class: "badge " + r.reason, text: REASONS[r.reason] || r.reason}), " ", ...caseLabels(r)),
        el("td", {}, el("span", {class: "badge status-" + r.status, text: r.status === "bot" ? "handed back" : r.status})),
        el("td", {text: r.agent_name || "—"}), el("td", {text: r.rating ? "★".repeat(r.rating) : "—"}), el("td", {text: stamp(r.queued_at)}))));
      $("history-empty").hidden = rows.length > 0;
    } catch (err) { toast(err.message, "error"); }
  }
  async function showCase(id, row) {
    for (const tr of $("history-rows").children) tr.classList.toggle("active", tr === row);
    const box = $("history-detail");
    try {
      const c = await api("/api/cases/" + id);
      const list = el("ol", {class: "transcript"});
      const all = c.transcript.map((e) => Object.assign({}, e, {agent: (e.data || {}).agent, article: (e.data || {}).article,
        confidence: (e.data || {}).confidence, action: (e.data || {}).action, status: (e.data || {}).status}));
      for (const e of all) {
        const node = eventNode(e, all);
        if (node) list.append(node);
      }
      const notes = c.transcript.filter((e) => e.kind === "note").length;
      box.replaceChildren(
        el("h3", {text: "Case #" + c.id + " · " + (REASONS[c.reason] || c.reason)}),
        el("p", {class: "muted small", text: "Escalated " + stamp(c.queued_at) + " · " + c.status + " · " + notes + " internal note" + (notes === 1 ? "" : "s")}),
        c.rating ? el("p", {}, el("span", {class: "rating", text: "★".repeat(c.rating) + "☆".repeat(5 - c.rating)}),
          c.rating_comment ? el("span", {class: "muted", text: "  " + c.rating_comment}) : null) : el("p", {class: "muted small", text: "Not rated"}),
        el("div", {class: "exports"},
          el("a", {class: "btn btn-ghost", href: "/api/console/cases/" + c.id + "/export?format=json", download: true, text: "Export JSON"}),
          el("a", {class: "btn btn-ghost", href: "/api/console/cases/" + c.id + "/export?format=txt", download: true, text: "Export text"})),
        list);
    } catch (err) { toast(err.message, "error"); }
  }

  // ------------------------------------------------------------------ team (admins)
  async function loadUsers() {
    try {
      const users = await api("/api/admin/users");
      $("users-rows").replaceChildren(...users.map((u) => {
        const role = el("select", {"aria-label": "Role of " + u.email}, ...["agent", "editor", "admin"].map((r) => el("option", {value: r, text: r, selected: r === u.role ? true : null})));
        const cap = el("input", {type: "number", min: 1, max: 50, value: u.capacity, "aria-label": "Max chats of " + u.email});
        const active = el("input", {type: "checkbox", checked: u.active ? true : null, "aria-label": "Active: " + u.email});
        const patch = async (body, revert) => {
          try { await api("/api/admin/users/" + u.id, {method: "PATCH", body: JSON.stringify(body)}); toast("Saved " + u.email); loadAgents(); }
          catch (err) { toast(err.message, "error"); revert(); }
        };
        role.onchange = () => patch({role: role.value}, () => { role.value = u.role; });
        cap.onchange = () => patch({capacity: Number(cap.value)}, () => { cap.value = u.capacity; });
        active.onchange = () => patch({active: active.checked}, () => { active.checked = u.active; });
        return el("tr", {dataset: {userId: u.id}}, el("td", {text: u.name}), el("td", {text: u.email}), el("td", {}, role), el("td", {}, cap), el("td", {}, active));
      }));
    } catch (err) { toast(err.message, "error"); }
  }
  async function createUser(e) {
    e.preventDefault();
    const f = e.target;
    $("user-error").textContent = "";
    try {
      await api("/api/admin/users", {method: "POST", body: JSON.stringify({name: f.name.value, email: f.email.value,
        password: f.password.value, role: f.role.value, capacity: Number(f.capacity.value)})});
      f.reset(); toast("Created"); loadUsers(); loadAgents();
    } catch (err) { $("user-error").textContent = err.message; }
  }

  // ------------------------------------------------------------------ wiring
  function showView(name) {
    for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t.dataset.view === name);
    for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== "view-" + name;
    if (name === "history") { loadAgents(); loadHistory(); }
    if (name === "live") loadLive();
    if (name === "team") loadUsers();
  }
  function init() {
    for (const t of document.querySelectorAll(".tab")) t.onclick = () => showView(t.dataset.view);
    $("composer").addEventListener("submit", submit);
    $("attach-btn").onclick = () => $("attach-file").click();
    $("attach-file").onchange = () => { const f = $("attach-file").files[0]; $("attach-file").value = ""; attachFile(f); };
    $("draft").addEventListener("paste", (e) => {
      const f = e.clipboardData && e.clipboardData.files[0];
      if (f) { e.preventDefault(); attachFile(f); }
    });
    $("draft").addEventListener("input", () => { typed(); shortcutHint(); });
    $("composer-hint").textContent = HINT;
    $("join-btn").onclick = () => { if (state.active) join(state.active); };
    $("draft").addEventListener("keydown", (e) => {
      if ((e.key === "Tab" || e.key === "Enter") && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
        const hit = shortcutAtCursor();
        if (hit && hit.reply) { e.preventDefault(); expandShortcut(hit); return; }
      }
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) submit(e);
    });
    for (const t of document.querySelectorAll(".ctab")) t.onclick = () => {
      const chat = state.chats.get(state.active); if (chat) chat.userPickedNote = t.dataset.mode === "note";
      setMode(t.dataset.mode); $("draft").focus();
    };
    $("claim-btn").onclick = () => { const chat = state.chats.get(state.active); if (chat && chat.case) { chat.peek = false; claim(chat.case); } };
    $("resolve-btn").onclick = () => caseAction("resolve");
    $("handback-btn").onclick = () => caseAction("hand_back");
    $("transfer").onfocus = loadAgents;
    $("transfer").onchange = () => {
      const v = $("transfer").value; $("transfer").value = "";
      if (v.startsWith("team:")) caseAction("transfer", {team_id: Number(v.slice(5))});
      else if (Number(v)) caseAction("transfer", {agent_id: Number(v)});
    };
    $("canned-btn").onclick = () => togglePop("canned-pop", () => { $("canned-filter").value = ""; renderCanned(); $("canned-filter").focus(); });
    $("canned-filter").oninput = renderCanned;
    $("article-btn").onclick = () => togglePop("article-pop", () => { $("article-q").focus(); searchArticles(); });
    $("article-q").oninput = () => { clearTimeout(articleTimer); articleTimer = setTimeout(searchArticles, 180); };
    document.addEventListener("keydown", (e) => { if (e.key === "Escape") closePops(); });
    document.addEventListener("click", (e) => { if (!e.target.closest(".popover-wrap")) closePops(); });
    $("presence").onchange = async () => {
      const status = $("presence").value;
      try { await send({type: "presence", status}); state.presence = status; $("presence-dot").dataset.status = status; }
      catch (err) { $("presence").value = state.presence; toast(err.detail || "Could not change status", "error"); }
    };
    const mute = $("mute");
    const paintMute = () => { mute.setAttribute("aria-pressed", String(state.muted)); mute.textContent = state.muted ? "Sound off" : "Sound on";
      mute.title = state.muted ? "Sound and notifications are muted" : "Mute the new-case sound and notifications"; };
    mute.onclick = () => {
      state.muted = !state.muted; localStorage.setItem("parley.muted", state.muted ? "1" : "0"); paintMute();
      if (!state.muted && "Notification" in window && Notification.permission === "default") Notification.requestPermission();
    };
    paintMute();
    $("logout").onclick = async () => { try { await api("/api/auth/logout", {method: "POST"}); } catch (e) { /* gone anyway */ } toLogin(); };
    $("history-form").addEventListener("submit", loadHistory);
    $("queue-team").onchange = () => { state.queueTeam = $("queue-team").value; renderQueue(); };
    $("queue-team").onfocus = loadTeams;
    $("case-priority").onchange = () => saveLabels({priority: $("case-priority").value});
    $("case-tag-new").addEventListener("keydown", (e) => {
      if (e.key !== "Enter") return;
      e.preventDefault();
      const chat = state.chats.get(state.active), tag = $("case-tag-new").value.trim().toLowerCase().split(/\s+/).join(" ");
      if (!chat || !chat.case || !tag) return;
      $("case-tag-new").value = "";
      const tags = chat.case.tags || [];
      if (!tags.includes(tag)) saveLabels({tags: [...tags, tag]});
    });
    loadTeams();
    $("user-form").addEventListener("submit", createUser);
    setInterval(() => {
      tick(); renderTyping();
      const liveShown = !$("view-live").hidden;
      if (!document.hidden && Date.now() - liveAt > (liveShown ? 4000 : 20000)) loadLive();
    }, 1000);
    // labels first, so no badge or system line shows an internal name
    fetch("/api/vocabulary").then((r) => r.ok ? r.json() : {}).then((v) => {
      Object.assign(REASONS, v.reasons || {}); Object.assign(ACTIONS, v.actions || {});
      const pick = $("h-reason");  // the history filter offers every reason but follow-ups (not escalations)
      pick.replaceChildren(el("option", {value: "", text: "Any reason"}),
        ...Object.keys(REASONS).filter((r) => r !== "follow_up").map((r) => el("option", {value: r, text: REASONS[r]})));
    }).catch(() => {}).finally(connect);
    const deep = /^#case=(\d{1,10})$/.exec(location.hash);  // a link from the unhappy-customers view
    if (deep) { showView("history"); showCase(Number(deep[1]), null); }
  }
  init();
})();
