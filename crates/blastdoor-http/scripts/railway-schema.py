#!/usr/bin/env python3
"""Writes data/railway-schema.json, the compact form of Railway's published schema that the
classifier walks (src/railway/schema.rs), from the introspection JSON in
test_data/railway-cli/schema.json. A test regenerates it in memory and compares, so the two
never drift apart.

Usage: scripts/railway-schema.py ../../test_data/railway-cli/schema.json > data/railway-schema.json

Format: {"types": {NAME: {"kind": KIND, "fields": {FIELD: {"type": TYPE, "args": {ARG:
{"type": TYPE, "default": DEFAULT}}}}}}}, where KIND is OBJECT, INTERFACE, UNION, INPUT_OBJECT,
ENUM or SCALAR, TYPE is written as in GraphQL (`[String!]!`), DEFAULT is the argument's default
value as GraphQL text or null, and an input object's fields are its input fields (no args)."""
import json
import sys


def type_ref(t):
    if t["kind"] == "NON_NULL":
        return type_ref(t["ofType"]) + "!"
    if t["kind"] == "LIST":
        return "[" + type_ref(t["ofType"]) + "]"
    return t["name"]


def main():
    schema = json.load(open(sys.argv[1]))["data"]["__schema"]
    types = {}
    for t in schema["types"]:
        if t["name"].startswith("__"):
            continue
        fields = {}
        for f in t.get("fields") or []:
            fields[f["name"]] = {
                "type": type_ref(f["type"]),
                "args": {
                    a["name"]: {"type": type_ref(a["type"]), "default": a.get("defaultValue")}
                    for a in f.get("args") or []
                },
            }
        for f in t.get("inputFields") or []:
            fields[f["name"]] = {
                "type": type_ref(f["type"]),
                "args": {},
                "default": f.get("defaultValue"),
            }
        entry = {"kind": t["kind"], "fields": fields}
        if t.get("possibleTypes"):
            entry["possible"] = sorted(p["name"] for p in t["possibleTypes"])
        types[t["name"]] = entry
    out = {
        "query": schema["queryType"]["name"],
        "mutation": (schema.get("mutationType") or {}).get("name"),
        "subscription": (schema.get("subscriptionType") or {}).get("name"),
        "types": types,
    }
    json.dump(out, sys.stdout, sort_keys=True, separators=(",", ":"))
    sys.stdout.write("\n")


main()
