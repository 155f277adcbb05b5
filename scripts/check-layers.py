#!/usr/bin/env python3
"""check-layers.py - the runtime's modules import downward only.

Reads every `crate::<module>` and `super::` path in runtime/src (comments and doc text
excluded), maps each to the top-level module it names, and fails when
  - two or more top-level modules import each other (a cycle, of any length), or
  - a module imports one of a higher layer (a leaf reaching a subsystem, a subsystem
    reaching the composition root), or
  - a top-level module is in no layer (a new module must be placed: docs/ARCHITECTURE.md).

    scripts/check-layers.py [SRC_DIR]      check (default: runtime/src)
    scripts/check-layers.py --self-test    plant each kind of problem in a copy of the tree and
                                           require it to be reported
    scripts/check-layers.py --graph        print each module's layer and imports
"""
import os
import re
import shutil
import sys
import tempfile

# The layers, lowest first; a module may import its own layer (without cycles) or lower ones.
LAYERS = [
    ("leaf", {"error", "vars", "env_value", "timestamp", "http_client", "metrics",
              "span_schema", "message", "propagation"}),
    ("subsystem", {"handler", "ws", "logs", "otlp", "alert", "privacy", "consent"}),
    ("composition", {"config", "telemetry"}),
]
ROOT_FILES = {"lib.rs"}

PATH = re.compile(r"\b(?:\$?crate)((?:::\w+)+)|\b((?:super::)+)(\w+)")
GROUP_START = re.compile(r"\b(\$?crate|(?:super::)*super)::\{")
# `super::*` is left alone: in a file's inline `mod tests` it names the file's own module.
GLOB = re.compile(r"\$?\bcrate::\*")
STRING = re.compile(r'r(#*)"(?:.|\n)*?"\1|b?"(?:[^"\\]|\\.)*"|\'(?:[^\'\\\n]|\\[^\']+)\'')


def strip_comments(text):
    """Removes string and char literals (a path in a message is not an import), then //
    comments (doc comments included) and /* */ blocks."""
    text = STRING.sub('""', text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(re.sub(r"//.*$", "", line) for line in text.split("\n"))


def group_items(text, start):
    """The top-level items of the `{...}` group opening at `start` (nested groups kept whole)."""
    depth, item, items = 0, "", []
    for ch in text[start:]:
        if ch == "{":
            depth += 1
            if depth == 1:
                continue
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        if ch == "," and depth == 1:
            items.append(item)
            item = ""
        else:
            item += ch
    items.append(item)
    return [i.strip() for i in items if i.strip()]


def root_reexports(src):
    """Names `lib.rs` re-exports (`pub use module::{a, b as c}`), mapped to their module: a
    path through the crate root's re-export is an import of that module."""
    path = os.path.join(src, "lib.rs")
    if not os.path.exists(path):
        return {}
    text = strip_comments(open(path, encoding="utf-8").read())
    names = {}
    for m in re.finditer(r"\bpub\s+use\s+(?:crate::)?(\w+)::([^;]*);", text):
        module, rest = m.group(1), m.group(2).strip()
        rest = rest[1:-1] if rest.startswith("{") else rest
        for item in rest.split(","):
            item = item.strip()
            if not item:
                continue
            alias = item.split(" as ")[-1].strip().split("::")[-1].strip("{} ")
            names[alias] = module
    return names


def top_module(src, path):
    rel = os.path.relpath(path, src).split(os.sep)
    name = rel[0]
    return name[:-3] if name.endswith(".rs") else name


def depth(src, path):
    """How many `super::` steps lead from this file's module to the crate root."""
    rel = os.path.relpath(path, src).split(os.sep)
    last = rel[-1]
    d = len(rel) - 1
    if last not in ("mod.rs",):
        d += 1
    return d


def edges(src):
    found = {}
    modules = set()
    reexports = root_reexports(src)
    globs = []
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            if os.path.relpath(path, src) in ROOT_FILES:
                continue
            me = top_module(src, path)
            modules.add(me)
            text = strip_comments(open(path, encoding="utf-8").read())
            targets = set()
            if GLOB.search(text):
                globs.append(path)
            for m in GROUP_START.finditer(text):
                prefix = m.group(1)
                if "crate" not in prefix and prefix.count("super") < depth(src, path):
                    continue
                for item in group_items(text, m.end() - 1):
                    name = re.split(r"::|\s", item)[0].strip()
                    if name:
                        targets.add(name)
            for m in PATH.finditer(text):
                if m.group(1):
                    targets.add(m.group(1).split("::")[1])
                else:
                    ups = m.group(2).count("super::")
                    if ups >= depth(src, path):
                        targets.add(m.group(3))
            for t in targets:
                t = t if t in modules or t not in reexports else reexports[t]
                if t != me:
                    found.setdefault(me, {}).setdefault(t, path)
    return modules, found, globs


def layer_of(module):
    for index, (_, names) in enumerate(LAYERS):
        if module in names:
            return index
    return None


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def check(src):
    modules, found, globs = edges(src)
    # Only edges between the crate's own top-level modules (not macros such as `classify`).
    graph = {m: {t: p for t, p in ts.items() if t in modules} for m, ts in found.items()}
    problems = []
    for path in globs:
        problems.append(f"glob import of the crate root in {os.path.relpath(path, src)}: "
                        f"it hides what the module imports; name the items")
    for module in sorted(modules):
        if layer_of(module) is None:
            problems.append(f"module `{module}` is in no layer: add it to LAYERS in "
                            f"scripts/check-layers.py and to docs/ARCHITECTURE.md")
    for component in cycles(graph):
        detail = "; ".join(f"{a} -> {b} ({os.path.relpath(graph[a][b], src)})"
                           for a in component for b in component if b in graph.get(a, {}))
        problems.append(f"import cycle between {', '.join(component)}: {detail}")
    for module, targets in sorted(graph.items()):
        mine = layer_of(module)
        for target, path in sorted(targets.items()):
            theirs = layer_of(target)
            if mine is not None and theirs is not None and theirs > mine:
                problems.append(
                    f"{LAYERS[mine][0]} `{module}` imports {LAYERS[theirs][0]} `{target}` "
                    f"({os.path.relpath(path, src)}): layers import downward only")
    return problems


# Each planted problem, in a copy of its own: (file, text appended, the report expected).
PLANTS = [
    ("privacy.rs", "\nuse crate::consent::Journal as _Planted;\n",
     "import cycle between consent, privacy"),
    ("timestamp.rs", "\nfn _planted() { let _ = crate::telemetry::init; }\n",
     "leaf `timestamp` imports composition `telemetry`"),
    ("metrics/names.rs", "\nuse super::super::{logs as _planted_logs};\n",
     "leaf `metrics` imports subsystem `logs`"),
    ("alert/mod.rs", "\nuse crate::{config::Config as _Planted};\n",
     "subsystem `alert` imports composition `config`"),
    ("stray.rs", "use crate::vars;\n", "module `stray` is in no layer"),
    ("timestamp.rs", "\nfn _planted() { let _ = crate::registry(); }\n",
     "leaf `timestamp` imports composition `telemetry`"),
    ("timestamp.rs", "\nuse crate::{error::InitError, config::Config as _P};\n",
     "leaf `timestamp` imports composition `config`"),
    ("timestamp.rs", "\nuse crate::{alert::{Severity as _S}, telemetry::init as _I};\n",
     "leaf `timestamp` imports composition `telemetry`"),
    ("timestamp.rs", "\n#[allow(unused_imports)]\nuse crate::*;\n",
     "glob import of the crate root"),
]


def self_test(src):
    failed = 0
    for file, text, expected in PLANTS:
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "src")
            shutil.copytree(src, copy)
            if check(copy):
                print("self-test: the real tree must pass before planting", file=sys.stderr)
                return 1
            with open(os.path.join(copy, file), "a", encoding="utf-8") as f:
                f.write(text)
            problems = check(copy)
        if not any(p.startswith(expected) for p in problems):
            failed += 1
            print(f"self-test FAILED: planting in {file} did not report `{expected}`; "
                  f"reported: {problems}", file=sys.stderr)
    if failed:
        return 1
    print(f"check-layers self-test: all {len(PLANTS)} planted problems reported")
    return 0


def graph_text(src):
    modules, found, _ = edges(src)
    lines = []
    for index, (name, names) in enumerate(LAYERS):
        for module in sorted(names & modules):
            targets = sorted(t for t in found.get(module, {}) if t in modules)
            lines.append(f"{name:12} {module:12} -> {', '.join(targets) or '(nothing)'}")
    return "\n".join(lines)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "runtime", "src")
    if sys.argv[1:] == ["--self-test"]:
        return self_test(default)
    if sys.argv[1:] == ["--graph"]:
        print(graph_text(default))
        return 0
    src = sys.argv[1] if len(sys.argv) > 1 else default
    problems = check(src)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print("check-layers: runtime/src imports downward only, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
