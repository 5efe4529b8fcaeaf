/* massagebot web widget: <script src="https://bot.example/widget.js" defer></script>
 * adds a chat launcher and panel to a page. Options: data-endpoint (websocket URL,
 * default "chat" beside this script), data-title, data-lang; CSS --mb-accent.
 *   config    from our own <script> tag
 *   CSS       in a shadow root: page CSS cannot reach in, ours cannot leak out
 *   DOM       launcher, panel (header, log, composer, hint), polite live region
 *   markdown  safe subset (paragraphs, lists, **bold**, _em_, http(s)/mailto/tel
 *             links) as elements and text nodes: text is never parsed as HTML
 *   messages  questions, replies (alert, choices, suggestions, thumbs), typing
 *   socket    opens with the panel; backoff 1 s doubling to 30 s, jittered;
 *             offline questions wait. Frames: README.md "Web chat protocol"
 *   input     frame limit in UTF-8 bytes (hello says it; 4 KiB), Enter sends,
 *             Escape closes
 */
(() => {
'use strict';
const me = document.currentScript;
if (!me || window.massagebotWidget) return;
window.massagebotWidget = true;

// ---- config
const data = me.dataset;
const endpoint = new URL(data.endpoint || 'chat', data.endpoint ? location.href : me.src);
endpoint.protocol = endpoint.protocol.replace(/^http/, 'ws');
const TITLE = data.title || 'Questions about massage?';
let maxFrame = 4096; // bytes; the bot refuses bigger frames (it says its own in hello)
const MAX_WAITING = 5; // questions held while offline
const MAX_TRIES = 3; // sends of one question (reconnects, busy server)
const SMALL_TALK = ['greeting', 'thanks', 'help']; // replies not worth a thumb
const ALARM = ['crisis', 'emergency'];
const WAITING = 'Waiting for the connection…';

// ---- CSS
const CSS = `
:host{all:initial}
.root{--a:var(--mb-accent,#0f766e);--on-a:#fff;--bg:#fff;--fg:#1c2826;--soft:#eef4f3;--line:#c9d6d3;
--mute:#52625f;--al-bg:#fdecec;--al-fg:#7a1111;--al:#c62828;--ring:#1d4ed8;
font:15px/1.45 system-ui,sans-serif;color:var(--fg)}
@media (prefers-color-scheme:dark){.root{--a:var(--mb-accent-dark,#5eead4);--on-a:#062a26;--bg:#17201f;
--fg:#e3ecea;--soft:#24302e;--line:#3b4a47;--mute:#a6b5b2;--al-bg:#3d1616;--al-fg:#ffdede;--al:#ff8a80;--ring:#93c5fd}}
*{box-sizing:border-box}
button,textarea{font:inherit;color:inherit}
button{cursor:pointer}
:focus-visible{outline:3px solid var(--ring);outline-offset:2px}
svg{width:22px;height:22px;fill:currentColor;flex:none}
.ic{display:grid;place-items:center;border:0;border-radius:50%;background:none}
.launch{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;box-shadow:0 4px 14px #0005}
.launch,.send{background:var(--a);color:var(--on-a)}
.panel{position:fixed;right:20px;bottom:92px;z-index:2147483001;width:380px;height:min(620px,calc(100vh - 112px));
display:flex;flex-direction:column;background:var(--bg);border:1px solid var(--line);border-radius:16px;
box-shadow:0 10px 40px #0004;overflow:hidden}
.panel[hidden]{display:none}
header{display:flex;align-items:center;padding:12px 16px;background:var(--a);color:var(--on-a)}
h2{margin:0;font-size:16px}
.status{font-size:12px}
.x{margin-left:auto;width:40px;height:40px}
.log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px}
.turn{display:flex;flex-direction:column;gap:6px;max-width:88%;align-self:flex-start}
.me{align-self:flex-end;align-items:flex-end}
.msg{padding:9px 13px;border-radius:14px 14px 14px 4px;background:var(--soft);overflow-wrap:anywhere}
.me .msg{background:var(--a);color:var(--on-a);white-space:pre-wrap;border-radius:14px 14px 4px}
.msg p,.msg ul,.msg ol{margin:0 0 .55em}
.msg>*>:last-child{margin-bottom:0}
.msg ul,.msg ol{padding-left:1.3em}
.msg a{color:inherit;text-underline-offset:2px}
.alert .msg{background:var(--al-bg);color:var(--al-fg);border:2px solid var(--al);display:flex;gap:10px}
.alert svg{color:var(--al)}
.tel{font-weight:700;white-space:nowrap}
.state,.label,.thumbs,.hint,.note{font-size:12px;color:var(--mute)}
.opts{display:flex;flex-wrap:wrap;gap:6px}
.opts button{min-height:38px;padding:6px 14px;border:1.5px solid var(--a);border-radius:19px;background:var(--bg);text-align:left}
.choices{flex-direction:column}
.choices button{border-radius:10px}
.label{width:100%}
.thumbs{display:flex;align-items:center;gap:4px}
.thumbs button{width:36px;height:36px;border:1px solid var(--line)}
.thumbs svg{width:18px;height:18px}
[aria-pressed=true]{color:var(--a);border-color:var(--a)}
.down svg{transform:rotate(180deg)}
.note{align-self:center;text-align:center;font-size:13px;max-width:90%;margin:0}
.typing .msg{display:flex;gap:4px;padding:13px 15px}
.typing i{width:7px;height:7px;border-radius:50%;background:var(--mute);animation:b 1.2s infinite}
.typing i+i{animation-delay:.2s}.typing i+i+i{animation-delay:.4s}
@keyframes b{30%{opacity:1}0%,60%{opacity:.3}}
@media (prefers-reduced-motion:reduce){.typing i{animation:none}}
.composer{display:flex;gap:8px;align-items:flex-end;padding:10px 12px 4px;border-top:1px solid var(--line)}
textarea{flex:1;resize:none;min-height:44px;max-height:140px;padding:10px 12px;border:1px solid var(--line);
border-radius:12px;background:var(--bg);font-size:16px}
.send{width:44px;height:44px}
.send:disabled{opacity:.45}
.hint{min-height:1.4em;padding:0 14px 6px}
.err{color:var(--al);font-weight:600}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
@media (max-width:480px){.panel{inset:0;width:auto;height:auto;border:0;border-radius:0}
.open .launch{display:none}.turn{max-width:94%}}`;

// ---- DOM
const el = (tag, cls, text, attrs = {}) => {
	const e = document.createElement(tag);
	if (cls) e.className = cls;
	if (text != null) e.textContent = text;
	for (const k in attrs) e.setAttribute(k, attrs[k]);
	return e;
};
const ICONS = {
	chat: 'M6 3h12a3 3 0 0 1 3 3v8a3 3 0 0 1-3 3h-7l-5 4v-4a3 3 0 0 1-3-3V6a3 3 0 0 1 3-3z',
	close: 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12z',
	send: 'M3 20.5 21 12 3 3.5v6.6l12 1.9-12 1.9z',
	thumb: 'M1 21h4V9H1zm22-11a2 2 0 0 0-2-2h-6.3l1-4.6L14 1 7.6 7.4A2 2 0 0 0 7 8.8V19a2 2 0 0 0 2 2h9a2 2 0 0 0 1.8-1.2l3-7z',
	alert: 'M1 21h22L12 2zm12-3h-2v-2h2zm0-4h-2v-4h2z',
};
const icon = (name) => {
	const NS = 'http://www.w3.org/2000/svg';
	const svg = document.createElementNS(NS, 'svg');
	svg.setAttribute('viewBox', '0 0 24 24');
	svg.setAttribute('aria-hidden', 'true');
	svg.appendChild(document.createElementNS(NS, 'path')).setAttribute('d', ICONS[name]);
	return svg;
};
// A button with visible text, or with an icon and an aria-label.
const button = (cls, label, onclick, iconName) => {
	const b = el('button', cls, label, { type: 'button' });
	if (iconName) {
		b.className += ' ic';
		b.replaceChildren(icon(iconName));
		b.setAttribute('aria-label', label);
	}
	b.addEventListener('click', onclick);
	return b;
};

const host = el('massagebot-chat');
const shadow = host.attachShadow({ mode: 'open' });
if (shadow.adoptedStyleSheets && CSSStyleSheet.prototype.replaceSync) {
	const sheet = new CSSStyleSheet(); // no <style>: fine under a page CSP without 'unsafe-inline'
	sheet.replaceSync(CSS);
	shadow.adoptedStyleSheets = [sheet];
} else shadow.append(el('style', null, CSS));
const root = el('div', 'root', null, { lang: data.lang || document.documentElement.lang || 'en' });
const launch = button('launch', '', () => (isOpen ? close() : setOpen(true)), 'chat');
launch.setAttribute('aria-controls', 'mb-panel');
const panel = el('div', 'panel', null, { id: 'mb-panel', role: 'dialog', 'aria-labelledby': 'mb-title' });
const status = el('div', 'status');
const head = el('header');
head.append(el('div'), button('x', 'Close chat', close, 'close'));
head.firstChild.append(el('h2', null, TITLE, { id: 'mb-title' }), status);
const log = el('div', 'log', null, { 'aria-label': 'Conversation', tabindex: 0 }); // tabindex: scroll by keyboard
new ResizeObserver(() => (log.scrollTop = log.scrollHeight)).observe(log); // a phone keyboard opened, say
const input = el('textarea', null, null, {
	rows: 1, placeholder: 'Type your question…', 'aria-label': 'Your question', 'aria-describedby': 'mb-hint', enterkeyhint: 'send',
});
const send = button('send', 'Send', submit, 'send');
const composer = el('div', 'composer');
composer.append(input, send);
const hint = el('div', 'hint', null, { id: 'mb-hint', 'aria-live': 'polite' });
const live = el('div', 'sr', null, { 'aria-live': 'polite' }); // replies are read out from here
panel.append(head, log, composer, hint);
root.append(launch, panel, live);
shadow.append(root);
if (document.body) document.body.append(host); // else: loaded from <head> without defer
else addEventListener('DOMContentLoaded', () => document.body.append(host));

// ---- markdown: lines make blocks, then inline runs; all text goes into text nodes
const INLINE = /\*\*(.+?)\*\*|(^|[^\w*])([*_])([^\s*_](?:.*?\S)?)\3(?!\w)|\[([^\]\n]+)\]\(([^()\s]+)\)|https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"]/g;
const PHONE = /(^|[^\w+])(\+?\d[\d -]*\d)(?!\w)/g;

function markdown(text, phones) {
	const frag = document.createDocumentFragment();
	let block = null;
	let kind = '';
	for (const line of String(text).split(/\r?\n/)) {
		const ul = /^\s*[-*•]\s+(.*)$/.exec(line);
		const ol = /^\s*(\d{1,3})[.)]\s+(.*)$/.exec(line);
		const k = ul ? 'ul' : ol ? 'ol' : line.trim() ? 'p' : '';
		if (k === 'p' && (kind === 'ul' || kind === 'ol') && /^\s/.test(line)) {
			inline(block.lastChild, ' ' + line.trim(), phones); // an indented line continues the item
			continue;
		}
		if (k !== kind && k) {
			block = frag.appendChild(el(k));
			if (ol && ol[1] !== '1') block.start = +ol[1];
		} else if (k === 'p') block.append(el('br'));
		kind = k;
		if (k) inline(k === 'p' ? block : block.appendChild(el('li')), ul ? ul[1] : ol ? ol[2] : line, phones);
	}
	return frag;
}

function inline(parent, s, phones) {
	const re = new RegExp(INLINE.source, 'g');
	let last = 0;
	let m;
	while ((m = re.exec(s))) {
		let at = m.index;
		let node;
		if (m[1] != null || m[4] != null) {
			at += m[1] != null ? 0 : m[2].length; // (^|[^\w*]) is not ours
			node = el(m[1] != null ? 'strong' : 'em');
			inline(node, m[1] != null ? m[1] : m[4], phones);
		} else node = m[5] != null ? link(m[5], m[6], m[0]) : link(m[0], m[0], m[0]);
		plain(parent, s.slice(last, at), phones);
		parent.append(node);
		last = re.lastIndex;
	}
	plain(parent, s.slice(last), phones);
}

function link(label, href, raw) {
	let url = null;
	try { url = new URL(href); } catch (e) { /* relative or malformed: shown as text */ }
	if (!url || !/^(https?|mailto|tel):$/.test(url.protocol)) return document.createTextNode(raw);
	const web = url.protocol.startsWith('http');
	return el('a', null, label, web ? { href: url.href, target: '_blank', rel: 'noopener noreferrer nofollow' } : { href: url.href });
}

// In crisis and emergency replies, phone numbers (3 digits like 999, grouped
// like 116 123, or 7+ digits) become tel: links; 4 to 6 digits (years) do not.
function plain(parent, s, phones) {
	let last = 0;
	let m;
	PHONE.lastIndex = 0;
	while (phones && (m = PHONE.exec(s))) {
		const num = m[2];
		const digits = num.replace(/\D/g, '').length;
		if (digits !== 3 && digits < 7 && !(digits === 6 && /[ -]/.test(num))) continue;
		const at = m.index + m[1].length;
		parent.append(s.slice(last, at), el('a', 'tel', num, { href: 'tel:' + num.replace(/[^\d+]/g, '') }));
		last = at + num.length;
	}
	parent.append(s.slice(last));
}

// ---- messages
function add(node) {
	log.insertBefore(node, typing.isConnected ? typing : null);
	while (log.children.length > 300) log.firstChild.remove();
	log.scrollTop = log.scrollHeight;
	return node;
}

function announce(text) {
	live.append(el('p', null, text));
	while (live.children.length > 3) live.firstChild.remove();
}

let lastNote = null;
function note(text) {
	if (lastNote && lastNote.textContent === text && [null, typing].includes(lastNote.nextSibling)) return; // no repeats
	announce(text);
	lastNote = add(el('p', 'note', text));
}

// Shows a question; returns the line under it that says it waits (emptied once sent).
function showQuestion(text) {
	const turn = add(el('div', 'turn me'));
	turn.append(el('div', 'msg', text));
	return turn.appendChild(el('div', 'state', WAITING));
}

// Choices and suggestions: buttons that ask their title.
function options(cls, label, items, textOf) {
	const box = el('div', 'opts ' + cls, null, { role: 'group', 'aria-label': label });
	if (cls !== 'choices') box.append(el('span', 'label', label));
	for (const it of items) box.append(button('', textOf(it), () => ask(String(it.title))));
	return box;
}

function showReply(r) {
	const alarm = ALARM.includes(r.level);
	const turn = el('div', 'turn bot' + (alarm ? ' alert' : ''));
	const msg = turn.appendChild(el('div', 'msg'));
	const body = el('div');
	body.append(markdown(r.text, alarm));
	if (alarm) {
		msg.setAttribute('role', 'alert'); // read out at once, instead of the polite region
		msg.append(icon('alert'));
	}
	msg.append(body);
	const list = (a) => (Array.isArray(a) ? a.filter((x) => x && x.title) : []);
	const choices = list(r.choices);
	const related = list(r.suggestions);
	if (choices.length) turn.append(options('choices', 'Choose one', choices, (c) => `${c.n}. ${c.title}`));
	if (related.length) turn.append(options('related', 'Related:', related, (s) => String(s.title)));
	if (r.intent && !choices.length && !SMALL_TALK.includes(r.intent) && typeof r.id === 'string') turn.append(thumbs(r.id));
	add(turn);
	if (!alarm) announce('Reply: ' + body.textContent);
}

const rated = new Map(); // ask id -> thumbs box waiting for feedback_ok
function thumbs(id) {
	const box = el('div', 'thumbs');
	box.append(el('span', null, 'Was this helpful?'));
	for (const helpful of [true, false]) {
		const b = button(helpful ? '' : 'down', helpful ? 'Helpful' : 'Not helpful', () => {
			if (rated.has(id)) return; // once per reply
			b.setAttribute('aria-pressed', 'true');
			for (const x of box.querySelectorAll('button')) x.setAttribute('aria-disabled', 'true');
			rated.set(id, box);
			put({ type: 'feedback', id, helpful });
		}, 'thumb');
		box.append(b);
	}
	return box;
}

function thanked(id) {
	const box = rated.get(id);
	if (!box) return;
	rated.delete(id);
	const hadFocus = box.contains(shadow.activeElement);
	const t = el('span', null, 'Thanks for your feedback.', { tabindex: -1 });
	box.replaceChildren(t);
	if (hadFocus) t.focus();
	announce(t.textContent);
}

const typing = el('div', 'turn bot typing', null, { 'aria-label': 'The bot is typing' });
typing.append(el('div', 'msg'));
typing.firstChild.append(el('i'), el('i'), el('i'));

// The dots show while a question has been sent and not yet answered.
function showTyping() {
	const on = [...pending.values()].some((p) => p.sent);
	if (!on) typing.remove();
	else if (!typing.isConnected) add(typing);
}

// ---- socket
let ws = null;
let tries = 0; // failed connects since the last success
let timer = 0;
let isOpen = false;
const queue = []; // feedback frames waiting for the connection
const pending = new Map(); // ask id -> {frame, tries, sent, state}; unsent ones are sent on connect
const sid = Math.random().toString(36).slice(2, 10);
let seq = 0;

const online = () => ws && ws.readyState === 1;
const setStatus = (t) => (status.textContent = t);

function connect() {
	if (ws || timer) return;
	setStatus(tries ? 'Reconnecting…' : 'Connecting…');
	try { ws = new WebSocket(endpoint.href); } catch (e) { ws = null; return retry(); }
	ws.onopen = () => {
		setStatus('');
		for (const p of pending.values()) if (!p.sent) transmit(p.frame);
		while (queue.length) transmit(queue.shift());
	};
	ws.onmessage = (e) => {
		let m = null;
		try { m = JSON.parse(e.data); } catch (x) { /* not JSON: ignored */ }
		if (m && typeof m === 'object') receive(m);
	};
	ws.onclose = (e) => {
		ws = null;
		const idle = e.code === 1001 && e.reason === 'idle'; // nothing was said for a while
		for (const [id, p] of pending) {
			if (!p.sent) continue;
			p.sent = false;
			p.state.textContent = ++p.tries < MAX_TRIES ? WAITING : 'Not sent. Please ask again.';
			if (p.tries >= MAX_TRIES) pending.delete(id);
		}
		showTyping();
		if (queue.length || pending.size || (isOpen && !idle)) retry();
		else setStatus(''); // connects again when there is something to send
	};
}

function retry() {
	const wait = Math.min(30000, 1000 * 2 ** Math.min(tries++, 5) * (0.8 + Math.random() * 0.4));
	setStatus('Reconnecting…');
	timer = setTimeout(() => {
		timer = 0;
		connect();
	}, wait);
}

function transmit(frame) {
	ws.send(JSON.stringify(frame));
	const p = frame.type === 'ask' && pending.get(frame.id);
	if (p) {
		p.sent = true;
		p.state.textContent = '';
		showTyping();
	}
}

function put(frame) {
	if (online()) return transmit(frame);
	if (frame.type !== 'ask') queue.push(frame);
	connect();
}

function receive(m) {
	const p = pending.get(m.id);
	if (m.type === 'reply' && typeof m.text === 'string') {
		pending.delete(m.id);
		showTyping();
		showReply(m);
	} else if (m.type === 'error') {
		const again = p && (m.error === 'rate_limited' || m.error === 'busy') && ++p.tries < MAX_TRIES;
		const text = typeof m.message === 'string' && m.message ? m.message : 'Sorry, something went wrong.';
		note(text + (again ? ' Sending again shortly.' : ''));
		if (p) {
			p.sent = false;
			const wait = Math.max(500, Math.min(+m.retry_after_ms || 2000, 60000));
			if (again) setTimeout(() => pending.get(m.id) === p && !p.sent && put(p.frame), wait);
			else pending.delete(m.id);
		}
		showTyping();
	} else if (m.type === 'feedback_ok') thanked(m.id);
	else if (m.type === 'typing') showTyping();
	else if (m.type === 'hello') {
		tries = 0; // back off from 1 s again next time
		if (m.max_frame >= 512) maxFrame = m.max_frame;
	}
	// types this version does not know: nothing to do
}

// ---- input
const encoder = new TextEncoder();
const frameBytes = (text) => encoder.encode(JSON.stringify({ type: 'ask', id: 'x'.repeat(32), text })).length;

function ask(text) {
	text = text.trim();
	if (!text || frameBytes(text) > maxFrame) return false;
	if (!online() && [...pending.values()].filter((p) => !p.sent).length >= MAX_WAITING) {
		setHint('Offline: your question stays here; please send it once we are back.', true);
		return false;
	}
	const id = sid + '-' + ++seq;
	const frame = { type: 'ask', id, text };
	pending.set(id, { frame, tries: 0, sent: false, state: showQuestion(text) });
	put(frame);
	return true;
}

function setHint(text, err) {
	hint.textContent = text;
	hint.classList.toggle('err', !!err);
}

// Keeps the question within the frame limit, telling how much is left or too much.
function check() {
	const text = input.value.trim();
	const over = frameBytes(text) - maxFrame;
	const perChar = text.length ? encoder.encode(text).length / text.length : 1;
	if (over > 0) setHint(`Too long: please shorten your question by about ${Math.ceil(over / perChar)} characters.`, true);
	else setHint(over > -400 ? `About ${Math.floor(-over / perChar)} characters left.` : '');
	send.disabled = over > 0;
	input.style.height = 'auto';
	input.style.height = Math.min(input.scrollHeight + 2, 140) + 'px';
	return over <= 0;
}

function submit() {
	if (check() && ask(input.value)) {
		input.value = '';
		check();
	}
	input.focus();
}

input.addEventListener('input', check);
input.addEventListener('keydown', (e) => {
	if (e.key !== 'Enter' || e.shiftKey || e.isComposing) return;
	e.preventDefault();
	submit();
});
root.addEventListener('keydown', (e) => {
	if (e.key !== 'Escape' || !isOpen) return;
	e.preventDefault();
	close();
});

let greeted = false;
function setOpen(open) {
	isOpen = open;
	panel.hidden = !open;
	root.classList.toggle('open', open);
	launch.setAttribute('aria-expanded', open);
	launch.setAttribute('aria-label', (open ? 'Close chat: ' : 'Open chat: ') + TITLE);
	if (!open) return;
	if (!greeted) {
		greeted = true;
		note("Hello! I answer common questions about massage and back pain. I'm an automated assistant, not a clinician: please don't share personal details.");
	}
	connect();
	input.focus();
}
function close() {
	setOpen(false);
	launch.focus();
}
setOpen(false);
})();
