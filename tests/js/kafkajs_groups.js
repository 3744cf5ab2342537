#!/usr/bin/env node
// kafkajs consumer groups for tests/integration/053-group-kafkajs.t: two
// consumers share a 4-partition topic (each partition owned once, every
// record read once), hand-over when one disconnects, group admin
// (describeGroups, listGroups, fetchOffsets, setOffsets on an empty group,
// deleteGroups).  kafkajs reads with read_committed (LSO = HW here).
// Usage: node kafkajs_groups.js BOOTSTRAP
'use strict';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, logLevel } = require('kafkajs');
const util = require('util');

const BOOT = process.argv[2];
const TOPIC = 'kjs-g';
const GROUP = 'kjs-grp';
const NPART = 4;

const tap = require('./tap');
const { ok, is, sleep, failed } = tap;
const waitFor = (pred, ms = 40000) => tap.waitFor(pred, ms);
const logCreator = () => ({ namespace, label, log }) => {
  process.stderr.write(`${label} [${namespace}] ${log.message}\n`);
};

function member(kafka, name) {
  const m = { owned: [], got: {}, c: kafka.consumer({ groupId: GROUP, heartbeatInterval: 300,
                                                      sessionTimeout: 10000 }) };
  m.c.on(m.c.events.GROUP_JOIN, (e) => {
    m.owned = (e.payload.memberAssignment[TOPIC] || []).slice().sort();
  });
  m.name = name;
  return m;
}

async function main() {
  const kafka = new Kafka({ clientId: 'kjs-groups', brokers: [BOOT], logLevel: logLevel.WARN,
                            logCreator, retry: { retries: 5 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: NPART }] });
  const a = member(kafka, 'a');
  const b = member(kafka, 'b');
  for (const m of [a, b]) {
    await m.c.connect();
    await m.c.subscribe({ topic: TOPIC, fromBeginning: true });
    await m.c.run({
      eachMessage: async ({ partition, message }) => {
        (m.got[partition] = m.got[partition] || []).push(Number(message.offset));
      },
    });
  }
  const split = () => {
    const all = a.owned.concat(b.owned).sort();
    return a.owned.length > 0 && b.owned.length > 0 &&
      JSON.stringify(all) === JSON.stringify([...Array(NPART).keys()]);
  };
  ok(await waitFor(split), `two consumers own the 4 partitions once: ${a.owned} | ${b.owned}`);

  const producer = kafka.producer();
  await producer.connect();
  for (let p = 0; p < NPART; p++) {
    await producer.send({ topic: TOPIC, messages: [0, 1, 2, 3, 4].map((i) => ({
      value: `v${i}`, partition: p })) });
  }
  const count = (ms) => ms.reduce((n, m) => n + Object.values(m.got)
    .reduce((k, v) => k + v.length, 0), 0);
  ok(await waitFor(() => count([a, b]) >= NPART * 5), 'all 20 records consumed');
  await sleep(300);
  const merged = {};
  let shared = false;
  for (const m of [a, b]) {
    for (const [p, offs] of Object.entries(m.got)) {
      if (merged[p]) shared = true;
      merged[p] = offs;
    }
  }
  ok(!shared, 'no partition read by both consumers');
  is(merged, { 0: [0, 1, 2, 3, 4], 1: [0, 1, 2, 3, 4], 2: [0, 1, 2, 3, 4], 3: [0, 1, 2, 3, 4] },
     'each partition read once, offsets 0..4');

  const d = (await admin.describeGroups([GROUP])).groups[0];
  is([d.groupId, d.state, d.protocolType, d.members.length], [GROUP, 'Stable', 'consumer', 2],
     'describeGroups: Stable consumer group with 2 members');
  const listed = (await admin.listGroups()).groups.find((g) => g.groupId === GROUP);
  is(listed && listed.protocolType, 'consumer', 'listGroups has the group');

  // a leaves; b takes over at the committed offsets
  await a.c.disconnect();
  ok(await waitFor(() => b.owned.length === NPART), 'after a left, b owns all 4 partitions');
  const before = Object.fromEntries(Object.entries(b.got).map(([p, v]) => [p, v.length]));
  for (let p = 0; p < NPART; p++) {
    await producer.send({ topic: TOPIC, messages: [{ value: 'late', partition: p }] });
  }
  const fresh = () => {
    const r = {};
    for (const [p, v] of Object.entries(b.got)) {
      const n = v.slice(before[p] || 0);
      if (n.length) r[p] = n;
    }
    return r;
  };
  ok(await waitFor(() => Object.values(fresh()).reduce((n, v) => n + v.length, 0) >= NPART),
     'the new records reach b');
  await sleep(300);
  is(fresh(), { 0: [5], 1: [5], 2: [5], 3: [5] },
     'b continued at the committed offsets: only offset 5 is new');
  await b.c.disconnect();

  const offs = (await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))[0].partitions
    .sort((x, y) => x.partition - y.partition).map((o) => o.offset);
  is(offs, ['6', '6', '6', '6'], 'fetchOffsets: committed 6 everywhere');
  await admin.setOffsets({ groupId: GROUP, topic: TOPIC,
                           partitions: [{ partition: 0, offset: '2' }] });
  const after = (await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))[0].partitions
    .find((o) => o.partition === 0);
  is(after.offset, '2', 'setOffsets on the empty group: partition 0 now at 2');
  const del = await admin.deleteGroups([GROUP]);
  is(del.map((r) => [r.groupId, r.errorCode]), [[GROUP, 0]], 'deleteGroups');
  const gone = (await admin.listGroups()).groups.some((g) => g.groupId === GROUP);
  ok(!gone, 'the group is gone');
  await producer.disconnect();
  await admin.disconnect();
}

main().then(
  () => process.exit(failed() ? 1 : 0),
  (e) => {
    ok(false, `kafkajs groups crashed: ${e && e.stack}`);
    console.log(`# ${util.inspect(e, { depth: 2 }).split('\n').join('\n# ')}`);
    process.exit(1);
  },
);
