#!/usr/bin/env python3
"""Writes src/api/protobuf_schema.inc: the protobuf field numbers, JSON names and types of the messages
the local API's protobuf request bodies can hold (the kinds tmcd serves and everything they contain),
read from the published Kubernetes API definitions (k8s.io/api and k8s.io/apimachinery generated.proto,
the version the test peers are built from). The numbers are facts of the wire format; the table is
tmcd's own compact format, parsed by src/api/protobuf.cc.

Usage: scripts/generate-protobuf-schema.py [GOMODCACHE]
       (default: ~/.cache/tmcd/gomod, where test/peers/build.sh keeps the Go module cache)"""
import pathlib
import re
import sys

API_VERSION = "v0.35.4"
MODCACHE = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path.home() / ".cache/tmcd/gomod")
FILES = [f"k8s.io/api@{API_VERSION}/{p}/generated.proto" for p in
         ("core/v1", "apps/v1", "rbac/v1", "authorization/v1", "autoscaling/v1")] + [
    f"k8s.io/apimachinery@{API_VERSION}/pkg/{p}/generated.proto" for p in
    ("apis/meta/v1", "runtime", "util/intstr", "api/resource")]
# The kinds whose bodies may arrive as protobuf: what the local API serves (src/api/resources.cc).
ROOTS = ["k8s.io.api.core.v1." + k for k in ("Namespace", "ConfigMap", "Secret", "ServiceAccount", "Service")] + \
        ["k8s.io.api.apps.v1.Deployment", "k8s.io.api.autoscaling.v1.Scale"] + \
        ["k8s.io.api.rbac.v1." + k for k in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")] + \
        ["k8s.io.api.authorization.v1." + k for k in ("SelfSubjectAccessReview", "SelfSubjectRulesReview")] + \
        ["k8s.io.apimachinery.pkg.runtime.Unknown", "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions"]
SCALARS = {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float"}
FIELD = re.compile(r"^\s*(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;", re.M)
MAP = re.compile(r"^\s*map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;", re.M)


def qualify(t, package):
    if t in SCALARS:
        return t
    return t[1:] if t.startswith(".") else f"{package}.{t}"


INLINE_TAG = re.compile(r'^\s*(\w+)\s+`json:",inline" protobuf:"([^"]*)"', re.M)


STRUCT = re.compile(r"^type (\w+) struct \{(.*?)^\}", re.M | re.S)
GO_FIELD = re.compile(r'^\s*\w+\s+(\*?)([\w.\[\]*]+)\s+`json:"([^"]*)"\s+protobuf:"([^"]*)"', re.M)


def omitted_zeros(rel):
    """(message, protobuf name) of the fields Go's JSON leaves out when zero and protobuf always carries:
    non-pointer scalars with omitempty ("", 0, false) and non-pointer fields with omitzero (a zero Time)."""
    types = MODCACHE / rel.replace("generated.proto", "types.go")
    out = set()
    if not types.exists():
        return out
    text = types.read_text()
    scalars = {"string", "bool", "int32", "int64", "types.UID"} | set(
        re.findall(r"^type (\w+) (?:string|bool|int32|int64)\s*$", text, re.M))
    for st in STRUCT.finditer(text):
        for f in GO_FIELD.finditer(st.group(2)):
            name = re.search(r"name=(\w+)", f.group(4))
            scalar = f.group(2) in scalars
            opts = f.group(3).split(",")[1:]
            if name and not f.group(1) and ("omitempty" in opts and scalar or "omitzero" in opts):
                out.add((st.group(1), name.group(1)))
    return out


def inline_fields(rel):
    """Protobuf names of the fields the Go types embed with json:",inline" (VolumeSource in Volume...):
    their members appear at the parent's level in JSON."""
    types = MODCACHE / rel.replace("generated.proto", "types.go")
    names = set()
    if types.exists():
        for m in INLINE_TAG.finditer(types.read_text()):
            name = re.search(r"name=(\w+)", m.group(2))
            names.add(name.group(1) if name else m.group(1)[0].lower() + m.group(1)[1:])
    return names


def parse():
    messages = {}
    for rel in FILES:
        inline = inline_fields(rel)
        zeros = omitted_zeros(rel)
        text = (MODCACHE / rel).read_text()
        text = re.sub(r"//[^\n]*", "", text)
        package = re.search(r"^package\s+([\w.]+);", text, re.M).group(1)
        for m in re.finditer(r"\nmessage (\w+) \{(.*?)\n\}", text, re.S):
            fields = []
            for f in FIELD.finditer(m.group(2)):
                card = "r" if f.group(1) == "repeated" else "i" if f.group(3) in inline else "o"
                if card == "o" and (m.group(1), f.group(3)) in zeros:
                    card = "z"
                fields.append((int(f.group(4)), f.group(3), card, qualify(f.group(2), package)))
            for f in MAP.finditer(m.group(2)):
                fields.append((int(f.group(4)), f.group(3), "m",
                               qualify(f.group(1), package) + ">" + qualify(f.group(2), package)))
            messages[f"{package}.{m.group(1)}"] = sorted(fields)
    return messages


def main():
    messages = parse()
    reachable, todo = set(), list(ROOTS)
    while todo:
        name = todo.pop()
        if name in reachable:
            continue
        if name not in messages:
            sys.exit(f"message {name} not found in {FILES}")
        reachable.add(name)
        for _, _, _, t in messages[name]:
            for part in t.split(">"):
                if part not in SCALARS:
                    todo.append(part)
    lines = []
    for name in sorted(reachable):
        fields = ";".join(f"{n},{json},{card},{t}" for n, json, card, t in messages[name])
        lines.append(f"{name}|{fields}")
    out = pathlib.Path(__file__).resolve().parents[1] / "src/api/protobuf_schema.inc"
    body = "\n".join(lines)
    out.write_text(
        f"// Generated by scripts/generate-protobuf-schema.py from k8s.io/api and k8s.io/apimachinery {API_VERSION}\n"
        "// generated.proto (field numbers are facts of the wire format). Do not edit.\n"
        "// One message per line: <full name>|<number>,<json name>,<o|z|r|m|i>,<type or key>value>;...\n"
        "// (o optional, z optional and left out of JSON when zero, r repeated, m map, i inlined in JSON as the\n"
        "// Go type's embedded struct)\n"
        f'R"schema(\n{body}\n)schema"\n')
    print(f"wrote {out} ({len(lines)} messages)")


if __name__ == "__main__":
    main()
