#!/usr/bin/env node
// Writes a synthetic table of support tickets: a free-text subject, tabular account columns, and
// three labels a ticket may carry at once (billing, bug, urgent). The same seed writes the same
// bytes. Each label depends on the text and the account together, through a noisy logistic rule:
//   billing: billing words in the subject, and an amount due
//   bug:     crash/error words in the subject, more often on the mobile app
//   urgent:  enterprise plan and several open tickets, or "urgent" words; a free plan lowers it
// so a model that sees only the text, or only the columns, misses part of each label.
//
//   node scripts/generate.mjs OUT.csv [rows=3000] [seed=7]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const [out = 'tickets.csv', rowsArg = '3000', seedArg = '7'] = process.argv.slice(2);
const rows = Number(rowsArg);
let state = Number(seedArg) >>> 0;
const rand = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (list) => list[Math.floor(rand() * list.length)];
const sigmoid = (z) => 1 / (1 + Math.exp(-z));
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

const words = {
  billing: ['invoice', 'charged', 'refund', 'payment', 'card', 'billing', 'receipt', 'subscription', 'price', 'twice'],
  bug: ['crash', 'error', 'broken', 'fails', 'freezes', 'bug', 'blank', 'stuck', 'exception', 'loading'],
  urgent: ['urgent', 'asap', 'down', 'immediately', 'outage', 'blocked'],
  neutral: ['how', 'can', 'i', 'change', 'my', 'account', 'settings', 'question', 'about', 'the', 'export', 'report', 'team', 'password',
    'login', 'page', 'feature', 'request', 'please', 'help', 'with', 'update', 'email', 'profile', 'dashboard', 'data', 'new', 'user', 'access', 'sync'],
};
const plans = ['free', 'pro', 'enterprise'];
const channels = ['web', 'mobile', 'email'];

const header = ['ticket_id', 'subject', 'plan', 'channel', 'account_age_days', 'open_tickets', 'amount_due', 'billing', 'bug', 'urgent'];
const lines = [header.join(',')];
for (let i = 0; i < rows; i++) {
  const plan = plans[rand() < 0.5 ? 0 : rand() < 0.7 ? 1 : 2];
  const channel = pick(channels);
  const age = Math.round(Math.exp(3 + 2.2 * rand()));
  const open = Math.min(9, Math.floor(-Math.log(1 - rand()) * (plan === 'enterprise' ? 2.2 : 1.1)));
  const due = rand() < 0.35 ? Math.round((20 + 400 * rand() ** 2) * 100) / 100 : 0;
  // Latent intent of the writer, then the words they use (noisy: topic words are often absent).
  const wantsBilling = rand() < 0.3 + (due > 0 ? 0.25 : 0);
  const hasBug = rand() < (channel === 'mobile' ? 0.4 : 0.22);
  const inHurry = rand() < 0.12 + (plan === 'enterprise' ? 0.12 : 0);
  const subject = [];
  const length = 4 + Math.floor(rand() * 7);
  for (let w = 0; w < length; w++) subject.push(pick(words.neutral));
  const insert = (topic, p) => {
    if (rand() < p) subject.splice(Math.floor(rand() * (subject.length + 1)), 0, pick(words[topic]));
  };
  if (wantsBilling) insert('billing', 0.8), insert('billing', 0.3);
  else insert('billing', 0.05);
  if (hasBug) insert('bug', 0.75), insert('bug', 0.3);
  else insert('bug', 0.05);
  if (inHurry) insert('urgent', 0.6);
  const text = subject.join(' ');
  const has = (topic) => subject.some((w) => words[topic].includes(w));
  const billing = rand() < sigmoid(-2.2 + 3.2 * has('billing') + 1.6 * (due > 0) + 0.004 * due + 0.3 * gauss());
  const bug = rand() < sigmoid(-2.4 + 3.4 * has('bug') + 1.2 * (channel === 'mobile') - 0.15 * Math.log(age) + 0.3 * gauss());
  const urgent = rand() < sigmoid(-3.2 + 2.4 * has('urgent') + 1.6 * (plan === 'enterprise') - 1.0 * (plan === 'free') + 0.55 * open + 0.8 * (bug && plan !== 'free'));
  lines.push([`T${String(10000 + i)}`, `"${text}"`, plan, channel, age, open, due.toFixed(2), +billing, +bug, +urgent].join(','));
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${lines.join('\n')}\n`);
process.stdout.write(`wrote ${rows} tickets to ${out}\n`);
