#!/usr/bin/env python3
"""Writes the seed corpus for tests/fuzz/torch_bin_fuzz.cc (no torch needed): tiny-pt's data.pkl,
small torch.save-shaped zips (stored and deflated; protocols 2 and 4; a tied tensor, shared
storage at two offsets, f16, an int64 position_ids buffer) and the same state dict in the legacy
(pre-1.6) format. The first byte of each seed picks the fuzzer's mode: 0 = data.pkl bytes,
1 = a whole file (zip or legacy). tests/weights/torch_bin_test.cc reads these seeds too.

usage: tools/torch_bin_seeds.py tests/fuzz/corpus/torch_bin   (the committed seeds)
fuzz:  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DBERTC_FUZZ=ON -DBERTC_BUILD_TESTS=OFF \
           -DBERTC_BUILD_BENCH=OFF && cmake --build build-fuzz --target fuzz_torch_bin
       mkdir -p /tmp/corpus && ./build-fuzz/tests/fuzz/fuzz_torch_bin -max_total_time=60 \
           -max_len=65536 /tmp/corpus tests/fuzz/corpus/torch_bin
"""
import collections
import io
import os
import pickle
import struct
import sys
import types
import zipfile

TINY_PT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "models", "tiny-pt", "model",
                       "pytorch_model.bin")


def fake_torch():
    """Stand-in torch modules, so pickle writes the same GLOBALs torch.save does."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called")

    def _rebuild_parameter(*args):
        raise AssertionError("never called")

    for f in (_rebuild_tensor_v2, _rebuild_parameter):
        f.__module__, f.__qualname__ = "torch._utils", f.__name__
        setattr(utils, f.__name__, f)
    for name in ("FloatStorage", "HalfStorage", "LongStorage"):
        cls = type(name, (), {"__module__": "torch"})
        setattr(torch, name, cls)
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
    return torch, utils


TORCH, UTILS = fake_torch()


class Storage:
    def __init__(self, type_name, key, data):
        self.type, self.key, self.data = getattr(TORCH, type_name), key, data
        self.numel = len(data) // {"FloatStorage": 4, "HalfStorage": 2, "LongStorage": 8}[type_name]


class Tensor:
    def __init__(self, storage, offset, size, stride, parameter=False):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())
        self.parameter = parameter

    def __reduce__(self):
        if self.parameter:
            inner = Tensor(*self.args[:4])
            return (UTILS._rebuild_parameter, (inner, True, collections.OrderedDict()))
        return (UTILS._rebuild_tensor_v2, self.args)


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.type, obj.key, "cpu", obj.numel)
        return None


def small_state(keys=("0", "1", "2")):
    """Returns the state dict and its storages, keyed as the zip ("0") or legacy ("9402...") format does."""
    floats = Storage("FloatStorage", keys[0], struct.pack("<10f", *range(10)))
    halves = Storage("HalfStorage", keys[1], struct.pack("<4e", 1.0, -2.0, 0.5, 65504.0))
    ids = Storage("LongStorage", keys[2], struct.pack("<4q", 0, 1, 2, 3))
    word = Tensor(floats, 0, (2, 3), (3, 1), parameter=True)
    state = collections.OrderedDict()
    state["embeddings.word.weight"] = word
    state["embeddings.tail"] = Tensor(floats, 6, (4,), (1,))
    state["half.weight"] = Tensor(halves, 0, (2, 2), (2, 1))
    state["embeddings.position_ids"] = Tensor(ids, 0, (1, 4), (4, 1))
    state["decoder.weight"] = word  # tied: the same object, memoized
    return state, (floats, halves, ids)


def small_archive(protocol, deflate, prefix):
    state, storages = small_state()
    buf = io.BytesIO()
    Pickler(buf, protocol=protocol).dump(state)
    out = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, "w", method) as z:
        def add(name, data):  # a fixed timestamp keeps the seeds reproducible byte for byte
            z.writestr(zipfile.ZipInfo(f"{prefix}/{name}", (1980, 1, 1, 0, 0, 0)), data, compress_type=method)

        add("data.pkl", buf.getvalue())
        add("byteorder", "little")
        for s in storages:
            add(f"data/{s.key}", s.data)
        add("version", "3\n")
    return buf.getvalue(), out.getvalue()


class LegacyPickler(pickle.Pickler):
    """torch < 1.6 (_legacy_save): the persistent id has a sixth item, view_metadata."""

    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.type, obj.key, "cpu", obj.numel, None)
        return None


def small_legacy():
    """_legacy_save's stream: magic, version, sys_info, state dict, sorted keys, then storages."""
    state, storages = small_state(keys=("94245264211968", "94245264215040", "94245266029184"))
    out = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6C, out, protocol=2)
    pickle.dump(1001, out, protocol=2)
    sys_info = {"protocol_version": 1001, "little_endian": True,
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    pickle.dump(sys_info, out, protocol=2)
    LegacyPickler(out, protocol=2).dump(state)
    keys = sorted(s.key for s in storages)
    pickle.dump(keys, out, protocol=2)
    for key in keys:
        s = next(s for s in storages if s.key == key)
        out.write(struct.pack("<q", s.numel))
        out.write(s.data)
    return out.getvalue()


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    seeds = {}
    with zipfile.ZipFile(TINY_PT) as z:
        seeds["tiny_pt_pickle"] = b"\x00" + z.read("pytorch_model/data.pkl")
    for protocol in (2, 4):
        for deflate in (False, True):
            pkl, archive = small_archive(protocol, deflate, "archive")
            seeds[f"small_p{protocol}_pickle"] = b"\x00" + pkl
            seeds[f"small_p{protocol}_{'deflated' if deflate else 'stored'}_zip"] = b"\x01" + archive
    seeds["small_legacy"] = b"\x01" + small_legacy()
    for name, data in seeds.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
