import type { IncomingMessage } from 'node:http';

/** The request body was larger than the route accepts. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`request body above ${limit} bytes`);
    this.name = 'BodyTooLarge';
  }
}

/**
 * Reads a request body of at most `limit` bytes. A larger body rejects with `BodyTooLarge` as soon as
 * it crosses the limit (the rest is not buffered); a broken request rejects with its error.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      request.off('data', onData);
      // Stop reading; the route answers 413 and the connection closes after the reply.
      request.pause();
      reject(new BodyTooLarge(limit));
    };
    request.on('data', onData);
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
