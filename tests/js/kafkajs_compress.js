#!/usr/bin/env node
// kafkajs compressed producer for tests/integration/053-kafkajs-compression.t:
// sends the KEY:VALUE lines of FILE to partition 0 of TOPIC in one
// compressed batch and prints "ok N", or "error NAME MESSAGE".  gzip is
// built into kafkajs; snappy, lz4 and zstd come from kafkajs-snappy,
// kafkajs-lz4 and @kafkajs/zstd ("missing PACKAGE" when not installed).
// Usage: node kafkajs_compress.js BOOTSTRAP TOPIC gzip|snappy|lz4|zstd FILE
'use strict';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const fs = require('fs');
const { Kafka, logLevel, CompressionTypes, CompressionCodecs } = require('kafkajs');

const [BOOT, TOPIC, CODEC, FILE] = process.argv.slice(2);
const packages = {
  snappy: ['kafkajs-snappy', (m) => m],
  lz4: ['kafkajs-lz4', (M) => new M().codec],
  zstd: ['@kafkajs/zstd', (m) => m()],
};
const types = {
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

async function main() {
  if (packages[CODEC]) {
    const [name, make] = packages[CODEC];
    let mod;
    try {
      mod = require(name);
    } catch (e) {
      console.log(`missing ${name}`);
      return;
    }
    CompressionCodecs[types[CODEC]] = make(mod);
  }
  const messages = fs.readFileSync(FILE, 'utf8').split('\n').filter((l) => l.length)
    .map((l) => {
      const i = l.indexOf(':');
      return { key: l.slice(0, i), value: l.slice(i + 1), partition: 0 };
    });
  const kafka = new Kafka({
    clientId: 'sluice-kafkajs-compress', brokers: [BOOT], logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  try {
    await producer.send({ topic: TOPIC, acks: -1, compression: types[CODEC], messages });
    console.log(`ok ${messages.length}`);
  } catch (e) {
    console.log(`error ${e.type || e.name} ${e.message}`);
  } finally {
    await producer.disconnect();
  }
}
main().catch((e) => { console.log(`error ${e.name} ${e.message}`); process.exit(1); });
