import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/serve/server.js';
import { createServerMetrics } from '../../src/serve/metrics.js';
import { ModelSlot } from '../../src/serve/model-slot.js';
import { lcg } from '../ml/fixtures.js';
import { servedModel, tabularMeta, trainFixtureModel } from './fixtures.js';

const KEYS = ['instances', 'f0', 'f1', 'f2', 'f3', '__proto__', 'constructor', 'prototype', 'text', '', 'toString'];

/** A random JSON value, biased towards shapes close to a real request. */
function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth > 4 || r < 0.3) {
    const s = rand();
    if (s < 0.25) return (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
    if (s < 0.4) return ['', 'NaN', '1e999', '-0', 'abc', '0x10', ' 3 ', '\u0000', '😀'][Math.floor(rand() * 9)];
    if (s < 0.5) return rand() < 0.5;
    if (s < 0.6) return null;
    return Math.floor(rand() * 2000) - 1000;
  }
  if (r < 0.6) return Array.from({ length: Math.floor(rand() * 6) }, () => randomValue(rand, depth + 1));
  const obj: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 6); i > 0; i--) obj[KEYS[Math.floor(rand() * KEYS.length)]!] = randomValue(rand, depth + 1);
  return obj;
}

function randomBody(rand: () => number): string {
  const kind = rand();
  if (kind < 0.4) return JSON.stringify({ instances: Array.from({ length: Math.floor(rand() * 8) }, () => randomValue(rand, 2)) });
  if (kind < 0.55) {
    const rows = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => ({ f0: randomValue(rand, 5), f1: rand(), f2: rand(), f3: randomValue(rand, 5) }));
    return JSON.stringify({ instances: rows });
  }
  if (kind < 0.65) return JSON.stringify({ instances: Array.from({ length: Math.floor(rand() * 3000) }, () => ({ f0: 1, f1: 2, f2: 3 })) });
  if (kind < 0.75) {
    const text = JSON.stringify(randomValue(rand, 0)) ?? 'null';
    return text.slice(0, Math.floor(rand() * (text.length + 1)));
  }
  if (kind < 0.8) return `{"instances":[{"f0":1,"f1":2,"f2":3,"__proto__":{"polluted":true}}]}`;
  if (kind < 0.85) return '['.repeat(2000) + ']'.repeat(2000);
  return JSON.stringify(randomValue(rand, 0)) ?? 'null';
}

describe('POST /predict fuzzed with random JSON bodies', () => {
  let app: FastifyInstance;
  let slot: ModelSlot;
  const internal: Error[] = [];

  beforeAll(async () => {
    slot = new ModelSlot(await servedModel(await trainFixtureModel(tabularMeta())));
    app = buildServer({ slot, metrics: createServerMetrics(() => slot.current), bodyLimit: 64 * 1024, maxInstances: 1000, follows: null, onInternalError: (e) => internal.push(e) });
  });
  afterAll(async () => {
    await app.close();
    slot.close();
  });

  it('answers every body with 200, 400 or 413 and a JSON message, never a 500 or a crash', async () => {
    const rand = lcg(20240601);
    const seen = new Map<number, number>();
    for (let i = 0; i < 600; i++) {
      const payload = randomBody(rand);
      const r = await app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload });
      seen.set(r.statusCode, (seen.get(r.statusCode) ?? 0) + 1);
      if (![200, 400, 413].includes(r.statusCode)) throw new Error(`status ${r.statusCode} for body ${payload.slice(0, 200)}: ${r.body}`);
      const body = r.json();
      if (r.statusCode === 200) {
        expect(body.predictions.length).toBeGreaterThan(0);
        for (const p of body.predictions) expect(Object.values<number>(p.probabilities).every(Number.isFinite)).toBe(true);
      }
      else expect(typeof body.message).toBe('string');
    }
    expect(internal).toEqual([]);
    expect(seen.get(200)).toBeGreaterThan(30);
    expect([...seen.keys()].sort()).toEqual([200, 400, 413]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
  });
});
