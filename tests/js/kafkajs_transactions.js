#!/usr/bin/env node
// kafkajs transactions for tests/integration/078-txn-kafkajs.t: a
// transactional producer (transactionalId, idempotent, one request in
// flight) writes a committed transaction over two topics, an aborted one,
// and a consume-transform-produce transaction whose consumer offsets go in
// with sendOffsets; read_committed (readUncommitted: false) and
// read_uncommitted consumers check what each sees.  Prints TAP.
// Usage: node kafkajs_transactions.js BOOTSTRAP TOPIC_A TOPIC_B
'use strict';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, logLevel } = require('kafkajs');

const [BOOT, TA, TB] = process.argv.slice(2);
let failed = 0;
function is(got, want, desc) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  console.log(`${g === w ? 'ok' : 'not ok'} - ${desc}`);
  if (g !== w) { failed++; console.log(`# got:      ${g}\n# expected: ${w}`); }
}

const kafka = new Kafka({
  clientId: 'sluice-kjs-txn', brokers: [BOOT], logLevel: logLevel.NOTHING,
  retry: { initialRetryTime: 100, retries: 20 },
});

async function readAll(topic, readUncommitted, expect) {
  const consumer = kafka.consumer({ groupId: `kjs-read-${topic}-${readUncommitted}-${Date.now()}`,
                                    readUncommitted, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 20000);
    consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value.toString());
        if (got.length >= expect) { clearTimeout(timer); setTimeout(resolve, 1500); }
      },
    });
  });
  await consumer.disconnect();
  return got;
}

async function main() {
  console.log('1..9');
  const producer = kafka.producer({ transactionalId: 'kjs-tx', idempotent: true,
                                    maxInFlightRequests: 1 });
  await producer.connect();
  let t = await producer.transaction();
  await t.send({ topic: TA, messages: [{ value: 'a1', partition: 0 }, { value: 'a2', partition: 0 }] });
  await t.send({ topic: TB, messages: [{ value: 'b1', partition: 0 }] });
  await t.commit();
  t = await producer.transaction();
  await t.send({ topic: TA, messages: [{ value: 'a3', partition: 0 }] });
  await t.send({ topic: TB, messages: [{ value: 'b2', partition: 0 }] });
  await t.abort();
  t = await producer.transaction();
  await t.send({ topic: TA, messages: [{ value: 'a4', partition: 0 }] });
  await t.commit();
  console.log('ok - three transactions: commit, abort, commit');

  is(await readAll(TA, false, 3), ['a1', 'a2', 'a4'], `${TA} read_committed: committed records`);
  is(await readAll(TB, false, 1), ['b1'], `${TB} read_committed: the committed record`);
  is(await readAll(TA, true, 4), ['a1', 'a2', 'a3', 'a4'], `${TA} read_uncommitted: every record`);
  is(await readAll(TB, true, 2), ['b1', 'b2'], `${TB} read_uncommitted: every record`);

  // Consume-transform-produce: offsets of TA committed in the transaction.
  t = await producer.transaction();
  await t.send({ topic: TB, messages: [{ value: 'A-DONE', partition: 0 }] });
  await t.sendOffsets({ consumerGroupId: 'kjs-ctp',
                        topics: [{ topic: TA, partitions: [{ partition: 0, offset: '6' }] }] });
  await t.commit();
  const admin = kafka.admin();
  await admin.connect();
  const offs = await admin.fetchOffsets({ groupId: 'kjs-ctp', topics: [TA] });
  is(offs[0].partitions.map((p) => [p.partition, p.offset]), [[0, '6']],
     'sendOffsets: the group offset is committed with the transaction');
  await admin.disconnect();
  is(await readAll(TB, false, 2), ['b1', 'A-DONE'], `${TB} read_committed after the offsets txn`);

  // A second producer with the same transactional id fences the first.
  const other = kafka.producer({ transactionalId: 'kjs-tx', idempotent: true, maxInFlightRequests: 1 });
  await other.connect();
  const t3 = await other.transaction();
  await t3.send({ topic: TB, messages: [{ value: 'from-other', partition: 0 }] });
  await t3.commit();
  let fenced = 'not fenced';
  try {
    const t2 = await producer.transaction();
    await t2.send({ topic: TA, messages: [{ value: 'zombie', partition: 0 }] });
    await t2.commit();
  } catch (e) {
    fenced = e.type || e.name;
  }
  is(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH'].includes(fenced), true,
     `the first producer is fenced (${fenced})`);
  is(await readAll(TB, false, 3), ['b1', 'A-DONE', 'from-other'],
     `${TB} read_committed: the second producer's transaction, nothing of the fenced one`);
  await other.disconnect();
  await producer.disconnect().catch(() => {});
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.log(`not ok - kafkajs failed: ${e.stack}`); process.exit(1); });
