"""Checks a mesh from the nodes' `ikectl status --json` snapshots (tests/integration/lib/mesh.sh).

usage: mesh_check.py [--print] SNAPDIR NODE...

Every pair of the given nodes (two nodes of which neither has the other configured are not a
pair) must hold exactly one IKE SA and one CHILD SA pair, established on
both sides, with the same IKE SPIs and crosswise CHILD SPIs (a's inbound is b's outbound). Peers
that are not among the given nodes are ignored. Exit 0 when healthy; otherwise exit 1 with the
problems on stdout (also written to SNAPDIR/../mesh_check.last). --print writes one line per pair:
"A-B IKE_SPI_I IKE_SPI_R A_CHILD_IN A_CHILD_OUT".
"""

import json
import os
import sys


def main(argv):
    show = argv[:1] == ["--print"]
    if show:
        argv = argv[1:]
    snap, nodes = argv[0], argv[1:]
    status = {}
    for n in nodes:
        try:
            with open(os.path.join(snap, n + ".json")) as f:
                status[n] = {p["name"]: p for p in json.load(f).get("peers", [])}
        except (OSError, ValueError, KeyError) as e:
            status[n] = None
    problems, lines = [], []
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            sides = []
            if status[a] is not None and status[b] is not None and \
                    b not in status[a] and a not in status[b]:
                continue  # not a pair: neither node has the other configured
            for x, y in ((a, b), (b, a)):
                if status[x] is None:
                    problems.append(f"{x}: no status answer")
                    continue
                p = status[x].get(y)
                if p is None:
                    problems.append(f"{x}: no peer {y}")
                    continue
                ike = [s for s in p["ike_sas"]]
                child = [c for c in p["child_sas"]]
                if p["state"] != "established" or len(ike) != 1 or len(child) != 1:
                    problems.append(
                        f"{x}->{y}: state {p['state']}, {len(ike)} IKE SAs "
                        f"({','.join(s['state'] for s in ike)}), {len(child)} CHILD SAs, "
                        f"reason {p.get('last_error', '')!r}")
                    continue
                if ike[0]["state"] != "established" or child[0]["state"] != "installed":
                    problems.append(f"{x}->{y}: IKE SA {ike[0]['state']}, CHILD SA {child[0]['state']}")
                    continue
                sides.append((ike[0], child[0]))
            if len(sides) != 2:
                continue
            (ia, ca), (ib, cb) = sides
            if (ia["spi_i"], ia["spi_r"]) != (ib["spi_i"], ib["spi_r"]):
                problems.append(f"{a}-{b}: IKE SPIs differ: {ia['spi_i']}/{ia['spi_r']} vs "
                                f"{ib['spi_i']}/{ib['spi_r']}")
            elif ca["spi_in"] != cb["spi_out"] or ca["spi_out"] != cb["spi_in"]:
                problems.append(f"{a}-{b}: CHILD SPIs do not pair: {ca['spi_in']}/{ca['spi_out']} "
                                f"vs {cb['spi_in']}/{cb['spi_out']}")
            elif ia["initiator"] == ib["initiator"]:
                problems.append(f"{a}-{b}: both sides claim the same role")
            else:
                lines.append(f"{a}-{b} {ia['spi_i']} {ia['spi_r']} {ca['spi_in']} {ca['spi_out']}")
    with open(os.path.join(snap, "..", "mesh_check.last"), "w") as f:
        f.write("\n".join(problems) + "\n")
    if problems:
        print("\n".join(problems))
        return 1
    if show:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
