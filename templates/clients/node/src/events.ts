// `on(type, fn)`: listeners fed from the client's bounded event stream.

import type { EventQueue } from './core.js';

/** Listeners by event type, fed by one reader of the event stream. */
export class Listeners<E> {
  private readonly byType = new Map<string, Set<(event: E) => void>>();
  private readonly errorListeners = new Set<(err: Error) => void>();
  private pumping = false;

  constructor(
    private readonly queue: EventQueue<E>,
    private readonly typeOf: (event: E) => string,
  ) {}

  /** Call `fn` for every event of `type` (`*`: every event); returns the function that stops it. */
  on(type: string, fn: (event: E) => void): () => void {
    let set = this.byType.get(type);
    if (!set) this.byType.set(type, (set = new Set()));
    set.add(fn);
    this.pump();
    return () => set.delete(fn);
  }

  /** Call `fn` with the typed error that ends the stream, if one does. */
  onError(fn: (err: Error) => void): () => void {
    this.errorListeners.add(fn);
    this.pump();
    return () => this.errorListeners.delete(fn);
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void (async () => {
      try {
        for await (const event of this.queue) {
          for (const key of [this.typeOf(event), '*']) {
            for (const fn of this.byType.get(key) ?? []) fn(event);
          }
        }
      } catch (err) {
        for (const fn of this.errorListeners) fn(err as Error);
      }
    })();
  }
}
