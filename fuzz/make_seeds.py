#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/ike_message and fuzz/skf_reassembly.

Sources: the hand-written golden messages of tests/unit/wire/golden_messages.hpp, the real
strongSwan 5.9.8 captures of tests/vectors/strongswan/ (outer messages, and their decrypted inner
chains re-wrapped as plaintext SK bodies, which the harness seals under its fixed key), one
message sealed under the harness's fixed AES-GCM-16 key (key 0x42 * 16, salt 0x42424242), and a
few malformed messages. Run from the repository root: fuzz/make_seeds.py
"""
import pathlib
import re
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ROOT = pathlib.Path(__file__).resolve().parent.parent
MSG = ROOT / "fuzz/corpus/ike_message"
SKF = ROOT / "fuzz/corpus/skf_reassembly"


def golden(name):
    text = (ROOT / "tests/unit/wire/golden_messages.hpp").read_text()
    body = text[text.index(name):]
    body = body[body.index('R"(') + 3:body.index(')"')]
    return bytes.fromhex("".join(l.split("#")[0] for l in body.splitlines()))


def hexfile(path):
    return bytes.fromhex("".join(l for l in path.read_text().splitlines() if not l.startswith("#")))


def header(spi_i, spi_r, next_payload, exchange, flags, mid, length):
    return spi_i + spi_r + struct.pack(">BBBBII", next_payload, 0x20, exchange, flags, mid, length)


def sk_message(hdr_src, first, body, next_payload=46, extra=b""):
    payload = struct.pack(">BBH", first, 0, 4 + len(extra) + len(body)) + extra + body
    h = header(hdr_src[:8], hdr_src[8:16], next_payload, hdr_src[18], hdr_src[19],
               struct.unpack(">I", hdr_src[20:24])[0], 28 + len(payload))
    return h + payload


def write(folder, name, data):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def main():
    init = golden("ike_sa_init_request")
    chain = golden("ike_auth_inner_chain")
    write(MSG, "golden_ike_sa_init", init)
    auth_hdr = header(bytes(range(1, 9)), bytes(range(0x11, 0x19)), 46, 35, 0x08, 1, 0)
    write(MSG, "golden_ike_auth_plain_sk", sk_message(auth_hdr, 35, chain))
    write(MSG, "golden_ike_auth_skf_1of1", sk_message(auth_hdr, 35, chain, 53, b"\x00\x01\x00\x01"))
    write(MSG, "golden_ike_auth_skf_2of3", sk_message(auth_hdr, 0, chain[:40], 53, b"\x00\x02\x00\x03"))

    # Sealed under the harness's fixed key: header | SK header | IV | ct | tag, aad = first 32.
    iv = bytes(range(8))
    plain = chain + b"\x00"  # no padding, Pad Length 0
    total = 28 + 4 + 8 + len(plain) + 16
    h = header(bytes(range(1, 9)), bytes(range(0x11, 0x19)), 46, 35, 0x08, 1, total)
    aad = h + struct.pack(">BBH", 35, 0, total - 28)
    sealed = AESGCM(b"\x42" * 16).encrypt(b"\x42" * 4 + iv, plain, aad)
    write(MSG, "golden_ike_auth_sealed_fixed_key", aad + iv + sealed)

    for suite in sorted((ROOT / "tests/vectors/strongswan").iterdir()):
        if not suite.is_dir():
            continue
        for f in sorted(suite.glob("*.hex")):
            stem = f.name[: -len(".hex")]
            if stem.endswith(".plain"):
                continue
            outer = hexfile(f)
            write(MSG, f"strongswan_{suite.name}_{stem}", outer)
            plain_file = suite / (stem + ".plain.hex")
            if plain_file.exists():
                first = int(re.search(r"first payload type (\d+)", plain_file.read_text()).group(1))
                write(MSG, f"strongswan_{suite.name}_{stem}_plain_sk",
                      sk_message(outer, first, hexfile(plain_file)))

    critical = bytearray(init)
    critical[16] = 250  # first payload: unknown type...
    critical[29] = 0x80  # ...with the critical bit
    write(MSG, "bad_critical_unknown", bytes(critical))
    bad_version = bytearray(init)
    bad_version[17] = 0x30
    write(MSG, "bad_major_version", bytes(bad_version))
    write(MSG, "bad_truncated", init[:100])

    def record(mid, number, total, first, data):
        return struct.pack(">BHHBB", mid, number, total, first, len(data)) + data

    parts = [chain[:60], chain[60:120], chain[120:]]
    write(SKF, "in_order", b"".join(record(1, i + 1, 3, 35 if i == 0 else 0, p)
                                    for i, p in enumerate(parts)))
    write(SKF, "reverse_with_duplicate", record(1, 3, 3, 0, parts[2]) + record(1, 3, 3, 0, parts[2])
          + record(1, 2, 3, 0, parts[1]) + record(1, 1, 3, 35, parts[0]))
    write(SKF, "larger_total_replaces", record(1, 1, 2, 35, chain[:90]) + record(1, 1, 3, 35, parts[0])
          + record(1, 2, 2, 0, chain[90:]) + record(1, 2, 3, 0, parts[1]) + record(1, 3, 3, 0, parts[2]))
    write(SKF, "new_message_id", record(1, 1, 2, 35, parts[0]) + record(2, 2, 2, 0, parts[1])
          + record(2, 1, 2, 35, parts[0]))
    write(SKF, "invalid_numbers", record(1, 0, 2, 0, b"x") + record(1, 3, 2, 0, b"x")
          + record(1, 1, 0, 0, b"x") + record(1, 1, 200, 0, b"x"))
    write(SKF, "over_byte_limit", b"".join(record(1, i + 1, 16, 0, bytes(255)) for i in range(16)))


main()
