import { pino } from 'pino';
import { Broker, type BrokerOptions } from '../../src/broker/broker.js';
import { generateLicense, type License } from '../../src/security/index.js';

/** A broker running in this process on a free loopback port, with a fresh licence. */
export interface TestBroker {
  readonly broker: Broker;
  readonly license: License;
  readonly secret: string;
  readonly port: number;
  readonly tlsPort?: number;
  close(): Promise<void>;
}

/** Starts a broker on 127.0.0.1 with a random port; options override the defaults. */
export async function startTestBroker(options: Partial<BrokerOptions> = {}): Promise<TestBroker> {
  const license = options.license ?? generateLicense().license;
  const broker = new Broker({
    license,
    listen: { host: '127.0.0.1', port: 0 },
    logger: pino({ level: 'silent' }),
    ...options,
  });
  const { port, tlsPort } = await broker.listen();
  return {
    broker,
    license,
    secret: license.newMasterKey(),
    port,
    tlsPort,
    close: () => broker.close(),
  };
}
