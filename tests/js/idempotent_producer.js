#!/usr/bin/env node
// kafkajs idempotent producer (idempotent: true, one request in flight, as
// kafkajs requires) for tests/integration/072-idempotent-clients.t: N
// records "<tag>-<i>" to partition 0 in sends of PER_SEND, each awaited;
// checks every send's reported base offset is the next one.  Run through a
// proxy that drops Produce responses, kafkajs resends the same sequence
// numbers and the broker must deduplicate.  Prints TAP.
// Usage: node idempotent_producer.js BOOTSTRAP TOPIC N TAG
'use strict';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, logLevel } = require('kafkajs');

const [BOOT, TOPIC, N, TAG] = [process.argv[2], process.argv[3], Number(process.argv[4]), process.argv[5]];
const PER_SEND = 10;
const { ok, failed } = require('./tap');

async function main() {
  console.log('1..4');
  const kafka = new Kafka({
    clientId: 'sluice-idempotent', brokers: [BOOT], logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 50, retries: 30 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let next = 0;
  const bad = [];
  let errors = 0;
  for (let i = 0; i < N; i += PER_SEND) {
    const messages = [];
    for (let k = i; k < Math.min(N, i + PER_SEND); k++) messages.push({ value: `${TAG}-${k}` });
    try {
      const res = await producer.send({ topic: TOPIC, acks: -1, messages: messages.map((m) => ({ ...m, partition: 0 })) });
      const base = Number(res[0].baseOffset);
      if (res[0].errorCode !== 0 || base !== next) bad.push([i, res[0].errorCode, base, next]);
    } catch (e) {
      errors++;
      if (errors < 4) console.log(`# send ${i}: ${e.name}: ${e.message}`);
    }
    next += messages.length;
  }
  ok(errors === 0, `all ${N / PER_SEND} sends succeeded (${errors} failed)`);
  ok(bad.length === 0, `every send acknowledged at the next base offset (mismatches: ${JSON.stringify(bad.slice(0, 3))})`);
  ok(next === N, `${N} records sent`);
  await producer.disconnect();
  ok(true, 'producer disconnected');
}

main().then(() => process.exit(failed() ? 1 : 0), (e) => {
  console.log(`not ok - threw ${e && e.name}: ${e && e.message}`);
  process.exit(1);
});
