// The presence demo of the Emitter article, on emitter-ts' browser client.
// Open index.html?host=127.0.0.1&port=8080&key=<key with r and p for the channel>&channel=presence-demo/
import { connect, connectAsync } from './emitter-client.js';

const params = new URLSearchParams(location.search);
const host = params.get('host') ?? location.hostname;
const port = Number(params.get('port') ?? 8080);
const key = params.get('key') ?? '';
const channel = params.get('channel') ?? 'presence-demo/';
const users = new Map(); // connection id -> name
document.getElementById('channel').textContent = channel;

function render(occupancy) {
  const list = document.getElementById('users');
  list.replaceChildren(
    ...[...users.values()]
      .sort()
      .map((name) => Object.assign(document.createElement('li'), { textContent: name })),
  );
  document.getElementById('occupancy').textContent = String(occupancy ?? users.size);
}

// The watcher in emitter-io's style: a status reply and join/leave notifications, all `presence` events.
const watcher = connect({ host, port, reconnectPeriod: 0 }, () => {
  watcher.presence({ key, channel, status: true, changes: true });
});
watcher.on('presence', (event) => {
  if (event.event === 'status') {
    for (const who of event.who) users.set(who.id, who.username ?? who.id);
    document.getElementById('status').textContent = 'watching';
  }
  if (event.event === 'subscribe') users.set(event.who.id, event.who.username ?? event.who.id);
  if (event.event === 'unsubscribe') users.delete(event.who.id);
  render(event.occupancy);
});

// The devices with promises.
const devices = new Map();
async function toggle(name) {
  const device = devices.get(name);
  if (device) {
    devices.delete(name);
    await device.promises.disconnect();
    return;
  }
  const client = await connectAsync({ host, port, username: name, clientId: name, reconnectPeriod: 0 });
  devices.set(name, client);
  await client.promises.subscribe({ key, channel });
}
document.getElementById('toggle-alan').onclick = () => toggle('Alan');
document.getElementById('toggle-margaret').onclick = () => toggle('Margaret');
