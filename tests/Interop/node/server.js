'use strict';
// grpc.testing.TestService on grpc-js over mutual TLS (client certificates required): the peer our
// C# client is proven against, and the benchmark's grpc-js baseline.
//
//   node server.js --ca ca.pem --cert server.pem --key server.key [--host 127.0.0.1] [--port 0]
//
// Prints "listening on PORT" once bound; exits on SIGTERM/SIGINT, and with --exit-with-stdin yes
// also when stdin closes (so a crashed test runner never leaves it behind).
//
// Known limits of grpc-js 1.14 as a server: it never compresses responses (server_compressed_*
// cannot be met), and it strips grpc-encoding before handlers see the metadata, so an interceptor
// hands the call's request encoding (grpc-js's own incomingEncoding) to the handlers for
// expect_compressed. That is per call, not per message, as in grpc-dotnet's interop server.
const fs = require('fs');
const { grpc, testing, parseArgs } = require('./protos');

const args = parseArgs(process.argv.slice(2), { host: '127.0.0.1', port: '0', ca: '', cert: '', key: '', 'exit-with-stdin': 'no' });
for (const name of ['ca', 'cert', 'key']) {
  if (!args[name]) {
    console.error(`error: --${name} is required`);
    process.exit(2);
  }
}

const INITIAL = 'x-grpc-test-echo-initial';
const TRAILING = 'x-grpc-test-echo-trailing-bin';

function payload(size) {
  return { type: 'COMPRESSABLE', body: Buffer.alloc(size) };
}

function echoedInitial(call) {
  const values = call.metadata.get(INITIAL);
  if (values.length === 0) return null;
  const md = new grpc.Metadata();
  md.set(INITIAL, values[0]);
  return md;
}

function echoedTrailing(call) {
  const md = new grpc.Metadata();
  const values = call.metadata.get(TRAILING);
  if (values.length > 0) md.set(TRAILING, values[0]);
  return md;
}

const ENCODING = 'x-interop-request-encoding';

// The request's grpc-encoding, recorded before grpc-js drops it (see the header comment).
function recordEncoding(methodDescriptor, call) {
  return new grpc.ServerInterceptingCall(call, {
    start(next) {
      next({
        onReceiveMetadata(metadata, nextMetadata) {
          metadata.set(ENCODING, typeof call.incomingEncoding === 'string' ? call.incomingEncoding : 'unknown');
          nextMetadata(metadata);
        },
      });
    },
  });
}

// INVALID_ARGUMENT when the client asked us to check for compression and the call was not compressed.
function compressionMismatch(call, expectCompressed) {
  if (!expectCompressed || !expectCompressed.value) return null;
  const encoding = call.metadata.get(ENCODING)[0];
  if (encoding === 'unknown') throw new Error('grpc-js no longer exposes incomingEncoding: cannot check expect_compressed');
  return encoding && encoding !== 'identity' ? null
    : { code: grpc.status.INVALID_ARGUMENT, details: `expected a compressed request, got grpc-encoding ${encoding || 'none'}` };
}

function statusError(status, trailing) {
  return { code: status.code, details: status.message, metadata: trailing };
}

function sleepMicros(us) {
  return us > 0 ? new Promise((resolve) => setTimeout(resolve, us / 1000)) : Promise.resolve();
}

function sendInitial(call) {
  const md = echoedInitial(call);
  if (md) call.sendMetadata(md);
}

// Streams the responses one request asks for; resolves false if the request asks for an error.
async function answer(call, request) {
  if (request.response_status && request.response_status.code) {
    call.emit('error', statusError(request.response_status, echoedTrailing(call)));
    return false;
  }
  for (const p of request.response_parameters || []) {
    await sleepMicros(p.interval_us || 0);
    if (call.cancelled) return false;
    call.write({ payload: payload(p.size || 0) });
  }
  return true;
}

const service = {
  EmptyCall(call, callback) {
    sendInitial(call);
    callback(null, {}, echoedTrailing(call));
  },
  UnaryCall(call, callback) {
    sendInitial(call);
    const request = call.request;
    if (request.response_status && request.response_status.code) {
      callback(statusError(request.response_status, echoedTrailing(call)));
      return;
    }
    const mismatch = compressionMismatch(call, request.expect_compressed);
    if (mismatch) {
      callback(mismatch);
      return;
    }
    callback(null, { payload: payload(request.response_size || 0) }, echoedTrailing(call));
  },
  CacheableUnaryCall(call, callback) {
    callback(null, { payload: { body: Buffer.from(String(process.hrtime.bigint())) } });
  },
  StreamingOutputCall(call) {
    sendInitial(call);
    answer(call, call.request).then((ok) => { if (ok) call.end(echoedTrailing(call)); });
  },
  StreamingInputCall(call, callback) {
    sendInitial(call);
    let total = 0;
    let failed = null;
    call.on('data', (request) => {
      failed = failed || compressionMismatch(call, request.expect_compressed);
      total += request.payload && request.payload.body ? request.payload.body.length : 0;
    });
    call.on('end', () => (failed ? callback(failed) : callback(null, { aggregated_payload_size: total }, echoedTrailing(call))));
    call.on('error', () => {});
  },
  FullDuplexCall(call) {
    sendInitial(call);
    let chain = Promise.resolve(true);
    call.on('data', (request) => {
      chain = chain.then((ok) => (ok ? answer(call, request) : false));
    });
    call.on('end', () => chain.then((ok) => { if (ok) call.end(echoedTrailing(call)); }));
    call.on('error', () => {});
  },
  HalfDuplexCall(call) {
    sendInitial(call);
    const requests = [];
    call.on('data', (request) => requests.push(request));
    call.on('end', async () => {
      for (const request of requests) {
        if (!(await answer(call, request))) return;
      }
      call.end(echoedTrailing(call));
    });
    call.on('error', () => {});
  },
  // UnimplementedCall is left out on purpose: grpc-js answers UNIMPLEMENTED.
};

const server = new grpc.Server({ interceptors: [recordEncoding] });
server.addService(testing.TestService.service, service);
const credentials = grpc.ServerCredentials.createSsl(
  fs.readFileSync(args.ca),
  [{ private_key: fs.readFileSync(args.key), cert_chain: fs.readFileSync(args.cert) }],
  true, // require and verify a client certificate
);
server.bindAsync(`${args.host}:${args.port}`, credentials, (error, port) => {
  if (error) {
    console.error(`error: cannot listen on ${args.host}:${args.port}: ${error.message}`);
    process.exit(1);
  }
  console.log(`listening on ${port}`);
});

function stop() {
  server.tryShutdown(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (args['exit-with-stdin'] === 'yes') {
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
