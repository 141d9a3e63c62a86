// The floor for the idle-connection figure: a bare Node `net` server that holds each socket with one
// `data` listener and answers just enough MQTT (CONNACK, SUBACK) for the load generator's clients.
// node bench/compare/bare-net-server.mjs <port>
import net from 'node:net';

const port = Number(process.argv[2]);
const CONNACK = Buffer.from([0x20, 2, 0, 0]);
const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => {});
  // The generator sends one packet and waits for its answer, so a chunk holds one whole packet.
  socket.on('data', (chunk) => {
    const type = chunk[0] >> 4;
    if (type === 1) socket.write(CONNACK);
    else if (type === 8) {
      // SUBSCRIBE: the packet id follows the 1-byte remaining length (small packets).
      socket.write(Buffer.from([0x90, 3, chunk[2], chunk[3], 0]));
    }
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
