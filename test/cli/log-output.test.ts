import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createLogger, formatLogLine, type LogSink } from '../../src/cli/log-output.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function sink(isTTY: boolean): LogSink & { text: string } {
  return {
    isTTY,
    text: '',
    write(chunk: string) {
      this.text += chunk;
    },
  };
}

test('a JSON log line reads as time, level, message and key=value fields; errors keep their stack', () => {
  const time = new Date(2025, 0, 2, 3, 4, 5, 67).getTime();
  assert.equal(
    formatLogLine(
      JSON.stringify({ level: 30, time, msg: 'listening', address: '127.0.0.1:8080', tls: false, n: 3 }),
    ),
    '03:04:05.067 INFO  listening address=127.0.0.1:8080 tls=false n=3\n',
  );
  assert.equal(
    formatLogLine(
      JSON.stringify({ level: 30, time, msg: 'request refused', reason: 'a b', byStatus: { 401: 2 } }),
    ),
    '03:04:05.067 INFO  request refused reason="a b" byStatus={"401":2}\n',
  );
  const withError = formatLogLine(
    JSON.stringify({
      level: 50,
      time,
      msg: 'storage failed',
      err: { type: 'Error', message: 'disk full', stack: 'Error: disk full\n    at write' },
    }),
  );
  assert.equal(
    withError,
    '03:04:05.067 ERROR storage failed err="disk full"\n    Error: disk full\n        at write\n',
  );
  assert.ok(formatLogLine(JSON.stringify({ level: 40, time, msg: 'x' }), true).includes('\x1b[33mWARN'));
  assert.equal(formatLogLine('not json'), 'not json\n');
});

test('the logger writes JSON lines unless the sink is a terminal; logging.format forces either', () => {
  const piped = sink(false);
  createLogger('info', 'auto', piped).info({ a: 1 }, 'hello');
  assert.deepEqual(JSON.parse(piped.text), {
    level: 30,
    time: JSON.parse(piped.text).time,
    a: 1,
    msg: 'hello',
  });

  const terminal = sink(true);
  createLogger('info', 'auto', terminal, { NO_COLOR: '1' }).info({ a: 1 }, 'hello');
  assert.match(terminal.text, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}hello a=1\n$/);

  const coloured = sink(true);
  createLogger('info', 'auto', coloured, {}).info('hello');
  assert.ok(coloured.text.includes('\x1b[32mINFO'), coloured.text);

  const forcedJson = sink(true);
  createLogger('info', 'json', forcedJson).info('hello');
  assert.equal(JSON.parse(forcedJson.text).msg, 'hello');

  const forcedText = sink(false);
  createLogger('info', 'text', forcedText).info('hello');
  assert.match(forcedText.text, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}hello\n$/);
  assert.ok(!forcedText.text.includes('\x1b'), 'no colours when the sink is not a terminal');
});

test('on a real terminal (a pty through script(1)) every start-up line is readable text, the licence too', async () => {
  const command = `exec ${process.execPath} --import tsx ${MAIN}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { ...process.env, EMITTER_LICENSE: '', EMITTER_LISTEN: '127.0.0.1:0', NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start within 20 s: ${output}`)), 20000);
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/service started/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', () => reject(new Error(`exited: ${output}`)));
    });
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  const lines = output.replace(/\r/g, '').trim().split('\n');
  assert.ok(lines.length >= 4, output);
  for (const line of lines) assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} (INFO |WARN ) \S/, line);
  assert.match(output, /WARN {2}unable to find a license/);
  assert.match(output, /generated a new license and secret key: keep both license=\S+:3 secret=\S+/);
  assert.match(output, /INFO {2}listening for MQTT, WebSocket and HTTP address=127\.0\.0\.1:\d+/);
});
