"""docs/reliability.md cites tests that exist: every `path::name[id]` in its tables names a real test."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "reliability.md"
SECTIONS = ("The registry and its URLs", "Archives", "Files on the host", "Facts and tools", "Secrets")
CITATION = re.compile(r"`(tests/[^`:]+\.py)::([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\]`]+)\])?`")


def sections(text):
    """{heading: [table rows as lists of cells]} for every '## ' heading."""
    out, current = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            out[current] = []
        elif current and line.startswith("|") and not re.match(r"^\|\s*-+", line):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if cells[:3] != ["Case", "What happens", "Test"]:
                out[current].append(cells)
    return out


def citations(text):
    return CITATION.findall(text)


def check_citation(path, name, case_id, root=ROOT):
    """None when ``path`` holds a test function ``name`` (and the parametrize id), else why not."""
    source = root / path
    if not source.is_file():
        return "%s does not exist" % path
    code = source.read_text(encoding="utf-8")
    if not re.search(r"^def %s\(" % re.escape(name), code, re.MULTILINE):
        return "%s has no test function %s" % (path, name)
    if case_id and '"%s"' % case_id not in code:
        return "%s has no parametrize id %r for %s" % (path, case_id, name)
    return None


def test_the_doc_has_the_five_sections_in_order():
    found = list(sections(DOC.read_text(encoding="utf-8")))
    assert [heading for heading in found if heading in SECTIONS] == list(SECTIONS)


@pytest.mark.parametrize("heading", [h for h in SECTIONS if h != "Files on the host"])
def test_each_section_is_a_table_whose_rows_cite_a_test(heading):
    rows = sections(DOC.read_text(encoding="utf-8"))[heading]
    assert rows, heading
    for cells in rows:
        assert len(cells) == 3, cells
        # A row without a test says where the case is handled instead.
        assert CITATION.search(cells[2]) or "see" in cells[1].lower(), cells


def test_every_cited_test_exists():
    cited = citations(DOC.read_text(encoding="utf-8"))
    assert len(cited) >= 40
    problems = [problem for problem in (check_citation(*item) for item in cited) if problem]
    assert problems == []


@pytest.mark.parametrize("citation, words", [
    (("tests/unit/docs/no_such_file.py", "test_x", ""), "does not exist"),
    (("tests/unit/docs/test_reliability_doc.py", "test_no_such_test", ""), "no test function"),
    (("tests/unit/docs/test_reliability_doc.py", "test_every_cited_test_exists", "absent" + "-case"), "no parametrize id"),
])
def test_the_check_catches_a_missing_file_test_or_case(citation, words):
    assert words in check_citation(*citation)
