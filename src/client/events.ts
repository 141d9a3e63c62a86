type Handler = (...args: unknown[]) => void;

/** A minimal typed event emitter that runs in Node and in browsers alike. */
export class TypedEmitter<Events extends Record<string, unknown[]>> {
  private readonly handlers = new Map<keyof Events, Set<Handler>>();

  /** Adds a handler. */
  on<E extends keyof Events>(event: E, handler: (...args: Events[E]) => void): this {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as unknown as Handler);
    return this;
  }

  /** Removes a handler. */
  off<E extends keyof Events>(event: E, handler: (...args: Events[E]) => void): this {
    this.handlers.get(event)?.delete(handler as unknown as Handler);
    return this;
  }

  /** Adds a handler that runs once. */
  once<E extends keyof Events>(event: E, handler: (...args: Events[E]) => void): this {
    const wrapper = (...args: Events[E]): void => {
      this.off(event, wrapper);
      handler(...args);
    };
    return this.on(event, wrapper);
  }

  protected emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    for (const handler of [...(this.handlers.get(event) ?? [])]) handler(...args);
  }
}
