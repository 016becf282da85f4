"""Generates Python stubs for .proto files at run time (no generated code is checked in).

protoc's Python output for grpc/testing/*.proto would be the package `grpc.testing`, which
collides with grpcio's own `grpc` package, so the files are staged under a private prefix with
their imports rewritten before compiling. Uses Debian's protoc and grpc_python_plugin, which match
the python3-protobuf / python3-grpcio versions installed beside them.
"""

import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

PREFIX = "interop_pb"
HERE = os.path.dirname(os.path.abspath(__file__))
INTEROP_PROTOS = os.path.join(HERE, "..", "protos")
# Health and reflection v1, copied from grpc/grpc (Apache-2.0, headers kept); kept here, outside the
# C# project's protos/, because grpc-dotnet's packages bring their own C# types for them.
STANDARD_PROTOS = os.path.join(HERE, "protos")
PLUGIN = "/usr/bin/grpc_python_plugin"

_INSTALL_HINT = (
    "install the Python gRPC peer: apt-get install -y python3-grpcio python3-protobuf "
    "protobuf-compiler protobuf-compiler-grpc (or run .ci/run)"
)


def require_tools():
    for tool in ("protoc", PLUGIN):
        if shutil.which(tool) is None:
            sys.exit(f"error: {tool} not found; {_INSTALL_HINT}")


def load(roots_and_files):
    """roots_and_files: [(proto_root, [relative .proto paths])]. Returns {relative path: (pb2, pb2_grpc)}."""
    require_tools()
    out = tempfile.mkdtemp(prefix="midia-interop-stubs-")
    staged = os.path.join(out, "src")
    generated = os.path.join(out, "gen")
    os.makedirs(generated)
    names = []
    for root, files in roots_and_files:
        for rel in files:
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                text = f.read()
            # Only imports of our own staged files move under the prefix (google/protobuf stays).
            text = re.sub(r'import "(?!google/protobuf/)([^"]+)"', rf'import "{PREFIX}/\1"', text)
            target = os.path.join(staged, PREFIX, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w", encoding="utf-8") as f:
                f.write(text)
            names.append(f"{PREFIX}/{rel}")
    subprocess.run(
        ["protoc", f"-I{staged}", f"--python_out={generated}", f"--grpc_python_out={generated}",
         f"--plugin=protoc-gen-grpc_python={PLUGIN}", *names],
        check=True)
    sys.path.insert(0, generated)
    modules = {}
    for name in names:
        module = name[:-len(".proto")].replace("/", ".")
        rel = name[len(PREFIX) + 1:]
        modules[rel] = (importlib.import_module(module + "_pb2"), importlib.import_module(module + "_pb2_grpc"))
    shutil.rmtree(out, ignore_errors=True)  # modules are loaded; the files are no longer needed
    return modules


def load_interop():
    return load([(INTEROP_PROTOS, ["grpc/testing/empty.proto", "grpc/testing/messages.proto", "grpc/testing/test.proto"])])


def load_standard_services():
    return load([(STANDARD_PROTOS, ["grpc/health/v1/health.proto", "grpc/reflection/v1/reflection.proto"])])
