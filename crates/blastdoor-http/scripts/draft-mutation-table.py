#!/usr/bin/env python3
"""Prints a first draft of src/railway/table.rs rows for the mutation fields of schema.json that
the table lacks, by name heuristics. The output is a draft: every row is reviewed by hand
before it goes into the table (the table test lists the missing and extra fields)."""
import json, re, sys

schema = json.load(open(sys.argv[1]))["data"]["__schema"]
types = {t["name"]: t for t in schema["types"]}
fields = sorted(f["name"] for f in types["Mutation"]["fields"])

def kebab(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()

for name in fields:
    if re.search(r"(Delete|Remove|Destroy|Reset|Clear)", name):
        risk = "Destroy"
    elif re.search(r"(Token|Member|Permission|TwoFactor|twoFactor|Invit|Transfer)", name):
        risk = "Escalate"
    elif re.search(r"(Exec|Shell|startCommand)", name):
        risk = "Execute"
    else:
        risk = "Write"
    rule = "railway.write" if risk == "Write" else "railway." + kebab(name)
    print(f'    ("{name}", Risk::{risk}, "{rule}", ""),')
