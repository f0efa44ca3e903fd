"""Fails when a source file includes a folder above its own layer (ARCHITECTURE.md)."""
import pathlib
import re
import sys

# Each folder and the folders it may include (besides itself).
ALLOWED = {
    "base": set(),
    "json": {"base"},
    "storage": {"json", "base"},
    "catalog": {"json", "base"},
    "control": {"catalog", "json", "base"},
    "ingest": {"storage", "catalog", "json", "base"},
    "query": {"ingest", "storage", "catalog", "json", "base"},
    "api": {"control", "ingest", "query", "storage", "catalog", "json", "base"},
    "server": {"api", "control", "ingest", "query", "storage", "catalog", "json", "base"},
}

root = pathlib.Path(__file__).resolve().parent.parent / "src"
bad = []
for path in root.rglob("*"):
    if path.suffix not in (".h", ".cc"):
        continue
    layer = path.relative_to(root).parts[0]
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = re.match(r'#include "([a-z_]+)/', line)
        if m and m.group(1) != layer and m.group(1) not in ALLOWED[layer]:
            bad.append(f"{path}:{n}: {layer}/ must not include {m.group(1)}/")
if bad:
    print("\n".join(bad))
    sys.exit(1)
