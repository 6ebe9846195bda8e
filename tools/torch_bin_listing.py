#!/usr/bin/env python3
"""Lists a pytorch_model.bin's state dict (name, storage, offset, shape, first values) without
torch and without executing the pickle: find_class only returns inert stand-ins. Used to produce
the expected values hard-coded in tests/weights/torch_bin_test.cc.

usage: tools/torch_bin_listing.py tests/data/models/tiny-pt/model/pytorch_model.bin
"""
import pickle
import re
import struct
import sys
import zipfile

ITEM = {"FloatStorage": ("<f", 4), "HalfStorage": ("<e", 2), "LongStorage": ("<q", 8)}


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


def rebuild_tensor_v2(storage, offset, size, stride, *_):
    return Tensor(storage, offset, size, stride)


class Reader(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return dict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor_v2
        if module == "torch" and name.endswith("Storage"):
            return name
        raise pickle.UnpicklingError(f"global {module}.{name} not allowed")

    def persistent_load(self, pid):
        return pid  # ('storage', type, key, location, numel)


def main(path):
    with zipfile.ZipFile(path) as z:
        pkl = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        prefix = pkl[: -len("/data.pkl")]
        state = Reader(z.open(pkl)).load()
        for name, t in state.items():
            _, stype, key, _, numel = t.storage
            fmt, size = ITEM[stype]
            raw = z.read(f"{prefix}/data/{key}")
            count = min(3, numel - t.offset)
            first = [struct.unpack_from(fmt, raw, (t.offset + i) * size)[0] for i in range(count)]
            # One C++ initializer per tensor: {name, storage key, offset, shape, first values}.
            shape = ", ".join(str(d) for d in t.size)
            values = ", ".join(re.sub("0+p", "p", float(v).hex()) + "f" for v in first)
            print(f'    {{"{name}", "{key}", {t.offset}, {{{shape}}}, {{{values}}}}},')


if __name__ == "__main__":
    main(sys.argv[1])
