// The presence demo of the Emitter article, on emitter-ts' browser client.
// Open index.html?host=127.0.0.1&port=8080&key=<key with r and p for the channel>&channel=presence-demo/
import { connect } from './emitter-client.js';

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

const watcher = await connect({ host, port, transport: 'ws', reconnectPeriod: 0 });
watcher.on('presence', (event) => {
  if (event.event === 'subscribe') users.set(event.who.id, event.who.username ?? event.who.id);
  if (event.event === 'unsubscribe') users.delete(event.who.id);
  render(event.occupancy);
});
const status = await watcher.presence(key, channel, { changes: true });
for (const who of status.who) users.set(who.id, who.username ?? who.id);
render(status.occupancy);
document.getElementById('status').textContent = 'watching';

const devices = new Map();
async function toggle(name) {
  const device = devices.get(name);
  if (device) {
    devices.delete(name);
    await device.disconnect();
    return;
  }
  const client = await connect({
    host,
    port,
    transport: 'ws',
    username: name,
    clientId: name,
    reconnectPeriod: 0,
  });
  devices.set(name, client);
  await client.subscribe(key, channel);
}
document.getElementById('toggle-alan').onclick = () => toggle('Alan');
document.getElementById('toggle-margaret').onclick = () => toggle('Margaret');
