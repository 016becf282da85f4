#!/usr/bin/python3
"""Asks a Midia server, as a grpcio client over mutual TLS, for its health and its services.

Prints one JSON object: {"health": "SERVING", "services": [...]} when both calls answered, or
{"error": "UNAVAILABLE", "details": "..."} when the server refused us (exit 1). Without --cert and
--key the client presents no certificate at all.

    /usr/bin/python3 health_reflection.py --port 7001 --ca ca.crt [--cert c.crt --key c.key] [--server-name localhost]
"""

import argparse
import json
import sys

try:
    import grpc
except ImportError:
    sys.exit("error: the Python gRPC peer is missing (no module 'grpc' in /usr/bin/python3): "
             "apt-get install -y python3-grpcio python3-protobuf protobuf-compiler "
             "protobuf-compiler-grpc (or run .ci/run)")

import interop_stubs

_MODULES = interop_stubs.load_standard_services()
health_pb2, health_pb2_grpc = _MODULES["grpc/health/v1/health.proto"]
reflection_pb2, reflection_pb2_grpc = _MODULES["grpc/reflection/v1/reflection.proto"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--server-name")
    args = parser.parse_args()

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    if args.cert and args.key:
        credentials = grpc.ssl_channel_credentials(read(args.ca), read(args.key), read(args.cert))
    else:
        credentials = grpc.ssl_channel_credentials(read(args.ca))
    options = [("grpc.ssl_target_name_override", args.server_name)] if args.server_name else []
    with grpc.secure_channel(f"{args.host}:{args.port}", credentials, options) as channel:
        try:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=15)
            request = reflection_pb2.ServerReflectionRequest(list_services="")
            responses = list(reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(iter([request]), timeout=15))
        except grpc.RpcError as e:
            print(json.dumps({"error": e.code().name, "details": e.details()}))
            return 1
    services = [s.name for r in responses for s in r.list_services_response.service]
    print(json.dumps({"health": health_pb2.HealthCheckResponse.ServingStatus.Name(health.status), "services": services}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
