#!/usr/bin/env python3
"""Checks the folder layering against tests/lint/layers.txt (whose top says what it means).

  layering.py [SOURCE_ROOT] [--table FILE]   check; prints file:line for each violation, exits 1
  layering.py [SOURCE_ROOT] --graph          prints the room graph found (product code), exits 0

Reads every #include "..." of the .cc/.h files and every target_link_libraries of a CMake library
under the folders the table names. An include that names a top-level folder is read from the
source root; any other is relative to its file and stays in its room.
"""
import argparse
import collections
import os
import re
import sys

SOURCE_SUFFIXES = (".cc", ".h", ".mm")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
ADD_LIBRARY = re.compile(r"\badd_library\s*\(\s*([A-Za-z0-9_.+-]+)")
LINK_LIBRARIES = re.compile(r"\btarget_link_libraries\s*\(\s*([A-Za-z0-9_.+-]+)([^)]*)\)")


class TableError(Exception):
    pass


class Table:
    """The parsed layers.txt."""

    def __init__(self, text, name="layers.txt"):
        self.floors = []  # top first; each a list of rooms
        self.floor_of = {}  # room -> index into floors (0 is the top)
        self.only = {}  # room -> set of rooms
        self.entry = {}  # room -> set of header paths
        self.allow = {}  # (from, to) -> table line
        self.test_rooms = set()
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            where = f"{name}:{number}"
            if line.startswith("floor:"):
                rooms = line[len("floor:"):].split()
                for room in rooms:
                    self._claim(room, where)
                    self.floor_of[room] = len(self.floors)
                self.floors.append(rooms)
            elif line.startswith("tests:"):
                for room in line[len("tests:"):].split():
                    self._claim(room, where)
                    self.test_rooms.add(room)
            elif re.match(r"(only|entry)\s+\S+\s*:", line):
                kind, rest = line.split(None, 1)
                room, values = rest.split(":", 1)
                target = self.only if kind == "only" else self.entry
                if room.strip() in target:
                    raise TableError(f"{where}: a second '{kind}' line for '{room.strip()}'")
                target[room.strip()] = set(values.split())
            elif re.match(r"allow\s+\S+\s*->\s*\S+$", line):
                source, target = (part.strip() for part in line[len("allow"):].split("->"))
                self.allow[(source, target)] = where
            else:
                raise TableError(f"{where}: cannot read '{raw.strip()}'")
        for room in list(self.only) + list(self.entry) + [r for pair in self.allow for r in pair]:
            if room not in self.floor_of:
                raise TableError(f"{name}: '{room}' is on no floor")
        if not self.floors:
            raise TableError(f"{name}: no floors")

    def _claim(self, room, where):
        if room in self.floor_of or room in self.test_rooms:
            raise TableError(f"{where}: '{room}' is listed twice")

    def rooms(self):
        return set(self.floor_of) | self.test_rooms

    def room_of(self, path):
        """The room a path belongs to: the longest room that is a prefix of it, else a new name."""
        parts = path.split("/")
        for length in range(len(parts) - 1, 0, -1):
            candidate = "/".join(parts[:length])
            if candidate in self.rooms():
                return candidate
        # Unknown: a top folder that is a room's parent (runner/) splits into subfolder rooms.
        if any(room.startswith(parts[0] + "/") for room in self.rooms()) and len(parts) > 2:
            return "/".join(parts[:2])
        return parts[0]

    def floor_name(self, room):
        return " ".join(self.floors[self.floor_of[room]])

    def verdict(self, source, target, header, test):
        """None if `source` may use `target` (through `header`; None for a link), else why not."""
        if source == target:
            return None
        if target in self.test_rooms:
            return None if test else "product code uses a test room"
        if source in self.test_rooms:
            return None
        if target not in self.floor_of:
            return f"'{target}' is not in the table; add it to a floor"
        if source in self.only and target not in self.only[source]:
            allowed = " ".join(sorted(self.only[source]))
            return f"{source} may use only {allowed}"
        if (source, target) not in self.allow:
            if self.floor_of[target] == self.floor_of[source]:
                return f"sideways: both are on the floor '{self.floor_name(source)}'"
            if self.floor_of[target] < self.floor_of[source]:
                return f"upward: {target} is on a higher floor than {source}"
        if header and not test and target in self.entry and header not in self.entry[target]:
            allowed = " ".join(sorted(self.entry[target]))
            return f"{target} is entered only through {allowed}"
        return None


def is_test_file(path):
    name = os.path.basename(path)
    stem = name.rsplit(".", 1)[0]
    return (
        name.endswith("_test.cc")
        or stem.startswith(("test_", "fake_"))
        or "_test_" in stem
        or name == "golden.h"
        or name.endswith("_conformance.h")
    )


def walk(source_root, table):
    """Yields (relative path) of every file under the table's top-level folders."""
    tops = sorted({room.split("/")[0] for room in table.rooms()})
    for top in tops:
        base = os.path.join(source_root, top)
        for directory, subdirs, files in os.walk(base):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d != "node_modules")
            for name in sorted(files):
                yield os.path.relpath(os.path.join(directory, name), source_root)


class Use:
    """One include line or one linked library: the edge from one room to another."""

    def __init__(self, path, line, source, target, what, header, test):
        self.path, self.line, self.source, self.target = path, line, source, target
        self.what, self.header, self.test = what, header, test

    def where(self):
        return f"{self.path}:{self.line}"


def collect(source_root, table):
    tops = {room.split("/")[0] for room in table.rooms()}
    uses, unknown_rooms = [], {}
    libraries, link_lines = {}, []
    for path in walk(source_root, table):
        full = os.path.join(source_root, path)
        room = table.room_of(path)
        if path.endswith(SOURCE_SUFFIXES):
            test = is_test_file(path) or room in table.test_rooms
            if room not in table.rooms() and not test:
                unknown_rooms.setdefault(room, path)
            with open(full, encoding="utf-8", errors="replace") as f:
                for number, text in enumerate(f, 1):
                    match = INCLUDE.match(text)
                    if not match:
                        continue
                    header = match.group(1)
                    if header.split("/")[0] not in tops:
                        continue  # relative to its own file: the same room (or generated)
                    uses.append(Use(path, number, room, table.room_of(header),
                                    f"includes {header}", header, test))
                    if is_test_file(header) and not test:
                        uses[-1].what += " (a test file)"
                        uses[-1].target = "<test file>"
        elif os.path.basename(path) == "CMakeLists.txt":
            with open(full, encoding="utf-8", errors="replace") as f:
                text = re.sub(r"#[^\n]*", lambda m: " " * len(m.group(0)), f.read())
            for match in ADD_LIBRARY.finditer(text):
                libraries[match.group(1)] = room
            for match in LINK_LIBRARIES.finditer(text):
                link_lines.append((path, text, match, room))
    for path, text, match, room in link_lines:
        target_name = match.group(1)
        if target_name not in libraries:
            continue  # an executable: tests and the binary
        test = "test" in target_name or room in table.test_rooms
        for item in re.finditer(r"[A-Za-z0-9_.:+-]+", match.group(2)):
            linked = item.group(0)
            if linked not in libraries:
                continue
            number = text.count("\n", 0, match.start(2) + item.start()) + 1
            target = libraries[linked]
            what = f"{target_name} links {linked}"
            if ("test" in linked or target in table.test_rooms) and not test:
                target = "<test file>"
                what += " (a test library)"
            uses.append(Use(path, number, room, target, what, None, test))
    return uses, unknown_rooms


def cycles(edges):
    """Strongly connected components with more than one room (Tarjan)."""
    graph = collections.defaultdict(set)
    for source, target in edges:
        graph[source].add(target)
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def check(source_root, table, table_name):
    uses, unknown_rooms = collect(source_root, table)
    problems = []
    for room, path in sorted(unknown_rooms.items()):
        problems.append(f"{path}: room '{room}' is not in {table_name}; add it to a floor")
    for use in uses:
        if use.target == "<test file>":
            problems.append(f"{use.where()}: {use.source} {use.what}: product code uses test code")
            continue
        if use.source in unknown_rooms:
            continue  # reported once above
        why = table.verdict(use.source, use.target, use.header, use.test)
        if why:
            problems.append(f"{use.where()}: {use.source} -> {use.target}: {use.what}: {why}")
    product = [u for u in uses if not u.test and u.source != u.target
               and u.target != "<test file>" and u.target not in table.test_rooms]
    first = {}
    for use in product:
        first.setdefault((use.source, use.target), use)
    for component in cycles(first):
        members = set(component)
        arrows = [first[e] for e in sorted(first) if e[0] in members and e[1] in members]
        detail = "; ".join(f"{u.source} -> {u.target} at {u.where()}" for u in arrows)
        problems.append(f"circle between {', '.join(component)}: {detail}")
    for (source, target), where in sorted(table.allow.items()):
        if (source, target) not in first:
            problems.append(f"{where}: 'allow {source} -> {target}' is no longer used; remove it")
    return problems, first


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source_root", nargs="?", default=os.path.dirname(os.path.dirname(here)))
    parser.add_argument("--table", default=os.path.join(here, "layers.txt"))
    parser.add_argument("--graph", action="store_true", help="print the room graph and exit")
    args = parser.parse_args(argv)
    table_name = os.path.relpath(args.table, args.source_root)
    try:
        with open(args.table, encoding="utf-8") as f:
            table = Table(f.read(), table_name)
    except TableError as error:
        print(error)
        return 1
    problems, edges = check(args.source_root, table, table_name)
    if args.graph:
        counts = collections.Counter()
        for use in collect(args.source_root, table)[0]:
            if not use.test and use.source != use.target:
                counts[(use.source, use.target)] += 1
        for (source, target), count in sorted(counts.items()):
            print(f"{source} -> {target}  ({count})")
        return 0
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} layering problem(s); the table and its rules are in {table_name}")
        return 1
    print(f"layering holds: {len(edges)} arrows between {len(table.rooms())} rooms on "
          f"{len(table.floors)} floors")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
