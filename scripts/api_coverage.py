#!/usr/bin/env python3
"""How much of Anaplan's API the functions reach.

Reads the operations the handler sends during the conformance tour
(tests/app/reached_operations.txt, kept equal to the tour by
tests/app/conformance.rs) and maps them onto the live-tested description of
Anaplan's APIs (default ../shared/reference/anaplan-openapi/, one
<api>/<api>-openapi.json per API). Prints, per API, the operations reached and
the total, and with --missing the operations not reached.

An operation is reached when the tour sends it. Anaplan serves many model
operations under two paths, /models/{modelId}/... and
/workspaces/{workspaceId}/models/{modelId}/...; the two answer alike, so when
either form is reached both count (the figure without that rule is printed too).

    python3 scripts/api_coverage.py [--description DIR] [--missing]
"""
import argparse
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
METHODS = ("get", "post", "put", "patch", "delete")

# Each API's base path on its host, as its description's servers give it; the
# emulator serves every API on one host under these prefixes.
PREFIXES = {
    "integration": "/2/0",
    "alm": "/2/0",
    "cloudworks": "/2/0",
    "scim": "/scim/1/0/v2",
    "administration": "/admin/1/0",
    "exception": "/admin/1/0",
    "audit": "/audit/api/1",
    "authentication": "",
    "oauth": "",
}

WS_MODEL = re.compile(r"^/workspaces/\{\}/models/\{\}(/.*)?$")


def shape(path):
    """A path with every parameter written {}, so names need not agree, and no trailing
    slash (the description writes one imports listing as .../imports/)."""
    return re.sub(r"\{[^}]*\}", "{}", path).rstrip("/") or "/"


def twin(path):
    """The other form of a model operation: /models/{}/x <-> /workspaces/{}/models/{}/x."""
    m = WS_MODEL.match(path)
    if m:
        return "/models/{}" + (m.group(1) or "")
    if path.startswith("/models/{}"):
        return "/workspaces/{}" + path
    return None


def load_description(directory):
    ops = {}  # (api, METHOD, shaped path) -> original path
    for f in sorted(glob.glob(os.path.join(directory, "*", "*-openapi.json"))):
        api = os.path.basename(os.path.dirname(f))
        doc = json.load(open(f, encoding="utf-8"))
        for path, item in doc.get("paths", {}).items():
            for method in item:
                if method in METHODS:
                    ops[(api, method.upper(), shape(path))] = path
    return ops


def load_reached(path):
    out = set()
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#"):
            method, template = line.split(" ", 1)
            out.add((method, shape(template)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--description", default=os.path.join(ROOT, "..", "shared", "reference", "anaplan-openapi"))
    ap.add_argument("--reached", default=os.path.join(ROOT, "tests", "app", "reached_operations.txt"))
    ap.add_argument("--missing", action="store_true", help="list the operations not reached")
    args = ap.parse_args()
    ops = load_description(args.description)
    if not ops:
        sys.exit(f"no *-openapi.json under {args.description}")
    reached_requests = load_reached(args.reached)

    direct = set()
    for (api, method, path) in ops:
        full = PREFIXES.get(api, "") + path
        if (method, full) in reached_requests:
            direct.add((api, method, path))
    unmapped = sorted(
        r for r in reached_requests if not any(r == (m, PREFIXES.get(a, "") + p) for (a, m, p) in ops)
    )
    with_twins = set(direct)
    for (api, method, path) in ops:
        t = twin(path)
        if t and (api, method, t) in direct:
            with_twins.add((api, method, path))

    apis = sorted({a for (a, _, _) in ops})
    print(f"{'API':<16}{'reached':>8}{'of':>5}")
    for api in apis:
        total = sum(1 for k in ops if k[0] == api)
        got = sum(1 for k in with_twins if k[0] == api)
        print(f"{api:<16}{got:>8}{total:>5}")
    n = len(ops)
    print(f"{'all':<16}{len(with_twins):>8}{n:>5}   {100 * len(with_twins) / n:.0f}% "
          f"(without counting twins: {len(direct)}, {100 * len(direct) / n:.0f}%)")
    if unmapped:
        print(
            "\nalso reached, documented outside the description (Anaplan's help pages; see the emulator's table):",
            *(f"  {m} {p}" for m, p in unmapped),
            sep="\n",
        )
    if args.missing:
        print("\nnot reached:")
        for key in sorted(set(ops) - with_twins):
            print(f"  {key[0]:<15} {key[1]:<7} {ops[key]}")


if __name__ == "__main__":
    main()
