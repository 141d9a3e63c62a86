// The presence demo of the Emitter article, on emitter-ts' browser client.
// Open index.html?host=127.0.0.1&port=8080&key=<key with r and p for the channel>&channel=presence-demo/
import { connectAsync } from './emitter-client.js';

const params = new URLSearchParams(location.search);
const host = params.get('host') ?? location.hostname;
const port = Number(params.get('port') ?? 8080);
const key = params.get('key') ?? '';
const channel = params.get('channel') ?? 'presence-demo/';
const users = new Map(); // connection id -> name
document.getElementById('channel').textContent = channel;

// Connection state and the broker's errors are shown on the page, not only in the console.
function setStatus(state, text) {
  const status = document.getElementById('status');
  status.className = state;
  status.textContent = text;
}
function showError(text) {
  const box = document.getElementById('error');
  box.hidden = false;
  box.textContent = text;
}
const describe = (error) => (error.status ? `${error.status} ${error.message}` : error.message);
const keyHint = `open this page with &key=<a key with r and p for ${channel}>`;

function render(occupancy) {
  const list = document.getElementById('users');
  list.replaceChildren(
    ...[...users.values()]
      .sort()
      .map((name) => Object.assign(document.createElement('li'), { textContent: name })),
  );
  document.getElementById('occupancy').textContent = String(occupancy ?? users.size);
}

// The watcher in emitter-io's style with promises: a status reply, then join/leave notifications as
// `presence` events. Connection state and refusals are shown on the page.
async function watch() {
  setStatus('connecting', `connecting to ${host}:${port}…`);
  let watcher;
  try {
    watcher = await connectAsync({ host, port, reconnectPeriod: 0 });
  } catch (error) {
    setStatus('failed', 'not connected');
    showError(`Cannot reach the broker at ws://${host}:${port}/: ${error.message}`);
    return;
  }
  watcher.on('disconnect', () => setStatus('failed', 'disconnected from the broker (reload to retry)'));
  watcher.on('presence', (event) => {
    if (event.event === 'subscribe') users.set(event.who.id, event.who.username ?? event.who.id);
    if (event.event === 'unsubscribe') users.delete(event.who.id);
    if (event.event !== 'status') render(event.occupancy);
  });
  setStatus('connecting', 'connected, asking for presence…');
  let status;
  try {
    status = await watcher.promises.presence({ key, channel, status: true, changes: true });
  } catch (error) {
    setStatus('failed', 'refused');
    showError(
      `The broker refused the presence request: ${describe(error)}${key ? '' : ` (no key given: ${keyHint})`}.`,
    );
    return;
  }
  for (const who of status.who) users.set(who.id, who.username ?? who.id);
  render(status.occupancy);
  setStatus('watching', 'watching');
}

// The devices with promises.
const devices = new Map();
async function toggle(name) {
  const device = devices.get(name);
  if (device) {
    devices.delete(name);
    await device.promises.disconnect();
    return;
  }
  try {
    const client = await connectAsync({ host, port, username: name, clientId: name, reconnectPeriod: 0 });
    devices.set(name, client);
    await client.promises.subscribe({ key, channel });
  } catch (error) {
    devices.get(name)?.promises.disconnect();
    devices.delete(name);
    showError(`${name} could not join ${channel}: ${describe(error)}.`);
  }
}
document.getElementById('toggle-alan').onclick = () => toggle('Alan');
document.getElementById('toggle-margaret').onclick = () => toggle('Margaret');
void watch();
