#!/usr/bin/env node
// KIP-848 consumer groups with node-rdkafka (bundled librdkafka 2.12,
// group.protocol=consumer) for tests/integration/055-group-kip848-rdkafka.t.
// Usage: node rdkafka_consumer_protocol.js BOOTSTRAP PHASE
//   share     two members split a 6-partition topic (every partition owned
//             exactly once, every record read once), a member leaving hands
//             its partitions over, offsets are committed;
//   resume    (after a broker restart) a new member of the same group reads
//             only the records produced after the commit;
//   assignors group.remote.assignor=range vs uniform on two 4-partition
//             topics: range co-partitions (same partition numbers of both
//             topics per member), uniform balances 4/4; regex subscription.
'use strict';
const Kafka = require('node-rdkafka');

const BOOT = process.argv[2];
const PHASE = process.argv[3];
const TOPIC = 'k848';
const GROUP = 'k848-grp';
const NPART = 6;

const { ok, is, sleep, waitFor, failed } = require('./tap');

function createTopics(topics) {
  const admin = Kafka.AdminClient.create({ 'bootstrap.servers': BOOT });
  return Promise.all(topics.map(([t, n]) => new Promise((res) => {
    admin.createTopic({ topic: t, num_partitions: n, replication_factor: 1 }, (err) => {
      if (err && !/already exists/i.test(err.message)) console.log(`# createTopic ${t}: ${err.message}`);
      res();
    });
  }))).then(() => admin.disconnect());
}

async function produce(topic, perPartition, nparts, tag) {
  const p = new Kafka.Producer({ 'bootstrap.servers': BOOT, dr_cb: true, 'linger.ms': 5 });
  await new Promise((res, rej) => { p.on('ready', res); p.on('event.error', rej); p.connect(); });
  let acked = 0;
  p.on('delivery-report', (err) => { if (!err) acked++; });
  p.setPollInterval(50);
  const total = perPartition * nparts;
  for (let part = 0; part < nparts; part++)
    for (let i = 0; i < perPartition; i++)
      p.produce(topic, part, Buffer.from(`${tag}-${part}-${i}`), `k${i}`);
  await waitFor(() => acked === total, 20000);
  await new Promise((res) => p.disconnect(res));
  return acked;
}

// A consumer that records every message and its current assignment.
function member(name, extra = {}, topics = [TOPIC]) {
  const m = { name, got: [], c: null };
  m.c = new Kafka.KafkaConsumer(Object.assign({
    'bootstrap.servers': BOOT,
    'group.id': GROUP,
    'group.protocol': 'consumer',
    'enable.auto.commit': false,
    'client.id': `rdk-${name}`,
  }, extra), { 'auto.offset.reset': 'earliest' });
  m.c.on('data', (msg) => m.got.push(`${msg.topic}/${msg.partition}/${msg.offset}`));
  m.c.on('event.error', (e) => console.log(`# ${name} error: ${e.message}`));
  m.start = () => new Promise((res, rej) => {
    m.c.on('ready', () => { m.c.subscribe(topics); m.c.consume(); res(); });
    m.c.connect({}, (err) => { if (err) rej(err); });
  });
  m.assigned = () => m.c.assignments().map((a) => `${a.topic}/${a.partition}`).sort();
  // disconnect() closes the consumer (LeaveGroup heartbeat, epoch -1); its
  // callback does not always fire with the consume loop running, so the
  // 'disconnected' event (or a bound) ends the wait.
  m.stop = () => new Promise((res) => {
    let done = false;
    const fin = () => { if (!done) { done = true; res(); } };
    m.c.once('disconnected', fin);
    setTimeout(fin, 10000);
    m.c.disconnect(fin);
  });
  return m;
}

function allParts(topic, n) {
  return Array.from({ length: n }, (_, i) => `${topic}/${i}`).sort();
}

async function share() {
  await createTopics([[TOPIC, NPART]]);
  const a = member('a');
  await a.start();
  ok(await waitFor(() => a.assigned().length === NPART), 'the first member is assigned all 6 partitions');
  const b = member('b');
  await b.start();
  const split = await waitFor(() => {
    const x = a.assigned(), y = b.assigned();
    return x.length === 3 && y.length === 3 && !x.some((p) => y.includes(p));
  });
  ok(split, `a second member joins: 3 + 3 partitions, none owned twice (a=${a.assigned()} b=${b.assigned()})`);
  is([...a.assigned(), ...b.assigned()].sort(), allParts(TOPIC, NPART), 'together they own every partition exactly once');
  is(await produce(TOPIC, 10, NPART, 'a'), 60, 'produced 10 records to each of the 6 partitions');
  await waitFor(() => a.got.length + b.got.length >= 60);
  const all = [...a.got, ...b.got];
  is(all.length, 60, 'the two members read 60 records');
  is(new Set(all).size, 60, 'no record was read twice');
  ok(a.got.length > 0 && b.got.length > 0, `both members read (a=${a.got.length} b=${b.got.length})`);
  ok(a.got.every((s) => a.assigned().includes(s.split('/').slice(0, 2).join('/'))) &&
     b.got.every((s) => b.assigned().includes(s.split('/').slice(0, 2).join('/'))),
     'each member read only from the partitions it owns');
  // Commit what each member read (OffsetCommit v9 with the member epoch).
  for (const m of [a, b]) {
    let err = null;
    try { m.c.commitSync(null); } catch (e) { err = e; }
    ok(!err || /NO_OFFSET/.test(String(err.message)), `${m.name} committed its offsets${err ? ': ' + err.message : ''}`);
  }
  await b.stop();
  ok(await waitFor(() => a.assigned().length === NPART),
     `after b leaves, a owns all 6 partitions again (${a.assigned()})`);
  try { a.c.commitSync(null); } catch (e) { /* nothing new */ }
  const committed = await new Promise((res) => {
    a.c.committed(allParts(TOPIC, NPART).map((p) => ({ topic: TOPIC, partition: +p.split('/')[1] })),
                  5000, (err, tps) => res(err ? [] : tps));
  });
  is(committed.map((t) => t.offset), [10, 10, 10, 10, 10, 10], 'committed offsets are 10 on every partition');
  await a.stop();
}

async function resume() {
  is(await produce(TOPIC, 2, NPART, 'r'), 12, 'produced 2 more records to each partition');
  const c = member('c');
  await c.start();
  ok(await waitFor(() => c.assigned().length === NPART), 'after the restart a new member owns all 6 partitions');
  await waitFor(() => c.got.length >= 12, 20000);
  await sleep(1000);
  is(c.got.length, 12, 'it reads only the 12 records after the committed offsets');
  ok(c.got.every((s) => Number(s.split('/')[2]) >= 10), 'every record it read is at offset >= 10');
  await c.stop();
}

function topicsOf(list, t) {
  return list.filter((s) => s.startsWith(`${t}/`)).map((s) => Number(s.split('/')[1])).sort();
}

async function assignors() {
  await createTopics([['ra', 4], ['rb', 4], ['rx-1', 2], ['rx-2', 2]]);
  for (const [assignor, group] of [['range', 'grp-range'], ['uniform', 'grp-uniform']]) {
    const x = member(`${assignor}-x`, { 'group.id': group, 'group.remote.assignor': assignor }, ['ra', 'rb']);
    const y = member(`${assignor}-y`, { 'group.id': group, 'group.remote.assignor': assignor }, ['ra', 'rb']);
    await x.start();
    await y.start();
    const settled = await waitFor(() => {
      const p = x.assigned(), q = y.assigned();
      return p.length === 4 && q.length === 4 && !p.some((s) => q.includes(s));
    });
    ok(settled, `${assignor}: two members own 4 + 4 of the 8 partitions (x=${x.assigned()} y=${y.assigned()})`);
    is([...x.assigned(), ...y.assigned()].sort(), [...allParts('ra', 4), ...allParts('rb', 4)].sort(),
       `${assignor}: every partition is owned exactly once`);
    if (assignor === 'range') {
      // RangeAssignor: per topic, contiguous ranges in member-id order, so
      // each member gets the same partition numbers of both topics.
      for (const m of [x, y]) {
        const pa = topicsOf(m.assigned(), 'ra'), pb = topicsOf(m.assigned(), 'rb');
        is(pa, pb, `range: ${m.name} owns the same partitions of ra and rb`);
        ok(JSON.stringify(pa) === '[0,1]' || JSON.stringify(pa) === '[2,3]',
           `range: ${m.name} owns a contiguous range (${pa})`);
      }
    } else {
      // The uniform (sticky) assignor balances partition counts, filling
      // members in topic/partition order: one member gets all of ra, the
      // other all of rb, where range split each topic.
      const layout = [x, y].map((m) => m.assigned().join(',')).sort();
      is(layout, [allParts('ra', 4).join(','), allParts('rb', 4).join(',')],
         'uniform: one member owns ra, the other rb (not co-partitioned like range)');
    }
    await x.stop();
    await y.stop();
  }
  // A regex subscription (SubscribedTopicRegex, ConsumerGroupHeartbeat v1).
  const r = member('regex', { 'group.id': 'grp-regex' }, ['^rx-.*']);
  await r.start();
  ok(await waitFor(() => r.assigned().length === 4),
     `regex ^rx-.* resolves to rx-1 and rx-2 (${r.assigned()})`);
  is(r.assigned(), [...allParts('rx-1', 2), ...allParts('rx-2', 2)].sort(), 'regex: all 4 partitions, nothing else');
  await r.stop();
}

const phases = { share, resume, assignors };
(async () => {
  if (!phases[PHASE]) {
    console.log(`not ok - unknown phase ${PHASE}`);
    process.exit(1);
  }
  await phases[PHASE]();
  process.exit(failed() ? 1 : 0);
})().catch((e) => {
  console.log(`not ok - ${PHASE}: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
