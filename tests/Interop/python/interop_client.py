#!/usr/bin/python3
"""grpc.testing interop client over mutual TLS, on Debian's python3-grpcio (C-core).

The upstream interop clients cannot present a client certificate, so this is our own driver of the
cases in grpc/grpc doc/interop-test-descriptions.md. Prints one line per case ("PASS name" or
"FAIL name: why"), then a summary line; exits 0 only if every case passed.

    /usr/bin/python3 interop_client.py --host 127.0.0.1 --port 5001 --ca ca.pem \
        --cert client.pem --key client.key --server-name localhost [--cases a,b]
"""

import argparse
import queue
import sys
import time

try:
    import grpc
except ImportError:
    sys.exit("error: the Python gRPC peer is missing (no module 'grpc' in /usr/bin/python3): "
             "apt-get install -y python3-grpcio python3-protobuf protobuf-compiler "
             "protobuf-compiler-grpc (or run .ci/run)")

import interop_stubs

_MODULES = interop_stubs.load_interop()
empty_pb2 = _MODULES["grpc/testing/empty.proto"][0]
messages_pb2 = _MODULES["grpc/testing/messages.proto"][0]
test_pb2_grpc = _MODULES["grpc/testing/test.proto"][1]

# Generous bound per call so that a broken server fails a case instead of hanging the run.
CALL_TIMEOUT = 30.0
SPECIAL_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"
INITIAL_KEY, INITIAL_VALUE = "x-grpc-test-echo-initial", "test_initial_metadata_value"
TRAILING_KEY, TRAILING_VALUE = "x-grpc-test-echo-trailing-bin", b"\xab\xab\xab"


class CaseFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CaseFailed(message)


def zeros(n):
    return messages_pb2.Payload(body=b"\0" * n)


def check_body(payload, size):
    check(len(payload.body) == size, f"payload is {len(payload.body)} bytes, expected {size}")
    check(payload.body == b"\0" * size, "payload body is not all zeros")


def expect_status(call, code, what):
    """Runs call(); it must fail with `code`. Returns the RpcError."""
    try:
        call()
    except grpc.RpcError as e:
        check(e.code() == code, f"{what}: status {e.code()} ({e.details()!r}), expected {code}")
        return e
    raise CaseFailed(f"{what}: call succeeded, expected {code}")


class Pipe:
    """A request iterator the test feeds one message at a time (bidirectional cases)."""

    _END = object()

    def __init__(self):
        self._queue = queue.Queue()

    def add(self, message):
        self._queue.put(message)

    def close(self):
        self._queue.put(self._END)

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is self._END:
            raise StopIteration()
        return item


def empty_unary(stub, channel):
    response = stub.EmptyCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT)
    check(isinstance(response, empty_pb2.Empty), "response is not an Empty")


def large_unary(stub, channel):
    request = messages_pb2.SimpleRequest(response_size=314159, payload=zeros(271828))
    check_body(stub.UnaryCall(request, timeout=CALL_TIMEOUT).payload, 314159)


def client_compressed_unary(stub, channel):
    def request(expect):
        return messages_pb2.SimpleRequest(
            expect_compressed=messages_pb2.BoolValue(value=expect), response_size=314159,
            payload=zeros(271828))

    expect_status(lambda: stub.UnaryCall(request(True), timeout=CALL_TIMEOUT),
                  grpc.StatusCode.INVALID_ARGUMENT, "uncompressed probe")
    check_body(stub.UnaryCall(request(True), timeout=CALL_TIMEOUT,
                              compression=grpc.Compression.Gzip).payload, 314159)
    check_body(stub.UnaryCall(request(False), timeout=CALL_TIMEOUT).payload, 314159)


def server_compressed_unary(stub, channel):
    # grpcio does not expose the received message's compressed flag: this checks that compressed
    # responses decode (the flag itself is asserted by the C# client and a raw-frame test).
    for compressed in (True, False):
        request = messages_pb2.SimpleRequest(
            response_compressed=messages_pb2.BoolValue(value=compressed), response_size=314159,
            payload=zeros(271828))
        check_body(stub.UnaryCall(request, timeout=CALL_TIMEOUT).payload, 314159)


def client_streaming(stub, channel):
    requests = [messages_pb2.StreamingInputCallRequest(payload=zeros(n)) for n in (27182, 8, 1828, 45904)]
    response = stub.StreamingInputCall(iter(requests), timeout=CALL_TIMEOUT)
    check(response.aggregated_payload_size == 74922,
          f"aggregated_payload_size {response.aggregated_payload_size}, expected 74922")


def client_compressed_streaming(stub, channel):
    def request(expect, n):
        return messages_pb2.StreamingInputCallRequest(
            expect_compressed=messages_pb2.BoolValue(value=expect), payload=zeros(n))

    expect_status(lambda: stub.StreamingInputCall(iter([request(True, 27182)]), timeout=CALL_TIMEOUT),
                  grpc.StatusCode.INVALID_ARGUMENT, "uncompressed probe")
    # grpcio compresses per call, not per message: the second message goes compressed too.
    response = stub.StreamingInputCall(iter([request(True, 27182), request(False, 45904)]),
                                       timeout=CALL_TIMEOUT, compression=grpc.Compression.Gzip)
    check(response.aggregated_payload_size == 73086,
          f"aggregated_payload_size {response.aggregated_payload_size}, expected 73086")


def server_streaming(stub, channel):
    sizes = (31415, 9, 2653, 58979)
    request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=n) for n in sizes])
    responses = list(stub.StreamingOutputCall(request, timeout=CALL_TIMEOUT))
    check(len(responses) == 4, f"{len(responses)} responses, expected 4")
    for response, size in zip(responses, sizes):
        check_body(response.payload, size)


def server_compressed_streaming(stub, channel):
    request = messages_pb2.StreamingOutputCallRequest(response_parameters=[
        messages_pb2.ResponseParameters(size=31415, compressed=messages_pb2.BoolValue(value=True)),
        messages_pb2.ResponseParameters(size=92653, compressed=messages_pb2.BoolValue(value=False))])
    responses = list(stub.StreamingOutputCall(request, timeout=CALL_TIMEOUT))
    check(len(responses) == 2, f"{len(responses)} responses, expected 2")
    check_body(responses[0].payload, 31415)
    check_body(responses[1].payload, 92653)


def ping_pong(stub, channel):
    pipe = Pipe()
    responses = stub.FullDuplexCall(pipe, timeout=CALL_TIMEOUT)
    for request_size, response_size in ((27182, 31415), (8, 9), (1828, 2653), (45904, 58979)):
        pipe.add(messages_pb2.StreamingOutputCallRequest(
            response_parameters=[messages_pb2.ResponseParameters(size=response_size)],
            payload=zeros(request_size)))
        check_body(next(responses).payload, response_size)
    pipe.close()
    check(next(responses, None) is None, "more than four responses")


def empty_stream(stub, channel):
    responses = list(stub.FullDuplexCall(iter([]), timeout=CALL_TIMEOUT))
    check(responses == [], f"{len(responses)} responses, expected none")


def _check_echoed(initial, trailing):
    initial, trailing = list(initial or ()), list(trailing or ())
    check((INITIAL_KEY, INITIAL_VALUE) in initial, f"{INITIAL_KEY} not echoed in headers: {initial}")
    check((TRAILING_KEY, TRAILING_VALUE) in trailing, f"{TRAILING_KEY} not echoed in trailers: {trailing}")


def custom_metadata(stub, channel):
    metadata = ((INITIAL_KEY, INITIAL_VALUE), (TRAILING_KEY, TRAILING_VALUE))
    request = messages_pb2.SimpleRequest(response_size=314159, payload=zeros(271828))
    response, call = stub.UnaryCall.with_call(request, metadata=metadata, timeout=CALL_TIMEOUT)
    check_body(response.payload, 314159)
    _check_echoed(call.initial_metadata(), call.trailing_metadata())

    pipe = Pipe()
    responses = stub.FullDuplexCall(pipe, metadata=metadata, timeout=CALL_TIMEOUT)
    pipe.add(messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=314159)], payload=zeros(271828)))
    pipe.close()
    received = list(responses)
    check(len(received) == 1, f"{len(received)} streamed responses, expected 1")
    check_body(received[0].payload, 314159)
    _check_echoed(responses.initial_metadata(), responses.trailing_metadata())


def _echo_status(stub, code, message):
    status = messages_pb2.EchoStatus(code=code, message=message)
    error = expect_status(lambda: stub.UnaryCall(messages_pb2.SimpleRequest(response_status=status),
                                                 timeout=CALL_TIMEOUT),
                          grpc.StatusCode.UNKNOWN, "UnaryCall")
    check(error.details() == message, f"UnaryCall message {error.details()!r}, expected {message!r}")
    return status


def status_code_and_message(stub, channel):
    status = _echo_status(stub, 2, "test status message")
    error = expect_status(
        lambda: list(stub.FullDuplexCall(iter([messages_pb2.StreamingOutputCallRequest(response_status=status)]),
                                         timeout=CALL_TIMEOUT)),
        grpc.StatusCode.UNKNOWN, "FullDuplexCall")
    check(error.details() == status.message,
          f"FullDuplexCall message {error.details()!r}, expected {status.message!r}")


def special_status_message(stub, channel):
    _echo_status(stub, 2, SPECIAL_MESSAGE)


def unimplemented_method(stub, channel):
    expect_status(lambda: stub.UnimplementedCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT),
                  grpc.StatusCode.UNIMPLEMENTED, "TestService/UnimplementedCall")


def unimplemented_service(stub, channel):
    other = test_pb2_grpc.UnimplementedServiceStub(channel)
    expect_status(lambda: other.UnimplementedCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT),
                  grpc.StatusCode.UNIMPLEMENTED, "UnimplementedService/UnimplementedCall")


def cancel_after_begin(stub, channel):
    pipe = Pipe()  # never fed: the call is cancelled before any message
    future = stub.StreamingInputCall.future(pipe, timeout=CALL_TIMEOUT)
    future.cancel()
    check(future.cancelled(), "future not cancelled")
    check(future.code() == grpc.StatusCode.CANCELLED, f"status {future.code()}, expected CANCELLED")


def cancel_after_first_response(stub, channel):
    pipe = Pipe()
    responses = stub.FullDuplexCall(pipe, timeout=CALL_TIMEOUT)
    pipe.add(messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=31415)], payload=zeros(27182)))
    check_body(next(responses).payload, 31415)
    responses.cancel()
    expect_status(lambda: next(responses), grpc.StatusCode.CANCELLED, "after cancel")
    check(responses.code() == grpc.StatusCode.CANCELLED, f"call status {responses.code()}, expected CANCELLED")


def timeout_on_sleeping_server(stub, channel):
    pipe = Pipe()
    try:
        responses = stub.FullDuplexCall(pipe, timeout=0.001)
        pipe.add(messages_pb2.StreamingOutputCallRequest(payload=zeros(27182)))
        expect_status(lambda: next(responses), grpc.StatusCode.DEADLINE_EXCEEDED, "FullDuplexCall")
    finally:
        pipe.close()


CASES = [
    empty_unary, large_unary, client_compressed_unary, server_compressed_unary, client_streaming,
    client_compressed_streaming, server_streaming, server_compressed_streaming, ping_pong, empty_stream,
    custom_metadata, status_code_and_message, special_status_message, unimplemented_method,
    unimplemented_service, cancel_after_begin, cancel_after_first_response, timeout_on_sleeping_server,
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True, help="PEM bundle of the CA(s) to trust")
    parser.add_argument("--cert", required=True, help="client certificate chain (PEM)")
    parser.add_argument("--key", required=True, help="client private key (PEM)")
    parser.add_argument("--server-name", help="name to check in the server certificate (default: --host)")
    parser.add_argument("--cases", default="all", help="comma-separated case names, or 'all'")
    args = parser.parse_args()

    by_name = {case.__name__: case for case in CASES}
    names = list(by_name) if args.cases == "all" else [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        sys.exit(f"error: unknown case(s) {', '.join(unknown)}; known: {', '.join(by_name)}")

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    credentials = grpc.ssl_channel_credentials(read(args.ca), read(args.key), read(args.cert))
    options = [("grpc.ssl_target_name_override", args.server_name)] if args.server_name else []
    failed = []
    with grpc.secure_channel(f"{args.host}:{args.port}", credentials, options) as channel:
        stub = test_pb2_grpc.TestServiceStub(channel)
        for name in names:
            started = time.monotonic()
            try:
                by_name[name](stub, channel)
                print(f"PASS {name} ({(time.monotonic() - started) * 1000:.0f} ms)", flush=True)
            except CaseFailed as e:
                failed.append(name)
                print(f"FAIL {name}: {e}", flush=True)
            except grpc.RpcError as e:
                failed.append(name)
                print(f"FAIL {name}: status {e.code()} ({e.details()!r})", flush=True)
            except Exception as e:  # a driver bug must name its case, not abort the run
                failed.append(name)
                print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
    print(f"{len(names) - len(failed)} of {len(names)} cases passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
