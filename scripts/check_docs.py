"""Check that the repository's documentation resolves: `make lint` runs this.

* Every `§` citation in src/, tests/, bench/, docs/ and README.md names a document a reader
  of the repository can open (the aliases of docs/reference/README.md: ``contract §N`` for
  docs/reference/link-cli.md, ``mpp §N`` for docs/reference/mpp.md, or ``RFC NNNN §N``), and
  the section exists as a numbered heading there.
* No file points at documents outside the repository.
* docs/internals.md: every path and ``link_cli.…`` name it mentions exists, and its layout
  tree lists every package under src/link_cli/.
* Every ``link-cli <command>`` named in docs/*.md and README.md is a registered command.

Prints one line per problem (``path:line: what is wrong``) and exits 1 if there is any.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTION_SIGN = "\u00a7"
CITED_DOCUMENTS = {
    "contract": "docs/reference/link-cli.md",
    "mpp": "docs/reference/mpp.md",
}
SCANNED = ("src", "tests", "bench", "docs", "README.md")
SUFFIXES = {".py", ".md", ".html", ".txt", ".toml", ".cfg", ".ini", ".j2"}
# Documents that live outside the repository; a reader cannot open them (unless a page of
# that name is added under docs/).
OUTSIDE_DOCUMENTS = re.compile(
    r"shared/reference|/work/shared|\b(?:style|deps|design)\.md\b|link-cli-behavior"
)
NUMBER = r"\d+(?:\.\d+)*"
NAMED = re.compile(r"(?:\b(?P<doc>contract|mpp)|\bRFC ?\d+)\s+$", re.IGNORECASE)
LIST_SEPARATORS = {"–", "-", ", ", " and ", ", and "}
RANGE_END = re.compile(rf"[–-]{SECTION_SIGN}?(?P<end>{NUMBER})")
HEADING = re.compile(rf"^#{{1,6}}\s+(?P<number>{NUMBER})\.?\s")
TABLE_HEADER = re.compile(rf"^\|\s*(?P<doc>contract|mpp) {SECTION_SIGN}\s*\|", re.IGNORECASE)


def scanned_files() -> Iterator[Path]:
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            yield path
            continue
        for file in sorted(path.rglob("*")):
            if (
                file.is_file()
                and file.suffix in SUFFIXES
                and "__pycache__" not in file.parts
                and not any(part.endswith(".egg-info") for part in file.parts)
            ):
                yield file


def sections_of(document: str) -> set[str]:
    path = ROOT / document
    if not path.exists():
        return set()
    lines = path.read_text(encoding="utf-8").splitlines()
    return {m["number"] for line in lines if (m := HEADING.match(line))}


def check_citations(path: Path, text: str, sections: dict[str, set[str]]) -> list[str]:
    problems: list[str] = []
    where = path.relative_to(ROOT)
    table_doc: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        outside = OUTSIDE_DOCUMENTS.search(line)
        if outside and not (ROOT / "docs" / outside[0]).exists():
            problems.append(
                f"{where}:{number}: names a document outside the repository; "
                "cite docs/reference/ (contract §N, mpp §N) or say it in place"
            )
        header = TABLE_HEADER.match(line)
        if header:
            table_doc = header["doc"].lower()
            continue
        if table_doc and line.startswith("|"):
            cell = line.strip("|").split("|")[0].strip()
            if re.fullmatch(NUMBER, cell) and cell not in sections[table_doc]:
                problems.append(
                    f"{where}:{number}: table cites {table_doc} {SECTION_SIGN}{cell}, "
                    f"which {CITED_DOCUMENTS[table_doc]} has no heading for"
                )
            continue
        table_doc = None
        last_doc: str | None = None  # the document the previous citation on the line named
        last_end = 0  # where the previous citation's number (or range) ends
        for match in re.finditer(SECTION_SIGN, line):
            before = line[: match.start()]
            if line[match.start() - 1 : match.end() + 1] == f"`{SECTION_SIGN}`":
                continue  # the sign itself, as in docs/reference/README.md
            section = re.match(NUMBER, line[match.end() :])
            if section is None:
                problems.append(f"{where}:{number}: {SECTION_SIGN} without a section number")
                continue
            named = NAMED.search(before)
            if named:
                doc = named["doc"].lower() if named["doc"] else "rfc"
            elif last_doc is not None and line[last_end : match.start()] in LIST_SEPARATORS:
                doc = last_doc  # "contract §3.1–§3.4", "contract §6.1, §6.2 and §6.7"
            else:
                problems.append(
                    f"{where}:{number}: bare {SECTION_SIGN}{section[0]}: name the document "
                    f"(contract {SECTION_SIGN}N, mpp {SECTION_SIGN}N or RFC NNNN {SECTION_SIGN}N)"
                )
                continue
            last_doc = doc
            last_end = match.end() + section.end()
            tail = RANGE_END.match(line[last_end:])
            if tail and SECTION_SIGN not in tail[0]:
                last_end += tail.end()
            if doc == "rfc":
                continue  # public standards are not checked section by section
            cited = [section[0]]
            if tail:
                cited.append(tail["end"])
            problems.extend(
                f"{where}:{number}: {doc} {SECTION_SIGN}{n} has no heading "
                f"'{n} …' in {CITED_DOCUMENTS[doc]}"
                for n in cited
                if n not in sections[doc]
            )
    return problems


def check_all_citations() -> list[str]:
    sections = {alias: sections_of(document) for alias, document in CITED_DOCUMENTS.items()}
    problems = [
        f"{document}: missing (cited as '{alias} {SECTION_SIGN}N')"
        for alias, document in CITED_DOCUMENTS.items()
        if not (ROOT / document).exists()
    ]
    for path in scanned_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        problems.extend(check_citations(path, text, sections))
    return problems


# -- docs/internals.md --------------------------------------------------------------------

SOURCE = ROOT / "src" / "link_cli"
TREE_ENTRY = re.compile(r"^(?P<indent> *)(?P<name>[\w.-]+(?:/[\w.-]+)*/?)(?:\s{2,}(?P<text>.*))?$")


def layout_tree(text: str) -> list[tuple[int, str]]:
    """(line number, line) of the first fenced block under "## Layout"."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("## Layout")), None)
    if start is None:
        return []
    fences = [i for i in range(start, len(lines)) if lines[i].startswith("```")][:2]
    if len(fences) < 2:
        return []
    return [(i + 1, lines[i]) for i in range(fences[0] + 1, fences[1])]


def check_layout_tree(text: str) -> list[str]:
    problems: list[str] = []
    stack: list[tuple[int, Path]] = []  # (indent, directory)
    listed: set[Path] = set()
    for number, line in layout_tree(text):
        entry = TREE_ENTRY.match(line)
        if not line.strip() or entry is None:
            problems.append(f"docs/internals.md:{number}: layout line is not 'name  text'")
            continue
        indent = len(entry["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else ROOT
        name = entry["name"]
        path = parent / name.rstrip("/")
        if not path.exists():
            problems.append(
                f"docs/internals.md:{number}: layout names {path.relative_to(ROOT)}"
                f"{'/' if name.endswith('/') else ''}, which does not exist"
            )
        if name.endswith("/") and path.is_dir():
            problems.extend(
                f"docs/internals.md:{number}: layout says {path.relative_to(ROOT)}/ holds "
                f"{file}, which does not exist"
                for file in re.findall(r"\b\w+\.py\b", entry["text"] or "")
                if not any(path.rglob(file))
            )
        if name.endswith("/"):
            stack.append((indent, path))
            listed.add(path)
    if not listed:
        return ["docs/internals.md: no layout tree (a fenced block under '## Layout')"]
    for init in sorted(SOURCE.rglob("__init__.py")):
        package = init.parent
        if package != SOURCE and package not in listed:
            problems.append(
                f"docs/internals.md: layout tree lacks the package "
                f"{package.relative_to(ROOT)}/ (add a line for it)"
            )
    return problems


def resolves(name: str) -> bool:
    """A path (relative to src/link_cli, src or the root) or a dotted ``link_cli`` name."""
    if name.startswith("link_cli.") and "/" not in name:
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            base = ROOT / "src" / Path(*parts[:cut])
            module = base.with_suffix(".py") if base.with_suffix(".py").exists() else None
            if module is None and (base / "__init__.py").exists():
                module = base / "__init__.py"
            if module is None:
                continue
            rest = parts[cut:]
            if not rest:
                return True
            if len(rest) > 2:
                return False
            source = module.read_text(encoding="utf-8")
            return all(
                re.search(rf"^\s*(?:def|class|async def) {attr}\b|^\s*{attr}\b.*=", source, re.M)
                for attr in rest
            )
        return False
    bare = name.split("[")[0].rstrip("/")
    return any((base / bare).exists() for base in (SOURCE, ROOT / "src", ROOT))


def check_internals() -> list[str]:
    path = ROOT / "docs" / "internals.md"
    text = path.read_text(encoding="utf-8")
    problems = check_layout_tree(text)
    for number, line in enumerate(text.splitlines(), start=1):
        for token in re.findall(r"`([^`\s]+)`", line):
            looks_like_path = re.fullmatch(r"[\w.-]+(?:/[\w.-]*)+|[\w-]+\.py", token)
            looks_like_name = re.fullmatch(r"link_cli(?:\.\w+)+", token)
            if (looks_like_path or looks_like_name) and not resolves(token):
                problems.append(f"docs/internals.md:{number}: `{token}` does not exist")
    return problems


# -- commands named in the docs -----------------------------------------------------------


def registered_commands() -> set[tuple[str, ...]]:
    sys.path.insert(0, str(ROOT / "src"))
    from link_cli.commands import all_commands, all_groups

    return {c.path for c in all_commands()} | {g.path for g in all_groups()}


def code_in(text: str) -> Iterator[tuple[int, str]]:
    """(line number, code) for every code span and every line of a fenced block."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            yield number, line
        else:
            for span in re.findall(r"`([^`]+)`", line):
                yield number, span


def unknown_commands(text: str, known: set[tuple[str, ...]]) -> list[tuple[int, str]]:
    """(line number, command line) for each ``link-cli …`` in the code of ``text`` that
    names no registered command."""
    found: list[tuple[int, str]] = []
    for number, code in code_in(text):
        for match in re.finditer(r"(?<![\w/-])link-cli((?: [a-z][a-z-]*)+)", code):
            words = tuple(match[1].split())
            at_start = not code[: match.start()].strip(" $#")
            if not at_start and not any(p[0] == words[0] for p in known):
                continue  # prose such as "exposing link-cli as an MCP endpoint"
            command: tuple[str, ...] = ()
            for word in words:
                if any(p[: len(command) + 1] == (*command, word) for p in known):
                    command = (*command, word)
                else:
                    break
            group = any(len(p) > len(command) and p[: len(command)] == command for p in known)
            if command not in known or (group and len(command) < len(words)):
                found.append((number, f"link-cli {' '.join(words)}"))
    return found


def check_command_names() -> list[str]:
    known = registered_commands()
    return [
        f"{path.relative_to(ROOT)}:{number}: `{line}` is not a registered command"
        for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
        for number, line in unknown_commands(path.read_text(encoding="utf-8"), known)
    ]


def main() -> int:
    problems = check_all_citations() + check_internals() + check_command_names()
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
