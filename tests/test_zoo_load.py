"""zoo.load on hostile files: crafted headers, metadata and zip members, a zip bomb, and
seeded random mutations of saved models. Every file either raises gaba.ModelFileError or
loads the weights it declares, bit for bit, and nothing larger than a member's declared,
size-checked size is ever decompressed.

GABA_FUZZ_FILES=20000 runs that many random mutations (default 300); a failure names the
index, and `mutated(index)` rebuilds that file."""
import collections
import io
import json
import os
import struct
import warnings
import zipfile
import zlib

import numpy as np
import pytest

import gaba
from gaba import zoo

BASES = ("AnomalyDetectEdge", "SentimentAnalysisMicro", "ResNet8")  # dense, embedding, conv
N_RANDOM = int(os.environ.get("GABA_FUZZ_FILES", "300"))
META = "__gaba_meta__.npy"
NPY_HEADER_MAX = 10000 + 12  # numpy's header limit plus magic and length, as zoo.load allows


def saved(name, seed=3):
    """A saved model whose weights differ from a fresh create, and its weights."""
    m = zoo.create(name, seed=seed)
    for v in m.weights.values():
        v *= 1.5
    buf = io.BytesIO()
    m.save(buf)
    return buf.getvalue(), {k: v.copy() for k, v in m.weights.items()}


_BASE = {}


def base(name):
    if name not in _BASE:
        _BASE[name] = saved(name)
    return _BASE[name]


def members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def npy(a):
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def header(descr, shape, fortran=False, version=(1, 0)):
    buf = io.BytesIO()
    write = (np.lib.format.write_array_header_1_0 if version == (1, 0)
             else np.lib.format.write_array_header_2_0)
    write(buf, {"descr": descr, "fortran_order": fortran, "shape": shape})
    return buf.getvalue()


def deflate(data):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def entry(name, data, method=zipfile.ZIP_STORED, size=None, crc=None, raw=None):
    """One zip member: `size` and `crc` default to the truth about `data`; `raw` replaces
    the (compressed) bytes stored."""
    stored = raw if raw is not None else deflate(data) if method else data
    return (name, stored, method, len(data) if size is None else size,
            zlib.crc32(data) if crc is None else crc)


def build_zip(entries):
    """A zip (no zip64) written by hand, so that it can lie about sizes and CRCs."""
    out, central = bytearray(), bytearray()
    for name, stored, method, size, crc in entries:
        n = name.encode()
        central += struct.pack("<4s6H3L5H2L", b"PK\1\2", 20, 20, 0, method, 0, 0x21, crc,
                               len(stored), size, len(n), 0, 0, 0, 0, 0, len(out)) + n
        out += struct.pack("<4s5H3L2H", b"PK\3\4", 20, 0, method, 0, 0x21, crc, len(stored),
                           size, len(n), 0) + n + stored
    return bytes(out + central + struct.pack("<4s4H2LH", b"PK\5\6", 0, 0, len(entries),
                                             len(entries), len(central), len(out), 0))


def rezip(items, method=zipfile.ZIP_STORED):
    return build_zip([entry(k, v, method) for k, v in items.items()])


def zeros_deflated(prefix, n_zeros):
    """Deflate stream of prefix + n_zeros zero bytes, built from one flushed 1 MiB block
    repeated (equal input after a full window of zeros compresses to equal output)."""
    mib = 1 << 20
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.compress(bytes(mib)) + c.flush(zlib.Z_SYNC_FLUSH)
    block = c.compress(bytes(mib)) + c.flush(zlib.Z_SYNC_FLUSH)
    assert block == c.compress(bytes(mib)) + c.flush(zlib.Z_SYNC_FLUSH)
    assert n_zeros % mib == 0 and n_zeros >= 3 * mib
    return head + block * (n_zeros // mib - 2) + c.flush()


def zeros_crc(prefix, n_zeros):
    crc, mib = zlib.crc32(prefix), bytes(1 << 20)
    for _ in range(n_zeros >> 20):
        crc = zlib.crc32(mib, crc)
    return zlib.crc32(bytes(n_zeros & ((1 << 20) - 1)), crc)


def with_meta(data, edit):
    items = members(data)
    meta = json.loads(str(np.load(io.BytesIO(items[META]))))
    items[META] = npy(np.array(edit(meta)))
    return rezip(items)


def with_member(data, key, payload):
    items = members(data)
    items[key + ".npy"] = payload
    return rezip(items)


# ---- the oracle -----------------------------------------------------------------------------

class Reads:
    """Bytes decompressed per zip member by zoo.load (zipfile's _read1: what comes out of
    the decompressor before buffering) against the member's declared size."""

    def __init__(self, monkeypatch):
        self.active = False  # only zoo.load's reads count, not the test's own
        self.worst = (0, 0)  # (decompressed, declared) of the member with most decompressed
        self.excess = 0  # max over members of decompressed - declared
        self.by_name = {}  # member name -> most decompressed from it in one open
        read1 = zipfile.ZipExtFile._read1

        def counting(ext, n):
            data = read1(ext, n)
            if not self.active:
                return data
            ext._gaba_out = getattr(ext, "_gaba_out", 0) + len(data)
            declared = ext._orig_file_size
            self.excess = max(self.excess, ext._gaba_out - declared)
            self.by_name[ext.name] = max(self.by_name.get(ext.name, 0), ext._gaba_out)
            if ext._gaba_out > self.worst[0]:
                self.worst = (ext._gaba_out, declared)
            return data
        monkeypatch.setattr(zipfile.ZipExtFile, "_read1", counting)


@pytest.fixture
def reads(monkeypatch):
    return Reads(monkeypatch)


def outcome(data, expect=None, *, may_load=True, reads=None):
    """Load `data`: it must raise ModelFileError, or (where `may_load`) load exactly the
    weights `expect` (a dict; default: none may load). Returns the error's cause type
    name, or "loaded". `reads` counts what the load decompresses."""
    try:
        with warnings.catch_warnings():
            # numpy warns when it must rewrite a Python 2 header ("3L") to parse it
            warnings.simplefilter("ignore", UserWarning)
            if reads:
                reads.active = True
            m = zoo.load(io.BytesIO(data))
    except gaba.ModelFileError as e:
        assert "zoo.load(): " in str(e)
        return type(e.__cause__).__name__ if e.__cause__ else "ModelFileError"
    assert may_load and expect is not None, "loaded a file that should have been refused"
    assert set(m.weights) == set(expect)
    for k, v in expect.items():  # bit for bit: -0.0 and NaN payloads included
        np.testing.assert_array_equal(m.weights[k].view(np.uint32), v.view(np.uint32), k)
    return "loaded"


# ---- round trip -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ("KeywordSpotMicro", "SentimentAnalysisMicro", "ResNet8",
                                  "MobileNetV1_VWW", "SpeechEnhanceNano"))
def test_round_trip_bit_exact(name, tmp_path):
    m = zoo.create(name, seed=11)
    rng = np.random.default_rng(0)
    for v in m.weights.values():  # values create never draws, special ones included
        v[...] = rng.standard_normal(v.shape).astype(np.float32)
        v.flat[:3] = [-0.0, np.inf, np.float32(1e-45)]
    path = tmp_path / "m.npz"
    m.save(path)
    m2 = zoo.load(path)
    assert (m2.name, m2.seed) == (name, 11)
    for k, v in m.weights.items():
        np.testing.assert_array_equal(m2.weights[k].view(np.uint32), v.view(np.uint32), k)
    m3 = zoo.load(str(path))  # a str path and an open file work as well
    with open(path, "rb") as f:
        m4 = zoo.load(f)
    for k, v in m.weights.items():
        assert np.array_equal(m3.weights[k], v) and np.array_equal(m4.weights[k], v)


def test_deflated_and_reordered_members_load(reads):
    data, w = base("ResNet8")
    items = members(data)
    assert outcome(rezip(dict(reversed(items.items()))), w) == "loaded"
    assert outcome(rezip(items, zipfile.ZIP_DEFLATED), w) == "loaded"  # as savez_compressed


def test_missing_file_is_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        zoo.load(tmp_path / "nope.npz")


def test_error_class():
    assert issubclass(gaba.ModelFileError, ValueError) and "ModelFileError" in gaba.__all__


# ---- crafted files --------------------------------------------------------------------------

def _key(data, i=0):
    return list(members(data))[i + 1][:-4]  # savez writes the metadata first


def _weight(name, key, a):
    data, w = base(name)
    return with_member(data, key, npy(a))


def crafted():
    """(id, file bytes, weights it may load or None): each known way to break a file."""
    data, w = base("ResNet8")
    k = _key(data)
    shape = w[k].shape
    ones = np.ones(shape)
    cases = [("empty", b"", None), ("not-zip", b"PK\3\4" + bytes(100), None),
             ("truncated-half", data[:len(data) // 2], None), ("truncated-1", data[:-1], None)]
    for dt in ("f8", "f2", "i4", "i1", "?", "c8", "c16", "<U4", ">f4", "V4", "M8[s]"):
        cases.append((f"dtype-{dt}", _weight("ResNet8", k, ones.astype(dt)), None))
    cases.append(("dtype-struct", _weight("ResNet8", k, np.zeros(shape, [("a", "<f4")])), None))
    cases.append(("dtype-subarray", with_member(data, k, header(("<f4", (2,)), shape)
                                                + bytes(8 * ones.size)), None))
    cases.append(("dtype-object", with_member(data, k, header("|O", shape) + bytes(64)), None))
    cases.append(("fortran", _weight("ResNet8", k, np.asfortranarray(ones, np.float32)), None))
    for s in (shape[::-1], shape + (1,), shape[1:], (0,), (-1,), (2**40,), (2**64,),
              (2**31,) * 4):
        cases.append((f"shape-{s}", with_member(data, k, header("<f4", s) + bytes(64)), None))
    payload = w[k].tobytes()
    cases += [
        ("payload-short", with_member(data, k, header("<f4", shape) + payload[:-4]), None),
        ("payload-long", with_member(data, k, header("<f4", shape) + payload + bytes(4)), None),
        ("npy-v2", with_member(data, k, header("<f4", shape, version=(2, 0)) + payload), w),
        ("npy-v3", with_member(data, k, header("<f4", shape, version=(2, 0))
                               .replace(b"\x02\x00", b"\x03\x00", 1) + payload), None),
        ("npy-magic", with_member(data, k, b"\x93NUMPX" + npy(w[k])[6:]), None),
        ("npy-py2", with_member(data, k, npy(w[k]).replace(  # "16L": same header length
            repr(shape).encode(), repr(shape).replace(",", "L,", 1).encode()).replace(
                b" \n", b"\n", 1)), w),
        ("npy-header-4GB", with_member(data, k, b"\x93NUMPY\x02\x00" + b"\xff" * 4 + bytes(64)),
         None),
        ("npy-header-nested", with_member(data, k, b"\x93NUMPY\x01\x00\x10\x27"
                                          + b"(" * 5000 + b")" * 5000), None),
        ("npy-header-unary", with_member(data, k, b"\x93NUMPY\x01\x00\x10\x27"
                                         + b"-" * 9999 + b"1"), None),
        ("npy-header-list", with_member(data, k, b"\x93NUMPY\x01\x00\x04\x00[1,]"), None),
        ("npy-header-unhashable", with_member(data, k, b"\x93NUMPY\x01\x00\x07\x00{[]: 1}"),
         None),
        ("npy-header-tokens", with_member(data, k, b"\x93NUMPY\x01\x00\x03\x00'''"), None),
        ("missing-member", rezip({n: v for n, v in members(data).items() if n != k + ".npy"}),
         None),
        ("extra-member", rezip({**members(data), "extra.npy": npy(np.zeros(3, "f4"))}), None),
        ("directory-member", rezip({**members(data), "dir/": b""}), None),
        ("duplicate-member", build_zip([entry(n, v) for n, v in members(data).items()]
                                       + [entry(k + ".npy", npy(w[k]))]), None),
        ("no-meta", rezip({n: v for n, v in members(data).items() if n != META}), None),
        ("bzip2", build_zip([entry(n, v) for n, v in members(data).items()][:-1]
                            + [(k + ".npy", b"BZh9", 12, 100, 0)]), None),
        ("encrypted", data[:data.index(b"PK\1\2") + 8] + b"\1\0"  # flag bit 0
         + data[data.index(b"PK\1\2") + 10:], None),
        ("bad-crc", build_zip([entry(n, v, crc=(zlib.crc32(v) ^ 1) if n == k + ".npy"
                                     else None) for n, v in members(data).items()]), None),
    ]
    # a member that declares more than it holds, or holds more than it declares
    items = members(data)
    cases.append(("size-lie-big", build_zip([entry(n, v, size=len(v) + 4 if n == k + ".npy"
                                                   else None) for n, v in items.items()]), None))
    cases.append(("size-lie-small", build_zip([entry(n, v, size=len(v) - 4 if n == k + ".npy"
                                                     else None) for n, v in items.items()]),
                  None))
    # meta: not an object, keys missing or extra, each key's type and range
    meta_cases = {
        "list": [1, 2, 3], "no-weights": lambda m: {x: v for x, v in m.items() if x != "weights"},
        "seed-2**70": lambda m: {**m, "seed": 2**70}, "seed-2**64": lambda m: {**m, "seed": 2**64},
        "seed-neg": lambda m: {**m, "seed": -1}, "seed-float": lambda m: {**m, "seed": 3.0},
        "seed-bool": lambda m: {**m, "seed": True}, "seed-str": lambda m: {**m, "seed": "3"},
        "version-2": lambda m: {**m, "version": 2}, "version-str": lambda m: {**m, "version": "1"},
        "format": lambda m: {**m, "format": "other"},
        "model-unknown": lambda m: {**m, "model": "Nope"},
        "model-int": lambda m: {**m, "model": 5}, "extra-key": lambda m: {**m, "x": 1},
        "weights-list": lambda m: {**m, "weights": list(m["weights"])},
        "weights-shape": lambda m: {**m, "weights": {**m["weights"], k: [1]}},
        "weights-key": lambda m: {**m, "weights": {**m["weights"], "nope": [1]}},
        "model-other": lambda m: {**m, "model": "KeywordSpotMicro"},
    }
    for label, edit in meta_cases.items():
        cases.append((f"meta-{label}", with_meta(data, lambda m, e=edit: json.dumps(
            e(m) if callable(e) else e)), None))
    meta_npy = {"nested": npy(np.array("[" * 100000 + "]" * 100000)),
                "not-json": npy(np.array("{nope")), "bytes": npy(np.array(b"{}")),
                "1d": npy(np.array(["{}", "{}"])), "int": npy(np.array(7)),
                "big-int": npy(np.array('{"seed": ' + "9" * 5000 + "}")),
                "bad-codepoint": header("<U1", ()) + b"\xff\xff\xff\xff",
                "surrogate": header("<U1", ()) + b"\x00\xd8\x00\x00",
                "big-endian": header(">U2", ()) + "{}".encode("utf-32-be"),
                "over-1MiB": header("<U300000", ()) + bytes(1200000)}
    for label, payload in meta_npy.items():
        cases.append((f"meta-{label}", rezip({**members(data), META: payload}), None))
    # harmless: another seed in the metadata (the file's weights win), reformatted JSON
    cases.append(("meta-seed-7", with_meta(data, lambda m: json.dumps({**m, "seed": 7})), w))
    cases.append(("meta-indented", with_meta(data, lambda m: json.dumps(m, indent=2)), w))
    cases.append(("meta-reordered", with_meta(data, lambda m: json.dumps(
        dict(reversed(m.items())))), w))
    return cases


@pytest.mark.parametrize("case", crafted(), ids=lambda c: c[0])
def test_crafted(case, reads):
    label, data, expect = case
    result = outcome(data, expect, may_load=expect is not None, reads=reads)
    assert (result == "loaded") == (expect is not None)  # the harmless ones do load
    assert reads.excess <= 0


def test_zip_bomb_is_not_decompressed(reads):
    """1 MB of deflated zeros declaring 2**28 float32 (1 GiB) for one weight: refused from
    its declared size, never opened."""
    data, w = base("ResNet8")
    k = _key(data)
    prefix = header("<f4", (2**28,))
    stream = zeros_deflated(prefix, 2**30)
    assert len(stream) < 1.1e6
    others = [entry(n, v) for n, v in members(data).items() if n != k + ".npy"]
    bomb = build_zip(others + [(k + ".npy", stream, zipfile.ZIP_DEFLATED, len(prefix) + 2**30,
                                zeros_crc(prefix, 2**30))])
    with pytest.raises(gaba.ModelFileError, match="declares 1,073,741,952 bytes; too large"):
        zoo.load(io.BytesIO(bomb))
    assert reads.worst[0] < 64 * 1024  # the metadata; the bomb was never opened


@pytest.mark.parametrize("shape", [(2**28,), None])
def test_zip_bomb_under_a_small_declared_size(shape, reads):
    """The same stream declaring only the weight's size (and that part's CRC): at most the
    declared bytes come out, and the .npy header decides (refused, or zeros loaded)."""
    data, w = base("ResNet8")
    k = _key(data)
    prefix = header("<f4", shape or w[k].shape)
    size = len(prefix) + w[k].nbytes
    others = [entry(n, v) for n, v in members(data).items() if n != k + ".npy"]
    liar = build_zip(others + [(k + ".npy", zeros_deflated(prefix, 2**30), zipfile.ZIP_DEFLATED,
                                size, zeros_crc(prefix, w[k].nbytes))])
    expect = None if shape else {**w, k: np.zeros_like(w[k])}
    assert (outcome(liar, expect, reads=reads) == "loaded") == (shape is None)
    assert reads.excess <= 0 and reads.by_name[k + ".npy"] <= size


def test_declared_shape_2_40_is_not_allocated(reads):
    data, w = base("ResNet8")
    k = _key(data)
    bad = with_member(data, k, header("<f4", (2**40,)) + bytes(64))
    reads.active = True
    with pytest.raises(gaba.ModelFileError, match=r"shape \(1099511627776,\)"):
        zoo.load(io.BytesIO(bad))
    assert reads.worst[0] < NPY_HEADER_MAX


@pytest.mark.parametrize("label, data, match", [
    ("dtype", lambda d, k, w: _weight("ResNet8", k, w[k].astype("c8")), r"dtype <c8, expected <f4"),
    ("unknown", lambda d, k, w: with_meta(d, lambda m: json.dumps({**m, "model": "Nope"})),
     r"unknown model 'Nope'"),
    ("seed", lambda d, k, w: with_meta(d, lambda m: json.dumps({**m, "seed": 2**70})),
     r"seed 1180591620717411303424; expected 0 to 2\*\*64-1"),
    ("keys", lambda d, k, w: with_meta(d, lambda m: json.dumps(
        {x: v for x, v in m.items() if x != "weights"})), r"bad __gaba_meta__: no 'weights'"),
    ("zip", lambda d, k, w: d[:100], r"not a readable zip archive"),
    ("size", lambda d, k, w: with_member(d, k, npy(w[k]) + bytes(4)), r"declares 1,860 bytes; "
     r"expected 1,856"),
])
def test_messages_name_file_and_fault(label, data, match, tmp_path):
    d, w = base("ResNet8")
    path = tmp_path / f"{label}.npz"
    path.write_bytes(data(d, _key(d), w))
    with pytest.raises(gaba.ModelFileError, match=match) as e:
        zoo.load(path)
    assert repr(str(path)) in str(e.value)


# ---- random mutations -----------------------------------------------------------------------

def _mutate_bytes(rng, data):
    b = bytearray(data)
    op = rng.integers(6)
    if op == 0:  # flip bits anywhere
        for _ in range(rng.integers(1, 9)):
            b[rng.integers(len(b))] ^= 1 << int(rng.integers(8))
    elif op == 1:  # random bytes in the headers: the first or last 2 KB
        for _ in range(rng.integers(1, 5)):
            i = int(rng.integers(min(2048, len(b))))
            b[i if rng.integers(2) else len(b) - 1 - i] = int(rng.integers(256))
    elif op == 2:
        del b[int(rng.integers(len(b))):]
    elif op == 3:  # insert or delete a span
        i = int(rng.integers(len(b)))
        if rng.integers(2):
            b[i:i] = rng.bytes(int(rng.integers(1, 64)))
        else:
            del b[i:i + int(rng.integers(1, 64))]
    elif op == 4:  # an interesting integer over a 1, 2, 4 or 8-byte field
        width = int(rng.choice([1, 2, 4, 8]))
        value = int(rng.choice([0, 1, 0x7f, 0xff, 0x7fff, 0xffff, 2**31 - 1, 2**32 - 1,
                                2**63 - 1, 2**64 - 1])) & ((1 << 8 * width) - 1)
        i = int(rng.integers(len(b) - width))
        b[i:i + width] = value.to_bytes(width, "little")
    else:  # copy a span over another
        i, j, n = int(rng.integers(len(b))), int(rng.integers(len(b))), int(rng.integers(1, 256))
        b[j:j + n] = b[i:i + n]
    return bytes(b), None


def _mutate_members(rng, data, w):
    items = members(data)
    names = list(items)
    n = names[int(rng.integers(len(names)))]
    op = rng.integers(7)
    if op == 0:
        del items[n]
    elif op == 1:
        items[n + "x" if rng.integers(2) else n.upper()] = items.pop(n)
    elif op == 2:
        items[f"extra{rng.integers(9)}.npy"] = items[n]
    elif op == 3:  # reorder or deflate: harmless
        order = rng.permutation(len(names))
        return rezip({names[i]: items[names[i]] for i in order},
                     int(rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))), w
    elif op == 4:  # a valid member holding another weight's array: loads where shapes agree
        other = names[int(rng.integers(1, len(names)))]
        items[n] = items[other]
        if n != META and w[n[:-4]].shape == w[other[:-4]].shape:
            return rezip(items), {**w, n[:-4]: w[other[:-4]]}
    elif op == 5:  # a header made of random choices: loads where they are save's
        key = names[int(rng.integers(1, len(names)))]
        shape = w[key[:-4]].shape
        descr = str(rng.choice(["<f4", "<f4", ">f4", "<f8", "|i1", "<c8", "<U4", "|O", "|V4"]))
        shapes = [shape, shape, shape[::-1], shape + (1,), (), (int(np.prod(shape)),),
                  (2**40,), (-1,) * len(shape)]
        shape_, fortran = shapes[int(rng.integers(len(shapes)))], bool(rng.integers(4) == 0)
        extra = int(rng.integers(-4, 5)) * int(rng.integers(2))
        payload = rng.bytes(4 * int(np.prod(shape)) + extra)
        items[key] = header(descr, shape_, fortran, [(1, 0), (2, 0)][rng.integers(2)]) + payload
        if (descr, shape_, fortran, extra) == ("<f4", shape, False, 0):
            return rezip(items), {**w, key[:-4]: np.frombuffer(payload, "<f4").reshape(shape)}
    else:  # metadata: drop, retype or replace one key; what still loads holds the same weights
        meta = json.loads(str(np.load(io.BytesIO(items[META]))))
        key = str(rng.choice(sorted(meta) + ["new"]))
        values = [None, -1, 2**64, 2**70, 1.5, "", "ResNet8", [], {}, [[[[1]]]], True, 0]
        if rng.integers(4) == 0:
            meta.pop(key, None)
        else:
            meta[key] = values[int(rng.integers(len(values)))]
        items[META] = npy(np.array(json.dumps(meta)))
        return rezip(items), w
    return rezip(items), None


def mutated(index):
    """Random mutation `index` (deterministic): (file bytes, weights it may load or None)."""
    rng = np.random.default_rng([index, 24])
    data, w = base(BASES[index % len(BASES)])
    if rng.integers(3):
        out, expect = _mutate_bytes(rng, data)
        return out, expect if expect is not None else w  # identical or refused
    return _mutate_members(rng, data, w)


def test_random_mutations(reads):
    seen = collections.Counter()
    for i in range(N_RANDOM):
        data, expect = mutated(i)
        try:
            seen[outcome(data, expect, may_load=expect is not None, reads=reads)] += 1
        except BaseException as e:
            raise AssertionError(f"mutated({i}): {type(e).__name__}: {e}") from e
    assert reads.excess <= 0
    print(f"\n{N_RANDOM} mutated files (ModelFileError's causes, or loaded): "
          f"{dict(seen.most_common())}; most decompressed from one member: {reads.worst[0]:,} "
          f"of {reads.worst[1]:,} declared bytes; most beyond a member's declared size: "
          f"{max(reads.excess, 0)}")


@pytest.mark.parametrize("path", [True, 1, np.int64(3), None, 2.5])
def test_paths_of_other_types_are_type_errors(path):
    """An int is never taken as a file descriptor (load(True) closed stdout)."""
    with pytest.raises(TypeError, match="path must be"):
        zoo.load(path)
    with pytest.raises(TypeError, match="path must be"):
        zoo.create("AnomalyDetectEdge").save(path)


# ---- int8 files (QuantizedModel.save) -------------------------------------------------------

RANGES = "__gaba_ranges__.npy"


def int8_outputs(qm, x):
    """qm's float and raw int8 outputs on x, by the fast and the reference kernels, as a
    dict of arrays viewed as unsigned ints (bit for bit comparisons)."""
    raw = {k: qm.quantize_input(v, k) if k in qm.input_qparams else v for k, v in x.items()}
    got = {}
    for ref in (False, True):
        qm._use_reference(ref)
        for kind, y in (("float", qm(x)), ("raw", qm(raw, raw=True))):
            for k, v in (y if isinstance(y, dict) else {"y": y}).items():
                got[kind, ref, k] = v.view(np.uint32 if v.dtype == np.float32 else np.uint8)
    qm._use_reference(False)
    return got


@pytest.mark.parametrize("requant", ("double", "fp32"))
@pytest.mark.parametrize("name", ("ResNet8", "SentimentAnalysisMicro", "EmotionRecogNano",
                                  "VoiceActivityMicro", "HealthMonitorNano", "MicroYOLONano"))
def test_int8_round_trip_bit_exact(name, requant, tmp_path):
    from gaba.benchmarks.bench_zoo import make_inputs

    m = zoo.create(name, seed=7)
    for v in m.weights.values():  # weights create does not give
        v *= 1.25
    qm = m.quantize(make_inputs(m, 8, 1), requant=requant)
    for v in m.weights.values():  # the file holds the weights quantize read, not these
        v *= -3.0
    path = tmp_path / "q.npz"
    qm.save(path)
    qm2 = zoo.load(path)
    assert type(qm2) is zoo.QuantizedModel
    assert (qm2.name, qm2.requant, qm2.weight_bytes) == (name, requant, qm.weight_bytes)
    assert (qm2.input_qparams, qm2.output_qparams) == (qm.input_qparams, qm.output_qparams)
    assert qm2.layer_dtypes == qm.layer_dtypes
    x = make_inputs(m, 3, 2)
    want, got = int8_outputs(qm, x), int8_outputs(qm2, x)
    assert want.keys() == got.keys()
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], str(k))
    # the float model inside is the one quantized, and saving again gives the same file
    assert type(zoo.load(io.BytesIO(saved_of(qm2._model)))) is zoo.Model
    buf = io.BytesIO()
    qm2.save(buf)
    assert members(buf.getvalue()) == members(path.read_bytes())


def saved_of(m):
    buf = io.BytesIO()
    m.save(buf)
    return buf.getvalue()


_QBASE = {}


def qbase():
    """A saved int8 ResNet8 (whose ranges hold some never reached: +inf, -inf)."""
    if not _QBASE:
        m = zoo.create("ResNet8", seed=3)
        qm = m.quantize(np.random.default_rng(0).standard_normal((4, 3, 32, 32), np.float32))
        buf = io.BytesIO()
        qm.save(buf)
        _QBASE["data"] = buf.getvalue()
    return _QBASE["data"]


def test_int8_file_layout():
    items = members(qbase())
    meta = json.loads(str(np.load(io.BytesIO(items[META]))))
    assert (meta["format"], meta["requant"]) == ("gaba.zoo.int8", "double")
    ranges = np.load(io.BytesIO(items[RANGES]))
    assert ranges.dtype == np.float32 and ranges.shape[0] == 2
    lo, hi = ranges
    empty = (lo == np.inf) & (hi == -np.inf)
    assert empty.any() and (lo[~empty] <= hi[~empty]).all() and np.isfinite(lo[~empty]).all()


def with_ranges(data, edit):
    items = members(data)
    r = np.load(io.BytesIO(items[RANGES])).copy()
    items[RANGES] = npy(edit(r))
    return rezip(items)


def _set(r, i, lo, hi):
    r[:, i] = lo, hi
    return r


def _first(r, empty):
    """The index of the first range that is (or is not) never reached."""
    return int(np.flatnonzero((r[0] == np.inf) == empty)[0])


@pytest.mark.parametrize("edit, match", [
    (lambda d: d[:len(d) // 2], "not a readable zip archive"),
    (lambda d: d[:-1], "not a readable zip archive"),
    (lambda d: rezip({k: v for k, v in members(d).items() if k != RANGES}),
     r"missing entries \['__gaba_ranges__.npy'\]"),
    (lambda d: with_ranges(d, lambda r: r.astype(np.float64)), "dtype <f8, expected <f4"),
    (lambda d: with_ranges(d, lambda r: r[:, 1:]), "has shape"),
    (lambda d: with_ranges(d, lambda r: r.T.copy()), "has shape"),
    (lambda d: with_member(d, "__gaba_ranges__", npy(np.load(io.BytesIO(
        members(d)[RANGES])))[:-4]), "declares"),
    (lambda d: with_ranges(d, lambda r: _set(r, _first(r, False), np.nan, 1.0)),
     "neither min <= max nor"),
    (lambda d: with_ranges(d, lambda r: _set(r, _first(r, True), -np.inf, np.nan)),
     "neither min <= max nor"),
    (lambda d: with_ranges(d, lambda r: _set(r, _first(r, False), 2.0, 1.0)),
     r"1 of the \d+ ranges in __gaba_ranges__ are neither min <= max nor \(\+inf, -inf\)"),
    (lambda d: with_meta(d, lambda m: json.dumps({**m, "requant": "triple"})),
     "has requant 'triple'; expected 'double' or 'fp32'"),
    (lambda d: with_meta(d, lambda m: json.dumps({**m, "requant": 1})),
     "'requant' is int, expected str"),
    (lambda d: with_meta(d, lambda m: json.dumps({k: v for k, v in m.items()
                                                   if k != "requant"})), "no 'requant'"),
    (lambda d: with_meta(d, lambda m: json.dumps({**m, "format": "gaba.zoo"})),
     "unexpected 'requant'"),
    (lambda d: with_meta(d, lambda m: json.dumps({**m, "format": "gaba.zoo.int4"})),
     "expected 'gaba.zoo' or 'gaba.zoo.int8'"),
])
def test_int8_damaged_files_are_refused(edit, match):
    with pytest.raises(gaba.ModelFileError, match=match):
        zoo.load(io.BytesIO(edit(qbase())))


def test_int8_members_in_float_files_are_refused():
    data, _ = base("ResNet8")
    ranges = members(qbase())[RANGES]
    with pytest.raises(gaba.ModelFileError, match=r"unexpected entries \['__gaba_ranges"):
        zoo.load(io.BytesIO(rezip({**members(data), RANGES: ranges})))
    with pytest.raises(gaba.ModelFileError, match="no 'requant'"):
        zoo.load(io.BytesIO(with_meta(data, lambda m: json.dumps(
            {**m, "format": "gaba.zoo.int8"}))))
    with pytest.raises(gaba.ModelFileError, match=r"missing entries \['__gaba_ranges"):
        zoo.load(io.BytesIO(with_meta(data, lambda m: json.dumps(
            {**m, "format": "gaba.zoo.int8", "requant": "fp32"}))))


def test_int8_ranges_edits_that_calibration_could_give_load():
    """Ranges calibration records on other data (min <= max, infinite ends, a range
    never reached) load, and quantize as Model.quantize would from them."""
    def edit(r):
        i = _first(r, False)
        r[:, i] = -np.inf, r[1, i]
        r[:, i + 1] = np.inf, -np.inf
        r[:, i + 2] = 0.0, 0.0
        return r
    data = with_ranges(qbase(), edit)
    qm = zoo.load(io.BytesIO(data))
    assert type(qm) is zoo.QuantizedModel
    buf = io.BytesIO()
    qm.save(buf)
    assert members(buf.getvalue())[RANGES] == members(data)[RANGES]


def test_int8_random_mutations(reads):
    """Mutated int8 files: each is refused (ModelFileError) or loads an int8 model."""
    data = qbase()
    seen = collections.Counter()
    for i in range(N_RANDOM // 3):
        rng = np.random.default_rng([i, 8])
        bad, _ = _mutate_bytes(rng, data)
        try:
            reads.active = True
            qm = zoo.load(io.BytesIO(bad))
            seen[type(qm).__name__] += 1
        except gaba.ModelFileError as e:
            seen[type(e.__cause__).__name__ if e.__cause__ else "ModelFileError"] += 1
    assert reads.excess <= 0 and seen["ModelFileError"] > 0
