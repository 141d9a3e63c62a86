// A chat in the terminal: npx tsx examples/chat/chat.ts <key for chat/#/ with rw> <name> [host] [port]
// Lines you type go to chat/<room>/; everything on chat/ is printed. Ctrl-D leaves.
import { createInterface } from 'node:readline';
import { connect } from '../../src/client/index.js';

const [key, name = 'anonymous', host = '127.0.0.1', port = '8080'] = process.argv.slice(2);
if (!key) {
  console.error('usage: chat.ts <channel key for chat/#/ with r and w> [name] [host] [port]');
  process.exit(2);
}
const client = await connect({ host, port: Number(port), username: name });
client.on('message', (message) => {
  const { from, text } = message.asObject<{ from: string; text: string }>();
  if (from !== name) console.log(`[${message.channel}] ${from}: ${text}`);
});
client.on('error', (error) => console.error(`error: ${error.message}`));
await client.subscribe(key, 'chat/', { last: 10 });
console.log(`connected as ${name}; type a message, Ctrl-D to leave`);
const input = createInterface({ input: process.stdin });
for await (const line of input) {
  if (line.trim())
    await client.publish(key, 'chat/lobby/', JSON.stringify({ from: name, text: line }), { ttl: 3600 });
}
await client.disconnect();
