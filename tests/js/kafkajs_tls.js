#!/usr/bin/env node
// kafkajs over TLS for tests/integration/093-tls-kafkajs.t: with a client
// certificate, produce 100 keyed records with headers and read them back
// through a consumer group (content, order, offsets); metadata names the SSL
// listener's port; a client trusting another CA fails with a TLS error.
// Prints TAP ("ok - ..." / "not ok - ...").
// Usage: node kafkajs_tls.js HOST:SSL_PORT CERT_DIR TOPIC
'use strict';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');

const [BOOT, CERTS, TOPIC] = process.argv.slice(2);
const { ok, failed } = require('./tap');
const read = (f) => fs.readFileSync(`${CERTS}/${f}`, 'utf8');
const ssl = {
  ca: [read('ca.pem')],
  cert: read('client.pem'),
  key: read('client.key'),
  servername: 'localhost',
};

async function main() {
  console.log('1..6');
  const kafka = new Kafka({ clientId: 'kjs-tls', brokers: [BOOT], ssl, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] });
  const cluster = await admin.describeCluster();
  const port = Number(BOOT.split(':')[1]);
  ok(cluster.brokers.length === 1 && cluster.brokers[0].port === port,
    `describeCluster over TLS advertises the SSL port ${port} (got ${JSON.stringify(cluster.brokers)})`);
  await admin.disconnect();

  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < 100; i++) {
    messages.push({ key: `tk${i}`, value: `tls value ${i} \u00fc`, headers: { idx: `${i}` } });
  }
  const res = await producer.send({ topic: TOPIC, acks: -1, messages });
  ok(res.length === 1 && res[0].errorCode === 0 && res[0].baseOffset === '0',
    `100 records produced over TLS at base offset 0 (${JSON.stringify(res)})`);
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: 'kjs-tls-group' });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout with ${got.length} records`)), 60000);
    consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message);
        if (got.length >= 100) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  ok(got.length === 100, `consumer group read 100 records over TLS (got ${got.length})`);
  let same = got.length === 100;
  for (let i = 0; same && i < 100; i++) {
    const m = got[i];
    same = m.offset === `${i}` && m.key.toString() === `tk${i}` &&
      m.value.toString() === `tls value ${i} \u00fc` && m.headers.idx.toString() === `${i}`;
    if (!same) console.log(`# record ${i}: ${m.offset} ${m.key} ${m.value}`);
  }
  ok(same, 'offsets 0..99, keys, values and headers in order');

  const bad = new Kafka({
    clientId: 'kjs-tls-bad', brokers: [BOOT], logLevel: logLevel.NOTHING,
    ssl: { ca: [read('other-ca.pem')], servername: 'localhost' },
    retry: { retries: 0 }, connectionTimeout: 3000,
  });
  const badAdmin = bad.admin();
  let err = null;
  try {
    await badAdmin.connect();
    await badAdmin.describeCluster();
  } catch (e) {
    err = e;
  }
  await badAdmin.disconnect().catch(() => {});
  ok(err !== null, 'a client trusting an unrelated CA cannot connect');
  const text = err ? `${err.name} ${err.message} ${err.cause ? err.cause.message : ''}` : '';
  ok(/certificate|self[- ]signed|issuer/i.test(text), `... with a TLS certificate error (${text})`);
}

main().then(() => process.exit(failed() ? 1 : 0)).catch((e) => {
  console.log(`not ok - kafkajs TLS client crashed: ${e && e.stack}`);
  process.exit(1);
});
