#!/usr/bin/env node
// kafkajs group consumer for tests/integration/049-kafkajs-consume-codecs.t:
// one consumer in group GROUP subscribes to every TOPIC from the beginning,
// with the snappy, lz4 and zstd codecs registered (gzip is built in), and
// reads until it has N records in all (or 60 s pass).  It prints one line
// per record, grouped by topic and partition but in the order received
// within a partition, so the .t script checks order as well as contents:
//   TOPIC<TAB>PARTITION<TAB>OFFSET<TAB>KEY<TAB>VALUE<TAB>HEADERS
// HEADERS is "k=v" pairs separated by spaces (repeated keys in order);
// a null key or value prints as <null>.  Errors go to stderr ("error ...")
// and make the exit status 1; "missing PACKAGE" when a codec package is
// not installed (exit status 2, so the test can tell skip from failure).
// Usage: node kafkajs_codec_consume.js BOOTSTRAP GROUP N TOPIC...
'use strict';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, logLevel, CompressionTypes, CompressionCodecs } = require('kafkajs');

const [BOOT, GROUP, NSTR, ...TOPICS] = process.argv.slice(2);
const N = Number(NSTR);

// Same registrations as kafkajs_compress.js: the packages' exports differ.
const packages = [
  [CompressionTypes.Snappy, 'kafkajs-snappy', (m) => m],
  [CompressionTypes.LZ4, 'kafkajs-lz4', (M) => new M().codec],
  [CompressionTypes.ZSTD, '@kafkajs/zstd', (m) => m()],
];
for (const [type, name, make] of packages) {
  let mod;
  try {
    mod = require(name);
  } catch (e) {
    console.log(`missing ${name}`);
    process.exit(2);
  }
  CompressionCodecs[type] = make(mod);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const show = (b) => (b === null || b === undefined ? '<null>' : b.toString('utf8'));
function headers(h) {
  const out = [];
  for (const [k, v] of Object.entries(h || {})) {
    for (const x of Array.isArray(v) ? v : [v]) out.push(`${k}=${show(x)}`);
  }
  return out.join(' ');
}

async function main() {
  const kafka = new Kafka({
    clientId: 'sluice-kafkajs-codec-consume', brokers: [BOOT], retry: { retries: 5 },
    logLevel: logLevel.WARN,
    // Keep kafkajs's own logging off stdout, which carries the records.
    logCreator: () => ({ namespace, label, log }) => {
      process.stderr.write(`${label} [${namespace}] ${log.message}\n`);
    },
  });
  const consumer = kafka.consumer({ groupId: GROUP, heartbeatInterval: 300, sessionTimeout: 10000,
                                    maxWaitTimeInMs: 200 });
  const got = new Map(); // "topic\tpartition" -> lines, in the order received
  let count = 0;
  let crashed = null;
  consumer.on(consumer.events.CRASH, (e) => { crashed = e.payload.error; });
  await consumer.connect();
  for (const topic of TOPICS) await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const tp = `${topic}\t${partition}`;
      if (!got.has(tp)) got.set(tp, []);
      got.get(tp).push([message.offset, show(message.key), show(message.value),
                        headers(message.headers)].join('\t'));
      count++;
    },
  });
  const end = Date.now() + 60000;
  while (count < N && !crashed && Date.now() < end) await sleep(100);
  // A moment more so a duplicate or stray record would show up too.
  await sleep(500);
  await consumer.disconnect();
  for (const topic of TOPICS) {
    const tps = [...got.keys()].filter((k) => k.split('\t')[0] === topic)
      .sort((a, b) => Number(a.split('\t')[1]) - Number(b.split('\t')[1]));
    for (const tp of tps) for (const line of got.get(tp)) console.log(`${tp}\t${line}`);
  }
  if (crashed) {
    console.error(`error consumer crashed: ${crashed.name} ${crashed.message}`);
    process.exitCode = 1;
  } else if (count < N) {
    console.error(`error only ${count} of ${N} records within 60 s`);
    process.exitCode = 1;
  }
}
main().catch((e) => { console.error(`error ${e.name} ${e.message}`); process.exit(1); });
