"""Format checks of model files and the safe Vosk zip unpacking, on small real-format files."""
import io
import json
import os
import stat
import struct
import zipfile

import gguf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import model_formats as mf


# ---------------------------------------------------------------- builders


def write_gguf(path, endian=None):
    kwargs = {"endianess": endian} if endian is not None else {}
    writer = gguf.GGUFWriter(str(path), "llama", **kwargs)
    writer.add_string("general.name", "tiny test model")
    writer.add_uint8("t.u8", 7)
    writer.add_int8("t.i8", -7)
    writer.add_uint16("t.u16", 700)
    writer.add_int16("t.i16", -700)
    writer.add_uint32("llama.context_length", 512)
    writer.add_int32("t.i32", -70000)
    writer.add_float32("t.f32", 0.5)
    writer.add_uint64("t.u64", 2 ** 40)
    writer.add_int64("t.i64", -2 ** 40)
    writer.add_float64("t.f64", 0.25)
    writer.add_bool("t.bool", True)
    writer.add_array("tokenizer.ggml.tokens", ["<s>", "</s>", "hello", "wörld"])
    writer.add_array("tokenizer.ggml.scores", [0.0, -1.0, -2.0, -3.0])
    writer.add_tensor("tok_embd.weight", np.arange(64, dtype=np.float32).reshape(8, 8))
    writer.add_tensor("output.weight", np.ones((4, 8), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def gguf_header(version=3, tensors=0, kvs=0, body=b""):
    code = "I" if version == 1 else "Q"
    return b"GGUF" + struct.pack("<I", version) + struct.pack("<" + code + code, tensors, kvs) + body


def gguf_string(text, code="Q"):
    raw = text.encode("utf-8")
    return struct.pack("<" + code, len(raw)) + raw


def pb_varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def pb_field(number, payload=None, varint=None):
    if varint is not None:
        return pb_varint(number << 3) + pb_varint(varint)
    return pb_varint(number << 3 | 2) + pb_varint(len(payload)) + payload


def onnx_bytes(graph=b"\x0a\x04node" * 50):
    # ir_version 7, producer_name "piper", graph, opset_import {version 15}
    return (pb_field(1, varint=7) + pb_field(2, b"piper") + pb_field(7, graph)
            + pb_field(8, pb_field(2, varint=15)))


VOSK_FILES = {
    "am/final.mdl": b"acoustic model " * 200,
    "conf/model.conf": b"--sample-frequency=16000\n",
    "conf/mfcc.conf": b"--use-energy=false\n",
    "graph/HCLr.fst": b"fst " * 500,
    "graph/phones/word_boundary.int": b"1 nonword\n",
    "ivector/final.ie": b"ivector " * 100,
    "README": b"Vosk test model\n",
}


def write_zip(path, members, root="vosk-model-x/"):
    """``members``: name -> bytes, or name -> (bytes, unix mode) for special entries."""
    with zipfile.ZipFile(str(path), "w", zipfile.ZIP_DEFLATED) as archive:
        if root:
            archive.writestr(zipfile.ZipInfo(root), b"")
        for name, content in members.items():
            mode = stat.S_IFREG | 0o644
            if isinstance(content, tuple):
                content, mode = content
            info = zipfile.ZipInfo(root + name if not name.startswith("!") else name[1:])
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return path


def vosk_zip(tmp_path, root="vosk-model-x/", extra=None, name="model.zip"):
    members = dict(VOSK_FILES)
    members.update(extra or {})
    return write_zip(tmp_path / name, members, root)


# ---------------------------------------------------------------- GGUF


def test_a_real_gguf_passes(tmp_path):
    assert mf.check_gguf(str(write_gguf(tmp_path / "m.gguf"))) is None


def test_a_big_endian_gguf_passes(tmp_path):
    path = write_gguf(tmp_path / "be.gguf", endian=gguf.GGUFEndian.BIG)
    assert mf.check_gguf(str(path)) is None


def test_every_truncation_of_a_gguf_is_caught(tmp_path):
    data = write_gguf(tmp_path / "m.gguf").read_bytes()
    cut = tmp_path / "cut.gguf"
    for length in range(0, len(data), 7):
        cut.write_bytes(data[:length])
        problem = mf.check_gguf(str(cut))
        assert problem is not None, length
        assert str(cut) in problem


def test_a_gguf_cut_inside_the_tensor_data_names_the_tensor(tmp_path):
    data = write_gguf(tmp_path / "m.gguf").read_bytes()
    (tmp_path / "cut.gguf").write_bytes(data[:-10])
    problem = mf.check_gguf(str(tmp_path / "cut.gguf"))
    assert "truncated" in problem and "output.weight" in problem


def test_an_html_error_page_saved_as_gguf_is_named(tmp_path):
    page = tmp_path / "m.gguf"
    page.write_bytes(b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n")
    problem = mf.check_gguf(str(page))
    assert problem == "%s starts with '<!DOCTYPE html', not GGUF: probably an error page saved as a model." % page


@pytest.mark.parametrize("content, words", [
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\n", "Git LFS pointer"),
    (b'{"error": "Repository not found"}', "JSON error"),
    (b"", "is empty"),
    (b"GG", "only 2 bytes"),
    (b"PK\x03\x04\x14\x00\x00\x00", "50 4b 03 04"),
])
def test_other_wrong_files_are_described(tmp_path, content, words):
    path = tmp_path / "m.gguf"
    path.write_bytes(content)
    assert words in mf.check_gguf(str(path))


def test_unknown_version_is_refused(tmp_path):
    path = tmp_path / "m.gguf"
    path.write_bytes(gguf_header(version=4))
    assert "version 4" in mf.check_gguf(str(path))


def test_a_version_1_header_is_read_with_32_bit_counts(tmp_path):
    body = gguf_string("general.name", "I") + struct.pack("<I", 8) + gguf_string("v1", "I")
    path = tmp_path / "m.gguf"
    path.write_bytes(gguf_header(version=1, kvs=1, body=body))
    assert mf.check_gguf(str(path)) is None


@pytest.mark.parametrize("tensors, kvs", [(2 ** 60, 0), (0, 2 ** 62), (2 ** 64 - 1, 2 ** 64 - 1)])
def test_absurd_counts_are_refused_at_once(tmp_path, tensors, kvs):
    path = tmp_path / "m.gguf"
    path.write_bytes(gguf_header(tensors=tensors, kvs=kvs, body=b"\0" * 64))
    assert "more than the rest of the file can hold" in mf.check_gguf(str(path))


def test_an_absurd_string_length_is_refused_without_reading(tmp_path):
    body = gguf_string("general.name") + struct.pack("<I", 8) + struct.pack("<Q", 2 ** 63) + b"x" * 16
    path = tmp_path / "m.gguf"
    path.write_bytes(gguf_header(kvs=1, body=body))
    assert "general.name" in mf.check_gguf(str(path))


def test_an_absurd_array_of_strings_is_refused(tmp_path):
    body = gguf_string("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2 ** 40) + gguf_string("a")
    path = tmp_path / "m.gguf"
    path.write_bytes(gguf_header(kvs=1, body=body))
    assert "tokenizer.ggml.tokens" in mf.check_gguf(str(path))


def test_an_unknown_value_type_is_refused(tmp_path):
    path = tmp_path / "m.gguf"
    path.write_bytes(gguf_header(kvs=1, body=gguf_string("x.y") + struct.pack("<I", 99) + b"\0" * 8))
    assert "unknown value type 99" in mf.check_gguf(str(path))


def test_a_bad_alignment_is_refused(tmp_path):
    body = gguf_string("general.alignment") + struct.pack("<II", 4, 24)
    path = tmp_path / "m.gguf"
    path.write_bytes(gguf_header(kvs=1, body=body))
    assert "power of two" in mf.check_gguf(str(path))


def test_nested_arrays_are_walked(tmp_path):
    inner = struct.pack("<IQ", 4, 2) + struct.pack("<II", 1, 2)
    body = gguf_string("x.nested") + struct.pack("<IIQ", 9, 9, 2) + inner + inner
    path = tmp_path / "m.gguf"
    path.write_bytes(gguf_header(kvs=1, body=body))
    assert mf.check_gguf(str(path)) is None
    path.write_bytes(gguf_header(kvs=1, body=body[:-3]))
    assert "truncated" in mf.check_gguf(str(path))


def test_the_tensor_size_table_matches_gguf():
    expected = dict((int(t), sizes) for t, sizes in gguf.GGML_QUANT_SIZES.items())
    assert mf.GGML_BLOCK_SIZES == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=4))
def test_a_garbled_gguf_never_raises(tmp_path, flips):
    data = bytearray(write_gguf(tmp_path / "m.gguf").read_bytes())
    for position, value in flips:
        data[position % len(data)] = value
    (tmp_path / "g.gguf").write_bytes(bytes(data))
    problem = mf.check_gguf(str(tmp_path / "g.gguf"))
    assert problem is None or isinstance(problem, str)


# ---------------------------------------------------------------- Piper


def test_a_piper_onnx_passes(tmp_path):
    path = tmp_path / "v.onnx"
    path.write_bytes(onnx_bytes())
    assert path.read_bytes()[:2] == b"\x08\x07"
    assert mf.check_piper_onnx(str(path)) is None


def test_a_truncated_onnx_is_caught(tmp_path):
    path = tmp_path / "v.onnx"
    path.write_bytes(onnx_bytes()[:120])
    assert "truncated" in mf.check_piper_onnx(str(path))


@pytest.mark.parametrize("content, words", [
    (b"<html><body>Bad gateway</body></html>", "probably an error page"),
    (b"version https://git-lfs.github.com/spec/v1\n", "Git LFS pointer"),
    (b"\x12\x05piper", "not an ONNX model"),
    (pb_field(1, varint=7) + pb_field(2, b"piper"), "without a graph"),
    (pb_field(1, varint=5000) + pb_field(7, b"g"), "ir_version 5000"),
    (pb_field(1, varint=7) + b"\x0b", "wire type 3"),
])
def test_wrong_onnx_files_are_described(tmp_path, content, words):
    path = tmp_path / "v.onnx"
    path.write_bytes(content)
    assert words in mf.check_piper_onnx(str(path))


@pytest.mark.parametrize("config", [
    {"audio": {"sample_rate": 22050}, "phoneme_id_map": {"a": [1]}},
    {"audio": {"sample_rate": 16000}},
    {"phoneme_id_map": {"_": [0]}},
])
def test_piper_configs_pass(tmp_path, config):
    path = tmp_path / "v.onnx.json"
    path.write_text(json.dumps(config))
    assert mf.check_piper_config(str(path)) is None


@pytest.mark.parametrize("content, words", [
    ('{"audio": {"quality": "medium"}}', "without a positive 'sample_rate'"),
    ('{"espeak": {"voice": "en-us"}}', "neither audio.sample_rate nor phoneme_id_map"),
    ('[1, 2]', "not a JSON object"),
    ('{"audio": ', "not valid JSON"),
    ('<!DOCTYPE html><html></html>', "probably an error page"),
])
def test_wrong_piper_configs_are_described(tmp_path, content, words):
    path = tmp_path / "v.onnx.json"
    path.write_text(content)
    assert words in mf.check_piper_config(str(path))


# ---------------------------------------------------------------- Vosk zip: inspection


def test_a_vosk_zip_has_a_plan(tmp_path):
    problem, plan = mf.inspect_vosk_zip(str(vosk_zip(tmp_path)))
    assert problem is None
    assert plan["root"] == "vosk-model-x/"
    assert plan["files"] == len(VOSK_FILES)
    assert plan["bytes"] == sum(len(v) for v in VOSK_FILES.values())
    assert plan["skipped"] == []


def test_a_nested_vosk_folder_is_found(tmp_path):
    problem, plan = mf.inspect_vosk_zip(str(vosk_zip(tmp_path, root="x/x/", extra={"!x/NOTE.txt": b"outer"})))
    assert problem is None
    assert plan["root"] == "x/x/"
    assert plan["skipped"] == ["x/NOTE.txt"]


def test_a_zip_without_top_folder_works(tmp_path):
    problem, plan = mf.inspect_vosk_zip(str(vosk_zip(tmp_path, root="")))
    assert problem is None and plan["root"] == ""


@pytest.mark.parametrize("name, content, words", [
    ("!../evil.sh", b"x", "climbs out"),
    ("!vosk-model-x/am/../../../etc/cron.d/x", b"x", "climbs out"),
    ("!/etc/passwd", b"x", "absolute path"),
    ("!C:/windows/x", b"x", "absolute path"),
    ("am/link", (b"/etc/shadow", stat.S_IFLNK | 0o777), "symbolic link"),
    ("am/run", (b"x", stat.S_IFREG | 0o4755), "setuid"),
    ("am/grp", (b"x", stat.S_IFREG | 0o2755), "setgid"),
    ("am/fifo", (b"", stat.S_IFIFO | 0o644), "FIFO"),
    ("am/dev", (b"", stat.S_IFCHR | 0o644), "character device"),
])
def test_dangerous_members_are_refused(tmp_path, name, content, words):
    problem, plan = mf.inspect_vosk_zip(str(vosk_zip(tmp_path, extra={name: content})))
    assert plan is None
    assert "is refused" in problem and words in problem


def test_a_zip_bomb_is_refused_before_extracting(tmp_path):
    path = vosk_zip(tmp_path, extra={"graph/HCLG.fst": b"\0" * (2 * 1024 * 1024)})
    problem, plan = mf.inspect_vosk_zip(str(path), max_ratio=20)
    assert plan is None and "zip bomb" in problem


def test_the_expected_size_is_checked(tmp_path):
    path = vosk_zip(tmp_path)
    problem, _plan = mf.inspect_vosk_zip(str(path), expected_size=os.path.getsize(str(path)) + 1)
    assert "expected" in problem


@pytest.mark.parametrize("members, words", [
    ({"am/final.mdl": b"x"}, "no Vosk model"),
    (dict([("a/am/f", b"x"), ("a/conf/c", b"x"), ("b/am/f", b"x"), ("b/conf/c", b"x")]), "more than one"),
])
def test_a_zip_that_is_not_one_model_is_refused(tmp_path, members, words):
    problem, plan = mf.inspect_vosk_zip(str(write_zip(tmp_path / "m.zip", members, root="")))
    assert plan is None and words in problem


def test_an_error_page_saved_as_zip_is_named(tmp_path):
    path = tmp_path / "m.zip"
    path.write_bytes(b"<!DOCTYPE html><html>Too many requests</html>")
    problem, _plan = mf.inspect_vosk_zip(str(path))
    assert "not a zip archive: probably an error page" in problem


# ---------------------------------------------------------------- Vosk zip: extraction


def listing(top):
    found = {}
    for root, dirs, files in os.walk(str(top)):
        for name in dirs + files:
            full = os.path.join(root, name)
            found[os.path.relpath(full, str(top))] = stat.S_IMODE(os.lstat(full).st_mode)
    return found


@pytest.fixture
def strict_umask():
    old = os.umask(0o077)
    yield
    os.umask(old)


def test_a_nested_model_is_flattened_with_fixed_modes(tmp_path, strict_umask):
    path = vosk_zip(tmp_path, root="x/x/")
    _problem, plan = mf.inspect_vosk_zip(str(path))
    target = tmp_path / "models" / "vosk-model-x"
    target.parent.mkdir()
    problem, stats = mf.extract_vosk_zip(str(path), str(target), plan, plan["bytes"],
                                         marker={"sha256": "ab" * 32})
    assert problem is None
    assert stats == {"files": len(VOSK_FILES), "bytes": plan["bytes"]}
    found = listing(target)
    assert (target / "am" / "final.mdl").read_bytes() == VOSK_FILES["am/final.mdl"]
    assert found["am"] == 0o755 and found["graph/phones"] == 0o755
    assert found["am/final.mdl"] == 0o644 and found["README"] == 0o644
    assert json.loads((target / mf.VOSK_MARKER).read_text()) == {"sha256": "ab" * 32}
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o755
    assert os.listdir(str(target.parent)) == ["vosk-model-x"]


def test_an_existing_model_directory_is_replaced_whole(tmp_path):
    path = vosk_zip(tmp_path)
    _problem, plan = mf.inspect_vosk_zip(str(path))
    target = tmp_path / "vosk-model-x"
    (target / "am").mkdir(parents=True)
    (target / "stale-file").write_bytes(b"old")
    problem, _stats = mf.extract_vosk_zip(str(path), str(target), plan, plan["bytes"])
    assert problem is None
    assert not (target / "stale-file").exists()
    assert (target / "conf" / "model.conf").exists()
    assert sorted(os.listdir(str(tmp_path))) == ["model.zip", "vosk-model-x"]


def test_extraction_stops_past_max_bytes_and_leaves_nothing(tmp_path):
    path = vosk_zip(tmp_path)
    _problem, plan = mf.inspect_vosk_zip(str(path))
    target = tmp_path / "vosk-model-x"
    target.mkdir()
    (target / "keep").write_bytes(b"old model")
    problem, stats = mf.extract_vosk_zip(str(path), str(target), plan, 1000)
    assert stats is None and "more than 1000 bytes" in problem
    assert os.listdir(str(target)) == ["keep"]
    assert sorted(os.listdir(str(tmp_path))) == ["model.zip", "vosk-model-x"]


def test_extraction_checks_members_again(tmp_path):
    good = vosk_zip(tmp_path)
    _problem, plan = mf.inspect_vosk_zip(str(good))
    evil = vosk_zip(tmp_path, name="evil.zip", extra={"am/link": (b"/etc/shadow", stat.S_IFLNK | 0o777)})
    problem, _stats = mf.extract_vosk_zip(str(evil), str(tmp_path / "out"), plan, 10 ** 6)
    assert "symbolic link" in problem
    assert not (tmp_path / "out").exists()


def test_a_corrupt_member_fails_cleanly(tmp_path):
    path = vosk_zip(tmp_path)
    _problem, plan = mf.inspect_vosk_zip(str(path))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("vosk-model-x/am/final.mdl")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for offset in range(start + 2, start + 12):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    problem, _stats = mf.extract_vosk_zip(str(path), str(tmp_path / "out"), plan, 10 ** 6)
    assert problem is not None
    assert sorted(os.listdir(str(tmp_path))) == ["model.zip"]


def test_the_part_file_sits_beside_its_destination():
    assert mf.part_path("/m/llm/x.gguf", "gguf") == "/m/llm/.x.gguf.part"
    assert mf.part_path("/m/stt/vosk-model-x/", "vosk-zip") == "/m/stt/.vosk-model-x.zip.part"


def test_a_marker_is_read_only_when_it_is_a_json_object(tmp_path):
    assert mf.read_marker(str(tmp_path)) is None
    (tmp_path / mf.VOSK_MARKER).write_text("[1]")
    assert mf.read_marker(str(tmp_path)) is None
    (tmp_path / mf.VOSK_MARKER).write_text('{"sha256": "ab", "size": 3}')
    assert mf.read_marker(str(tmp_path)) == {"sha256": "ab", "size": 3}
