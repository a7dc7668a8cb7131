/*! Parley chat frame | Apache-2.0
 * Speaks the /ws/chat protocol (docs/protocol.md). Message text is only ever set with
 * textContent / text nodes; a bot answer's server-rendered HTML is parsed inertly and rebuilt
 * from an allowlist of elements (rich() below), never assigned as innerHTML.
 */
(function () {
  'use strict';
  var W = window, D = document;
  var qs = new URLSearchParams(location.search);
  var I18N = W.PARLEY_I18N || { en: {} };
  var lang = (qs.get('lang') || navigator.language || 'en').slice(0, 2).toLowerCase();
  if (!I18N[lang]) lang = 'en';
  D.documentElement.lang = lang;

  function t(k, v) {
    var s = I18N[lang][k] != null ? I18N[lang][k] : I18N.en[k];
    if (s == null) return k;
    return v ? String(s).replace(/\{(\w+)\}/g, function (m, n) { return v[n] != null ? v[n] : m; }) : s;
  }

  var KEY = (qs.get('key') || '').slice(0, 64);
  var HOST = qs.get('origin') || '';
  var EMBED = W.parent !== W;
  var BASE = location.origin + location.pathname.replace(/\/widget\/[^\/]*$/, '');
  var WSBASE = BASE.replace(/^http/, 'ws');
  var TITLE = (qs.get('title') || t('title')).slice(0, 80);
  var GREETING = (qs.get('greeting') || t('greeting')).slice(0, 500);
  // The host page (from the loader), for the agent's side panel: address without query, and title.
  var PAGE = (qs.get('page') || '').slice(0, 2000);
  var PAGE_TITLE = (qs.get('page_title') || '').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').slice(0, 300);
  var MAX = 4000;
  var SKEY = 'parley:' + (KEY || 'default');

  /* ---------- colours: brand surface + an accessible ink colour for text on white ---------- */
  var color = qs.get('color') || '';
  if (!/^#([0-9a-f]{3}){1,2}$/i.test(color)) color = '#2563eb';
  function rgb(h) {
    h = h.slice(1);
    if (h.length === 3) h = h.replace(/./g, '$&$&');
    return [0, 2, 4].map(function (i) { return parseInt(h.substr(i, 2), 16); });
  }
  function lum(c) {
    return c.reduce(function (a, x, i) {
      x /= 255;
      x = x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
      return a + x * [0.2126, 0.7152, 0.0722][i];
    }, 0);
  }
  function darken(c, min) {
    while (1.05 / (lum(c) + 0.05) < min) c = c.map(function (x) { return Math.floor(x * 0.92); });
    return c;
  }
  (function () {
    var c = rgb(color), L = lum(c), surface = c, fg = '#fff';
    if (1.05 / (L + 0.05) < 4.5) {
      if ((L + 0.05) / 0.0622 >= 4.5) fg = '#111827';
      else surface = darken(c, 4.5);
    }
    var st = D.documentElement.style;
    st.setProperty('--brand', 'rgb(' + surface + ')');
    st.setProperty('--brand-fg', fg);
    st.setProperty('--ink', 'rgb(' + darken(c, 4.6) + ')');
    st.setProperty('--soft', 'rgba(' + c + ',.09)');
    st.setProperty('--soft2', 'rgba(' + c + ',.18)');
  })();

  /* ---------- storage (localStorage may be blocked in third-party frames: then memory only) ---------- */
  function blank() {
    return {
      v: 1, token: null, conv: null, lastSeq: 0, seenSeq: 0, status: 'bot', avail: null,
      agent: null, queue: null, resolvedSeq: 0, events: [], outbox: [], fb: {}, fu: {}, rated: {},
      contact: null, user: null
    };
  }
  var store = null, sess = null;
  try { store = W.localStorage; sess = W.sessionStorage; } catch (e) { /* blocked */ }
  function load() {
    try {
      var s = JSON.parse(store.getItem(SKEY));
      if (s && s.v === 1) {
        var b = blank();
        for (var k in b) if (s[k] != null) b[k] = s[k];
        return b;
      }
    } catch (e) { /* ignore */ }
    return blank();
  }
  var S = load();
  function save() {
    if (S.events.length > 300) S.events = S.events.slice(-300);
    try { store.setItem(SKEY, JSON.stringify(S)); } catch (e) { /* full or blocked */ }
  }
  function uuid() {
    if (W.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = [].map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  /* ---------- DOM helpers ---------- */
  function $(id) { return D.getElementById(id); }
  function el(tag, cls, text) {
    var e = D.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }
  var SVGNS = 'http://www.w3.org/2000/svg';
  var ICON = {
    bot: 'M12 3v3M7.5 8h9a3.5 3.5 0 0 1 3.5 3.5v3A3.5 3.5 0 0 1 16.5 18h-9A3.5 3.5 0 0 1 4 14.5v-3A3.5 3.5 0 0 1 7.5 8zM9 13h.01M15 13h.01',
    doc: 'M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8zM14 3v5h5M9 13h6M9 17h6',
    out: 'M14 4h6v6M20 4l-9 9M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5',
    up: 'M7 10v11M14 5.9 13 10h5.8a2 2 0 0 1 2 2.3l-1.4 7a2 2 0 0 1-2 1.7H7V10l4-8a3 3 0 0 1 3 3.9z',
    down: 'M17 14V3M10 18.1 11 14H5.2a2 2 0 0 1-2-2.3l1.4-7a2 2 0 0 1 2-1.7H17v11l-4 8a3 3 0 0 1-3-3.9z',
    star: 'M12 2.8l2.8 5.8 6.4.9-4.6 4.5 1.1 6.3L12 17.3l-5.7 3 1.1-6.3-4.6-4.5 6.4-.9z',
    dl: 'M12 4v11M7 10l5 5 5-5M5 20h14',
    mail: 'M4 6h16v12H4zM4 7l8 6 8-6',
    check: 'M5 12l5 5 9-10'
  };
  function icon(name) {
    var s = D.createElementNS(SVGNS, 'svg');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('aria-hidden', 'true');
    var p = D.createElementNS(SVGNS, 'path');
    p.setAttribute('d', ICON[name]);
    s.appendChild(p);
    return s;
  }
  function initials(name) {
    var p = String(name || '?').trim().split(/\s+/);
    return ((p[0] || '?').charAt(0) + (p.length > 1 ? p[p.length - 1].charAt(0) : '')).toUpperCase();
  }
  function safeUrl(u) {
    try {
      var x = new URL(String(u), BASE + '/');
      return x.protocol === 'https:' || x.protocol === 'http:' ? x.href : null;
    } catch (e) { return null; }
  }
  // Plain text with http(s) links made clickable. Text goes in as text nodes only.
  function linkify(node, text) {
    var re = /\bhttps?:\/\/[^\s<>"']+/g, last = 0, m;
    text = String(text == null ? '' : text);
    while ((m = re.exec(text))) {
      var url = m[0].replace(/[.,;:!?)\]]+$/, ''), href = safeUrl(url);
      if (!href) continue;
      node.appendChild(D.createTextNode(text.slice(last, m.index)));
      var a = el('a', null, url);
      a.href = href; a.target = '_blank'; a.rel = 'noopener noreferrer nofollow';
      node.appendChild(a);
      last = m.index + url.length;
      re.lastIndex = last;
    }
    node.appendChild(D.createTextNode(text.slice(last)));
  }
  // A bot answer's HTML (rendered and sanitised by the server's one Markdown renderer) is not
  // trusted either: it is parsed inertly and only allowlisted elements are rebuilt, with no
  // attributes but a checked link href and a cell's alignment; anything else becomes its text.
  var TAGS = /^(P|BR|HR|STRONG|EM|B|I|CODE|PRE|BLOCKQUOTE|UL|OL|LI|H[1-6]|TABLE|THEAD|TBODY|TR|TH|TD|A)$/;
  function linkHref(u) {
    try {
      var x = new URL(String(u), BASE + '/');
      return /^(https?|mailto):$/.test(x.protocol) ? x.href : null;
    } catch (e) { return null; }
  }
  function copyRich(from, to) {
    [].forEach.call(from.childNodes, function (n) {
      if (n.nodeType === 3) return to.appendChild(D.createTextNode(n.nodeValue));
      if (n.nodeType !== 1) return;
      var tag = n.tagName, e, href;
      if (!TAGS.test(tag)) return to.appendChild(D.createTextNode(tag === 'IMG' ? n.alt || '' : n.textContent));
      if (tag === 'A') {
        href = linkHref(n.getAttribute('href') || '');
        if (!href) return copyRich(n, to);
      }
      e = D.createElement(tag);
      if (href) { e.href = href; e.target = '_blank'; e.rel = 'noopener noreferrer nofollow'; }
      if (tag === 'TD' || tag === 'TH') {
        // markdown-it writes style="text-align:right"; only that one declaration is kept (through
        // the CSSOM, which the CSP allows; a style attribute would be refused).
        var al = /^\s*(left|right|center)\s*$/i.exec(n.getAttribute('align') || '') ||
          /(?:^|;)\s*text-align\s*:\s*(left|right|center)\s*(?:;|$)/i.exec(n.getAttribute('style') || '');
        if (al) e.style.textAlign = al[1].toLowerCase();
      }
      copyRich(n, e);
      if (tag === 'TABLE') {  // a wide table scrolls sideways inside the bubble
        var w = el('div', 'tw');
        w.appendChild(e);
        e = w;
      }
      to.appendChild(e);
    });
  }
  function rich(html) {
    var box = el('div', 'md');
    copyRich(new DOMParser().parseFromString(String(html), 'text/html').body, box);
    return box;
  }
  function clock(iso) {
    var d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
  }

  var log = $('log'), msgs = $('msgs'), pend = $('pending'), cards = $('cards'), typingRow = $('typing');
  var hello = '', hist = [], histBox = el('div', 'hist'), closedBack = null;
  log.insertBefore(histBox, msgs);
  var input = $('input'), form = $('composer'), sendBtn = $('send'), human = $('human'), jump = $('jump');

  /* ---------- static chrome ---------- */
  $('title').textContent = TITLE;
  D.title = TITLE;
  $('humant').textContent = t('human');
  $('close').setAttribute('aria-label', t('close'));
  $('close').title = t('close');
  $('inputl').textContent = t('input_label');
  input.placeholder = t('placeholder');
  sendBtn.setAttribute('aria-label', t('send'));
  sendBtn.title = t('send');
  log.setAttribute('aria-label', t('conversation'));
  $('jumpt').textContent = t('jump');
  $('foot').textContent = t('powered');
  if (!EMBED) D.body.classList.add('standalone');

  /* ---------- attachments: sent over HTTP with the token in a header (never the URL), shown from blob: URLs ---------- */
  var clip = $('clip'), fileIn = $('file'), upBox = $('up'), blobs = {};
  clip.setAttribute('aria-label', t('attach'));
  clip.title = t('attach');
  clip.addEventListener('click', function () { fileIn.click(); });
  fileIn.addEventListener('change', function () { if (fileIn.files[0]) upload(fileIn.files[0]); fileIn.value = ''; });
  input.addEventListener('paste', function (e) {
    var f = e.clipboardData && e.clipboardData.files[0];
    if (f) { e.preventDefault(); upload(f); }
  });
  log.addEventListener('dragover', function (e) { e.preventDefault(); });
  log.addEventListener('drop', function (e) {
    e.preventDefault();
    var f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) upload(f);
  });
  function upStatus(text) { upBox.textContent = text || ''; upBox.hidden = !text; }
  function upload(file) {
    if (!S.token) return;
    var x = new XMLHttpRequest(), name = String(file.name || '').slice(0, 200);
    x.open('POST', BASE + '/api/chat/attachments');
    x.setRequestHeader('X-Conversation-Token', S.token);
    x.setRequestHeader('X-Filename', encodeURIComponent(name));
    upStatus(t('uploading', { name: name, pct: 0 }));
    x.upload.onprogress = function (e) {
      if (e.lengthComputable) upStatus(t('uploading', { name: name, pct: Math.round(e.loaded * 100 / e.total) }));
    };
    x.onload = function () {
      upStatus();
      var j = null, d;
      try { j = JSON.parse(x.responseText); } catch (e) { /* not JSON */ }
      if (x.status === 201 && j && j.event) return onEvent(j.event);  // stored: its seq, as the socket will say
      d = j && j.detail;
      flash(t('up_failed', { reason: x.status === 413 ? t('up_big') : x.status === 415 ? t('up_type') : (d && d.detail) || d || x.status }));
    };
    x.onerror = function () { upStatus(); flash(t('up_failed', { reason: t('waiting_net') })); };
    x.send(file);
  }
  function fetchFile(a, then) {
    if (blobs[a.id]) return then(blobs[a.id]);
    var x = new XMLHttpRequest();
    x.open('GET', BASE + '/api/chat/attachments/' + encodeURIComponent(a.id));
    x.responseType = 'blob';
    x.setRequestHeader('X-Conversation-Token', S.token || '');
    x.onload = function () { if (x.status === 200) then(blobs[a.id] = URL.createObjectURL(x.response)); };
    x.send();
  }
  function size(n) { return n < 1024 ? n + ' B' : n < 1048576 ? Math.round(n / 1024) + ' KB' : (n / 1048576).toFixed(1) + ' MB'; }
  // An image as a thumbnail, anything else as a chip (name, size) that downloads it; text only, via DOM APIs.
  function attachmentNode(a) {
    if (a.image) {
      var img = el('img', 'thumb');
      img.alt = a.name;
      fetchFile(a, function (u) { img.src = u; });
      return img;
    }
    var b = el('button', 'file'), s = el('span', null, a.name);
    b.type = 'button';
    b.appendChild(icon('doc'));
    s.appendChild(el('small', null, size(a.size)));
    b.appendChild(s);
    b.addEventListener('click', function () {
      fetchFile(a, function (u) { var l = el('a'); l.href = u; l.download = a.name; D.body.appendChild(l); l.click(); l.remove(); });
    });
    return b;
  }

  /* ---------- rendering ---------- */
  var lastGroup = null;

  // `stuck`: the customer is following the end of the conversation. The log scrolls smoothly, so a frame that
  // arrives mid-scroll must not read the half-way position as "the customer scrolled up".
  var stuck = true, lastTop = 0;
  function atEnd() { return log.scrollHeight - log.scrollTop - log.clientHeight < 90; }
  function nearBottom() { return stuck || atEnd(); }
  function toBottom() { stuck = true; log.scrollTop = log.scrollHeight; jump.hidden = true; }
  function grew(stick) { if (stick) toBottom(); else jump.hidden = false; }

  function senderName(ev) {
    if (ev.sender === 'agent') return (ev.agent && ev.agent.name) || t('agent');
    return t('bot');
  }

  function avatar(ev) {
    var av = el('div', 'av' + (ev.sender === 'agent' ? ' agent-av' : ''));
    av.setAttribute('aria-hidden', 'true');
    if (ev.sender === 'agent') av.textContent = initials(senderName(ev));
    else av.appendChild(icon('bot'));
    return av;
  }

  function answeredAfter(seq) {
    if (S.outbox.length) return true;
    for (var i = S.events.length - 1; i >= 0; i--) {
      var e = S.events[i];
      if (e.seq <= seq) break;
      if (e.type === 'message' && e.sender === 'customer') return true;
    }
    return false;
  }

  function chips(ev) {
    var box = el('div', 'chips');
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', t('suggestions'));
    var used = answeredAfter(ev.seq || 0);
    (ev.suggestions || []).forEach(function (s) {
      if (!s || !s.title) return;
      var b = el('button', 'chip', s.title);
      b.type = 'button';
      b.disabled = used;
      b.addEventListener('click', function () {
        if (sendText(String(s.title), s.article_id)) b.classList.add('chosen');
      });
      box.appendChild(b);
    });
    if (ev.offer_person) {
      // The bot has no sure answer: a person, asked for the same way as the header's button.
      var p = el('button', 'chip person', t(ev.action === 'clarify' ? 'none_person' : 'human'));
      p.type = 'button';
      p.disabled = used || humanAsked || (S.status !== 'bot' && S.status !== 'resolved');
      p.addEventListener('click', function () {
        p.classList.add('chosen');
        askHuman();
      });
      box.appendChild(p);
    }
    return box;
  }

  function feedback(ev) {
    var box = el('div', 'fb'), done = S.fb[ev.seq];
    if (done != null) {
      var ok = el('span', 'fb-done', t(done ? 'fb_yes' : 'fb_no'));
      ok.tabIndex = -1;
      ok.insertBefore(icon('check'), ok.firstChild);
      box.appendChild(ok);
      return box;
    }
    var q = el('span', 'fb-q', t('helpful'));
    q.id = 'fbq' + ev.seq;
    box.appendChild(q);
    [true, false].forEach(function (v) {
      var b = el('button', 'fbb');
      b.type = 'button';
      b.appendChild(icon(v ? 'up' : 'down'));
      b.appendChild(el('span', null, t(v ? 'yes' : 'no')));
      b.setAttribute('aria-describedby', q.id);
      b.addEventListener('click', function () {
        S.fb[ev.seq] = v;
        save();
        control({ type: 'feedback', seq: ev.seq, helpful: v });
        var nb = feedback(ev);
        box.parentNode.replaceChild(nb, box);
        nb.firstChild.focus();
        if (!v && S.status === 'bot') botTyping(true);
      });
      box.appendChild(b);
    });
    return box;
  }

  function articleLink(a) {
    var href = a && a.title ? safeUrl(a.url || '') : null;
    if (!href) return null;
    var l = el('a', 'art');
    l.href = href; l.target = '_blank'; l.rel = 'noopener noreferrer';
    l.appendChild(icon('doc'));
    var tx = el('span', 'art-t');
    tx.appendChild(el('small', null, t('article')));
    tx.appendChild(el('strong', null, a.title));
    l.appendChild(tx);
    l.appendChild(icon('out'));
    // No aria-label: the link's name is its visible text ("Article", the title), so voice control can say it.
    return l;
  }

  function messageRow(ev, pending) {
    var who = ev.sender, me = who === 'customer';
    if (who === 'system') {
      lastGroup = null;
      var s = el('div', 'sys');
      var sp = el('span');
      linkify(sp, ev.text);
      s.appendChild(sp);
      return s;
    }
    var name = me ? '' : senderName(ev);
    var gk = me ? 'me' : who + ':' + name;
    var first = pending || gk !== lastGroup;
    if (!pending) lastGroup = gk;
    var row = el('div', 'row ' + (me ? 'me' : 'them') + (first ? ' first' : ''));
    if (!me) row.appendChild(avatar(ev));
    var col = el('div', 'col');
    row.appendChild(col);
    if (first && !me) {
      var nm = el('div', 'name', name);
      if (ev.created_at) nm.appendChild(el('time', null, clock(ev.created_at)));
      col.appendChild(nm);
    }
    var b = el('div', 'bubble');
    b.appendChild(el('span', 'sr', me ? t('you_said') : t('said', { name: name })));
    var art = who === 'bot' && ev.article ? articleLink(ev.article) : null;
    if (art) { b.appendChild(art); b.classList.add('has-art'); }
    var tx = ev.attachment ? attachmentNode(ev.attachment) : ev.html ? rich(ev.html) : el('div', 'txt');
    if (!ev.html && !ev.attachment) linkify(tx, ev.text);
    b.appendChild(tx);
    if (ev.more_html) {
      // The rest of the answering section, shown on request.
      var rest = rich(ev.more_html), open = el('button', 'more', t('more'));
      rest.hidden = true;
      open.type = 'button';
      open.setAttribute('aria-expanded', 'false');
      open.addEventListener('click', function () {
        rest.hidden = !rest.hidden;
        open.textContent = t(rest.hidden ? 'more' : 'less');
        open.setAttribute('aria-expanded', String(!rest.hidden));
      });
      b.appendChild(rest);
      b.appendChild(open);
    } else if (!me && !ev.html && String(ev.text || '').length > 420) {
      // Long answers (whole article sections) start folded, like a snippet.
      tx.classList.add('clamp');
      var more = el('button', 'more', t('more'));
      more.type = 'button';
      more.setAttribute('aria-expanded', 'false');
      more.addEventListener('click', function () {
        var open = !tx.classList.toggle('clamp');
        more.textContent = t(open ? 'less' : 'more');
        more.setAttribute('aria-expanded', String(open));
      });
      b.appendChild(more);
    }
    if (ev.created_at) b.title = new Date(ev.created_at).toLocaleString(lang);
    col.appendChild(b);
    if (!me && ((ev.suggestions && ev.suggestions.length) || ev.offer_person)) col.appendChild(chips(ev));
    if (who === 'bot' && ev.article && ev.seq && (!ev.action || ev.action === 'answer')) col.appendChild(feedback(ev));
    return row;
  }

  // A change of owner: the server's own (localised) text when it sends one, else ours.
  function handoffRow(ev) {
    var st = ev.status, name = (ev.agent && ev.agent.name) || t('agent');
    var txt = ev.text || (st === 'assigned' ? t('joined', { agent: name }) : st === 'resolved' ? t('resolved')
      : st === 'bot' ? t('back_bot') : st === 'queued' ? t('sub_queued') : '');
    if (!txt) return null;
    lastGroup = null;
    var d = el('div', 'sys' + (st === 'assigned' ? ' ev' : ''));
    var sp = el('span');
    if (st === 'assigned') sp.appendChild(el('b', 'mini', initials(name)));
    linkify(sp, txt);
    d.appendChild(sp);
    return d;
  }

  /* "Did that solve it?" after a resolution or a transfer: Yes / No, answered once (app/followup.py) */
  function followupRow(ev) {
    lastGroup = null;
    var d = el('div', 'sys fu'), done = (S.fu || {})[ev.followup_id];
    d.appendChild(el('span', null, ev.text || ''));
    if (done) {
      d.appendChild(el('span', 'fb-done', t(done === 'yes' ? 'fb_yes' : 'fb_no')));
      return d;
    }
    ['yes', 'no'].forEach(function (a) {
      var b = el('button', 'fbb', t(a));
      b.type = 'button';
      b.addEventListener('click', function () {
        S.fu = S.fu || {};
        S.fu[ev.followup_id] = a;
        save();
        control({ type: 'followup_answer', followup_id: ev.followup_id, answer: a });
        var nd = followupRow(ev);
        d.parentNode.replaceChild(nd, d);
      });
      d.appendChild(b);
    });
    return d;
  }
  function onFollowupAnswer(f) {
    if (!f.followup_id || !f.answer) return;
    S.fu = S.fu || {};
    if (S.fu[f.followup_id] === f.answer) return;
    S.fu[f.followup_id] = f.answer;  // answered elsewhere first (another tab, the email link)
    save();
    renderAll();
  }

  function renderEvent(ev) {
    var n = ev.type === 'handoff' ? handoffRow(ev) : ev.type === 'followup' ? followupRow(ev) : messageRow(ev, false);
    if (!n) return;
    if (ev.seq) n.setAttribute('data-seq', ev.seq);
    msgs.appendChild(n);
  }

  function renderPending(m) {
    var row = messageRow({ sender: 'customer', text: m.text }, true);
    row.classList.add('pending');
    row.id = 'p-' + m.id;
    var st = el('div', 'st');
    row.lastChild.appendChild(st);
    pend.appendChild(row);
    pendingStatus();
  }
  function pendingStatus() {
    var txt = live ? t('sending') : t('waiting_net');
    [].forEach.call(pend.querySelectorAll('.st'), function (s) {
      if (s.classList.contains('bad')) return;
      s.textContent = txt;
      s.classList.toggle('now', !live);
    });
  }

  function renderAll() {
    msgs.textContent = '';
    pend.textContent = '';
    lastGroup = null;
    msgs.appendChild(messageRow({ sender: 'bot', text: hello + GREETING }, false));
    S.events.forEach(renderEvent);
    S.outbox.forEach(renderPending);
    cardKey = '';
    chrome();
    toBottom();
  }

  /* ---------- header, queue banner, cards ---------- */
  var humanAsked = false, cardKey = '';

  function waitText(sec) {
    if (sec == null || sec < 0) return '';
    if (sec < 60) return t('wait_soon');
    if (sec < 5400) return t('wait_min', { n: Math.round(sec / 60) });
    return t('wait_hour', { n: Math.round(sec / 3600) });
  }

  function chrome() {
    var st = S.status, offline = st === 'queued' && S.avail === 'offline';
    var back = offline ? S.back : (st === 'bot' || st === 'resolved') && closedBack && new Date(closedBack) > Date.now() ? closedBack : null;
    var sub = st === 'assigned' ? t('sub_agent', { agent: S.agent || t('agent') })
      : back ? t('back_at', { when: whenText(back) })
      : offline ? t('sub_offline') : st === 'queued' ? t('sub_queued')
      : st === 'resolved' ? t('sub_resolved') : t('sub_bot');
    $('subt').textContent = sub;
    D.body.setAttribute('data-status', offline ? 'offline' : st);
    $('hini').textContent = st === 'assigned' ? initials(S.agent || t('agent')) : '';
    $('hav').classList.toggle('agent-av', st === 'assigned');
    var busy = st === 'queued' || st === 'assigned';
    human.disabled = busy || humanAsked;
    clip.disabled = !S.token;
    human.title = busy ? t('human_busy') : '';
    var q = $('queue'), info = S.queue, follow = nearBottom();
    if (st === 'queued' && !offline && info) {
      $('qpos').textContent = info.position > 1 ? t('queue_pos', { n: info.position }) : t('queue_next');
      $('qwait').textContent = waitText(info.wait);
      q.hidden = false;
    } else {
      q.hidden = true;
    }
    if (follow) toBottom();  // the queue strip takes height from the log; keep the end in view
    var key = st + '|' + (offline ? 1 : 0) + '|' + (S.back || '') + '|' + (S.contact || '') + '|' + S.resolvedSeq + '|' + (S.rated[S.resolvedSeq] || '') + '|' + !!S.token;
    if (key !== cardKey) {
      var stick = nearBottom();
      cardKey = key;
      cards.textContent = '';
      if (offline && !S.contact) cards.appendChild(contactCard());
      if (st === 'resolved') cards.appendChild(ratingCard());
      if (cards.firstChild) grew(stick);
    }
  }

  function whenText(iso) {
    var d = new Date(iso);
    if (isNaN(d)) return '';
    var o = { weekday: 'long', hour: '2-digit', minute: '2-digit' };
    if (d - Date.now() > 6 * 864e5) { o.day = 'numeric'; o.month = 'long'; }
    return d.toLocaleString(lang, o);
  }

  function shortDate(iso) {
    var d = new Date(iso);
    try { return d.toLocaleDateString(lang, { day: 'numeric', month: 'short', year: 'numeric' }); } catch (e) { return iso; }
  }

  function renderHistory() {
    histBox.textContent = '';
    if (!hist.length) return;
    var c = el('nav', 'card hcard');
    c.setAttribute('aria-label', t('history_title'));
    var h = el('div', 'card-h');
    h.appendChild(icon('doc'));
    h.appendChild(el('strong', null, t('history_title')));
    c.appendChild(h);
    var ul = el('ul', 'hlist');
    hist.forEach(function (x) {
      var li = el('li'), b = el('button', 'hitem');
      b.type = 'button';
      b.appendChild(el('span', 'hdate', shortDate(x.created_at)));
      b.appendChild(el('span', 'hfirst', x.first_message));
      b.addEventListener('click', function () { rawSend({ type: 'history_open', conversation_id: x.conversation_id }); });
      li.appendChild(b);
      ul.appendChild(li);
    });
    c.appendChild(ul);
    histBox.appendChild(c);
  }

  function showTranscript(f) {
    histBox.textContent = '';
    var c = el('section', 'card htrans');
    var h = el('div', 'card-h');
    h.appendChild(el('strong', null, t('conversation') + ' · ' + shortDate(f.created_at)));
    c.appendChild(h);
    (f.messages || []).forEach(function (m) {
      var p = el('p', 'hmsg');
      p.appendChild(el('b', null, m.sender === 'customer' ? t('you_said') + ' ' : (m.sender === 'agent' ? (m.agent && m.agent.name) || t('agent') : t('bot')) + ': '));
      p.appendChild(D.createTextNode(String(m.text || '')));
      c.appendChild(p);
    });
    var b = el('button', 'primary', t('history_back'));
    b.type = 'button';
    b.addEventListener('click', function () { renderHistory(); input.focus(); });
    c.appendChild(b);
    histBox.appendChild(c);
  }

  function isEmail(s) { return /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(s); }

  function field(labelText, type, name, auto) {
    var w = el('label', 'fld');
    w.appendChild(el('span', null, labelText));
    var i = el('input');
    i.type = type; i.name = name; i.autocomplete = auto; i.maxLength = 254;
    w.appendChild(i);
    return w;
  }

  function contactCard() {
    var c = el('form', 'card');
    c.noValidate = true;
    var h = el('div', 'card-h');
    h.appendChild(icon('mail'));
    h.appendChild(el('strong', null, t('offline_title')));
    c.appendChild(h);
    if (S.back) c.appendChild(el('p', 'back', t('back_at', { when: whenText(S.back) })));
    var fn = field(t('name_label'), 'text', 'name', 'name'), fe = field(t('email_label'), 'email', 'email', 'email');
    var u = S.user || {};
    if (u.name) fn.lastChild.value = u.name;
    if (u.email) fe.lastChild.value = u.email;
    fe.lastChild.required = true;
    var err = el('p', 'ferr');
    err.id = 'cerr';
    err.hidden = true;
    fe.lastChild.setAttribute('aria-describedby', 'cerr');
    c.appendChild(fn);
    c.appendChild(fe);
    c.appendChild(err);
    var b = el('button', 'primary', t('contact_send'));
    b.type = 'submit';
    c.appendChild(b);
    c.addEventListener('submit', function (e) {
      e.preventDefault();
      var email = fe.lastChild.value.trim(), name = fn.lastChild.value.trim();
      if (!isEmail(email)) {
        err.textContent = t('email_bad');
        err.hidden = false;
        fe.lastChild.setAttribute('aria-invalid', 'true');
        fe.lastChild.focus();
        return;
      }
      var f = { type: 'contact', email: email };
      if (name) f.name = name;
      control(f);
      S.contact = email;
      save();
      chrome();
      input.focus();
    });
    return c;
  }

  function ratingCard() {
    var c = el('div', 'card rate'), seq = S.resolvedSeq, done = S.rated[seq];
    c.setAttribute('role', 'group');
    var h = el('div', 'card-h');
    h.appendChild(el('strong', null, done ? t('rate_done') : t('rate_title')));
    h.id = 'rateh';
    c.setAttribute('aria-labelledby', 'rateh');
    c.appendChild(h);
    var stars = el('div', 'stars'), score = 0, btns = [];
    function paint(n) { btns.forEach(function (b, i) { b.classList.toggle('on', i < n); }); }
    for (var i = 1; i <= 5; i++) {
      (function (n) {
        var b = el('button', 'star');
        b.type = 'button';
        b.appendChild(icon('star'));
        b.setAttribute('aria-label', t('star_label', { n: n, label: t('stars')[n - 1] }));
        b.setAttribute('aria-pressed', 'false');
        b.disabled = !!done;
        b.addEventListener('mouseenter', function () { paint(n); });
        b.addEventListener('focus', function () { paint(Math.max(n, score)); });
        b.addEventListener('click', function () {
          score = n;
          btns.forEach(function (x, k) { x.setAttribute('aria-pressed', String(k + 1 === n)); });
          paint(n);
          label.textContent = t('stars')[n - 1];
          send.disabled = false;
        });
        btns.push(b);
        stars.appendChild(b);
      })(i);
    }
    stars.addEventListener('mouseleave', function () { paint(score); });
    c.appendChild(stars);
    var label = el('div', 'star-l', done ? t('stars')[done - 1] : '\u00a0');
    c.appendChild(label);
    if (done) paint(done);
    if (!done) {
      var ta = el('textarea');
      ta.rows = 2;
      ta.maxLength = 1000;
      ta.placeholder = t('comment');
      ta.setAttribute('aria-label', t('comment'));
      c.appendChild(ta);
      var send = el('button', 'primary', t('rate_send'));
      send.type = 'button';
      send.disabled = true;
      send.addEventListener('click', function () {
        if (!score) return;
        var f = { type: 'rating', score: score };
        if (ta.value.trim()) f.comment = ta.value.trim().slice(0, 1000);
        control(f);
        S.rated[seq] = score;
        save();
        chrome();
        var hh = $('rateh');
        if (hh) { hh.tabIndex = -1; hh.focus(); }
      });
      c.appendChild(send);
    }
    if (S.token) {
      var a = el('a', 'dl');
      a.href = BASE + '/api/chat/transcript?token=' + encodeURIComponent(S.token) + '&format=txt';
      a.setAttribute('download', 'transcript.txt');
      a.appendChild(icon('dl'));
      a.appendChild(el('span', null, t('transcript')));
      c.appendChild(a);
      if (S.mailOK) c.appendChild(emailForm());
    }
    return c;
  }

  function emailForm() {
    var f = el('form', 'mailt'), fe = field(t('email_label'), 'email', 'email', 'email');
    f.noValidate = true;
    fe.lastChild.value = S.contact || (S.user || {}).email || '';
    var b = el('button', 'dl');
    b.type = 'submit';
    b.appendChild(icon('mail'));
    b.appendChild(el('span', null, t('email_transcript')));
    var note = el('p', 'ferr');
    note.id = 'merr';
    note.hidden = true;
    note.setAttribute('role', 'status');
    fe.lastChild.setAttribute('aria-describedby', 'merr');
    function say(ok, text) {
      note.className = ok ? 'fok' : 'ferr';
      note.textContent = text;
      note.hidden = false;
      b.disabled = false;
    }
    f.appendChild(fe);
    f.appendChild(b);
    f.appendChild(note);
    f.addEventListener('submit', function (e) {
      e.preventDefault();
      var email = fe.lastChild.value.trim();
      if (!isEmail(email)) { fe.lastChild.focus(); return say(false, t('email_bad')); }
      b.disabled = true;
      fetch(BASE + '/api/chat/transcript/email', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: S.token, email: email })
      }).then(function (r) {
        if (!r.ok) return say(false, t('email_failed'));
        return r.json().then(function (j) {
          say(true, t(j && j.confirmation_sent ? 'email_confirm' : 'email_sent', { email: email }));
        });
      }).catch(function () { say(false, t('email_failed')); });
    });
    return f;
  }

  /* ---------- typing indicators ---------- */
  var typingT = null;
  function showTyping(on, sender, name) {
    clearTimeout(typingT);
    var stick = nearBottom();
    if (on) {
      var av = $('tav');
      av.textContent = '';
      av.className = 'av' + (sender === 'agent' ? ' agent-av' : '');
      if (sender === 'agent') av.textContent = initials(name);
      else av.appendChild(icon('bot'));
      typingRow.setAttribute('aria-label', t('typing', { name: name }));
      typingRow.hidden = false;
      typingT = setTimeout(function () { showTyping(false); }, sender === 'agent' ? 8000 : 25000);
      grew(stick);
    } else {
      typingRow.hidden = true;
    }
  }
  function botTyping(on) { showTyping(on, 'bot', t('bot')); }

  /* ---------- connection ---------- */
  var ws = null, live = false, tries = 0, retryT = null, pingT = null, connT = null, lastRx = 0;
  var inflight = {}, ctlQueue = [], badToken = 0, wanted = false;

  function showConn(text, fatal) {
    var c = $('conn');
    if (!text) { c.hidden = true; return; }
    $('connt').textContent = text;
    c.classList.toggle('fatal', !!fatal);
    c.hidden = false;
  }

  function rawSend(obj) {
    if (!ws || ws.readyState !== 1) return false;
    try { ws.send(JSON.stringify(obj)); return true; } catch (e) { return false; }
  }
  function control(frame) {
    if (!(live && rawSend(frame))) {
      ctlQueue.push(frame);
      ensure();
    }
  }

  function ensure() {
    wanted = true;
    if (!ws) connect();
  }

  function connect() {
    if (ws) return;
    clearTimeout(retryT);
    var p = new URLSearchParams({ lang: lang });
    if (KEY) p.set('key', KEY);
    if (S.token) { p.set('token', S.token); p.set('last_seq', String(S.lastSeq)); }
    var s;
    try { s = new WebSocket(WSBASE + '/ws/chat?' + p); } catch (e) { return retry(); }
    ws = s; live = false; inflight = {};
    clearTimeout(connT);
    connT = setTimeout(function () { if (s === ws && !live && tries === 0) showConn(t('connecting')); }, 1500);
    s.onmessage = function (e) { if (s === ws) onFrame(e.data); };
    s.onclose = function (e) { if (s === ws) lost(e.code, e.reason); };
  }

  function lost(code, reason) {
    var s = ws;
    ws = null; live = false;
    clearInterval(pingT);
    clearTimeout(connT);
    if (s) {
      s.onclose = s.onmessage = null;
      try { s.close(); } catch (e) { /* already closed */ }
    }
    pendingStatus();
    showTyping(false);
    D.body.classList.add('down');
    // Close codes: docs/protocol.md "Limits and close codes".
    reason = String(reason || '');
    if (code === 1008 && /token|erased/i.test(reason) && badToken < 3) {
      // Unknown or erased conversation: forget it and start a fresh one.
      badToken++;
      resetConversation();
      if (visible || S.outbox.length) connect();
      return;
    }
    if (code === 1008 && !/too many/i.test(reason)) {
      // Origin or key refused: a configuration problem, retried only when the visitor acts again.
      showConn(t('unavailable'), true);
      return;
    }
    if (code === 1000) {
      // Idle timeout: reconnect when the visitor comes back (or now, if a person may be writing).
      showConn(null);
      if (!D.hidden && (S.status === 'queued' || S.status === 'assigned')) retry();
      return;
    }
    showConn(navigator.onLine === false ? t('offline_net') : t('reconnecting'));
    // 1008 "too many …": a limit, retried after a minute; 1013: the server is full, so visitors
    // come back spread over 5-30 s instead of all at once. The outbox waits in localStorage.
    retry(code === 1008 ? 60000 : code === 1013 ? 5000 + Math.random() * 25000 : 0);
  }

  function retry(min) {
    clearTimeout(retryT);
    var d = Math.min(30000, 600 * Math.pow(2, tries++));
    d = d / 2 + Math.random() * d / 2;
    retryT = setTimeout(connect, Math.max(d, min || 0));
  }

  function resetConversation() {
    var keep = { outbox: S.outbox, user: S.user };
    S = blank();
    S.outbox = keep.outbox;
    S.user = keep.user;
    seen = {};
    humanAsked = false;
    save();
    renderAll();
    syncUnread();
  }

  function flushOutbox() {
    if (!live) return;
    var now = Date.now();
    S.outbox.forEach(function (m) {
      if (inflight[m.id] && now - inflight[m.id] < 15000) return;
      var f = { type: 'message', text: m.text, client_msg_id: m.id };
      if (m.article_id) f.article_id = m.article_id;
      if (rawSend(f)) inflight[m.id] = now;
    });
  }

  var seen = {};
  S.events.forEach(function (e) { seen[e.seq] = 1; });

  function onFrame(raw) {
    var f;
    try { f = JSON.parse(raw); } catch (e) { return; }
    if (!f || typeof f !== 'object') return;
    lastRx = Date.now();
    switch (f.type) {
      case 'session': return onSession(f);
      case 'message':
      case 'handoff':
      case 'followup': return onEvent(f);
      case 'followup_answer': return onFollowupAnswer(f);
      case 'queue': return onQueue(f);
      case 'identify':
        if (f.greeting) { hello = String(f.greeting).slice(0, 200) + ' '; renderAll(); }
        return;
      case 'history':
        hist = (f.conversations || []).slice(0, 10);
        return renderHistory();
      case 'history_transcript': return showTranscript(f);
      case 'typing': return onTyping(f);
      case 'error': return onError(f);
    }
  }

  function onSession(f) {
    if (S.conv && f.conversation_id && f.conversation_id !== S.conv) {
      var keep = { outbox: S.outbox, user: S.user };
      S = blank();
      S.outbox = keep.outbox;
      S.user = keep.user;
      seen = {};
      renderAll();
    }
    S.token = f.token || S.token;
    S.conv = f.conversation_id || S.conv;
    // The host page keeps the token in its own storage (this frame's may be blocked as third-party);
    // targetOrigin HOST: only the parent page, whose origin frame-ancestors checked, can read it.
    toParent({ type: 'token', token: S.token, conv: S.conv });
    if (f.status) S.status = f.status;
    S.mailOK = !!f.email_transcript;
    closedBack = f.hours && !f.hours.open ? f.hours.back_at : null;
    live = true; tries = 0; badToken = 0;
    clearTimeout(connT);
    showConn(null);
    D.body.classList.remove('down');
    save();
    chrome();
    pendingStatus();
    var sock = ws, pingAt = 0;
    clearInterval(pingT);
    // While the visitor has the chat open, a ping that gets no answer means a dead connection.
    // A closed panel sends nothing, so the server's idle timeout can retire unused sockets.
    pingT = setInterval(function () {
      if (ws !== sock || !reading()) { pingAt = 0; return; }
      if (pingAt && lastRx < pingAt) return lost(1006, 'no pong');
      pingAt = Date.now();
      rawSend({ type: 'ping' });
    }, 20000);
    // The server replays after last_seq from the URL; ask explicitly if that replay did not come.
    if (typeof f.last_seq === 'number' && f.last_seq > S.lastSeq) {
      setTimeout(function () {
        if (ws === sock && live && S.lastSeq < f.last_seq) rawSend({ type: 'resume', last_seq: S.lastSeq });
      }, 1500);
    }
    identify();
    sendContext();
    if (S.outbox.length && S.status === 'bot') botTyping(true);
    var q = ctlQueue;
    ctlQueue = [];
    q.forEach(control);
    flushOutbox();
  }

  function slim(f) {
    var e = { type: f.type, seq: f.seq };
    ['sender', 'text', 'article', 'suggestions', 'client_msg_id', 'created_at', 'agent', 'action',
      'html', 'more_html', 'offer_person', 'status', 'reason', 'position', 'estimated_wait_seconds', 'availability', 'agents_online',
      'followup_id', 'back_at', 'attachment']
      .forEach(function (k) { if (f[k] != null) e[k] = f[k]; });
    return e;
  }

  function applyHandoff(e) {
    if (!e.status) return;
    S.status = e.status;
    if (e.status === 'queued') {
      S.avail = e.availability || (e.agents_online === 0 ? 'offline' : 'online');
      S.queue = { position: e.position, wait: e.estimated_wait_seconds };
      S.back = e.back_at || null;
    }
    if (e.status === 'assigned') S.agent = (e.agent && e.agent.name) || S.agent;
    if (e.status === 'resolved') S.resolvedSeq = e.seq;
    if (e.status !== 'queued') humanAsked = false;
  }

  function onEvent(f) {
    if (typeof f.seq !== 'number' || f.seq < 1) return;
    if (seen[f.seq]) return;
    seen[f.seq] = 1;
    var e = slim(f), stick = nearBottom();
    var ordered = !S.events.length || S.events[S.events.length - 1].seq < e.seq;
    S.events.push(e);
    if (e.seq > S.lastSeq) S.lastSeq = e.seq;
    // A customer message reopens a resolved conversation and the bot answers again (the server
    // sends no handoff for that), so the state follows the messages.
    if (e.type === 'message' && S.status === 'resolved' && (e.sender === 'customer' || e.sender === 'bot')) S.status = 'bot';
    if (e.type === 'handoff') {
      applyHandoff(e);
      showTyping(false);
    } else if (e.sender === 'customer') {
      if (e.client_msg_id) {
        var idx = -1;
        S.outbox.forEach(function (m, i) { if (m.id === e.client_msg_id) idx = i; });
        if (idx >= 0) S.outbox.splice(idx, 1);
        delete inflight[e.client_msg_id];
        var p = $('p-' + e.client_msg_id);
        if (p) p.parentNode.removeChild(p);
      }
      [].forEach.call(msgs.querySelectorAll('.chip'), function (b) { b.disabled = true; });
    } else {
      if (e.sender === 'agent' && e.agent && e.agent.name) S.agent = e.agent.name;
      showTyping(false);
    }
    if (ordered) {
      renderEvent(e);
    } else {
      S.events.sort(function (a, b) { return a.seq - b.seq; });
      renderAll();
    }
    save();
    chrome();
    grew(stick || e.sender === 'customer');
    syncUnread();
  }

  function onQueue(f) {
    if (S.status !== 'queued') return;
    S.queue = { position: f.position, wait: f.estimated_wait_seconds };
    if (f.availability) S.avail = f.availability;
    else if (f.agents_online > 0) S.avail = 'online';
    S.back = f.back_at || null;
    save();
    chrome();
  }

  function onTyping(f) {
    if (f.sender === 'customer' || (f.sender === 'bot' && S.status !== 'bot' && S.status !== 'resolved')) return;
    var name = f.sender === 'agent' ? (S.agent || t('agent')) : t('bot');
    showTyping(f.active !== false, f.sender === 'agent' ? 'agent' : 'bot', name);
  }

  function onError(f) {
    var code = f.code;
    if (code === 'rate_limited') {
      if (f.frame && f.frame !== 'message') return;  // a typing or ping frame was dropped: nothing to resend
      inflight = {};
      flash(t('rate_limited'));
      setTimeout(flushOutbox, 5000);
    } else if (code === 'text_too_long' || code === 'empty_text') {
      var id = f.client_msg_id || Object.keys(inflight)[0];
      var m = S.outbox.filter(function (x) { return x.id === id; })[0];
      if (!m) return;
      S.outbox.splice(S.outbox.indexOf(m), 1);
      delete inflight[id];
      save();
      botTyping(false);
      var st = $('p-' + id);
      st = st && st.querySelector('.st');
      if (st) { st.textContent = t('not_sent', { reason: f.detail || code }); st.classList.add('bad'); }
    } else if (code === 'invalid_state') {
      humanAsked = false;
      chrome();
    } else if (code === 'internal') {
      flash(t('error'));
    }
  }

  var flashT = null;
  function flash(text) {
    var e = $('err');
    e.textContent = text;
    e.hidden = false;
    clearTimeout(flashT);
    flashT = setTimeout(function () { e.hidden = true; }, 5000);
  }

  // Where the visitor is (the `context` frame): page, time zone and language, for the agent.
  function sendContext() {
    var c = { type: 'context' }, tz = '';
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { /* old browser */ }
    if (PAGE) c.page_url = PAGE;
    if (PAGE_TITLE) c.page_title = PAGE_TITLE;
    if (tz) c.time_zone = tz.slice(0, 64);
    if (navigator.language) c.language = navigator.language.slice(0, 35);
    rawSend(c);
  }

  // Who the visitor is on the host site (Parley.identify). The server needs a user_id.
  function identify() {
    var u = S.user;
    if (u && u.user_id) rawSend({ type: 'identify', user_id: u.user_id, name: u.name, email: u.email, user_hash: u.user_hash });
  }

  /* ---------- sending ---------- */
  var typingSent = 0, typingIdle = null, typingOn = false;
  function typing() {
    if (!live) return;
    var now = Date.now();
    if (!typingOn || now - typingSent > 3000) {
      rawSend({ type: 'typing', active: true });
      typingSent = now;
      typingOn = true;
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, 4000);
  }
  function stopTyping() {
    clearTimeout(typingIdle);
    if (typingOn) rawSend({ type: 'typing', active: false });
    typingOn = false;
  }

  function sendText(text, articleId) {
    text = String(text || '').trim();
    if (!text) return false;
    if (text.length > MAX) { flash(t('too_long', { n: text.length, max: MAX })); return false; }
    var m = { id: uuid(), text: text };
    if (articleId) m.article_id = String(articleId);
    S.outbox.push(m);
    save();
    [].forEach.call(msgs.querySelectorAll('.chip'), function (b) { b.disabled = true; });
    renderPending(m);
    toBottom();
    stopTyping();
    if (live && (S.status === 'bot' || S.status === 'resolved')) botTyping(true);
    ensure();
    flushOutbox();
    return true;
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    if (sendText(input.value)) {
      input.value = '';
      sizeInput();
    }
  });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (sendText(input.value)) { input.value = ''; sizeInput(); }
    }
  });
  function sizeInput() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight, 132) + 'px';
    sendBtn.disabled = !input.value.trim();
  }
  input.addEventListener('input', function () { sizeInput(); if (input.value) typing(); else stopTyping(); });
  function askHuman() {
    humanAsked = true;
    [].forEach.call(msgs.querySelectorAll('.chip.person'), function (b) { b.disabled = true; });
    toBottom();  // the customer's own action: show what it brings
    chrome();
    botTyping(false);
    control({ type: 'request_human' });
  }
  human.addEventListener('click', askHuman);
  jump.addEventListener('click', function () { toBottom(); input.focus(); });
  log.addEventListener('scroll', function () {
    if (atEnd()) { stuck = true; jump.hidden = true; }
    else if (log.scrollTop < lastTop - 2) stuck = false;  // scrolled up, by the customer
    lastTop = log.scrollTop;
  });

  /* ---------- host page (loader) messaging ---------- */
  var visible = !EMBED, lastSig = '';
  function toParent(m) {
    if (!EMBED || !HOST) return;
    m.parley = 1;
    try { W.parent.postMessage(m, HOST); } catch (e) { /* bad origin parameter */ }
  }
  function reading() { return visible && !D.hidden; }
  function syncUnread() {
    if (reading() && S.seenSeq < S.lastSeq) { S.seenSeq = S.lastSeq; save(); }
    var n = 0, last = null;
    S.events.forEach(function (e) {
      if (e.seq > S.seenSeq && e.type === 'message' && e.sender !== 'customer') { n++; last = e; }
    });
    var sig = n + ':' + (last ? last.seq : 0);
    if (sig === lastSig) return;
    lastSig = sig;
    toParent({
      type: 'unread', count: n,
      // A rendered answer previews as its words, not its Markdown (no pipes or ## on the host page).
      preview: last ? { name: last.sender === 'system' ? TITLE : senderName(last),
        text: (last.html ? rich(last.html).textContent.replace(/\s+/g, ' ').trim() : String(last.text || '')).slice(0, 160) } : null
    });
  }

  W.addEventListener('message', function (e) {
    if (!EMBED || e.source !== W.parent || e.origin !== HOST) return;
    var m = e.data;
    if (!m || m.parley !== 1) return;
    if (m.type === 'visible') {
      visible = !!m.open;
      try { if (visible) sess.setItem(SKEY + ':open', '1'); else sess.removeItem(SKEY + ':open'); } catch (x) { /* blocked */ }
      if (visible) {
        ensure();
        toBottom();
        // Keyboard and mouse users land in the composer; on touch screens we do not pop the
        // on-screen keyboard over the conversation, focus just moves into the dialog.
        if (m.focus) (W.matchMedia && matchMedia('(pointer: coarse)').matches ? log : input).focus();
      }
      syncUnread();
    } else if (m.type === 'resume' && !S.token && typeof m.token === 'string' && m.token.length < 200) {
      S.token = m.token;  // the host page's copy: resume that conversation, from the start of its transcript
      S.conv = typeof m.conv === 'string' ? m.conv : null;
      save();
      ensure();
    } else if (m.type === 'identify' && m.user && typeof m.user === 'object') {
      var u = {};
      ['user_id', 'name', 'email', 'user_hash'].forEach(function (k) {
        if (typeof m.user[k] === 'string' && m.user[k]) u[k] = m.user[k].slice(0, 320);
      });
      S.user = u;
      save();
      if (live) identify();
    }
  });

  D.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && EMBED) { e.preventDefault(); toParent({ type: 'close' }); }
  });
  $('close').addEventListener('click', function () { toParent({ type: 'close' }); });
  function comeBack() {
    if (wanted && !ws) { tries = 0; connect(); }
  }
  D.addEventListener('visibilitychange', function () {
    if (!D.hidden) { syncUnread(); comeBack(); }
  });
  W.addEventListener('focus', comeBack);
  W.addEventListener('online', comeBack);
  W.addEventListener('offline', function () { if (ws) lost(1006, 'offline'); });
  W.addEventListener('storage', function (e) {
    // Another tab of the same site wrote the conversation: adopt its token if we have none.
    if (e.key !== SKEY || !e.newValue || S.token) return;
    try {
      var o = JSON.parse(e.newValue);
      if (o && o.token) { S.token = o.token; S.conv = o.conv; }
    } catch (x) { /* ignore */ }
  });

  /* ---------- start ---------- */
  renderAll();
  var wasOpen = false;
  try { wasOpen = !!sess.getItem(SKEY + ':open'); } catch (e) { /* blocked */ }
  if (!EMBED || S.token || S.outbox.length) ensure();
  toParent({ type: 'ready', open: wasOpen });
  syncUnread();
  // Announce only messages that arrive after the first paint.
  msgs.setAttribute('role', 'log');
  msgs.setAttribute('aria-live', 'polite');
  msgs.setAttribute('aria-relevant', 'additions');
})();
