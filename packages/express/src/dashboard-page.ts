/**
 * The reviewer dashboard: one self-contained page (inline CSS and script, both carrying the
 * per-response CSP nonce). It talks to the router with relative URLs, so it works under any mount
 * path. Everything that comes from a request (tool name, description, input, reason) is untrusted
 * model output and is only ever written with `textContent`.
 */

const styles = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #ffffff; --text: #1b1f24; --muted: #59636e; --border: #d7dce1;
  --accent: #1f6feb; --accent-text: #ffffff; --danger: #c4262e; --danger-text: #ffffff;
  --ok: #1a7f37; --warn: #9a6700; --code: #eef1f4; --focus: #0b57d0;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1216; --panel: #171b21; --text: #e6e9ed; --muted: #9aa5b1; --border: #2d333b;
    --accent: #4493f8; --accent-text: #0b0f14; --danger: #f85149; --danger-text: #0b0f14;
    --ok: #3fb950; --warn: #d29922; --code: #11151a; --focus: #79b8ff;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Ubuntu, sans-serif; }
.top { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; gap: .75rem; align-items: center;
  justify-content: space-between; padding: .9rem 1.5rem; background: var(--panel); border-bottom: 1px solid var(--border); }
.top h1 { margin: 0; font-size: 1.15rem; }
.top .count { color: var(--muted); font-weight: 400; }
.status { display: inline-flex; align-items: center; gap: .4rem; font-size: .9rem; color: var(--muted); }
.status::before { content: ""; width: .6rem; height: .6rem; border-radius: 50%; background: var(--warn); }
.status[data-state="live"]::before { background: var(--ok); }
.status[data-state="offline"]::before { background: var(--danger); }
main { max-width: 60rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
.empty { padding: 2.5rem 1rem; text-align: center; color: var(--muted); border: 1px dashed var(--border); border-radius: .75rem; }
.notice { margin: 0 0 1rem; padding: .75rem 1rem; border-radius: .5rem; border: 1px solid var(--danger); color: var(--danger); }
.list { display: grid; gap: 1rem; margin: 0; padding: 0; list-style: none; }
.card { background: var(--panel); border: 1px solid var(--border); border-radius: .75rem; padding: 1rem 1.25rem; }
.card-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1rem; }
.card h2 { margin: 0; font-size: 1.05rem; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
.badge { display: inline-block; padding: .05rem .55rem; border-radius: 999px; font-size: .8rem; font-weight: 600;
  border: 1px solid currentColor; }
.risk-read_only { color: var(--ok); }
.risk-data_modification { color: var(--warn); }
.risk-irreversible, .risk-unknown { color: var(--danger); }
.meta { color: var(--muted); font-size: .9rem; }
.time-left { margin-left: auto; font-variant-numeric: tabular-nums; font-size: .9rem; }
.time-left[data-urgent="true"] { color: var(--danger); font-weight: 600; }
.description { margin: .6rem 0; white-space: pre-wrap; word-break: break-word; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0; font-size: .9rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-word; }
pre { margin: .25rem 0 .75rem; padding: .75rem; background: var(--code); border-radius: .5rem; overflow: auto;
  max-height: 20rem; font: .85rem/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; word-break: break-word; }
.section-label { font-size: .85rem; color: var(--muted); margin: .5rem 0 0; }
label { display: block; font-size: .85rem; color: var(--muted); margin: .5rem 0 .25rem; }
textarea { width: 100%; min-height: 2.6rem; padding: .5rem .6rem; border: 1px solid var(--border); border-radius: .5rem;
  background: var(--bg); color: var(--text); font: inherit; resize: vertical; }
textarea.code { min-height: 10rem; font: .85rem/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin-top: .75rem; }
button { font: inherit; font-weight: 600; padding: .45rem 1rem; border-radius: .5rem; border: 1px solid var(--border);
  background: var(--panel); color: var(--text); cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
button.danger { background: var(--danger); border-color: var(--danger); color: var(--danger-text); }
button:disabled { opacity: .55; cursor: progress; }
button:focus-visible, textarea:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.editor { margin-top: .75rem; padding-top: .25rem; border-top: 1px solid var(--border); }
.error { margin: .6rem 0 0; color: var(--danger); font-weight: 600; }
.visually-hidden { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
[hidden] { display: none !important; }
`;

/*
 * The page script. Plain ES2017, no template literals (this file is itself one). Untrusted text
 * goes through textContent only; no innerHTML anywhere.
 */
const script = `
(function () {
  'use strict';
  var base = location.pathname.slice(-1) === '/' ? location.pathname : location.pathname + '/';
  function url(path) { return new URL(base + path, location.origin).toString(); }

  var list = document.getElementById('requests');
  var empty = document.getElementById('empty');
  var statusEl = document.getElementById('connection-status');
  var countEl = document.getElementById('pending-count');
  var notice = document.getElementById('notice');
  var announcer = document.getElementById('announcer');

  var cards = new Map();
  var closedIds = new Set();
  var source = null;
  var reconnectTimer = null;
  var loadGeneration = 0;
  var uid = 0;

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    if (attributes) {
      Object.keys(attributes).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function setStatus(state, text) {
    statusEl.setAttribute('data-state', state);
    statusEl.textContent = text;
  }

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  function announce(text) { announcer.textContent = text; }

  function refreshCount() {
    var n = cards.size;
    countEl.textContent = n === 1 ? '1 pending' : n + ' pending';
    empty.hidden = n !== 0;
  }

  function formatLeft(expiresAt) {
    if (!expiresAt) return { text: 'no deadline', urgent: false };
    var ms = Date.parse(expiresAt) - Date.now();
    if (!(ms > 0)) return { text: 'expired', urgent: true };
    var total = Math.floor(ms / 1000);
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var text = (h > 0 ? h + 'h ' : '') + (h > 0 || m > 0 ? m + 'm ' : '') + s + 's left';
    return { text: text, urgent: ms < 60000 };
  }

  function tick() {
    cards.forEach(function (entry) {
      var left = formatLeft(entry.record.expiresAt);
      entry.timeLeft.textContent = left.text;
      entry.timeLeft.setAttribute('data-urgent', String(left.urgent));
    });
  }

  function riskLabel(risk) {
    if (risk === 'read_only') return 'read only';
    if (risk === 'data_modification') return 'data modification';
    if (risk === 'irreversible') return 'irreversible';
    return 'risk not given (treated as irreversible)';
  }

  function confidenceLabel(confidence) {
    if (typeof confidence !== 'number') return 'confidence not given';
    return 'confidence ' + Math.round(confidence * 100) + '%';
  }

  function errorText(status, body) {
    if (body && body.error && typeof body.error.message === 'string') {
      return body.error.message + ' (' + status + (body.error.code ? ' ' + body.error.code : '') + ')';
    }
    return 'The server answered ' + status + '.';
  }

  function post(path, payload) {
    return fetch(url(path), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (!response.ok) throw new Error(errorText(response.status, body));
        return body;
      });
    });
  }

  function removeCard(id) {
    var entry = cards.get(id);
    if (!entry) return;
    cards.delete(id);
    entry.node.remove();
    refreshCount();
  }

  function buildCard(record) {
    var request = record.request;
    var n = ++uid;
    var titleId = 'request-title-' + n;
    var node = el('li', { 'class': 'card', 'data-testid': 'request-card', 'aria-labelledby': titleId });
    node.setAttribute('data-request-id', request.id);

    var head = el('div', { 'class': 'card-head' });
    head.appendChild(el('h2', { id: titleId, 'data-testid': 'request-tool' }, request.toolName));
    var risk = request.riskLevel;
    var riskClass = risk === 'read_only' || risk === 'data_modification' || risk === 'irreversible' ? risk : 'unknown';
    head.appendChild(el('span', { 'class': 'badge risk-' + riskClass, 'data-testid': 'request-risk' }, riskLabel(risk)));
    head.appendChild(el('span', { 'class': 'meta', 'data-testid': 'request-confidence' }, confidenceLabel(request.confidence)));
    var timeLeft = el('span', { 'class': 'time-left', 'data-testid': 'request-time-left', 'aria-live': 'off' });
    head.appendChild(timeLeft);
    node.appendChild(head);

    node.appendChild(el('p', { 'class': 'description', 'data-testid': 'request-description' },
      request.description ? request.description : '(no description)'));

    var facts = el('dl', { 'class': 'facts' });
    function fact(label, value, testid) {
      facts.appendChild(el('dt', null, label));
      facts.appendChild(el('dd', testid ? { 'data-testid': testid } : null, value));
    }
    fact('Policy', record.evaluation && record.evaluation.reason ? record.evaluation.reason : '(no reason given)', 'request-reason');
    if (request.requestedBy) fact('Requested by', request.requestedBy, 'request-requested-by');
    fact('Type', request.type, null);
    fact('Created', new Date(record.createdAt).toLocaleString(), null);
    fact('Request id', request.id, 'request-id');
    node.appendChild(facts);

    var inputText = JSON.stringify(request.input || {}, null, 2);
    node.appendChild(el('p', { 'class': 'section-label' }, 'Input'));
    node.appendChild(el('pre', { 'data-testid': 'request-input', tabindex: '0', 'aria-label': 'Input of ' + request.toolName }, inputText));

    var path = 'requests/' + encodeURIComponent(request.id) + '/';
    var error = el('p', { 'class': 'error', role: 'alert', 'data-testid': 'card-error' });
    error.hidden = true;
    var buttons = [];
    // One error line per card, placed right after the controls that caused it.
    function showError(text, near) {
      error.textContent = text;
      error.hidden = !text;
      if (text && near && near.nextSibling !== error) near.parentNode.insertBefore(error, near.nextSibling);
    }
    function send(route, payload, done, near) {
      showError('');
      buttons.forEach(function (button) { button.disabled = true; });
      post(path + route, payload).then(function () {
        closedIds.add(request.id);
        removeCard(request.id);
        announce(done + ': ' + request.toolName);
      }, function (failure) {
        // The request stays pending (nothing was recorded): every control works again.
        buttons.forEach(function (button) { button.disabled = false; });
        showError(failure && failure.message ? failure.message : 'The request failed.', near);
      });
    }
    function withNote(payload, text) {
      if (text) payload.feedback = text;
      return payload;
    }

    if (request.type === 'input' || request.type === 'feedback' || request.type === 'annotation') {
      buildAnswerControls();
    } else {
      buildApprovalControls();
    }
    node.appendChild(error);

    // input, feedback and annotation requests are answered with text: the answer is recorded as an
    // approve whose feedback is the text; Decline records a reject (with the text, if any).
    function buildAnswerControls() {
      var noun = request.type === 'input' ? 'answer' : request.type;
      var answerId = 'answer-' + n;
      node.appendChild(el('label', { 'for': answerId }, 'Your ' + noun));
      var answer = el('textarea', { id: answerId, rows: '3', 'data-testid': 'answer-input' });
      node.appendChild(answer);
      var actions = el('div', { 'class': 'actions' });
      var submit = el('button', { type: 'button', 'class': 'primary', 'data-testid': 'answer-button' }, 'Send ' + noun);
      var decline = el('button', { type: 'button', 'class': 'danger', 'data-testid': 'reject-button' }, 'Decline');
      actions.appendChild(submit);
      actions.appendChild(decline);
      node.appendChild(actions);
      buttons = [submit, decline];
      submit.addEventListener('click', function () {
        var text = answer.value.trim();
        if (!text) {
          showError('Type your ' + noun + ' first. Nothing was sent.', actions);
          answer.focus();
          return;
        }
        send('approve', { feedback: text }, 'Answered', actions);
      });
      decline.addEventListener('click', function () {
        send('reject', withNote({}, answer.value.trim()), 'Declined', actions);
      });
    }

    function buildApprovalControls() {
      var feedbackId = 'feedback-' + n;
      node.appendChild(el('label', { 'for': feedbackId }, 'Note for the agent (optional, sent with your decision)'));
      var feedback = el('textarea', { id: feedbackId, rows: '2', 'data-testid': 'feedback-input' });
      node.appendChild(feedback);

      var actions = el('div', { 'class': 'actions' });
      var approve = el('button', { type: 'button', 'class': 'primary', 'data-testid': 'approve-button' }, 'Approve');
      var reject = el('button', { type: 'button', 'class': 'danger', 'data-testid': 'reject-button' }, 'Reject');
      var edit = el('button', { type: 'button', 'data-testid': 'edit-button', 'aria-expanded': 'false' }, 'Edit and approve');
      actions.appendChild(approve);
      actions.appendChild(reject);
      actions.appendChild(edit);
      node.appendChild(actions);

      var editorId = 'editor-' + n;
      var modifiedId = 'modified-' + n;
      var editor = el('div', { 'class': 'editor', id: editorId });
      editor.hidden = true;
      edit.setAttribute('aria-controls', editorId);
      editor.appendChild(el('label', { 'for': modifiedId }, 'Edited input (a JSON object)'));
      var modified = el('textarea', { id: modifiedId, 'class': 'code', spellcheck: 'false', 'data-testid': 'modified-input' });
      modified.value = inputText;
      editor.appendChild(modified);
      var editActions = el('div', { 'class': 'actions' });
      var sendModified = el('button', { type: 'button', 'class': 'primary', 'data-testid': 'submit-modified-button' }, 'Approve with edits');
      var discard = el('button', { type: 'button', 'data-testid': 'cancel-edit-button' }, 'Discard edits');
      editActions.appendChild(sendModified);
      editActions.appendChild(discard);
      editor.appendChild(editActions);
      node.appendChild(editor);
      buttons = [approve, reject, edit, sendModified, discard];

      // While the editor is open the plain Approve (which would run the original input) and the
      // Edit toggle are hidden: the only approval on offer is "Approve with edits".
      function setEditing(editing) {
        editor.hidden = !editing;
        approve.hidden = editing;
        edit.hidden = editing;
        edit.setAttribute('aria-expanded', String(editing));
        showError('');
      }

      approve.addEventListener('click', function () {
        send('approve', withNote({}, feedback.value.trim()), 'Approved', actions);
      });
      reject.addEventListener('click', function () {
        send('reject', withNote({}, feedback.value.trim()), 'Rejected', actions);
      });
      edit.addEventListener('click', function () {
        setEditing(true);
        modified.focus();
      });
      discard.addEventListener('click', function () {
        modified.value = inputText;
        setEditing(false);
        approve.focus();
      });
      sendModified.addEventListener('click', function () {
        var value;
        try {
          value = JSON.parse(modified.value);
        } catch (parseError) {
          showError('The edited input is not valid JSON: ' + (parseError && parseError.message ? parseError.message : 'parse error') + '. Nothing was sent.', editActions);
          modified.focus();
          return;
        }
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          showError('The edited input must be a JSON object like {"key": "value"}. Nothing was sent.', editActions);
          modified.focus();
          return;
        }
        send('respond', withNote({ decision: 'modify', modified: value }, feedback.value.trim()), 'Approved with edits', editActions);
      });
    }

    return { node: node, record: record, timeLeft: timeLeft };
  }

  function apply(record, live) {
    if (!record || !record.request) return;
    var id = record.request.id;
    if (record.status !== 'pending') {
      closedIds.add(id);
      removeCard(id);
      return;
    }
    if (closedIds.has(id) || cards.has(id)) return;
    var entry = buildCard(record);
    cards.set(id, entry);
    // Newest first: insert before the first older card.
    var older = null;
    Array.prototype.forEach.call(list.children, function (child) {
      if (older) return;
      var other = cards.get(child.getAttribute('data-request-id'));
      if (other && other !== entry && Date.parse(other.record.createdAt) < Date.parse(record.createdAt)) older = child;
    });
    list.insertBefore(entry.node, older);
    refreshCount();
    tick();
    if (live) announce('New request: ' + record.request.toolName);
  }

  function load() {
    var generation = ++loadGeneration;
    var seen = new Set();
    function page(cursor, pages) {
      var query = 'requests?status=pending&limit=100' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      return fetch(url(query), { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
        .then(function (response) {
          return response.json().catch(function () { return null; }).then(function (body) {
            if (!response.ok) throw new Error(errorText(response.status, body));
            return body;
          });
        })
        .then(function (body) {
          if (generation !== loadGeneration) return;
          body.items.forEach(function (record) { seen.add(record.request.id); apply(record, false); });
          if (body.nextCursor && pages < 20) return page(body.nextCursor, pages + 1);
          // Requests that are no longer pending disappeared while the stream was away.
          if (!body.nextCursor) {
            Array.from(cards.keys()).forEach(function (id) { if (!seen.has(id)) removeCard(id); });
          }
        });
    }
    return page(null, 1).then(function () { showNotice(''); }, function (failure) {
      showNotice('Could not load the pending requests: ' + failure.message);
    });
  }

  function connect() {
    if (reconnectTimer) { clearTimeout(reconnectTimer); reconnectTimer = null; }
    setStatus('connecting', 'Connecting…');
    source = new EventSource(url('events'), { withCredentials: true });
    function onRecord(event) {
      var data;
      try { data = JSON.parse(event.data); } catch (ignored) { return; }
      apply(data.record, true);
    }
    ['request-created', 'request-decided', 'request-expired', 'request-cancelled'].forEach(function (type) {
      source.addEventListener(type, onRecord);
    });
    source.addEventListener('ready', function (event) {
      setStatus('live', 'Live');
      var data = {};
      try { data = JSON.parse(event.data); } catch (ignored) { data = {}; }
      if (!data.resumed) load();
    });
    source.addEventListener('error', function () {
      if (source.readyState === EventSource.CLOSED) {
        setStatus('offline', 'Disconnected, retrying…');
        source.close();
        // The stream does not say why it was refused; the list request shows it (401, 403...).
        load();
        reconnectTimer = setTimeout(connect, 5000);
      } else {
        setStatus('connecting', 'Reconnecting…');
      }
    });
  }

  refreshCount();
  setInterval(tick, 1000);
  connect();
})();
`;

/**
 * The dashboard HTML for one response. `nonce` must be fresh per response and match the
 * `Content-Security-Policy` header's `'nonce-...'` sources.
 */
export function renderDashboardPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Pending approvals · hitl</title>
<style nonce="${nonce}">${styles}</style>
</head>
<body>
<header class="top">
  <h1>Pending approvals <span class="count" id="pending-count" data-testid="pending-count"></span></h1>
  <span class="status" id="connection-status" data-testid="connection-status" data-state="connecting" role="status">Connecting…</span>
</header>
<main>
  <p class="notice" id="notice" data-testid="notice" role="alert" hidden></p>
  <p class="empty" id="empty" data-testid="empty-state">No pending requests. New ones appear here as soon as an agent asks.</p>
  <ul class="list" id="requests" data-testid="request-list" aria-label="Pending requests"></ul>
  <p class="visually-hidden" id="announcer" aria-live="polite"></p>
</main>
<script nonce="${nonce}">${script}</script>
</body>
</html>
`;
}

/** The `Content-Security-Policy` of the dashboard page: nothing runs or loads but its own nonce'd code. */
export function dashboardContentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
