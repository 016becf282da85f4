'use strict';
// grpc.testing interop client on grpc-js over mutual TLS. The upstream interop clients cannot
// present a client certificate, so this is our own driver of the cases in grpc/grpc
// doc/interop-test-descriptions.md. Prints one line per case ("PASS name" or "FAIL name: why") and
// a summary; exits 0 only if every case passed.
//
//   node client.js --port 5001 --ca ca.pem --cert client.pem --key client.key \
//       [--host 127.0.0.1] [--server-name localhost] [--cases a,b]
const fs = require('fs');
const { grpc, testing, parseArgs } = require('./protos');

const args = parseArgs(process.argv.slice(2), {
  host: '127.0.0.1', port: '', ca: '', cert: '', key: '', 'server-name': '', cases: 'all',
});
for (const name of ['port', 'ca', 'cert', 'key']) {
  if (!args[name]) {
    console.error(`error: --${name} is required`);
    process.exit(2);
  }
}

const CALL_TIMEOUT_MS = 30000; // so that a broken server fails a case instead of hanging the run
const SPECIAL_MESSAGE = '\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \u{1F608}\t\n';
const INITIAL_KEY = 'x-grpc-test-echo-initial';
const INITIAL_VALUE = 'test_initial_metadata_value';
const TRAILING_KEY = 'x-grpc-test-echo-trailing-bin';
const TRAILING_VALUE = Buffer.from([0xab, 0xab, 0xab]);
const NO_COMPRESS = 2; // grpc-js WriteFlags.NoCompress, passed as the write's "encoding"
const GZIP = 2; // grpc.default_compression_algorithm: 0 identity, 1 deflate, 2 gzip

class CaseFailed extends Error {}

function check(condition, message) {
  if (!condition) throw new CaseFailed(message);
}

function zeros(n) {
  return { body: Buffer.alloc(n) };
}

function checkBody(payload, size) {
  const body = payload && payload.body ? payload.body : Buffer.alloc(0);
  check(body.length === size, `payload is ${body.length} bytes, expected ${size}`);
  check(body.equals(Buffer.alloc(size)), 'payload body is not all zeros');
}

function options(timeoutMs = CALL_TIMEOUT_MS) {
  return { deadline: Date.now() + timeoutMs };
}

function statusName(code) {
  return Object.keys(grpc.status).find((k) => grpc.status[k] === code) || String(code);
}

async function expectStatus(promise, code, what) {
  try {
    await promise;
  } catch (e) {
    if (e instanceof CaseFailed) throw e;
    check(e.code === code, `${what}: status ${statusName(e.code)} (${JSON.stringify(e.details)}), expected ${statusName(code)}`);
    return e;
  }
  throw new CaseFailed(`${what}: call succeeded, expected ${statusName(code)}`);
}

function unary(client, method, request, metadata = new grpc.Metadata(), opts = options()) {
  let call;
  const result = new Promise((resolve, reject) => {
    call = client[method](request, metadata, opts, (error, response) => (error ? reject(error) : resolve(response)));
  });
  return { call, result, ...headersAndTrailers(call) };
}

// Promises of a call's initial metadata and of its final status (whose metadata is the trailers).
function headersAndTrailers(call) {
  return {
    headers: new Promise((resolve) => call.on('metadata', resolve)),
    status: new Promise((resolve) => call.on('status', resolve)),
  };
}

// Reads a response stream one message at a time; errors reject the pending read.
function reader(call) {
  const iterator = call[Symbol.asyncIterator]();
  return {
    async next() {
      const { value, done } = await iterator.next();
      return done ? null : value;
    },
    async rest() {
      const all = [];
      for (let m = await this.next(); m !== null; m = await this.next()) all.push(m);
      return all;
    },
  };
}

function clientStreaming(client, writes, opts = options()) {
  let call;
  const result = new Promise((resolve, reject) => {
    call = client.StreamingInputCall(opts, (error, response) => (error ? reject(error) : resolve(response)));
  });
  for (const [message, flags] of writes) {
    if (flags === undefined) call.write(message);
    else call.write(message, flags);
  }
  call.end();
  return result;
}

const cases = {
  async empty_unary({ stub }) {
    const response = await unary(stub, 'EmptyCall', {}).result;
    check(response !== null && typeof response === 'object', 'no response');
  },

  async large_unary({ stub }) {
    const response = await unary(stub, 'UnaryCall', { response_size: 314159, payload: zeros(271828) }).result;
    checkBody(response.payload, 314159);
  },

  async client_compressed_unary({ stub, gzipStub }) {
    const request = (expect) => ({ expect_compressed: { value: expect }, response_size: 314159, payload: zeros(271828) });
    await expectStatus(unary(stub, 'UnaryCall', request(true)).result, grpc.status.INVALID_ARGUMENT, 'uncompressed probe');
    checkBody((await unary(gzipStub, 'UnaryCall', request(true)).result).payload, 314159);
    checkBody((await unary(stub, 'UnaryCall', request(false)).result).payload, 314159);
  },

  // grpc-js does not expose the received compressed flag: this checks that compressed responses decode.
  async server_compressed_unary({ stub }) {
    for (const compressed of [true, false]) {
      const request = { response_compressed: { value: compressed }, response_size: 314159, payload: zeros(271828) };
      checkBody((await unary(stub, 'UnaryCall', request).result).payload, 314159);
    }
  },

  async client_streaming({ stub }) {
    const response = await clientStreaming(stub, [27182, 8, 1828, 45904].map((n) => [{ payload: zeros(n) }]));
    check(response.aggregated_payload_size === 74922, `aggregated_payload_size ${response.aggregated_payload_size}, expected 74922`);
  },

  async client_compressed_streaming({ stub, gzipStub }) {
    const request = (expect, n) => ({ expect_compressed: { value: expect }, payload: zeros(n) });
    await expectStatus(clientStreaming(stub, [[request(true, 27182)]]), grpc.status.INVALID_ARGUMENT, 'uncompressed probe');
    const response = await clientStreaming(gzipStub, [[request(true, 27182)], [request(false, 45904), NO_COMPRESS]]);
    check(response.aggregated_payload_size === 73086, `aggregated_payload_size ${response.aggregated_payload_size}, expected 73086`);
  },

  async server_streaming({ stub }) {
    const sizes = [31415, 9, 2653, 58979];
    const call = stub.StreamingOutputCall({ response_parameters: sizes.map((size) => ({ size })) }, options());
    const responses = await reader(call).rest();
    check(responses.length === 4, `${responses.length} responses, expected 4`);
    responses.forEach((r, i) => checkBody(r.payload, sizes[i]));
  },

  async server_compressed_streaming({ stub }) {
    const call = stub.StreamingOutputCall({
      response_parameters: [{ size: 31415, compressed: { value: true } }, { size: 92653, compressed: { value: false } }],
    }, options());
    const responses = await reader(call).rest();
    check(responses.length === 2, `${responses.length} responses, expected 2`);
    checkBody(responses[0].payload, 31415);
    checkBody(responses[1].payload, 92653);
  },

  async ping_pong({ stub }) {
    const call = stub.FullDuplexCall(options());
    const responses = reader(call);
    for (const [requestSize, responseSize] of [[27182, 31415], [8, 9], [1828, 2653], [45904, 58979]]) {
      call.write({ response_parameters: [{ size: responseSize }], payload: zeros(requestSize) });
      const response = await responses.next();
      check(response !== null, `stream ended before the response of ${responseSize} bytes`);
      checkBody(response.payload, responseSize);
    }
    call.end();
    check((await responses.next()) === null, 'more than four responses');
  },

  async empty_stream({ stub }) {
    const call = stub.FullDuplexCall(options());
    call.end();
    const responses = await reader(call).rest();
    check(responses.length === 0, `${responses.length} responses, expected none`);
  },

  async custom_metadata({ stub }) {
    const metadata = () => {
      const md = new grpc.Metadata();
      md.set(INITIAL_KEY, INITIAL_VALUE);
      md.set(TRAILING_KEY, TRAILING_VALUE);
      return md;
    };
    const checkEchoed = async (headers, status) => {
      const initial = (await headers).get(INITIAL_KEY);
      check(initial.length === 1 && initial[0] === INITIAL_VALUE, `${INITIAL_KEY} not echoed in headers: ${JSON.stringify(initial)}`);
      const trailing = (await status).metadata.get(TRAILING_KEY);
      check(trailing.length === 1 && Buffer.isBuffer(trailing[0]) && trailing[0].equals(TRAILING_VALUE),
        `${TRAILING_KEY} not echoed in trailers: ${JSON.stringify(trailing)}`);
    };

    const u = unary(stub, 'UnaryCall', { response_size: 314159, payload: zeros(271828) }, metadata());
    checkBody((await u.result).payload, 314159);
    await checkEchoed(u.headers, u.status);

    const call = stub.FullDuplexCall(metadata(), options());
    const { headers, status } = headersAndTrailers(call);
    call.write({ response_parameters: [{ size: 314159 }], payload: zeros(271828) });
    call.end();
    const responses = await reader(call).rest();
    check(responses.length === 1, `${responses.length} streamed responses, expected 1`);
    checkBody(responses[0].payload, 314159);
    await checkEchoed(headers, status);
  },

  async status_code_and_message({ stub }) {
    const responseStatus = { code: 2, message: 'test status message' };
    const e = await expectStatus(unary(stub, 'UnaryCall', { response_status: responseStatus }).result, grpc.status.UNKNOWN, 'UnaryCall');
    check(e.details === responseStatus.message, `UnaryCall message ${JSON.stringify(e.details)}, expected ${JSON.stringify(responseStatus.message)}`);

    const call = stub.FullDuplexCall(options());
    call.write({ response_status: responseStatus });
    call.end();
    const d = await expectStatus(reader(call).rest(), grpc.status.UNKNOWN, 'FullDuplexCall');
    check(d.details === responseStatus.message, `FullDuplexCall message ${JSON.stringify(d.details)}, expected ${JSON.stringify(responseStatus.message)}`);
  },

  async special_status_message({ stub }) {
    const e = await expectStatus(unary(stub, 'UnaryCall', { response_status: { code: 2, message: SPECIAL_MESSAGE } }).result,
      grpc.status.UNKNOWN, 'UnaryCall');
    check(e.details === SPECIAL_MESSAGE, `message ${JSON.stringify(e.details)}, expected ${JSON.stringify(SPECIAL_MESSAGE)}`);
  },

  async unimplemented_method({ stub }) {
    await expectStatus(unary(stub, 'UnimplementedCall', {}).result, grpc.status.UNIMPLEMENTED, 'TestService/UnimplementedCall');
  },

  async unimplemented_service({ other }) {
    await expectStatus(unary(other, 'UnimplementedCall', {}).result, grpc.status.UNIMPLEMENTED, 'UnimplementedService/UnimplementedCall');
  },

  async cancel_after_begin({ stub }) {
    let call;
    const result = new Promise((resolve, reject) => {
      call = stub.StreamingInputCall(options(), (error, response) => (error ? reject(error) : resolve(response)));
    });
    call.cancel();
    await expectStatus(result, grpc.status.CANCELLED, 'StreamingInputCall');
  },

  async cancel_after_first_response({ stub }) {
    const call = stub.FullDuplexCall(options());
    const responses = reader(call);
    call.write({ response_parameters: [{ size: 31415 }], payload: zeros(27182) });
    checkBody((await responses.next()).payload, 31415);
    call.cancel();
    await expectStatus(responses.rest(), grpc.status.CANCELLED, 'after cancel');
  },

  async timeout_on_sleeping_server({ stub }) {
    const call = stub.FullDuplexCall(options(1));
    call.write({ payload: zeros(27182) });
    await expectStatus(reader(call).rest(), grpc.status.DEADLINE_EXCEEDED, 'FullDuplexCall');
  },
};

async function main() {
  const names = args.cases === 'all' ? Object.keys(cases) : args.cases.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(n in cases));
  if (unknown.length > 0) {
    console.error(`error: unknown case(s) ${unknown.join(', ')}; known: ${Object.keys(cases).join(', ')}`);
    process.exit(2);
  }
  const credentials = grpc.credentials.createSsl(fs.readFileSync(args.ca), fs.readFileSync(args.key), fs.readFileSync(args.cert));
  const channelOptions = args['server-name']
    ? { 'grpc.ssl_target_name_override': args['server-name'], 'grpc.default_authority': args['server-name'] }
    : {};
  const target = `${args.host}:${args.port}`;
  const peers = {
    stub: new testing.TestService(target, credentials, channelOptions),
    gzipStub: new testing.TestService(target, credentials, { ...channelOptions, 'grpc.default_compression_algorithm': GZIP }),
    other: new testing.UnimplementedService(target, credentials, channelOptions),
  };
  const failed = [];
  for (const name of names) {
    const started = process.hrtime.bigint();
    try {
      await cases[name](peers);
      console.log(`PASS ${name} (${Number((process.hrtime.bigint() - started) / 1000000n)} ms)`);
    } catch (e) {
      failed.push(name);
      const why = e instanceof CaseFailed ? e.message
        : e.code !== undefined ? `status ${statusName(e.code)} (${JSON.stringify(e.details)})`
          : `${e.name}: ${e.message}`;
      console.log(`FAIL ${name}: ${why}`);
    }
  }
  Object.values(peers).forEach((c) => c.close());
  console.log(`${names.length - failed.length} of ${names.length} cases passed`);
  process.exit(failed.length > 0 ? 1 : 0);
}

main();
