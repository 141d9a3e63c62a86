// Aedes on net, for the side-by-side benchmark: node bench/compare/aedes-server.mjs <port>
import net from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2]);
const broker = await Aedes.createBroker();
// TCP_NODELAY as the other brokers use it: without it Nagle adds up to 40 ms to the latency figures.
const server = net.createServer({ noDelay: true }, broker.handle);
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
