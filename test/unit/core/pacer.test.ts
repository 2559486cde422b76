import { describe, expect, it } from 'vitest';
import { Pacer } from '../../../src/core/index.js';

describe('Pacer', () => {
  it('says a slice is used up only after its length, on the monotonic clock', () => {
    expect(new Pacer(0).due()).toBe(true);
    expect(new Pacer(1e9).due()).toBe(false);
  });

  it('pauses until what was waiting on the event loop has run, then starts a new slice', async () => {
    const pacer = new Pacer(0);
    const order: string[] = [];
    setImmediate(() => order.push('waiting'));
    await pacer.pause();
    order.push('resumed');
    expect(order).toEqual(['waiting', 'resumed']);
    const long = new Pacer(1e9);
    await long.pause();
    expect(long.due()).toBe(false);
  });
});
