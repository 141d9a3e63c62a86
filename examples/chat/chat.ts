// A chat in the terminal: npx tsx examples/chat/chat.ts <key for chat/#/> <name> [host] [port]
// The key needs r and w; with s and l too (`rwsl`) lines are stored for an hour and a newcomer sees the
// last 10. Lines you type go to chat/lobby/; everything on chat/ is printed: chat lines as `name: text`,
// anything else (a mosquitto_pub, a device) as plain text. Ctrl-D leaves.
import { createInterface } from 'node:readline';
import { connectAsync, type EmitterMessage } from '../../src/client/index.js';

const [key, name = 'anonymous', host = '127.0.0.1', port = '8080'] = process.argv.slice(2);
if (!key) {
  console.error('usage: chat.ts <channel key for chat/#/ with rwsl (r and w at least)> [name] [host] [port]');
  process.exit(2);
}

/** A chat line as this example sends it, or undefined for any other payload. */
function chatLine(message: EmitterMessage): { from: string; text: string } | undefined {
  try {
    const body = message.asObject<{ from?: unknown; text?: unknown }>();
    if (typeof body?.from === 'string' && typeof body.text === 'string')
      return { from: body.from, text: body.text };
  } catch {
    // not JSON: shown as text below
  }
  return undefined;
}

const client = await connectAsync({ host, port: Number(port), username: name });
client.on('message', (message) => {
  const line = chatLine(message);
  if (!line) console.log(`[${message.channel}] ${message.asString()}`);
  else if (line.from !== name) console.log(`[${message.channel}] ${line.from}: ${line.text}`);
});
client.on('error', (error) => console.error(`error: ${error.message}`));
try {
  await client.promises.subscribe({ key, channel: 'chat/', last: 10 });
} catch (error) {
  console.error(`cannot join chat/: ${(error as Error).message} (the key needs r on chat/#/)`);
  await client.promises.disconnect();
  process.exit(1);
}
console.log(`connected as ${name}; type a message, Ctrl-D to leave`);
const input = createInterface({ input: process.stdin });
for await (const line of input) {
  if (!line.trim()) continue;
  const message = JSON.stringify({ from: name, text: line });
  await client.promises
    .publish({ key, channel: 'chat/lobby/', message, ttl: 3600 })
    .catch((error: Error) => console.error(`not sent: ${error.message}`));
}
await client.promises.disconnect();
