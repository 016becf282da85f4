#!/usr/bin/python3
"""Unary round-trip micro-benchmark on grpcio over mutual TLS (grpc.testing.TestService/UnaryCall).

Two bounded phases on one channel: sequential calls (one in flight: latency p50/p99 and calls/s),
then --concurrency calls in flight (throughput). Prints one JSON object on stdout. Loopback only:
the target must be 127.0.0.1 / localhost / ::1.

    /usr/bin/python3 bench_unary.py --port 5001 --ca ca.pem --cert client.pem --key client.key \
        [--server-name localhost] [--calls 5000] [--warmup 500] [--concurrency 16] [--payload 64]
"""

import argparse
import json
import math
import sys
import threading
import time

try:
    import grpc
except ImportError:
    sys.exit("error: the Python gRPC peer is missing (no module 'grpc' in /usr/bin/python3): "
             "apt-get install -y python3-grpcio python3-protobuf protobuf-compiler "
             "protobuf-compiler-grpc (or run .ci/run)")

import interop_stubs

_MODULES = interop_stubs.load_interop()
messages_pb2 = _MODULES["grpc/testing/messages.proto"][0]
test_pb2_grpc = _MODULES["grpc/testing/test.proto"][1]

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_SECONDS_PER_PHASE = 60.0  # bound even if the server is pathologically slow


def percentile(sorted_values, p):
    # Nearest rank, as bench/Percentile.cs computes it for the C# side of the same table.
    index = min(len(sorted_values) - 1, max(0, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def sequential(call, request, count):
    latencies = []
    started = time.perf_counter()
    for _ in range(count):
        t0 = time.perf_counter()
        call(request, timeout=10)
        latencies.append(time.perf_counter() - t0)
        if time.perf_counter() - started > MAX_SECONDS_PER_PHASE:
            break
    elapsed = time.perf_counter() - started
    return latencies, elapsed


def concurrent(call, request, count, concurrency):
    """Keeps `concurrency` calls in flight until `count` have completed."""
    lock = threading.Condition()
    state = {"issued": 0, "done": 0, "errors": 0}
    deadline = time.perf_counter() + MAX_SECONDS_PER_PHASE

    def issue():
        state["issued"] += 1
        future = call.future(request, timeout=10)
        future.add_done_callback(done)

    def done(future):
        with lock:
            state["done"] += 1
            if future.exception() is not None:
                state["errors"] += 1
            if state["issued"] < count and time.perf_counter() < deadline:
                issue()
            lock.notify_all()

    started = time.perf_counter()
    with lock:
        for _ in range(min(concurrency, count)):
            issue()
        while state["done"] < state["issued"]:
            lock.wait(1.0)
    elapsed = time.perf_counter() - started
    return state["done"], state["errors"], elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--server-name")
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--payload", type=int, default=64, help="request and response body bytes")
    args = parser.parse_args()
    if args.host not in LOOPBACK:
        sys.exit(f"error: --host {args.host} is not loopback; this benchmark only runs on this machine")
    if not (0 < args.calls <= 1_000_000 and 0 <= args.warmup <= 100_000 and 0 < args.concurrency <= 256):
        sys.exit("error: --calls 1..1000000, --warmup 0..100000, --concurrency 1..256")

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    credentials = grpc.ssl_channel_credentials(read(args.ca), read(args.key), read(args.cert))
    options = [("grpc.ssl_target_name_override", args.server_name)] if args.server_name else []
    request = messages_pb2.SimpleRequest(response_size=args.payload,
                                         payload=messages_pb2.Payload(body=b"\0" * args.payload))
    with grpc.secure_channel(f"{args.host}:{args.port}", credentials, options) as channel:
        call = test_pb2_grpc.TestServiceStub(channel).UnaryCall
        sequential(call, request, args.warmup)
        latencies, elapsed = sequential(call, request, args.calls)
        done, errors, concurrent_elapsed = concurrent(call, request, args.calls, args.concurrency)
    latencies.sort()
    print(json.dumps({
        "client": f"grpcio {grpc.__version__}",
        "payload_bytes": args.payload,
        "calls": len(latencies),
        "p50_us": round(percentile(latencies, 50) * 1e6, 1),
        "p99_us": round(percentile(latencies, 99) * 1e6, 1),
        "sequential_calls_per_s": round(len(latencies) / elapsed, 1),
        "concurrency": args.concurrency,
        "concurrent_calls": done,
        "concurrent_errors": errors,
        "concurrent_calls_per_s": round(done / concurrent_elapsed, 1),
    }))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
