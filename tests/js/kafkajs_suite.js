#!/usr/bin/env node
// kafkajs admin + producer + group consumer checks for
// tests/integration/013-kafkajs.t; the .t script also verifies the stored
// records with kcat afterwards.  Prints TAP ("ok - ..." lines, which
// lib.sh's run_client numbers).  Usage: node kafkajs_suite.js BOOTSTRAP BASE_TIMESTAMP_MS
'use strict';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, logLevel, ConfigResourceTypes } = require('kafkajs');
const util = require('util');

const BOOT = process.argv[2];
const TOPIC = 'kjs1';
const NPART = 3;
const PER_SEND = 4;
const SENDS = 2;
// From the .t script, which checks the timestamps kcat reads back; recent so
// the topic's retention.ms does not delete the records.
const BASE_TS = Number(process.argv[3]);

let failed = 0;
function ok(cond, desc) {
  console.log(`${cond ? 'ok' : 'not ok'} - ${desc}`);
  if (!cond) failed++;
  return cond;
}
function diag(msg) {
  for (const line of String(msg).split('\n')) console.log(`# ${line}`);
}
function is(got, want, desc) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (!ok(g === w, desc)) diag(`got:      ${g}\nexpected: ${w}`);
}
async function check(desc, fn) {
  try {
    await fn();
  } catch (e) {
    ok(false, `${desc} (threw ${e && e.name}: ${e && e.message})`);
    diag(util.inspect(e, { depth: 2 }));
  }
}

// Keep kafkajs's own logging off stdout, which carries TAP.
const logCreator = () => ({ namespace, level, label, log }) => {
  process.stderr.write(`${label} [${namespace}] ${log.message}\n`);
};

function record(p, i) {
  return {
    key: `js-${p}-${i}`,
    value: `value ${p}/${i} \u00fc`,
    partition: p,
    headers: { origin: 'kafkajs', idx: String(i) },
    timestamp: String(BASE_TS + i * 100),
  };
}

async function main() {
  const kafka = new Kafka({
    clientId: 'sluice-kafkajs-suite',
    brokers: [BOOT],
    logLevel: logLevel.WARN,
    logCreator,
    retry: { retries: 3 },
    connectionTimeout: 10000,
    requestTimeout: 30000,
  });
  const admin = kafka.admin();
  await admin.connect();

  await check('createTopics', async () => {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: TOPIC, numPartitions: NPART, replicationFactor: 1,
          configEntries: [{ name: 'retention.ms', value: '7200000' }] },
        { topic: 'kjs-del', numPartitions: 1, replicationFactor: 1 },
      ],
    });
    ok(created === true, 'admin.createTopics kjs1 (3 partitions) and kjs-del');
    const again = await admin.createTopics({ topics: [{ topic: TOPIC }] });
    ok(again === false, 'createTopics of an existing topic returns false');
  });

  await check('listTopics', async () => {
    const names = await admin.listTopics();
    ok(names.includes(TOPIC) && names.includes('kjs-del'), 'listTopics has both topics');
  });

  await check('fetchTopicMetadata', async () => {
    const md = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    const t = md.topics.find((x) => x.name === TOPIC);
    ok(t && t.partitions.length === NPART, 'fetchTopicMetadata: 3 partitions');
    ok(t && t.partitions.every((p) => p.partitionErrorCode === 0 && p.leader >= 0 &&
                                      p.replicas.length === 1 && p.isr.length === 1),
       'every partition has a leader, one replica, one ISR');
  });

  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
  await producer.connect();
  await check('produce', async () => {
    for (let s = 0; s < SENDS; s++) {
      for (let p = 0; p < NPART; p++) {
        const msgs = [];
        for (let i = s * PER_SEND; i < (s + 1) * PER_SEND; i++) msgs.push(record(p, i));
        const res = await producer.send({ topic: TOPIC, acks: -1, messages: msgs });
        is(res.map((r) => [r.topicName, r.partition, r.errorCode, String(r.baseOffset)]),
           [[TOPIC, p, 0, String(s * PER_SEND)]],
           `send #${s + 1} to partition ${p}: baseOffset ${s * PER_SEND}`);
      }
    }
  });

  await check('fetchTopicOffsets', async () => {
    const offs = await admin.fetchTopicOffsets(TOPIC);
    offs.sort((a, b) => a.partition - b.partition);
    const n = String(SENDS * PER_SEND);
    is(offs.map((o) => [o.partition, o.low, o.high, o.offset]),
       [[0, '0', n, n], [1, '0', n, n], [2, '0', n, n]],
       'fetchTopicOffsets: low 0, high 8 on each partition');
  });

  await check('fetchTopicOffsetsByTimestamp', async () => {
    const offs = await admin.fetchTopicOffsetsByTimestamp(TOPIC, BASE_TS + 250);
    offs.sort((a, b) => a.partition - b.partition);
    is(offs.map((o) => [o.partition, o.offset]), [[0, '3'], [1, '3'], [2, '3']],
       'fetchTopicOffsetsByTimestamp(base+250): offset 3 (first at or after)');
  });

  await check('deleteTopicRecords', async () => {
    await admin.deleteTopicRecords({ topic: TOPIC, partitions: [{ partition: 0, offset: '3' }] });
    const offs = await admin.fetchTopicOffsets(TOPIC);
    const p0 = offs.find((o) => o.partition === 0);
    is([p0.low, p0.high], ['3', String(SENDS * PER_SEND)],
       'deleteTopicRecords before offset 3: partition 0 low watermark is 3');
  });

  await check('describeConfigs', async () => {
    const res = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: TOPIC,
                    configNames: ['retention.ms', 'cleanup.policy'] }],
    });
    const r = res.resources[0];
    ok(r.errorCode === 0, 'describeConfigs: no error');
    const byName = Object.fromEntries(r.configEntries.map((e) => [e.configName, e]));
    const rm = byName['retention.ms'];
    ok(rm && rm.configValue === '7200000' && rm.isDefault === false && rm.configSource === 1,
       'retention.ms = 7200000, not default, source DYNAMIC_TOPIC_CONFIG (1)');
    const cp = byName['cleanup.policy'];
    ok(cp && cp.configValue === 'delete' && cp.isDefault === true,
       'cleanup.policy = delete, default');
    ok(Object.keys(byName).length === 2, 'only the two requested config names are returned');
  });

  await check('consumer round trip', async () => {
    // A kafkajs group consumer reads back what the producer sent: keys,
    // values, headers and offsets (partition 0 starts at 3 after
    // deleteTopicRecords), then commits; fetchOffsets sees the commits.
    const consumer = kafka.consumer({ groupId: 'kjs-rt', heartbeatInterval: 500,
                                      allowAutoTopicCreation: false });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const got = { 0: [], 1: [], 2: [] };
    const want = NPART * SENDS * PER_SEND - 3;
    let n = 0;
    let done;
    const all = new Promise((r) => { done = r; });
    await consumer.run({
      autoCommit: true,
      eachMessage: async ({ partition, message }) => {
        const h = Object.fromEntries(Object.entries(message.headers || {})
          .map(([k, v]) => [k, v.toString()]));
        got[partition].push([message.offset, message.key.toString(), message.value.toString(),
                             h.origin, h.idx]);
        if (++n >= want) done();
      },
    });
    await Promise.race([all, new Promise((r) => setTimeout(r, 30000))]);
    for (let p = 0; p < NPART; p++) {
      const first = p === 0 ? 3 : 0;
      const exp = [];
      for (let i = first; i < SENDS * PER_SEND; i++) {
        const r = record(p, i);
        exp.push([String(i), r.key, r.value, 'kafkajs', String(i)]);
      }
      is(got[p], exp, `kafkajs consumer reads partition ${p}: offsets ${first}..7, keys, ` +
                      'values, headers');
    }
    await consumer.stop();
    await consumer.disconnect();  // commits what was consumed, leaves the group
    const offs = await admin.fetchOffsets({ groupId: 'kjs-rt', topics: [TOPIC] });
    const parts = offs[0].partitions.sort((a, b) => a.partition - b.partition);
    is(parts.map((o) => [o.partition, o.offset]), [[0, '8'], [1, '8'], [2, '8']],
       'fetchOffsets: the group committed offset 8 on each partition');
  });

  await check('deleteTopics', async () => {
    await admin.deleteTopics({ topics: ['kjs-del'], timeout: 30000 });
    let names = [];
    for (let i = 0; i < 50; i++) {
      names = await admin.listTopics();
      if (!names.includes('kjs-del')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    ok(!names.includes('kjs-del') && names.includes(TOPIC), 'deleteTopics removed kjs-del only');
  });

  await producer.disconnect();
  await admin.disconnect();
}

main().then(
  () => process.exit(0),
  (e) => {
    ok(false, `kafkajs suite crashed: ${e && e.stack}`);
    process.exit(1);
  },
);
