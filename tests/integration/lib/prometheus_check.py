"""A small parser of the Prometheus text exposition format 0.0.4, strict enough for tests.

usage: prometheus_check.py FILE REQUIRED_FAMILY...

Every line is a `# HELP name text`, a `# TYPE name counter|gauge|...`, or a sample
`name{label="value",...} number`; a family's TYPE comes before its samples and at most once;
every sample belongs to a declared family (histogram/summary suffixes allowed); label values use
only the escapes \\ \" \n; no sample (name and labels) repeats. Exit 1 with the reason otherwise,
or when a required family is missing.
"""

import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*,?)?\}})? (\S+)(?: (-?\d+))?$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse(text):
    types, samples = {}, {}
    if not text.endswith("\n"):
        raise ValueError("text does not end with a newline")
    for n, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] == "TYPE":
                if parts[2] in types:
                    raise ValueError(f"line {n}: second TYPE for {parts[2]}")
                if len(parts) != 4 or parts[3] not in TYPES or not re.fullmatch(NAME, parts[2]):
                    raise ValueError(f"line {n}: bad TYPE line {line!r}")
                types[parts[2]] = parts[3]
            elif len(parts) >= 3 and parts[1] == "HELP":
                if not re.fullmatch(NAME, parts[2]):
                    raise ValueError(f"line {n}: bad HELP line {line!r}")
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError(f"line {n}: not a sample: {line!r}")
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name not in types and name.endswith(suffix):
                family = name[: -len(suffix)]
        if family not in types:
            raise ValueError(f"line {n}: sample of undeclared family {name}")
        v = float(value)  # accepts NaN, +Inf, -Inf as the format does
        if types[family] == "counter" and not (v >= 0 or math.isnan(v)):
            raise ValueError(f"line {n}: negative counter {line!r}")
        key = (name, tuple(sorted(re.findall(LABEL, labels))))
        if key in samples:
            raise ValueError(f"line {n}: repeated sample {line!r}")
        samples[key] = v
    return types, samples


def main(argv):
    try:
        types, samples = parse(open(argv[0]).read())
    except ValueError as e:
        print(f"prometheus_check: {e}")
        return 1
    missing = [f for f in argv[1:] if f not in types]
    if missing:
        print(f"prometheus_check: missing families: {', '.join(missing)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
