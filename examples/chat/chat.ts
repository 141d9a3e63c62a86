// A chat in the terminal: npx tsx examples/chat/chat.ts <key for chat/#/ with rw> <name> [host] [port]
// Lines you type go to chat/lobby/; everything on chat/ is printed. Ctrl-D leaves.
import { createInterface } from 'node:readline';
import { connectAsync } from '../../src/client/index.js';

const [key, name = 'anonymous', host = '127.0.0.1', port = '8080'] = process.argv.slice(2);
if (!key) {
  console.error('usage: chat.ts <channel key for chat/#/ with r and w> [name] [host] [port]');
  process.exit(2);
}
const client = await connectAsync({ host, port: Number(port), username: name });
client.on('message', (message) => {
  const { from, text } = message.asObject<{ from?: string; text?: string }>();
  if (from && from !== name) console.log(`[${message.channel}] ${from}: ${text}`);
});
client.on('error', (error) => console.error(`error: ${error.message}`));
await client.promises.subscribe({ key, channel: 'chat/', last: 10 });
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
