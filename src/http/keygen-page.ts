import type { IncomingMessage, ServerResponse } from 'node:http';
import { EmitterError } from '../errors.js';
import type { KeyAuthority } from '../security/index.js';
import { readBody } from './read-body.js';

/** The fields of the /keygen form. */
interface KeygenForm {
  key: string;
  channel: string;
  ttl: string;
  permissions: string;
  /** False when a checkbox or the ttl holds a value the form cannot have sent. */
  valid: boolean;
}

const PERMISSIONS: ReadonlyArray<[letter: string, field: string, label: string]> = [
  ['r', 'sub', 'read (subscribe)'],
  ['w', 'pub', 'write (publish)'],
  ['s', 'store', 'store (ttl messages)'],
  ['l', 'load', 'load (history, last)'],
  ['p', 'presence', 'presence'],
  ['e', 'extend', 'extend (private links)'],
];
const MAX_BODY = 16 * 1024;

/** Serves `/keygen`: GET shows the form, POST makes a channel key with the same rules as `emitter/keygen/`. */
export function createKeygenPage(
  authority: KeyAuthority,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    if (request.method === 'GET' || request.method === 'HEAD') {
      send(response, 200, render({ key: '', channel: '', ttl: '0', permissions: 'r', valid: true }));
      return;
    }
    if (request.method !== 'POST') {
      response.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, POST' });
      response.end('feature not supported\n');
      return;
    }
    readBody(request, MAX_BODY).then(
      (body) => {
        const form = readForm(new URLSearchParams(body.toString('utf8')));
        send(response, 200, render(form, keygen(authority, form)));
      },
      () => {
        // The rest of the body is left unread: close the connection after the reply.
        response.setHeader('connection', 'close');
        send(
          response,
          413,
          render(
            { key: '', channel: '', ttl: '0', permissions: 'r', valid: true },
            { error: 'request too large' },
          ),
        );
      },
    );
  };
}

type Outcome = { key: string; channel: string } | { error: string };

function keygen(authority: KeyAuthority, form: KeygenForm): Outcome {
  // As Emitter: values that cannot be read are reported before missing fields.
  if (!form.valid) return { error: 'invalid arguments' };
  if (!form.key) return { error: 'Missing SecretKey' };
  if (!form.channel) return { error: 'Missing Channel' };
  const ttl = form.ttl === '' ? 0 : Number(form.ttl);
  const created = authority.createKey({
    secret: form.key,
    channel: form.channel,
    type: form.permissions,
    ttl,
  });
  return created instanceof EmitterError ? { error: created.message } : created;
}

// A checkbox is "on", "off" or empty (absent): anything else is not a form this page sent, and Emitter
// refuses it ("invalid arguments") rather than guess. The ttl is a whole number of seconds, 0 or more.
function readForm(params: URLSearchParams): KeygenForm {
  let valid = true;
  const checked = (field: string): boolean => {
    const value = params.get(field) ?? '';
    if (value !== '' && value !== 'on' && value !== 'off') valid = false;
    return value === 'on';
  };
  const ttl = (params.get('ttl') ?? '').trim();
  if (ttl !== '' && (!/^\+?\d+$/.test(ttl) || !Number.isSafeInteger(Number(ttl)))) valid = false;
  return {
    key: (params.get('key') ?? '').trim(),
    channel: (params.get('channel') ?? '').trim(),
    ttl,
    permissions: PERMISSIONS.filter(([, field]) => checked(field))
      .map(([letter]) => letter)
      .join(''),
    valid,
  };
}

function send(response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  response.end(html);
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function render(form: KeygenForm, outcome?: Outcome): string {
  const boxes = PERMISSIONS.map(
    ([letter, field, label]) =>
      `<label><input type="checkbox" name="${field}" ${form.permissions.includes(letter) ? 'checked' : ''}> ${label}</label>`,
  ).join('\n        ');
  let result = '';
  if (outcome && 'error' in outcome)
    result = `<pre id="keygenResponse" class="error">${escape(outcome.error)}</pre>`;
  else if (outcome) {
    result = `<pre id="keygenResponse" class="ok">channel: ${escape(outcome.channel)}\nkey    : <span id="generatedKey">${escape(outcome.key)}</span></pre>`;
  }
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Emitter: generate a channel key</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
    h1 { font-size: 1.5rem; }
    label { display: block; margin: .4rem 0; }
    input[type=text], input[type=number] { width: 100%; padding: .4rem; font: inherit; box-sizing: border-box; }
    fieldset { border: 1px solid #ccc; border-radius: 4px; margin: 1rem 0; }
    button { padding: .5rem 1.2rem; font: inherit; }
    pre { padding: .8rem; border-radius: 4px; white-space: pre-wrap; word-break: break-all; }
    .ok { background: #e9f7ef; } .error { background: #fdecea; color: #a00; }
  </style>
</head>
<body>
  <h1>Generate a channel key</h1>
  <form method="post" action="/keygen">
    <label>Secret key <input type="text" name="key" id="key" value="${escape(form.key)}" autocomplete="off" required></label>
    <label>Channel (ends with <code>/</code>, or <code>/#/</code> for everything below) <input type="text" name="channel" id="channel" value="${escape(form.channel)}" placeholder="chat/#/" required></label>
    <fieldset>
      <legend>Permissions</legend>
        ${boxes}
    </fieldset>
    <label>Time to live in seconds (0: never expires) <input type="number" min="0" name="ttl" id="ttl" value="${escape(form.ttl)}"></label>
    <button type="submit" id="generate">Generate</button>
  </form>
  ${result}
</body>
</html>
`;
}
