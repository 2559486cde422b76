import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../../src/engine/index.js';
import { ManualClock } from '../../support/manual-clock.js';
import { ManualTimers } from '../../support/manual-timers.js';

/** Lets pending promise callbacks run (the scheduler chains on the cycle's promise). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Scheduler', () => {
  it('runs a cycle at start and then once per interval, never two at once', async () => {
    const clock = new ManualClock();
    const timers = new ManualTimers(clock);
    const starts: number[] = [];
    let running = 0;
    let maxRunning = 0;
    const scheduler = new Scheduler({
      runCycle: async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        starts.push(clock.nowMs());
        await flush();
        running -= 1;
      },
      intervalSeconds: () => 30,
      timers,
    });
    const t0 = clock.nowMs();
    scheduler.start();
    scheduler.start(); // idempotent
    await flush();
    await flush();
    expect(starts).toEqual([t0]);
    expect(timers.nextDelayMs()).toBeGreaterThan(29_000);
    for (let i = 0; i < 3; i++) {
      timers.advance(30);
      await flush();
      await flush();
    }
    expect(starts.length).toBe(4);
    expect(maxRunning).toBe(1);
    await scheduler.stop();
    timers.advance(300);
    await flush();
    expect(starts.length).toBe(4);
    expect(timers.size).toBe(0);
  });

  it('keeps going after a failed cycle and reports the error', async () => {
    const clock = new ManualClock();
    const timers = new ManualTimers(clock);
    const errors: unknown[] = [];
    let calls = 0;
    const scheduler = new Scheduler({
      runCycle: async () => {
        calls += 1;
        if (calls === 1) throw new Error('prometheus down');
      },
      intervalSeconds: () => 10,
      timers,
      onError: (error) => errors.push(error),
    });
    scheduler.start();
    await flush();
    await flush();
    expect(errors).toHaveLength(1);
    timers.advance(10);
    await flush();
    await flush();
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
    await scheduler.stop();
  });

  it('reads the interval before each wait, so a reloaded interval applies', async () => {
    const clock = new ManualClock();
    const timers = new ManualTimers(clock);
    let interval = 30;
    const scheduler = new Scheduler({ runCycle: async () => undefined, intervalSeconds: () => interval, timers });
    scheduler.start();
    await flush();
    await flush();
    expect(timers.nextDelayMs()).toBeGreaterThan(29_000);
    interval = 5;
    timers.advance(30);
    await flush();
    await flush();
    expect(timers.nextDelayMs()).toBeLessThanOrEqual(5_000);
    await scheduler.stop();
  });
});
