// Parley web UI. Talks to the local daemon's API (/api/v1/*) and its event stream (/api/v1/stream).
// No libraries; all user-provided text goes into the DOM through textContent / text nodes only.

const API = '/api/v1';
const HEX32 = /^[0-9a-f]{32}$/i;
const PRESENCE_WORDS = new Set(['online', 'away', 'busy', 'offline', 'invisible']);
const SYSTEM_KINDS = new Set(['create', 'add', 'remove', 'leave', 'rename']);
const REFRESH_DEBOUNCE_MS = 10; // coalesces a burst; a refetch already running collects what arrives meanwhile
const READ_INTERVAL_MS = 500;
const EVENT_LIMIT = 500;

// ---------------------------------------------------------------------------------------------------------
// State

const state = {
  signedIn: false,
  me: '',
  status: null,          // GET /status
  contacts: [],          // GET /contacts
  chats: [],             // GET /chats
  currentId: null,       // open conversation (32 hex)
  events: [],            // lines of the open conversation
  eventsFor: null,       // conversation id `events` belongs to
  fetchDown: false,      // last fetch failed at the network level
  socketDown: false,     // the stream closed and has not reopened yet
  membersOpen: true,
  stickBottom: false,    // scroll the message list to the bottom on next render
  sending: false,
  lastReadPost: 0,
  readTimer: null,
  startTimer: null,
};

const el = {};
const byId = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------------------
// Small helpers

/** Creates an element. Strings become text nodes, never markup. */
function h(tag, props = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') n.className = v;
    else if (k === 'text') n.textContent = String(v);
    else if (k.startsWith('on') && typeof v === 'function') n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    n.append(c instanceof Node ? c : String(c));
  }
  return n;
}

function avatar(name, extraClass = '') {
  const a = h('span', { class: `avatar ${extraClass}`.trim(), 'aria-hidden': 'true', text: initial(name) });
  a.style.backgroundColor = colorFor(name);
  return a;
}

function initial(name) {
  return (Array.from(String(name || '?'))[0] || '?').toUpperCase();
}

function colorFor(name) {
  let hash = 0;
  for (const ch of String(name || '')) hash = (hash * 31 + ch.codePointAt(0)) | 0;
  return `hsl(${Math.abs(hash) % 360} 55% 45%)`;
}

function presenceClass(p) {
  return PRESENCE_WORDS.has(p) ? `p-${p}` : 'p-offline';
}

function fmtTime(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  const t = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return d.toDateString() === new Date().toDateString()
    ? t
    : `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${t}`;
}

function fmtDay(ms) {
  const d = new Date(ms);
  const today = new Date();
  const yesterday = new Date(Date.now() - 86400000);
  if (d.toDateString() === today.toDateString()) return 'Today';
  if (d.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return d.toLocaleDateString([], { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}

function linkWord(s) {
  if (!s || !s.online) return 'offline';
  return s.linkState === 'attached' ? 'online' : 'connecting';
}

function currentChat() {
  return state.currentId ? state.chats.find((c) => c.id === state.currentId) || null : null;
}

function chatPath(id) {
  return `${API}/chats/${encodeURIComponent(id)}`;
}

// ---------------------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status; // 0 = the daemon could not be reached
    this.code = code;
  }
}

/**
 * Calls the daemon. Non-GET requests always carry a JSON body. A 401 (without an explicit token) switches
 * to the sign-in screen. Network failures raise the "daemon down" banner.
 */
async function api(method, path, body, { token } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    setFetchDown(true);
    throw new ApiError(0, 'unreachable', 'Cannot reach the Parley daemon');
  }
  setFetchDown(false);
  if (res.status === 401 && !token) {
    showSignIn();
    throw new ApiError(401, 'unauthorized', 'Not signed in');
  }
  const text = await res.text().catch(() => '');
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const message = (data && typeof data.message === 'string' && data.message)
      || (res.status === 413 ? 'Too large: the message is over the size limit' : `Request failed (${res.status})`);
    throw new ApiError(res.status, data && data.error, message);
  }
  return data;
}

// ---------------------------------------------------------------------------------------------------------
// Loading (debounced, coalesced)

const refresh = { pending: new Set(), timer: null, running: false, retry: null };

/** what: 'status' | 'contacts' | 'chats' | 'events' | 'all'. Coalesced within REFRESH_DEBOUNCE_MS. */
function schedule(...what) {
  if (!state.signedIn) return;
  for (const w of what) refresh.pending.add(w);
  if (!refresh.timer && !refresh.running) refresh.timer = setTimeout(flush, REFRESH_DEBOUNCE_MS);
}

async function flush() {
  refresh.timer = null;
  if (refresh.running) return;
  if (!state.signedIn) { refresh.pending.clear(); return; }
  const p = refresh.pending;
  refresh.pending = new Set();
  const all = p.has('all');
  const jobs = [];
  if (all || p.has('status')) jobs.push(loadStatus());
  if (all || p.has('contacts')) jobs.push(loadContacts());
  if (all || p.has('chats')) jobs.push(loadChats());
  if (all || p.has('events')) jobs.push(loadEvents());
  refresh.running = true;
  try {
    const results = await Promise.allSettled(jobs);
    for (const r of results) {
      if (r.status !== 'rejected') continue;
      if (r.reason && r.reason.status === 0) scheduleRetry();
      else if (!(r.reason && r.reason.status === 401)) console.warn('Parley refresh failed:', r.reason);
    }
  } finally {
    refresh.running = false;
    if (refresh.pending.size && !refresh.timer) refresh.timer = setTimeout(flush, REFRESH_DEBOUNCE_MS);
  }
}

function scheduleRetry() {
  if (refresh.retry || !state.signedIn) return;
  refresh.retry = setTimeout(() => { refresh.retry = null; schedule('all'); }, 2000);
}

async function loadStatus() {
  const s = await api('GET', `${API}/status`);
  state.status = s || {};
  if (s && s.user) state.me = s.user;
  renderMe();
  renderChatHeader();
  if (!state.call) {
    // after a reload or reconnect: show a call that is still going on
    const calls = await api('GET', `${API}/calls`);
    const live = Array.isArray(calls) ? calls.filter((c) => c.state !== 'ended').pop() : null;
    if (live) onCall(live);
  }
}

async function loadContacts() {
  const list = await api('GET', `${API}/contacts`);
  state.contacts = Array.isArray(list) ? list : [];
  renderContacts();
  renderChats();
  renderChatHeader();
}

async function loadChats() {
  const list = await api('GET', `${API}/chats`);
  state.chats = Array.isArray(list) ? list : [];
  const id = state.currentId;
  if (id && !state.chats.some((c) => c.id === id)) {
    try {
      const one = await api('GET', chatPath(id));
      if (one && one.id === id && !state.chats.some((c) => c.id === id)) state.chats.push(one);
    } catch (e) {
      if ((e.status === 404 || e.status === 400) && state.currentId === id) closeChat();
      else throw e;
    }
  }
  renderChats();
  renderChat();
  maybeMarkRead();
}

async function loadEvents() {
  const id = state.currentId;
  if (!id) return;
  let lines;
  try {
    lines = await api('GET', `${chatPath(id)}/events?limit=${EVENT_LIMIT}`);
  } catch (e) {
    if ((e.status === 404 || e.status === 400) && state.currentId === id) { closeChat(); return; }
    throw e;
  }
  if (state.currentId !== id) return; // switched conversations meanwhile
  state.events = Array.isArray(lines) ? lines : [];
  state.eventsFor = id;
  renderMessages();
}

// ---------------------------------------------------------------------------------------------------------
// Event stream (WebSocket)

const sock = { ws: null, backoff: 500, timer: null, ping: null };

function connectSocket() {
  clearTimeout(sock.timer);
  sock.timer = null;
  if (!state.signedIn || sock.ws) return;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let ws;
  try {
    ws = new WebSocket(`${proto}//${location.host}${API}/stream`);
  } catch {
    onSocketLost();
    return;
  }
  sock.ws = ws;
  ws.addEventListener('open', () => {
    if (sock.ws !== ws) return;
    sock.backoff = 500;
    state.socketDown = false;
    renderBanner();
    clearInterval(sock.ping);
    sock.ping = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ping' }));
    }, 25000);
    schedule('all'); // the daemon may have restarted, or we missed events while connecting
  });
  ws.addEventListener('message', (e) => {
    let m;
    try { m = JSON.parse(e.data); } catch { return; }
    if (m && typeof m === 'object') onStreamMessage(m);
  });
  ws.addEventListener('close', () => {
    if (sock.ws !== ws) return;
    sock.ws = null;
    clearInterval(sock.ping);
    onSocketLost();
  });
}

function onSocketLost() {
  if (!state.signedIn) return;
  state.socketDown = true;
  renderBanner();
  schedule('status'); // tells "daemon gone" (network error) from "signed out" (401)
  if (sock.timer) return;
  const delay = sock.backoff + Math.floor(Math.random() * 200);
  sock.backoff = Math.min(sock.backoff * 2, 5000);
  sock.timer = setTimeout(() => { sock.timer = null; connectSocket(); }, delay);
}

function closeSocket() {
  clearTimeout(sock.timer);
  sock.timer = null;
  clearInterval(sock.ping);
  const ws = sock.ws;
  sock.ws = null;
  sock.backoff = 500;
  state.socketDown = false;
  if (ws) { try { ws.close(); } catch { /* ignore */ } }
}

function onStreamMessage(m) {
  switch (m.type) {
    case 'hello':
      if (m.user && !state.me) { state.me = m.user; renderMe(); }
      break;
    case 'event': {
      const what = ['chats'];
      if (m.conversation && m.conversation === state.currentId) what.push('events');
      if (SYSTEM_KINDS.has(m.kind)) what.push('contacts');
      schedule(...what);
      break;
    }
    case 'delivered':
      if (state.currentId) schedule('events');
      break;
    case 'presence': {
      const c = state.contacts.find((x) => x.user === m.user);
      if (c) {
        c.presence = m.presence;
        renderContacts();
        renderChats();
        renderChatHeader();
      } else if (m.user === state.me) {
        schedule('status');
      } else {
        schedule('contacts');
      }
      break;
    }
    case 'call':
      onCall(m.call);
      break;
    case 'status':
      state.status = state.status || {};
      for (const k of ['online', 'linkState', 'queued']) if (k in m) state.status[k] = m[k];
      renderMe();
      renderChatHeader();
      break;
    default:
      break; // pong and anything newer
  }
}

// ---------------------------------------------------------------------------------------------------------
// Calls: the bar shows the current call (ringing, connected, just ended) and its buttons

const REASONS = {
  declined: 'declined', busy: 'busy', no_answer: 'no answer', cancelled: 'cancelled',
  answered_elsewhere: 'answered on another device', hangup: 'ended', offline: 'is offline',
  unreachable: 'unreachable', failed: 'failed', unknown: 'ended',
};

function onCall(c) {
  if (!c || !c.id) return;
  if (state.call && state.call.id !== c.id && state.call.state !== 'ended' && c.state === 'ended') return; // an old one
  state.call = c;
  clearTimeout(state.callHide);
  if (c.state === 'ended') state.callHide = setTimeout(() => { state.call = null; renderCallBar(); }, 5000);
  renderCallBar();
}

function callText(c) {
  const who = c.peer || '';
  switch (c.state) {
    case 'dialing': return `Calling ${who}…`;
    case 'ringing': return c.direction === 'incoming' ? `Incoming call from ${who}` : `Ringing ${who}…`;
    case 'answering': return `Connecting to ${who}…`;
    case 'connected': {
      const secs = Math.max(0, Math.round((Date.now() - (c.connectedAt || Date.now())) / 1000));
      const path = c.path ? ` · ${c.path}` : '';
      return `In call with ${who} · ${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, '0')}${path}`;
    }
    default: return `Call with ${who}: ${REASONS[c.reason] || c.reason || 'ended'}`;
  }
}

function renderCallBar() {
  const c = state.call;
  el.callBar.hidden = !c;
  if (!c) return;
  el.callBar.setAttribute('data-state', c.state);
  el.callState.textContent = callText(c);
  const incomingRinging = c.direction === 'incoming' && c.state === 'ringing';
  el.answerCall.hidden = !incomingRinging;
  el.rejectCall.hidden = !incomingRinging;
  el.hangupCall.hidden = incomingRinging || c.state === 'ended';
}

async function callAction(path, body = {}) {
  try {
    const c = await api('POST', `${API}/calls${path}`, body);
    onCall(c);
  } catch (e) {
    setComposeError(e.message);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Sign-in / sign-out

function showSignIn(message = '') {
  state.signedIn = false;
  closeSocket();
  clearTimeout(refresh.timer);
  clearTimeout(refresh.retry);
  refresh.timer = refresh.retry = null;
  refresh.pending.clear();
  state.status = null;
  state.contacts = [];
  state.chats = [];
  state.events = [];
  state.eventsFor = null;
  el.app.hidden = true;
  el.signin.hidden = false;
  el.signinError.textContent = message;
  renderBanner();
  if (document.activeElement !== el.token) el.token.focus();
}

function showApp() {
  el.signin.hidden = true;
  el.signinError.textContent = '';
  el.app.hidden = false;
}

/** Checks the session by loading the status; on success shows the app and starts live updates. */
async function start() {
  clearTimeout(state.startTimer);
  state.startTimer = null;
  try {
    const s = await api('GET', `${API}/status`);
    state.status = s || {};
    if (s && s.user) state.me = s.user;
  } catch (e) {
    if (e.status === 0) state.startTimer = setTimeout(start, 2000); // banner is up; keep trying
    else if (e.status !== 401) showSignIn(e.message);
    return;
  }
  state.signedIn = true;
  showApp();
  renderAll();
  connectSocket();
  schedule('all');
}

async function signIn(token, { auto = false } = {}) {
  token = String(token || '').trim();
  if (!token) { el.signinError.textContent = 'Paste the access token first.'; return; }
  el.signinBtn.disabled = true;
  try {
    await api('POST', `${API}/session`, {}, { token });
    el.token.value = '';
    await start();
  } catch (e) {
    if (e.status === 0 && auto) {
      state.startTimer = setTimeout(() => signIn(token, { auto }), 2000);
    } else if (e.status === 401 || e.status === 403) {
      showSignIn('That token was not accepted. Run `parley client ui` again to get a fresh one.');
    } else {
      if (auto) el.token.value = token;
      showSignIn(e.message);
    }
  } finally {
    el.signinBtn.disabled = false;
  }
}

async function signOut() {
  try { await api('DELETE', `${API}/session`, {}); } catch { /* signed out either way */ }
  state.currentId = null;
  setHashChat(null);
  showSignIn();
}

// ---------------------------------------------------------------------------------------------------------
// Location hash: #chat=<id> (the token never stays there)

function parseHash() {
  const p = new URLSearchParams(location.hash.replace(/^#/, ''));
  const chat = p.get('chat');
  return { token: p.get('token'), chat: chat && HEX32.test(chat) ? chat.toLowerCase() : null };
}

function setHashChat(id) {
  const want = id ? `#chat=${id}` : '';
  if (location.hash === want) return;
  history.replaceState(history.state, '', `${location.pathname}${location.search}${want}`);
}

function onHashChange() {
  const { token, chat } = parseHash();
  if (token) {
    setHashChat(chat || state.currentId);
    signIn(token, { auto: true });
    return;
  }
  if (chat && chat !== state.currentId) {
    if (state.signedIn) openChat(chat);
    else state.currentId = chat;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Actions

function openChat(id, summary) {
  if (!id) return;
  if (summary && summary.id === id && !state.chats.some((c) => c.id === id)) state.chats.unshift(summary);
  const changed = state.currentId !== id;
  state.currentId = id;
  if (changed) {
    state.events = [];
    state.eventsFor = null;
    state.stickBottom = true;
    setComposeError('');
    el.renameInput.value = '';
    el.addMemberInput.value = '';
  }
  setHashChat(id);
  renderChats();
  renderChat();
  schedule('events');
  if (!state.chats.some((c) => c.id === id)) schedule('chats');
  maybeMarkRead();
  if (changed && window.matchMedia('(min-width: 761px)').matches) el.compose.focus();
}

function closeChat() {
  state.currentId = null;
  state.events = [];
  state.eventsFor = null;
  setHashChat(null);
  renderChats();
  renderChat();
}

async function openDirect(user) {
  setSideMessage(el.contactError, '');
  try {
    const s = await api('POST', `${API}/chats/direct`, { user });
    if (s && s.id) openChat(s.id, s);
    schedule('chats');
  } catch (e) {
    if (e.status !== 401) setSideMessage(el.contactError, e.message);
  }
}

async function addContact() {
  const user = el.addContactInput.value.trim();
  if (!user) return;
  try {
    await api('POST', `${API}/contacts`, { user });
    el.addContactInput.value = '';
    setSideMessage(el.contactError, '');
    schedule('contacts');
  } catch (e) {
    if (e.status !== 401) setSideMessage(el.contactError, e.message);
  }
}

async function removeContact(user) {
  try {
    await api('DELETE', `${API}/contacts/${encodeURIComponent(user)}`, {});
    schedule('contacts');
  } catch (e) {
    if (e.status !== 401) setSideMessage(el.contactError, e.message);
  }
}

async function createGroup() {
  const name = el.groupName.value.trim();
  const members = el.groupMembers.value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!name) { setSideMessage(el.groupError, 'Give the group a name.'); return; }
  el.createGroup.disabled = true;
  try {
    const s = await api('POST', `${API}/chats`, { name, members });
    el.groupName.value = '';
    el.groupMembers.value = '';
    setSideMessage(el.groupError, '');
    el.groupForm.hidden = true;
    if (s && s.id) openChat(s.id, s);
    schedule('chats', 'contacts');
  } catch (e) {
    if (e.status !== 401) setSideMessage(el.groupError, e.message);
  } finally {
    el.createGroup.disabled = false;
  }
}

/** POSTs an event to the open conversation; errors go to the line under the compose box. */
async function postToChat(body) {
  const id = state.currentId;
  if (!id) return false;
  try {
    await api('POST', `${chatPath(id)}/events`, body);
    if (state.currentId === id) setComposeError('');
    schedule('chats', 'events');
    return true;
  } catch (e) {
    if (e.status !== 401 && state.currentId === id) setComposeError(e.message);
    return false;
  }
}

async function send() {
  const text = el.compose.value;
  if (!text.trim() || state.sending || !state.currentId) return;
  state.sending = true;
  el.send.disabled = true;
  const ok = await postToChat({ kind: 'message', text });
  state.sending = false;
  el.send.disabled = false;
  if (ok) {
    el.compose.value = '';
    autoResize();
    state.stickBottom = true;
  }
  el.compose.focus();
}

async function addMember() {
  const user = el.addMemberInput.value.trim();
  if (!user) return;
  if (await postToChat({ kind: 'add', users: [user] })) el.addMemberInput.value = '';
}

async function renameGroup() {
  const text = el.renameInput.value.trim();
  if (!text) return;
  if (await postToChat({ kind: 'rename', text })) el.renameInput.value = '';
}

function maybeMarkRead() {
  const chat = currentChat();
  if (!state.signedIn || !chat || chat.member === false || !(chat.unread > 0)) return;
  if (document.visibilityState !== 'visible') return;
  const wait = state.lastReadPost + READ_INTERVAL_MS - Date.now();
  if (wait > 0) {
    if (!state.readTimer) state.readTimer = setTimeout(() => { state.readTimer = null; maybeMarkRead(); }, wait);
    return;
  }
  state.lastReadPost = Date.now();
  const id = chat.id;
  api('POST', `${chatPath(id)}/events`, { kind: 'read' })
    .then(() => {
      const c = state.chats.find((x) => x.id === id);
      if (c) c.unread = 0;
      renderChats();
      schedule('chats');
    })
    .catch(() => { /* shown through the banner / sign-in screen if relevant */ });
}

function setComposeError(msg) {
  el.composeError.textContent = msg || '';
}

function setSideMessage(node, msg) {
  node.textContent = msg || '';
}

function autoResize() {
  const t = el.compose;
  t.style.height = 'auto';
  t.style.height = `${Math.min(t.scrollHeight, 200)}px`;
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

function renderAll() {
  renderBanner();
  renderMe();
  renderContacts();
  renderChats();
  renderChat();
}

function renderBanner() {
  el.daemonDown.hidden = !(state.fetchDown || (state.signedIn && state.socketDown));
}

function setFetchDown(down) {
  if (state.fetchDown === down) return;
  state.fetchDown = down;
  renderBanner();
}

function renderMe() {
  const s = state.status || {};
  el.me.textContent = state.me;
  el.meAvatar.textContent = initial(state.me);
  el.meAvatar.style.backgroundColor = colorFor(state.me);
  el.meAvatar.className = `avatar ${presenceClass(s.online ? s.presence : 'offline')}`;
  const word = linkWord(s);
  el.link.textContent = word;
  el.linkRow.className = `link-row link-${word}`;
  el.linkRow.title = `Link: ${s.linkState || 'unknown'}`;
  const q = Number(s.queued) || 0;
  let qn = el.queuedSlot.querySelector('[data-testid=queued]');
  if (q > 0) {
    if (!qn) {
      qn = h('span', { class: 'queued', 'data-testid': 'queued' });
      el.queuedSlot.append(qn);
    }
    qn.textContent = `${q} queued`;
    qn.title = 'Messages not yet held by anyone else; they go out when a peer is reachable';
  } else if (qn) {
    qn.remove();
  }
  el.toggleOnline.textContent = s.online ? 'Go offline' : 'Go online';
  if (document.activeElement !== el.presenceSelect && PRESENCE_WORDS.has(s.presence)) {
    el.presenceSelect.value = s.presence;
  }
}

function renderContacts() {
  const items = state.contacts.map((c) => h('li', {
    class: 'item contact',
    'data-testid': 'contact',
    'data-user': c.user,
    role: 'button',
    tabindex: '0',
    title: `Chat with ${c.user}`,
    onclick: () => openDirect(c.user),
    onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); openDirect(c.user); } },
  },
  h('span', { class: 'avatar-wrap' }, avatar(c.user, 'small'), h('span', { class: `dot ${presenceClass(c.presence)}` })),
  h('span', { class: 'item-main' },
    h('span', { class: 'name', text: c.user }),
    h('span', { class: 'sub presence', 'data-testid': 'presence', text: c.presence || 'offline' })),
  c.added ? h('button', {
    type: 'button',
    class: 'icon-btn',
    title: `Remove ${c.user} from contacts`,
    'aria-label': `Remove ${c.user} from contacts`,
    onclick: (e) => { e.stopPropagation(); removeContact(c.user); },
  }, '×') : null));
  if (!items.length) items.push(h('li', { class: 'placeholder', text: 'No contacts yet.' }));
  el.contacts.replaceChildren(...items);
}

function renderChats() {
  const items = state.chats.map((c) => {
    const group = c.kind === 'group';
    const contact = group ? null : state.contacts.find((x) => x.user === c.name);
    const members = Array.isArray(c.members) ? c.members.length : 0;
    const sub = group
      ? (c.member === false ? 'left' : `group · ${members} member${members === 1 ? '' : 's'}`)
      : (contact ? contact.presence : '');
    const cls = ['item', 'conversation'];
    if (c.id === state.currentId) cls.push('active');
    if (c.member === false) cls.push('gone');
    if (c.unread > 0) cls.push('has-unread');
    return h('li', {
      class: cls.join(' '),
      'data-testid': 'conversation',
      'data-id': c.id,
      'data-name': c.name,
      role: 'button',
      tabindex: '0',
      onclick: () => openChat(c.id),
      onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); openChat(c.id); } },
    },
    h('span', { class: 'avatar-wrap' },
      group ? h('span', { class: 'avatar small group', 'aria-hidden': 'true', text: '#' }) : avatar(c.name, 'small'),
      contact ? h('span', { class: `dot ${presenceClass(contact.presence)}` }) : null),
    h('span', { class: 'item-main' },
      h('span', { class: 'name', 'data-testid': 'conversation-name', text: c.name }),
      h('span', { class: 'sub', text: sub })),
    c.unread > 0 ? h('span', { class: 'badge', 'data-testid': 'unread', text: String(c.unread) }) : null);
  });
  if (!items.length) items.push(h('li', { class: 'placeholder', text: 'No conversations yet.' }));
  el.chats.replaceChildren(...items);
}

function renderChat() {
  const open = !!state.currentId;
  el.noChat.hidden = open;
  el.chatView.hidden = !open;
  renderChatHeader();
  renderMembers();
  renderMessages();
}

function renderChatHeader() {
  const chat = currentChat();
  if (!state.currentId) return;
  el.chatTitle.textContent = chat ? chat.name : '…';
  let sub = '';
  if (chat && chat.kind === 'group') {
    const n = Array.isArray(chat.members) ? chat.members.length : 0;
    sub = `${n} member${n === 1 ? '' : 's'}`;
    if (chat.member === false) sub += ' · you are no longer a member';
  } else if (chat) {
    const contact = state.contacts.find((x) => x.user === chat.name);
    sub = contact ? contact.presence : '';
  }
  el.chatSub.textContent = sub;

  const s = state.status || {};
  const word = linkWord(s);
  const q = Number(s.queued) || 0;
  el.netBadge.hidden = word === 'online';
  el.netBadge.className = `net-badge net-${word}`;
  el.netBadge.textContent = (word === 'offline' ? 'Offline' : 'Connecting…') + (q > 0 ? ` · ${q} queued` : '');

  const group = !!chat && chat.kind === 'group';
  el.callButton.hidden = !chat || chat.kind !== 'direct';
  el.membersToggle.hidden = !group;
  el.membersToggle.setAttribute('aria-pressed', String(state.membersOpen));
}

function renderMembers() {
  const chat = currentChat();
  const group = !!chat && chat.kind === 'group';
  el.membersPanel.hidden = !group || !state.membersOpen;
  if (!group) return;
  const isMember = chat.member !== false;
  const members = Array.isArray(chat.members) ? chat.members : [];
  el.members.replaceChildren(...members.map((u) => {
    const contact = state.contacts.find((x) => x.user === u);
    const self = u === state.me;
    return h('li', { class: 'item member', 'data-testid': 'member', 'data-user': u },
      h('span', { class: 'avatar-wrap' }, avatar(u, 'small'),
        contact ? h('span', { class: `dot ${presenceClass(contact.presence)}` }) : null),
      h('span', { class: 'item-main' }, h('span', { class: 'name', text: self ? `${u} (you)` : u })),
      isMember && !self ? h('button', {
        type: 'button',
        class: 'small-btn',
        'data-testid': 'remove-member',
        title: `Remove ${u} from the group`,
        onclick: () => postToChat({ kind: 'remove', users: [u] }),
      }, 'Remove') : null);
  }));
  el.memberControls.hidden = !isMember;
  el.leftNote.hidden = isMember;
}

function systemText(ev, chat) {
  const who = ev.author || 'someone';
  const users = Array.isArray(ev.users) ? ev.users.filter((u) => u !== ev.author) : [];
  switch (ev.kind) {
    case 'create':
      if (chat && chat.kind === 'direct') return `${who} started the conversation`;
      return `${who} created the group${ev.text ? ` "${ev.text}"` : ''}${users.length ? ` with ${users.join(', ')}` : ''}`;
    case 'add': return `${who} added ${(ev.users || []).join(', ')}`;
    case 'remove': return `${who} removed ${(ev.users || []).join(', ')}`;
    case 'leave': return `${who} left`;
    case 'rename': return `${who} renamed the group to "${ev.text || ''}"`;
    default: return '';
  }
}

function messageState(ev) {
  if (ev.author !== state.me) return 'received';
  if (Array.isArray(ev.readBy) && ev.readBy.length) return 'read';
  if (Array.isArray(ev.heldBy) && ev.heldBy.length) return 'delivered';
  return 'queued';
}

function messageNode(ev) {
  const st = messageState(ev);
  const own = st !== 'received';
  let stateNode = null;
  if (own) {
    const labels = { queued: '◷ queued', delivered: '✓ delivered', read: '✓✓ read' };
    const titles = {
      queued: 'Queued: nobody else holds this message yet',
      delivered: `Delivered to ${(ev.heldBy || []).join(', ')}`,
      read: `Read by ${(ev.readBy || []).join(', ')}`,
    };
    stateNode = h('span', { class: `state s-${st}`, title: titles[st], text: labels[st] });
  }
  const reactions = Object.entries(ev.reactions || {}).filter(([, us]) => Array.isArray(us) && us.length);
  const when = ev.sentAtMillis ? new Date(ev.sentAtMillis) : null;
  return h('div', {
    class: `msg${own ? ' own' : ''}${ev.deleted ? ' deleted' : ''}`,
    'data-testid': 'message',
    'data-id': ev.id,
    'data-author': ev.author,
    'data-state': st,
  },
  own ? null : avatar(ev.author, 'small'),
  h('div', { class: 'bubble' },
    h('div', { class: 'meta' },
      h('span', { class: 'author', text: ev.author }),
      h('time', { datetime: when ? when.toISOString() : null, title: when ? when.toLocaleString() : null,
        text: fmtTime(ev.sentAtMillis) }),
      ev.edited && !ev.deleted ? h('span', { class: 'edited', text: '(edited)' }) : null),
    h('div', { class: 'text', 'data-testid': 'text', text: ev.deleted ? 'This message was deleted' : (ev.text ?? '') }),
    reactions.length ? h('div', { class: 'reactions' }, reactions.map(([emoji, us]) =>
      h('span', { class: 'reaction', title: us.join(', '), text: `${emoji} ${us.length}` }))) : null,
    stateNode));
}

function renderMessages() {
  const box = el.messages;
  if (!state.currentId) { box.replaceChildren(); return; }
  const chat = currentChat();
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
  const nodes = [];
  if (state.eventsFor !== state.currentId) {
    nodes.push(h('div', { class: 'placeholder center', text: 'Loading…' }));
  } else {
    let lastDay = '';
    for (const ev of state.events) {
      if (ev.kind !== 'message' && !SYSTEM_KINDS.has(ev.kind)) continue; // edits, reactions, markers…
      if (ev.sentAtMillis) {
        const day = new Date(ev.sentAtMillis).toDateString();
        if (day !== lastDay) {
          lastDay = day;
          nodes.push(h('div', { class: 'day-sep' }, h('span', { text: fmtDay(ev.sentAtMillis) })));
        }
      }
      if (ev.kind === 'message') nodes.push(messageNode(ev));
      else nodes.push(h('div', { class: 'system', 'data-testid': 'system-line', 'data-id': ev.id },
        h('span', { text: systemText(ev, chat) })));
    }
    if (!nodes.length) nodes.push(h('div', { class: 'placeholder center', text: 'No messages yet — say hello.' }));
  }
  box.replaceChildren(...nodes);
  if (atBottom || state.stickBottom) {
    box.scrollTop = box.scrollHeight;
    if (state.eventsFor === state.currentId) state.stickBottom = false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Wiring

function cacheElements() {
  const ids = ['app', 'signin', 'signin-form', 'signin-btn', 'signin-error', 'token', 'daemon-down', 'me', 'me-avatar',
    'link', 'link-row', 'queued-slot', 'toggle-online', 'presence-select', 'signout', 'side-error', 'chats', 'contacts',
    'new-group', 'group-form', 'group-name', 'group-members', 'create-group', 'cancel-group', 'group-error',
    'add-contact-form', 'add-contact-input', 'contact-error', 'no-chat', 'chat-view', 'chat-title', 'chat-sub',
    'net-badge', 'members-toggle', 'messages', 'members-panel', 'members', 'member-controls', 'add-member-form',
    'add-member-input', 'rename-form', 'rename-input', 'leave', 'left-note', 'compose', 'send', 'compose-error',
    'call-button', 'call-bar', 'call-state', 'answer-call', 'reject-call', 'hangup-call'];
  for (const id of ids) el[id.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = byId(id);
}

function onSubmit(form, fn) {
  form.addEventListener('submit', (e) => { e.preventDefault(); fn(); });
}

function bind() {
  onSubmit(el.signinForm, () => signIn(el.token.value));
  el.callButton.addEventListener('click', () => {
    const chat = currentChat();
    if (chat && chat.kind === 'direct') callAction('', { to: chat.name });
  });
  el.answerCall.addEventListener('click', () => state.call && callAction(`/${state.call.id}/answer`));
  el.rejectCall.addEventListener('click', () => state.call && callAction(`/${state.call.id}/reject`));
  el.hangupCall.addEventListener('click', () => state.call && callAction(`/${state.call.id}/hangup`));
  setInterval(() => { if (state.call && state.call.state === 'connected') renderCallBar(); }, 1000);
  el.signout.addEventListener('click', (e) => { e.preventDefault(); signOut(); });

  el.toggleOnline.addEventListener('click', async () => {
    const want = !(state.status && state.status.online);
    el.toggleOnline.disabled = true;
    try {
      const r = await api('POST', `${API}/connection`, { online: want });
      state.status = Object.assign(state.status || {}, r || { online: want });
      setSideMessage(el.sideError, '');
    } catch (e) {
      if (e.status !== 401) setSideMessage(el.sideError, e.message);
    } finally {
      el.toggleOnline.disabled = false;
      renderMe();
      renderChatHeader();
      schedule('status');
    }
  });

  el.presenceSelect.addEventListener('change', async () => {
    const presence = el.presenceSelect.value;
    try {
      const r = await api('POST', `${API}/presence`, { presence });
      if (state.status) state.status.presence = (r && r.presence) || presence;
      setSideMessage(el.sideError, '');
    } catch (e) {
      if (e.status !== 401) setSideMessage(el.sideError, e.message);
    }
    el.presenceSelect.blur();
    renderMe();
  });

  el.newGroup.addEventListener('click', () => {
    el.groupForm.hidden = !el.groupForm.hidden;
    setSideMessage(el.groupError, '');
    if (!el.groupForm.hidden) el.groupName.focus();
  });
  el.cancelGroup.addEventListener('click', () => { el.groupForm.hidden = true; });
  onSubmit(el.groupForm, createGroup);
  onSubmit(el.addContactForm, addContact);

  el.membersToggle.addEventListener('click', () => {
    state.membersOpen = !state.membersOpen;
    renderChatHeader();
    renderMembers();
  });
  onSubmit(el.addMemberForm, addMember);
  onSubmit(el.renameForm, renameGroup);
  el.leave.addEventListener('click', () => postToChat({ kind: 'leave' }));

  el.compose.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  el.compose.addEventListener('input', autoResize);
  el.send.addEventListener('click', send);

  window.addEventListener('hashchange', onHashChange);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') { maybeMarkRead(); schedule('chats'); }
  });
  window.addEventListener('focus', maybeMarkRead);
  // Safety net in case a stream message was missed: a light periodic refresh while visible.
  setInterval(() => { if (document.visibilityState === 'visible') schedule('status', 'chats'); }, 30000);
}

function boot() {
  cacheElements();
  bind();
  const { token, chat } = parseHash();
  state.currentId = chat;
  if (token) {
    setHashChat(chat); // drop the token from the address bar right away
    signIn(token, { auto: true });
  } else {
    start();
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
