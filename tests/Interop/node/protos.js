'use strict';
// Loads grpc.testing from tests/Interop/protos (our copy of the interop contract) for grpc-js.
const path = require('path');

function requirePeer(name) {
  try {
    return require(name);
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e;
    console.error(`error: the Node gRPC peer is missing (${name}): run \`npm ci\` in ${__dirname} (or run .ci/run)`);
    process.exit(3);
  }
}

const grpc = requirePeer('@grpc/grpc-js');
const protoLoader = requirePeer('@grpc/proto-loader');

const definition = protoLoader.loadSync('grpc/testing/test.proto', {
  includeDirs: [path.join(__dirname, '..', 'protos')],
  keepCase: true, // field names as in the .proto (response_size, not responseSize)
  longs: String,
  enums: String,
  defaults: false, // unset message fields stay undefined: BoolValue must tell unset from false
  oneofs: true,
});
const testing = grpc.loadPackageDefinition(definition).grpc.testing;

// "--name value" pairs into an object; every name must be known.
function parseArgs(argv, known) {
  const args = { ...known };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in known) || i + 1 >= argv.length) {
      console.error(`error: unknown or incomplete argument ${argv[i]}; known: ${Object.keys(known).map((k) => '--' + k).join(' ')}`);
      process.exit(2);
    }
    args[name] = argv[i + 1];
  }
  return args;
}

module.exports = { grpc, testing, parseArgs };
