"""The vendored front-end libraries match static/vendor/MANIFEST.json.

The files are copied from the npm registry (``npm pack``) and committed, so CI
needs no npm and pages never load anything from a CDN.
"""

import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
STATIC = ROOT / "static"
VENDOR = STATIC / "vendor"
TEMPLATES = ROOT / "templates"

CDN_MARKERS = ("cdn.", "unpkg", "jsdelivr")


def _manifest():
    return json.loads((VENDOR / "MANIFEST.json").read_text(encoding="utf-8"))


def _entry(name):
    entries = [e for e in _manifest() if e["name"] == name]
    assert len(entries) == 1, f"expected exactly one manifest entry for {name}"
    return entries[0]


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_manifest_entries_are_complete():
    manifest = _manifest()
    assert isinstance(manifest, list) and manifest
    for entry in manifest:
        for key in ("name", "version", "source", "license", "files"):
            assert entry.get(key), f"{entry.get('name')}: missing {key}"
        assert entry["source"].startswith("npm:")
        assert entry["source"].endswith("@" + entry["version"])
        assert entry["files"]


def test_every_manifest_file_exists_with_its_checksum():
    for entry in _manifest():
        for f in entry["files"]:
            path = STATIC / f["path"]
            assert path.is_file(), f"{entry['name']}: missing {f['path']}"
            assert _sha256(path) == f["sha256"], f"{entry['name']}: checksum of {f['path']}"


def test_every_vendored_file_is_in_the_manifest():
    listed = {f["path"] for e in _manifest() for f in e["files"]}
    on_disk = {
        p.relative_to(STATIC).as_posix()
        for p in VENDOR.rglob("*")
        if p.is_file() and p.name != "MANIFEST.json"
    }
    assert on_disk - listed == set(), "vendored files missing from MANIFEST.json"


def test_every_vendored_library_keeps_its_license():
    for entry in _manifest():
        dirs = {(STATIC / f["path"]).parent for f in entry["files"]}
        for d in dirs:
            assert (d / "LICENSE").is_file(), f"{entry['name']}: no LICENSE in {d}"


def test_versions_are_pinned_to_the_supported_lines():
    htmx = _entry("htmx")
    assert int(htmx["version"].split(".")[0]) == 2, "htmx must stay on 2.x (4.x breaks)"
    assert _entry("bootstrap")["version"].startswith("5.3.")
    assert int(_entry("echarts")["version"].split(".")[0]) == 5


def test_vendored_code_reports_the_manifest_version():
    """The manifest version is the version actually shipped."""
    checks = {
        "htmx": ("htmx.min.js", 'version:"{v}"'),
        "bootstrap": ("bootstrap.min.css", "v{v} "),
        "echarts": ("echarts.min.js", 'version="{v}"'),
    }
    for name, (filename, pattern) in checks.items():
        entry = _entry(name)
        (path,) = [STATIC / f["path"] for f in entry["files"] if f["path"].endswith("/" + filename)]
        assert pattern.format(v=entry["version"]) in path.read_text(encoding="utf-8")


def test_no_dangling_source_map_references():
    for entry in _manifest():
        for f in entry["files"]:
            if f["path"].endswith((".js", ".css")):
                text = (STATIC / f["path"]).read_text(encoding="utf-8")
                assert "sourceMappingURL" not in text, f["path"]


def test_templates_do_not_reference_a_cdn():
    if not TEMPLATES.is_dir():
        return
    offenders = []
    for path in sorted(TEMPLATES.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace").lower()
        offenders += [f"{path.relative_to(ROOT)}: {m}" for m in CDN_MARKERS if m in text]
    assert offenders == []
