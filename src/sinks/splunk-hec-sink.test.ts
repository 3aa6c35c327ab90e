import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SinkDeliveryError } from './sink-error.ts';
import { SplunkHecSink } from './splunk-hec-sink.ts';
import { sampleAlert } from './testing/alerts.ts';
import { HttpsReceiver, type RecordedRequest } from './testing/https-receiver.ts';
import { testPki } from './testing/test-cert.ts';

const sink = (url: string, ackTimeoutMs = 5000) => new SplunkHecSink({
  name: 'hec', url, token: 'tok-0123456789', source: 'daemoneye', sourcetype: 'daemoneye:alert', gzip: true,
  useAck: true, ackTimeoutMs, ackPollMs: 20, timeoutMs: 5000, tls: { ca: testPki().ca }, version: '1',
});

test('use_ack: sends a channel, polls /services/collector/ack, resolves once the indexer confirms', async () => {
  const r = await HttpsReceiver.start();
  let polls = 0;
  r.reply = (req: RecordedRequest) => {
    if (req.url === '/services/collector/event') return { status: 200, body: '{"text":"Success","code":0,"ackId":42}' };
    polls++;
    assert.deepEqual(JSON.parse(req.body.toString('utf8')), { acks: [42] });
    return { status: 200, body: JSON.stringify({ acks: { 42: polls >= 3 } }) };
  };
  const s = sink(r.url());
  try {
    await s.deliver([sampleAlert()]);
    assert.equal(polls, 3);
    const channels = new Set(r.requests.map((q) => q.headers['x-splunk-request-channel']));
    assert.equal(channels.size, 1, 'one channel for the event and its ack polls');
    assert.match(String([...channels][0]), /^[0-9a-f-]{36}$/);
    for (const q of r.requests) assert.equal(q.headers['authorization'], 'Splunk tok-0123456789');
  } finally {
    await s.close();
    await r.close();
  }
});

test('use_ack: never confirmed within ack_timeout_ms is retryable', async () => {
  const r = await HttpsReceiver.start();
  r.reply = (req) => (req.url === '/services/collector/event'
    ? { status: 200, body: '{"text":"Success","code":0,"ackId":7}' }
    : { status: 200, body: '{"acks":{"7":false}}' });
  const s = sink(r.url(), 200);
  try {
    const started = Date.now();
    await assert.rejects(s.deliver([sampleAlert()]), (e: unknown) =>
      e instanceof SinkDeliveryError && e.retryable && /did not confirm indexing within 200 ms/.test(e.message));
    assert.ok(Date.now() - started < 2000);
  } finally {
    await s.close();
    await r.close();
  }
});

test('use_ack against a token with acknowledgement off (HEC code 14) is not retryable', async () => {
  const r = await HttpsReceiver.start();
  r.reply = (req) => (req.url === '/services/collector/event'
    ? { status: 200, body: '{"text":"Success","code":0,"ackId":1}' }
    : { status: 400, body: '{"text":"ACK is disabled","code":14}' });
  const s = sink(r.url());
  try {
    await assert.rejects(s.deliver([sampleAlert()]), (e: unknown) => e instanceof SinkDeliveryError && !e.retryable && /code 14: ACK is disabled/.test(e.message));
  } finally {
    await s.close();
    await r.close();
  }
});
