// TAP helpers shared by the node test clients (tests/js/*.js): ok/is print
// TAP lines and count failures, failed() tells the exit status; sleep and
// waitFor poll for a condition with a deadline.
'use strict';

let nfailed = 0;

function ok(cond, desc) {
  console.log(`${cond ? 'ok' : 'not ok'} - ${desc}`);
  if (!cond) nfailed++;
  return cond;
}

// Deep equality through JSON, with both values printed when they differ.
function is(got, want, desc) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (!ok(g === w, desc)) console.log(`# got:      ${g}\n# expected: ${w}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Poll pred (sync or async) every 100 ms until it holds or ms passed;
// returns its last value.
async function waitFor(pred, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await sleep(100);
  }
  return pred();
}

module.exports = { ok, is, sleep, waitFor, failed: () => nfailed };
