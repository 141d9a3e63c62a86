/** A broker message on an `emitter/...` topic: raw, and its JSON body. */
export interface Reply {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly body: Record<string, unknown>;
}

// Replies waiting for their packet's ack; more than this many at once means nobody is coming for them.
const MAX_EARLY = 4096;

/**
 * Who gets a broker reply that carries `req` (the packet id of the PUBLISH, SUBSCRIBE or UNSUBSCRIBE it
 * answers). A promise claims the replies to its packet; packets sent in emitter-io's style release theirs
 * to the events. Both happen when the ack arrives, and a reply can come before it (a request answered while
 * a stored publish holds the acks back, or a broker that writes errors before acks), so replies nobody
 * claimed or released yet wait here for their ack.
 */
export class ReplyDesk {
  private readonly claims = new Map<number, (reply: Reply) => void>();
  private readonly early = new Map<number, Reply[]>();
  private readonly released = new Set<number>();

  constructor(private readonly toEvents: (reply: Reply) => void) {}

  /** Takes a reply for packet `req`; false when it belongs to the events. */
  take(req: number, reply: Reply): boolean {
    const claim = this.claims.get(req);
    if (claim) {
      this.claims.delete(req);
      claim(reply);
      return true;
    }
    if (this.released.has(req)) return false;
    const waiting = this.early.get(req);
    if (waiting) waiting.push(reply);
    else {
      if (this.early.size >= MAX_EARLY) this.early.delete(this.early.keys().next().value as number);
      this.early.set(req, [reply]);
    }
    return true;
  }

  /** The next reply to packet `req` goes to `handler`, at once if it already came. */
  claim(req: number, handler: (reply: Reply) => void): void {
    const waiting = this.early.get(req);
    const first = waiting?.shift();
    if (waiting && waiting.length === 0) this.early.delete(req);
    if (first) handler(first);
    else this.claims.set(req, handler);
  }

  /** Stops waiting for a reply to packet `req`. */
  unclaim(req: number): void {
    this.claims.delete(req);
  }

  /** Replies to packet `req` go to the events, those that came already first. */
  release(req: number): void {
    this.claims.delete(req);
    this.released.add(req);
    const waiting = this.early.get(req);
    this.early.delete(req);
    for (const reply of waiting ?? []) this.toEvents(reply);
  }

  /** A new packet goes out with id `id`: what was known about an earlier packet with that id is stale. */
  sent(id: number): void {
    this.early.delete(id);
    this.released.delete(id);
  }

  /** Forgets everything (the client disconnected). */
  clear(): void {
    this.claims.clear();
    this.early.clear();
    this.released.clear();
  }
}
