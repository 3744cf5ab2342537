#!/usr/bin/env node
// kafkajs over SASL_PLAINTEXT with SCRAM-SHA-256 and SCRAM-SHA-512 for
// tests/integration/102-sasl-kafkajs.t: produce, consume back (values,
// offsets), a wrong password rejected with SASL_AUTHENTICATION_FAILED, and
// KIP-368: with a short connections.max.reauth.ms kafkajs re-authenticates
// on its live connections while producing for several lifetimes.
// Usage: node kafkajs_sasl.js BOOTSTRAP USER PW256 PW512 REAUTH_MS
'use strict';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, logLevel } = require('kafkajs');

const [BOOT, USER, PW256, PW512, REAUTH] = process.argv.slice(2);
const { ok, is, sleep, failed } = require('./tap');

function client(mechanism, password, extra = {}) {
  return new Kafka({
    clientId: 'kjs-sasl', brokers: [BOOT], logLevel: logLevel.NOTHING,
    sasl: { mechanism, username: USER, password }, retry: { retries: 2 }, ...extra,
  });
}

async function roundTrip(mech, pw) {
  const topic = `kjs-${mech}`;
  const k = client(mech.toLowerCase(), pw);
  const producer = k.producer();
  await producer.connect();
  const values = Array.from({ length: 10 }, (_, i) => `${mech} ${i}`);
  const res = await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
  is(res.map((r) => [r.errorCode, r.baseOffset]), [[0, '0']], `${mech}: 10 records acknowledged at base offset 0`);
  await producer.disconnect();
  const consumer = k.consumer({ groupId: `g-${mech}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  await consumer.run({ eachMessage: async ({ message }) => { got.push([message.offset, message.value.toString()]); } });
  for (let i = 0; i < 200 && got.length < 10; i++) await sleep(100);
  await consumer.disconnect();
  is(got, values.map((v, i) => [String(i), v]), `${mech}: consumer group reads them back in order`);
}

async function wrongPassword(mech, pw) {
  const p = client(mech.toLowerCase(), `${pw}-wrong`, { retry: { retries: 0 } }).producer();
  try {
    await p.connect();
    ok(false, `${mech}: wrong password refused`);
  } catch (e) {
    ok(e.type === 'SASL_AUTHENTICATION_FAILED' || /SASL_AUTHENTICATION_FAILED|Authentication failed/.test(e.message),
      `${mech}: wrong password refused with SASL_AUTHENTICATION_FAILED (${e.type || e.name})`);
  }
}

async function reauth() {
  const k = client('scram-sha-256', PW256, { reauthenticationThreshold: Math.floor(REAUTH / 3) });
  const producer = k.producer();
  await producer.connect();
  const offsets = [];
  const end = Date.now() + REAUTH * 3;
  let i = 0;
  while (Date.now() < end) {
    const r = await producer.send({ topic: 'kjs-reauth', acks: -1, messages: [{ value: `r${i++}` }] });
    offsets.push(Number(r[0].baseOffset));
    await sleep(200);
  }
  await producer.disconnect();
  is(offsets, offsets.map((_, j) => j), `KIP-368: ${offsets.length} sends over three session lifetimes all acknowledged in order`);
}

(async () => {
  try {
    await roundTrip('SCRAM-SHA-256', PW256);
    await roundTrip('SCRAM-SHA-512', PW512);
    await wrongPassword('SCRAM-SHA-256', PW256);
    await wrongPassword('SCRAM-SHA-512', PW512);
    await reauth();
  } catch (e) {
    ok(false, `kafkajs SASL suite threw ${e.stack}`);
  }
  process.exit(failed() ? 1 : 0);
})();
