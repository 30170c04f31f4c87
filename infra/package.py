"""The template's functions for scripts/package.

  package.py binaries           each function's binary, one per line
  package.py layout BUILT OUT   checks each Handler against its binary and its zip in BUILT
                                (cargo-lambda's target/lambda), unpacks every bootstrap into
                                OUT/<binary>/ and writes OUT/template.yaml pointing there, as
                                `sam build` would; prints the sizes
"""
import re
import sys
import zipfile
from pathlib import Path

from cfnlint.decode import decode

TEMPLATE = Path(__file__).parent / "template.yaml"
LIMIT_MB = 3.0


def functions():
    template, problems = decode(str(TEMPLATE))
    if problems:
        sys.exit(f"{TEMPLATE} does not parse: {problems}")
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            properties = resource["Properties"]
            binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
            yield logical_id, binary, properties.get("Handler"), properties["CodeUri"]


def layout(built, out):
    text = TEMPLATE.read_text()
    problems, rows = [], []
    for logical_id, binary, handler, code_uri in functions():
        archive = built / str(binary) / "bootstrap.zip"
        if binary is None or handler != binary:
            problems.append(f"{logical_id}: Handler {handler!r} is not its binary {binary!r}")
            continue
        if not archive.is_file():
            problems.append(f"{logical_id}: {archive} was not built")
            continue
        folder = out / binary
        folder.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive) as zipped:
            if zipped.namelist() != ["bootstrap"]:
                problems.append(f"{logical_id}: {archive} holds {zipped.namelist()}, not one bootstrap")
                continue
            zipped.extract("bootstrap", folder)
        (folder / "bootstrap").chmod(0o755)
        text, replaced = re.subn(rf"(?m)^(\s*CodeUri:\s*){re.escape(code_uri)}\s*$", rf"\g<1>{binary}", text)
        if replaced != 1:
            problems.append(f"{logical_id}: CodeUri {code_uri} is not on a line of its own, once")
        rows.append((logical_id, binary, archive.stat().st_size / 1e6, (folder / "bootstrap").stat().st_size / 1e6))
    (out / "template.yaml").write_text(text)
    print(f"| function | binary | bootstrap.zip MB | bootstrap MB | ≤ {LIMIT_MB} MB |")
    print("|---|---|---|---|---|")
    for logical_id, binary, zipped, unzipped in rows:
        print(f"| {logical_id} | {binary} | {zipped:.2f} | {unzipped:.2f} | {'yes' if zipped <= LIMIT_MB else 'NO'} |")
    print(f"sam deploy --template-file {out / 'template.yaml'} uploads these folders")
    if problems:
        sys.exit("\n".join(problems))


if __name__ == "__main__":
    if sys.argv[1:] == ["binaries"]:
        print("\n".join(binary for _, binary, _, _ in functions() if binary))
    elif len(sys.argv) == 4 and sys.argv[1] == "layout":
        layout(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit(__doc__)
