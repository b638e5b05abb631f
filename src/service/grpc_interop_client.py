#!/usr/bin/env python3
"""A third-party Open Inference Protocol client for Ecomap's gRPC server (a test helper).

Generates Python stubs from proto/grpc_predict_v2.proto with grpc_tools into a scratch folder,
then calls ServerLive, ServerReady, ServerMetadata, ModelMetadata and ModelInfer (typed and raw
inputs) against a server that serves service/grpc_test_backend.h's models, and checks the
answers, including the error codes. Exit status 0 when all checks pass; each failure is printed.

    grpc_interop_client.py --proto-dir proto --target 127.0.0.1:PORT --work-dir /tmp/x
"""
import argparse
import os
import struct
import sys

# Stubs from grpc_tools' own (older) protoc are loaded by the pure-Python protobuf runtime.
os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")

import grpc  # noqa: E402
from grpc_tools import protoc  # noqa: E402

TIMEOUT_S = 10
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto-dir", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--work-dir", required=True)
    a = ap.parse_args()

    rc = protoc.main(["protoc", "-I" + a.proto_dir, "--python_out=" + a.work_dir,
                      "--grpc_python_out=" + a.work_dir,
                      os.path.join(a.proto_dir, "grpc_predict_v2.proto")])
    if rc != 0:
        print("FAIL grpc_tools.protoc exited with %d" % rc)
        return 1
    sys.path.insert(0, a.work_dir)
    import grpc_predict_v2_pb2 as pb
    import grpc_predict_v2_pb2_grpc as pbg

    with grpc.insecure_channel(a.target) as channel:
        stub = pbg.GRPCInferenceServiceStub(channel)
        check(stub.ServerLive(pb.ServerLiveRequest(), timeout=TIMEOUT_S).live, "ServerLive is live")
        check(stub.ServerReady(pb.ServerReadyRequest(), timeout=TIMEOUT_S).ready, "ServerReady")
        meta = stub.ServerMetadata(pb.ServerMetadataRequest(), timeout=TIMEOUT_S)
        check(meta.name == "ecomap-test", "ServerMetadata name %r" % meta.name)

        mm = stub.ModelMetadata(pb.ModelMetadataRequest(name="affine"), timeout=TIMEOUT_S)
        check(mm.name == "affine" and list(mm.versions) == ["v1"], "ModelMetadata name/versions")
        check([(t.name, t.datatype, list(t.shape)) for t in mm.inputs] == [("x", "FP32", [-1])],
              "ModelMetadata inputs %r" % [(t.name, t.datatype, list(t.shape)) for t in mm.inputs])

        # Typed input contents; the server answers raw by default.
        req = pb.ModelInferRequest(model_name="affine", id="py-1")
        x = req.inputs.add(name="x", datatype="FP32", shape=[3])
        x.contents.fp32_contents.extend([1.0, 2.5, -3.0])
        req.parameters["top_k"].int64_param = 1
        resp = stub.ModelInfer(req, timeout=TIMEOUT_S)
        check(resp.id == "py-1" and resp.model_name == "affine", "ModelInfer id/model echoed")
        names = [o.name for o in resp.outputs]
        check(names == ["y", "top_k"], "ModelInfer outputs %r" % names)
        check(len(resp.raw_output_contents) == 2, "outputs come as raw_output_contents")
        if len(resp.raw_output_contents) == 2:
            y = struct.unpack("<3f", resp.raw_output_contents[0])
            check(y == (3.0, 6.0, -5.0), "y = 2x + 1: %r" % (y,))
            k = struct.unpack("<1q", resp.raw_output_contents[1])
            check(k == (1,), "top_k index %r" % (k,))

        # Raw input contents, typed output contents on request.
        req = pb.ModelInferRequest(model_name="affine")
        req.inputs.add(name="x", datatype="FP32", shape=[2])
        req.raw_input_contents.append(struct.pack("<2f", 0.0, 10.0))
        req.parameters["binary_data_output"].bool_param = False
        resp = stub.ModelInfer(req, timeout=TIMEOUT_S)
        check(list(resp.outputs[0].contents.fp32_contents) == [1.0, 21.0],
              "typed output %r" % list(resp.outputs[0].contents.fp32_contents))

        # BYTES echo in typed form.
        req = pb.ModelInferRequest(model_name="echo")
        s = req.inputs.add(name="s", datatype="BYTES", shape=[2])
        s.contents.bytes_contents.extend([b"caf\xc3\xa9", b""])
        req.parameters["binary_data_output"].bool_param = False
        resp = stub.ModelInfer(req, timeout=TIMEOUT_S)
        check(list(resp.outputs[0].contents.bytes_contents) == [b"caf\xc3\xa9", b""], "BYTES echo")

        def code_of(request):
            try:
                stub.ModelInfer(request, timeout=TIMEOUT_S)
                return grpc.StatusCode.OK, None
            except grpc.RpcError as e:
                return e.code(), e

        bad = pb.ModelInferRequest(model_name="nope")
        bad.inputs.add(name="x", datatype="FP32", shape=[1]).contents.fp32_contents.append(1)
        code, _ = code_of(bad)
        check(code == grpc.StatusCode.NOT_FOUND, "unknown model -> NOT_FOUND (%s)" % code)
        bad.model_name = "busy"
        code, err = code_of(bad)
        check(code == grpc.StatusCode.RESOURCE_EXHAUSTED, "busy -> RESOURCE_EXHAUSTED (%s)" % code)
        if err is not None:
            trailers = dict(err.trailing_metadata() or ())
            check(trailers.get("retry-after-s") == "2.5", "retry-after-s trailer %r" % trailers)
        bad.model_name = "affine"
        bad.inputs[0].datatype = "FP99"
        code, err = code_of(bad)
        check(code == grpc.StatusCode.INVALID_ARGUMENT and "FP99" in err.details(),
              "unknown datatype -> INVALID_ARGUMENT naming it (%s)" % code)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
