import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuTracker } from './cpu-tracker.ts';

test('first sight: CPU time over lifetime, as ps computes it', () => {
  const cpu = new CpuTracker(100);
  cpu.beginScan();
  // Started 10 s after boot, now 110 s after boot, 50 s of CPU: 50 %.
  assert.equal(cpu.usage(42, 1000, 5000, 0, 110), 50);
  // Started this very tick: no lifetime yet.
  assert.equal(cpu.usage(43, 11000, 0, 0, 110), 0);
});

test('later scans: CPU ticks since the previous scan over wall time', () => {
  const cpu = new CpuTracker(100);
  cpu.beginScan();
  cpu.usage(42, 1000, 5000, 1000, 110);
  cpu.beginScan();
  // 2 s later, 150 more ticks (1.5 s of CPU on several threads): 75 %.
  assert.equal(cpu.usage(42, 1000, 5150, 3000, 112), 75);
  cpu.beginScan();
  assert.equal(cpu.usage(42, 1000, 5150, 4000, 113), 0);
});

test('a reused pid (other start ticks) starts over; readings of exited processes are dropped', () => {
  const cpu = new CpuTracker(100);
  cpu.beginScan();
  cpu.usage(42, 1000, 5000, 1000, 110);
  cpu.endScan();
  cpu.beginScan();
  assert.equal(cpu.usage(42, 10900, 100, 2000, 110), 100); // 1 s of CPU over 1 s of life
  cpu.endScan();
  cpu.beginScan();
  cpu.endScan(); // 42 not seen: forgotten
  cpu.beginScan();
  assert.equal(cpu.usage(42, 10900, 100, 9000, 111), 50); // first sight again: lifetime average
});
