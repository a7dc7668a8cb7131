/*! Parley chat widget loader | Apache-2.0
 * Paste once per page:
 *   <script src="https://HOST/widget.js" data-parley-key="KEY" async></script>
 * Optional: data-parley-color, data-parley-title, data-parley-greeting,
 *           data-parley-position (right|left), data-parley-lang (en|fr|es|de|pt|it|nl)
 * API: Parley.open(), Parley.close(), Parley.toggle(),
 *      Parley.identify({user_id, name, email, user_hash})
 * Calls made before this file loads are replayed from the usual stub:
 *   window.Parley=window.Parley||function(){(Parley.q=Parley.q||[]).push(arguments)};
 */
(function (w, d) {
  'use strict';
  var prev = w.Parley;
  if (prev && prev._parley) return;
  var me = d.currentScript || d.querySelector('script[data-parley-key]');
  if (!me || !me.src || !d.body && !d.documentElement) return;

  function attr(n) {
    var v = me.getAttribute('data-parley-' + n);
    return v == null ? '' : String(v).trim();
  }
  var src = new URL(me.src, location.href);
  var origin = src.origin;
  var base = origin + src.pathname.replace(/\/[^\/]*$/, '');
  var color = attr('color');
  if (!/^#([0-9a-f]{3}){1,2}$/i.test(color)) color = '#2563eb';
  var side = attr('position') === 'left' ? 'left' : 'right';
  var lang = (attr('lang') || d.documentElement.lang || navigator.language || 'en').slice(0, 2).toLowerCase();

  var STR = {
    en: ['Open chat', 'Close chat', 'Chat', 'unread', 'Dismiss'],
    fr: ['Ouvrir la discussion', 'Fermer la discussion', 'Discussion', 'non lus', 'Ignorer'],
    es: ['Abrir el chat', 'Cerrar el chat', 'Chat', 'sin leer', 'Descartar'],
    de: ['Chat öffnen', 'Chat schließen', 'Chat', 'ungelesen', 'Schließen'],
    pt: ['Abrir o chat', 'Fechar o chat', 'Chat', 'não lidas', 'Dispensar'],
    it: ['Apri la chat', 'Chiudi la chat', 'Chat', 'non letti', 'Ignora'],
    nl: ['Chat openen', 'Chat sluiten', 'Chat', 'ongelezen', 'Sluiten']
  };
  var T = STR[lang] || STR.en;

  // Text colour with the best contrast on the brand colour (WCAG relative luminance).
  var h = color.slice(1);
  if (h.length === 3) h = h.replace(/./g, '$&$&');
  var lum = [0, 2, 4].reduce(function (a, i, k) {
    var x = parseInt(h.substr(i, 2), 16) / 255;
    x = x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
    return a + x * [0.2126, 0.7152, 0.0722][k];
  }, 0);
  var fg = lum > 0.2 ? '#111827' : '#fff';

  var params = new URLSearchParams({
    key: attr('key'), color: color, title: attr('title'), greeting: attr('greeting'),
    lang: lang, origin: location.origin,
    page: location.origin + location.pathname, page_title: (d.title || '').slice(0, 300)
  });

  // Everything lives in a shadow root: host page CSS cannot reach it and ours cannot leak.
  var host = d.createElement('parley-widget');
  host.setAttribute('style', 'all:initial!important;display:block!important;position:fixed!important;' +
    'z-index:2147483000!important;bottom:0!important;' + side + ':0!important;width:0!important;height:0!important');
  var root = host.attachShadow({ mode: 'open' });
  var S = side;
  root.innerHTML = '<style>' +
    ':host{all:initial!important}' +
    '*{box-sizing:border-box}' +
    '.w{font:400 14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#111827;' +
    'text-transform:none;letter-spacing:normal;direction:ltr}' +
    '.l{position:fixed;z-index:2147483001;bottom:20px;' + S + ':20px;width:60px;height:60px;margin:0;padding:0;border:0;' +
    'border-radius:50%;background:' + color + ';color:' + fg + ';cursor:pointer;display:flex;align-items:center;' +
    'justify-content:center;box-shadow:0 6px 20px rgba(15,23,42,.24),0 2px 6px rgba(15,23,42,.16);' +
    'transition:transform .18s ease,box-shadow .18s ease;outline:none;-webkit-tap-highlight-color:transparent}' +
    '.l:hover{transform:scale(1.07);box-shadow:0 8px 26px rgba(15,23,42,.3),0 2px 6px rgba(15,23,42,.16)}' +
    '.l:active{transform:scale(.96)}' +
    '.l:focus-visible{box-shadow:0 0 0 3px #fff,0 0 0 6px ' + color + ',0 6px 20px rgba(15,23,42,.24)}' +
    '.l svg{position:absolute;width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;' +
    'stroke-linecap:round;stroke-linejoin:round;transition:transform .2s ease,opacity .2s ease}' +
    '.l .x,.o .l .c{opacity:0;transform:rotate(-60deg) scale(.6)}' +
    '.o .l .x{opacity:1;transform:none}' +
    '.b{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;' +
    'background:#dc2626;color:#fff;border:2px solid #fff;font:700 11px/18px system-ui,sans-serif;text-align:center}' +
    '.o .b,[hidden]{display:none!important}' +
    '.p{position:fixed;z-index:2147483000;bottom:96px;' + S + ':20px;width:390px;height:min(700px,calc(100% - 120px));' +
    'border-radius:18px;overflow:hidden;background:#fff;box-shadow:0 16px 56px rgba(15,23,42,.26),0 2px 8px rgba(15,23,42,.12);' +
    'opacity:0;visibility:hidden;pointer-events:none;transform:translateY(14px) scale(.98);transform-origin:bottom ' + S + ';' +
    'transition:opacity .2s ease,transform .2s ease,visibility 0s linear .2s}' +
    '.o .p{opacity:1;visibility:visible;pointer-events:auto;transform:none;transition:opacity .2s ease,transform .2s ease}' +
    '.p iframe{display:block;width:100%;height:100%;border:0;margin:0;padding:0;background:#fff;color-scheme:light}' +
    '.v{position:fixed;z-index:2147483001;bottom:92px;' + S + ':20px;width:280px;padding:14px 36px 14px 16px;' +
    'border-radius:14px;background:#fff;box-shadow:0 10px 36px rgba(15,23,42,.22);cursor:pointer;text-align:left;' +
    'animation:in .25s ease}' +
    '.v b{display:block;font-weight:600;font-size:13px;color:#374151;margin-bottom:3px}' +
    '.v span{display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden;color:#111827}' +
    '.v button{position:absolute;top:6px;right:6px;width:26px;height:26px;border:0;border-radius:50%;' +
    'background:transparent;color:#6b7280;font:18px/1 system-ui,sans-serif;cursor:pointer;padding:0}' +
    '.v button:hover{background:#f3f4f6}' +
    '.v:focus-visible,.v button:focus-visible{outline:2px solid ' + color + ';outline-offset:2px}' +
    '@keyframes in{from{opacity:0;transform:translateY(8px)}}' +
    // A short window (a laptop at 200 % zoom) gets the full-window panel too, as a phone does.
    '@media (max-width:480px),(max-height:560px){.p{top:0;left:0;right:0;bottom:0;width:auto;height:auto;border-radius:0}' +
    '.o .l{display:none}.v{width:auto;left:16px;right:16px}}' +
    '@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}' +
    '</style><div class="w">' +
    '<div class="v" role="button" tabindex="0" hidden><b></b><span></span><button type="button">\u00d7</button></div>' +
    '<div class="p" aria-hidden="true"><iframe></iframe></div>' +
    '<button class="l" type="button" aria-expanded="false">' +
    '<svg class="c" viewBox="0 0 24 24" aria-hidden="true"><path d="M21 11.5a8.4 8.4 0 0 1-8.5 8.3 8.9 8.9 0 0 1-3.8-.8L3 21l1.9-5.2a8 8 0 0 1-1-3.8A8.4 8.4 0 0 1 12.5 3.5 8.4 8.4 0 0 1 21 11.5z"/></svg>' +
    '<svg class="x" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 9l6 6 6-6"/></svg>' +
    '<span class="b" hidden></span></button></div>';

  function q(s) { return root.querySelector(s); }
  var wrap = q('.w'), launcher = q('.l'), badge = q('.b'), panel = q('.p'), frame = q('iframe'), pv = q('.v');
  frame.title = attr('title') || T[2];
  frame.setAttribute('allow', 'clipboard-write');
  frame.src = base + '/widget/frame.html?' + params;

  var open = false, ready = false, pending = [], unread = 0;

  // The conversation token lives in this page's own storage, per Parley origin and widget key, and
  // travels only to and from the chat frame (postMessage to `origin`, accepted only from it).
  var TKEY = 'parley:' + origin + ':' + (attr('key') || '');
  function keep(v) {
    try {
      if (v) w.localStorage.setItem(TKEY, JSON.stringify(v));
      else return JSON.parse(w.localStorage.getItem(TKEY) || 'null');
    } catch (e) { /* storage blocked on the host page too: the conversation lasts the page */ }
  }
  function post(m) {
    if (!ready) return pending.push(m);
    m.parley = 1;
    frame.contentWindow.postMessage(m, origin);
  }
  function label() {
    launcher.setAttribute('aria-label', (open ? T[1] : T[0]) + (unread && !open ? ' (' + unread + ' ' + T[3] + ')' : ''));
  }
  function setOpen(v, focus) {
    v = !!v;
    if (v === open) return;
    open = v;
    wrap.classList.toggle('o', v);
    launcher.setAttribute('aria-expanded', String(v));
    panel.setAttribute('aria-hidden', String(!v));
    label();
    if (v) {
      pv.hidden = true;
      if (focus) frame.focus();
    } else if (focus) {
      launcher.focus();
    }
    post({ type: 'visible', open: v, focus: !!focus });
  }

  launcher.addEventListener('click', function () { setOpen(!open, true); });
  wrap.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && open) setOpen(false, true);
  });
  pv.addEventListener('click', function (e) {
    if (e.target.tagName === 'BUTTON') { pv.hidden = true; e.stopPropagation(); return; }
    setOpen(true, true);
  });
  pv.addEventListener('keydown', function (e) {
    if ((e.key === 'Enter' || e.key === ' ') && e.target === pv) { e.preventDefault(); setOpen(true, true); }
  });
  q('.v button').setAttribute('aria-label', T[4]);

  w.addEventListener('message', function (e) {
    if (e.origin !== origin || e.source !== frame.contentWindow) return;
    var m = e.data;
    if (!m || m.parley !== 1) return;
    if (m.type === 'ready') {
      ready = true;
      var p = pending; pending = [];
      var t = keep();
      if (t && t.token) post({ type: 'resume', token: t.token, conv: t.conv });
      if (open) post({ type: 'visible', open: true, focus: false });
      p.forEach(post);
      if (m.open && !open && w.innerWidth > 480) setOpen(true, false);
    } else if (m.type === 'token' && typeof m.token === 'string') {
      keep({ token: m.token, conv: m.conv });
    } else if (m.type === 'close') {
      setOpen(false, true);
    } else if (m.type === 'open') {
      setOpen(true, true);
    } else if (m.type === 'unread') {
      var n = Math.max(0, m.count | 0), more = n > unread;
      unread = n;
      badge.hidden = !n;
      badge.textContent = n > 9 ? '9+' : String(n);
      label();
      var p2 = m.preview;
      if (!n) pv.hidden = true;
      else if (more && !open && p2 && p2.text) {
        pv.querySelector('b').textContent = String(p2.name || '');
        pv.querySelector('span').textContent = String(p2.text);
        pv.setAttribute('aria-label', String(p2.name || '') + ': ' + String(p2.text));
        pv.hidden = false;
      }
    }
  });

  var api = function (method) {
    var f = api[method];
    if (typeof f === 'function' && method.charAt(0) !== '_') return f.apply(api, [].slice.call(arguments, 1));
  };
  api._parley = 1;
  api.open = function () { setOpen(true, true); };
  api.close = function () { setOpen(false, false); };
  api.toggle = function () { setOpen(!open, true); };
  api.identify = function (u) {
    if (!u || typeof u !== 'object') return;
    var o = {};
    ['user_id', 'name', 'email', 'user_hash'].forEach(function (k) {
      if (u[k] != null && u[k] !== '') o[k] = String(u[k]).slice(0, 320);
    });
    post({ type: 'identify', user: o });
  };
  w.Parley = api;

  function mount() {
    (d.body || d.documentElement).appendChild(host);
    label();
  }
  if (d.body) mount(); else d.addEventListener('DOMContentLoaded', mount);

  var queued = prev && prev.q;
  if (queued && queued.length) {
    [].slice.call(queued).forEach(function (a) { api.apply(null, [].slice.call(a)); });
  }
})(window, document);
