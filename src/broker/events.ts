import { EventEmitter } from 'node:events';
import type { QoS } from '../channel/index.js';
import type { BrokerClient } from './hooks.js';

/** Why a message did not reach a client. */
export type DropReason =
  /** The client does not read fast enough (`limit.outgoingBuffer`, slowConsumer `drop`). */
  | 'slowConsumer'
  /** A persistent session's QoS 1/2 queue was full: its oldest message went. */
  | 'queueFull'
  /** The publish was refused: channel key, `authorizePublish`, size or topic limits. */
  | 'refused';

/** A message published by a client, after authorisation. */
export interface PublishedEvent {
  readonly client: BrokerClient;
  /** The channel without key or options (`room/1/`). */
  readonly channel: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
}

/** A message that was dropped, and why. */
export interface DroppedEvent {
  /** The publisher (`refused`) or the recipient (`slowConsumer`, `queueFull`). */
  readonly client: BrokerClient;
  /** The topic or channel concerned. */
  readonly topic: string;
  readonly reason: DropReason;
  /** The Emitter status sent to the publisher (`refused` only). */
  readonly status?: number;
}

/** The broker's events and their payloads. */
export interface BrokerEventMap {
  clientConnected: [client: BrokerClient];
  clientDisconnected: [client: BrokerClient];
  subscribed: [client: BrokerClient, subscription: { readonly channel: string; readonly qos: QoS }];
  unsubscribed: [client: BrokerClient, subscription: { readonly channel: string }];
  published: [event: PublishedEvent];
  dropped: [event: DroppedEvent];
}

/** The names of the broker's events. */
export type BrokerEventName = keyof BrokerEventMap;

/**
 * Typed events with a flag per event saying whether anyone listens, read by the broker before it builds a
 * payload: with no listener, an event costs one property read.
 */
export class BrokerEvents {
  /** True while `published` has a listener. */
  watchPublished = false;
  /** True while `dropped` has a listener. */
  watchDropped = false;
  /** True while any client or subscription event has a listener. */
  watchClients = false;
  private readonly emitter = new EventEmitter();

  /** Adds a listener. */
  on<E extends BrokerEventName>(event: E, listener: (...args: BrokerEventMap[E]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    this.refresh();
    return this;
  }

  /** Removes a listener. */
  off<E extends BrokerEventName>(event: E, listener: (...args: BrokerEventMap[E]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    this.refresh();
    return this;
  }

  /**
   * Calls the listeners of an event; a listener that throws is reported through `onListenerError` and
   * does not stop the others, nor the broker.
   */
  emit<E extends BrokerEventName>(event: E, ...args: BrokerEventMap[E]): void {
    for (const listener of this.emitter.listeners(event)) {
      try {
        (listener as (...a: BrokerEventMap[E]) => void)(...args);
      } catch (error) {
        this.onListenerError(event, error);
      }
    }
  }

  /** Where a throwing listener is reported; the broker logs it. */
  onListenerError: (event: BrokerEventName, error: unknown) => void = () => undefined;
  /** Called after the flags changed (the broker folds them into its publish fast-path flag). */
  onWatchChange: () => void = () => undefined;

  private refresh(): void {
    const count = (event: BrokerEventName) => this.emitter.listenerCount(event) > 0;
    this.watchPublished = count('published');
    this.watchDropped = count('dropped');
    this.watchClients =
      count('clientConnected') || count('clientDisconnected') || count('subscribed') || count('unsubscribed');
    this.onWatchChange();
  }
}
