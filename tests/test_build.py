"""The graph built inside the store (app/build/build.py): the same content as the reference path
(read into lists, infer.py, pySHACL), and a disk store that a restart reuses while its inputs
are unchanged and rebuilds when they change."""

import gc
import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from app.build.build import BuildInfo, Recorded, input_digest
from app.build.graph import KnowledgeGraph, load
from app.build.load import SourceFiles
from app.config import ROOT, Settings
from app.errors import ValidationFailed
from app.store.graphs import GraphNames, content_hash

pytestmark = pytest.mark.slow  # builds, validates and reopens stores


def content(graph: KnowledgeGraph) -> dict[str, set[str]]:
    """Graph name -> its triples as N-Triples lines, blank nodes left out (their labels differ per parse)."""
    out: dict[str, set[str]] = {}
    for name, quads in graph.loaded.graphs.items():
        out[name] = {str(q.triple) for q in quads
                     if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode)}
    return out


def reference(settings: Settings) -> dict[str, set[str]]:
    loaded = load(settings)
    return {name: {str(q.triple) for q in quads
                   if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode)}
            for name, quads in loaded.graphs.items()}


def build(settings: Settings) -> KnowledgeGraph:
    graph = KnowledgeGraph.build(settings)
    return graph


@dataclass(frozen=True)
class Start:
    info: BuildInfo
    version: str
    triples: int
    content: dict[str, set[str]]
    conforms: bool | None  # None: not validated
    known_to_conform: bool  # KnowledgeGraph.conforms: validated now, or when the stored build was made


def start(settings: Settings) -> Start:
    """Start on ``settings`` as the service does, and close the store again (RocksDB allows one opener)."""
    graph = KnowledgeGraph.build(settings)
    assert graph.build_info is not None
    out = Start(graph.build_info, graph.version, graph.triples, content(graph),
                graph.report.conforms if graph.report else None, graph.conforms)
    graph.close()
    del graph
    gc.collect()
    return out


@pytest.mark.parametrize("base_iri", ["https://bjrd-kg.example.org", "http://example.com/kg"])
def test_build_in_memory_equals_reference(base_iri: str) -> None:
    settings = Settings(base_iri=base_iri)
    graph = build(settings)
    assert content(graph) == reference(settings)
    assert graph.triples == len({q.triple for q in load(settings).quads})
    assert graph.build_info is not None and not graph.build_info.reused


@pytest.mark.parametrize("engine", ["pyshacl", "sparql"])
def test_validation_engines_agree_on_the_article(engine: str) -> None:
    graph = build(Settings(shacl_engine=engine))
    assert graph.build_info is not None and graph.build_info.engine == engine
    assert graph.report is not None and graph.report.conforms


def copy_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    return data


def test_disk_restart_reuses_the_build_until_an_input_changes(tmp_path: Path) -> None:
    data = copy_data(tmp_path)
    settings = Settings(store=f"disk:{tmp_path / 'store'}", data_dir=data)
    first = start(settings)
    assert not first.info.reused and first.conforms
    assert first.content == reference(settings)

    second = start(settings)
    assert second.info.reused
    assert second.conforms is None  # not validated again
    assert second.known_to_conform  # but it was when built (recorded in the meta graph)
    assert (second.version, second.triples, second.content) == (first.version, first.triples, first.content)

    alt = ('<https://bjrd-kg.example.org/id/district/haidian> <http://www.w3.org/2004/02/skos/core#altLabel> '
           '"Haidian District"@en .')
    with (data / "districts.ttl").open("a", encoding="utf-8") as f:
        f.write(f"\n{alt}\n")
    third = start(settings)
    assert alt.removesuffix(" .") in third.content[GraphNames.for_base(settings.base_iri).data]
    assert not third.info.reused and third.conforms
    assert third.version != first.version
    # The version names the release (the content hash); the input digest is recorded beside it.
    assert third.info.digest == input_digest(settings, SourceFiles.from_settings(settings))
    assert third.version == content_hash(load(settings).quads)  # the reference path's version
    assert third.content == reference(settings)


def test_a_disk_build_not_validated_is_not_known_to_conform_after_a_restart(tmp_path: Path) -> None:
    """Writes to a graph known to conform are validated where they reach (app.writes.revalidate): a
    build made without validation must not pass for one."""
    settings = Settings(store=f"disk:{tmp_path / 'store'}", validate_on_start=False)
    first = start(settings)
    assert first.conforms is None and not first.known_to_conform
    second = start(settings)
    assert second.info.reused and not second.known_to_conform


def test_disk_build_that_does_not_conform_writes_nothing(tmp_path: Path) -> None:
    data = copy_data(tmp_path)
    districts = data / "districts.ttl"
    text = districts.read_text(encoding="utf-8")
    assert '"110108"' in text
    districts.write_text(text.replace('"110108"', '"999999"'), encoding="utf-8")
    store = tmp_path / "store"
    with pytest.raises(ValidationFailed, match="S01"):
        start(Settings(store=f"disk:{store}", data_dir=data))
    gc.collect()
    assert len(ox.Store.read_only(str(store))) == 0


def test_disk_restart_reads_the_api_answers_kept_for_its_version(tmp_path: Path) -> None:
    """The /api catalog's query answers are kept beside a disk store per version: a restart over the
    same version reads them (a changed kept label shows), a new version queries the store again."""
    from app.api.catalog import build_catalog
    from app.store.kept import DIRECTORY

    data = copy_data(tmp_path)
    settings = Settings(store=f"disk:{tmp_path / 'store'}", data_dir=data)
    kept = tmp_path / "store" / DIRECTORY

    def catalog() -> tuple[str, dict[str, str]]:
        graph = KnowledgeGraph.build(settings)
        try:
            built = build_catalog(graph)
            return graph.version, {d.id: d.label.en for d in built.districts.values()}
        finally:
            graph.close()
            del graph
            gc.collect()

    version, labels = catalog()
    assert labels["haidian"] == "Haidian District"
    files = sorted(p.name.split("-")[0] for p in kept.glob("*.json"))
    assert "districts" in files and "district_practices" in files and len(files) == 10

    (districts_file,) = kept.glob("districts-*.json")
    body = json.loads(districts_file.read_text(encoding="utf-8"))
    assert body["version"] == version
    for row in body["rows"]:
        if row["district"].endswith("/haidian"):
            row["label_en"] = "kept, not queried"
    districts_file.write_text(json.dumps(body), encoding="utf-8")
    assert catalog() == (version, {**labels, "haidian": "kept, not queried"})

    with (data / "districts.ttl").open("a", encoding="utf-8") as f:  # a new version
        f.write('\n<https://bjrd-kg.example.org/id/district/haidian> '
                '<http://www.w3.org/2004/02/skos/core#note> "a new version"@en .\n')
    new_version, new_labels = catalog()
    assert new_version != version and new_labels == labels
    assert not districts_file.exists() and len(list(kept.glob("districts-*.json"))) == 1


@pytest.mark.slow
def test_a_disk_build_reads_its_first_api_answers_from_the_copy_it_was_built_in(tmp_path: Path) -> None:
    """A disk store is built in memory first; the first /api answers are read from that copy (four
    times faster than RocksDB at 1M triples): every catalog query gives the same rows, in the same
    order, over both. A restart over the store has no copy (nothing was built)."""
    from app.api.catalog import CATALOG_QUERIES
    from app.build.graph import json_rows

    settings = Settings(store=f"disk:{tmp_path / 'store'}")
    graph = KnowledgeGraph.build(settings)
    reader = graph.built_reader()
    assert reader is not None
    for name in CATALOG_QUERIES:
        rows = json_rows(reader.select(graph.query(name).text))
        assert rows == graph.run(name), name
    graph.drop_built()
    assert graph.built_reader() is None
    graph.close()
    del graph, reader
    gc.collect()
    again = KnowledgeGraph.build(settings)
    assert again.build_info is not None and again.build_info.reused and again.built_reader() is None


@pytest.mark.parametrize("runs", [0, 1, 2, 7])
def test_content_hash_sorted_in_runs_equals_the_whole_sort(runs: int) -> None:
    """Above a run's size the hash sorts in spilled runs and merges them: the version must not
    change with the run size. Literals with line breaks, tabs and astral characters included."""
    quads = list(load(Settings()).quads)
    odd = [
        ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal(text))
        for text in ("a\nb", "a\r\nb", "tab\there", "𠀋 astral", "\u2028 line separator", "")
    ]
    quads += odd
    lines = sorted(re.sub(r"_:[A-Za-z0-9_.-]+", "_:", str(q)) for q in quads)
    expected = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    # runs=1: exactly one full run spilled and nothing left in memory; 0: no spill at all.
    run_lines = len(quads) // runs if runs else len(quads) + 1
    assert content_hash(quads, run_lines=run_lines) == expected
    assert content_hash(reversed(quads), run_lines=run_lines) == expected


def test_content_hash_sorts_in_memory_when_no_temporary_file_can_be_written(monkeypatch: pytest.MonkeyPatch,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    quads = list(load(Settings()).quads)
    expected = content_hash(quads, run_lines=len(quads) + 1)

    def read_only_file_system(*args: object, **kwargs: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only_file_system)
    assert content_hash(quads, run_lines=len(quads) // 3) == expected
    assert "cannot spill sorted runs" in caplog.text


class StoppedCopy:
    """A real store whose bulk load is stopped halfway (as SIGTERM or SIGKILL during start-up stops
    it): loads the first half of the file, then raises. It also notes what the file held."""

    def __init__(self, store: ox.Store, meta: ox.NamedNode) -> None:
        self.store, self.meta = store, meta
        self.loaded_meta: bool | None = None

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    def bulk_load(self, *, path: str, format: ox.RdfFormat) -> None:
        quads = list(ox.parse(path=path, format=format))
        self.loaded_meta = any(q.graph_name == self.meta for q in quads)
        self.store.extend(quads[: len(quads) // 2])
        raise RuntimeError("stopped halfway")


def test_a_copy_stopped_halfway_leaves_no_version_to_serve() -> None:
    """A disk store's first build is copied from memory by a bulk load, which is no transaction: the
    meta graph (the version that says 'a whole build is here') is written last, after the rest
    is loaded, so a copy stopped at any moment is built again at the next start."""
    from app.build.build import copy_store, record, recorded

    base = Settings().base_iri
    meta = ox.NamedNode(f"{base}/graph/meta")
    source = ox.Store()
    source.extend(ox.Quad(ox.NamedNode(f"urn:x:s{i}"), ox.NamedNode("urn:x:p"), ox.Literal(str(i)),
                          ox.NamedNode(f"{base}/graph/data")) for i in range(1_000))
    record(source, base, Recorded("digest", 1_000, True), "v1")
    target = ox.Store()
    record(target, base, Recorded("old", 1, True), "v0")  # an older whole build
    stopped = StoppedCopy(target, meta)
    with pytest.raises(RuntimeError):
        copy_store(source, stopped, base)  # type: ignore[arg-type]
    assert stopped.loaded_meta is False  # the version is not among what the bulk load writes
    assert not target.contains_named_graph(meta) and recorded(target, base).digest is None
    assert 0 < len(target) < 1_000
    assert recorded(source, base) == Recorded("digest", 1_000, True)  # the copy in memory is as it was
    copy_store(source, target, base)
    assert recorded(target, base) == Recorded("digest", 1_000, True)
    assert set(target) == set(source)
