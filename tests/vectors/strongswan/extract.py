#!/usr/bin/python3
"""Turn one strongSwan capture run into test vectors, and check them.

Input: the pcap of the IKE traffic between two charons, both charons' logs at `ike 4` (which
print the Diffie-Hellman secret, SKEYSEED, the SK_* keys and the AUTH computation), and what the
run was configured with (PSK, identities, proposals). Output, in OUTDIR:

  NN_<exchange>_<request|response>.hex   each IKE message as sent on the wire (UDP payload, the
                                         non-ESP marker of port 4500 removed), hex, 16 octets a
                                         line, with a '#' header saying what it is
  keys.txt                               'key = value' lines (values hex unless noted)
  capture.pcap                           the raw capture

Check: an independent computation (Python, hmac and the `cryptography` package) of SKEYSEED and
SK_* from the logged DH secret and the messages' nonces and SPIs (RFC 7296 2.14), of the IKE rekey
(2.18) and of the CHILD SA KEYMAT (2.17); decryption of every SK payload (RFC 5282 for AES-GCM,
RFC 7296 3.14 for AES-CBC with HMAC); the PSK AUTH values (2.15) against the AUTH payloads. The
run fails if anything disagrees, so committed vectors are known to be consistent.
"""
import argparse
import hashlib
import hmac
import re
import struct
import sys
from pathlib import Path

EXCHANGES = {34: "IKE_SA_INIT", 35: "IKE_AUTH", 36: "CREATE_CHILD_SA", 37: "INFORMATIONAL"}
# RFC 7296 3.2 payload types used here
PT_SA, PT_KE, PT_IDI, PT_IDR, PT_AUTH, PT_NONCE, PT_NOTIFY, PT_DELETE = 33, 34, 35, 36, 39, 40, 41, 42
PT_TSI, PT_TSR, PT_SK = 44, 45, 46
FLAG_INITIATOR, FLAG_RESPONSE = 0x08, 0x20


def fail(msg):
    print(f"extract: FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


# --- pcap --------------------------------------------------------------------------------------
def read_pcap(path):
    """Yields (src, sport, dst, dport, udp payload) of the UDP datagrams in a classic pcap."""
    data = Path(path).read_bytes()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        fail(f"{path}: not a classic pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:  # Ethernet
            ethertype, l3 = struct.unpack("!H", frame[12:14])[0], frame[14:]
        elif linktype == 113:  # Linux cooked v1
            ethertype, l3 = struct.unpack("!H", frame[14:16])[0], frame[16:]
        else:
            fail(f"unsupported pcap link type {linktype}")
        if ethertype == 0x0800 and l3[9] == 17:
            ihl = (l3[0] & 0x0F) * 4
            src, dst, l4 = ".".join(map(str, l3[12:16])), ".".join(map(str, l3[16:20])), l3[ihl:]
        elif ethertype == 0x86DD and l3[6] == 17:
            import ipaddress
            src = str(ipaddress.IPv6Address(l3[8:24]))
            dst = str(ipaddress.IPv6Address(l3[24:40]))
            l4 = l3[40:]
        else:
            continue
        sport, dport, ulen = struct.unpack("!HHH", l4[:6])
        yield src, sport, dst, dport, l4[8:ulen]


def ike_messages(pcap):
    """The IKE messages in capture order, with the port-4500 non-ESP marker removed."""
    out = []
    for src, sport, dst, dport, payload in read_pcap(pcap):
        if 4500 in (sport, dport):
            if len(payload) == 1 and payload == b"\xff":
                continue  # NAT-T keepalive
            if payload[:4] != b"\0\0\0\0":
                continue  # ESP in UDP, not IKE
            payload = payload[4:]
        if len(payload) < 28:
            continue
        out.append({"src": f"{src}[{sport}]", "dst": f"{dst}[{dport}]", "raw": payload})
    return out


def parse_header(raw):
    spi_i, spi_r, np, ver, exch, flags, msgid, length = struct.unpack("!8s8sBBBBII", raw[:28])
    if length != len(raw):
        fail(f"IKE length {length} != datagram {len(raw)}")
    return {"spi_i": spi_i, "spi_r": spi_r, "np": np, "exchange": exch, "flags": flags,
            "msgid": msgid}


def payloads(data, first):
    """[(type, critical-bit byte, body)] of a payload chain."""
    out, np, off = [], first, 0
    while np != 0:
        nxt, crit, length = struct.unpack("!BBH", data[off:off + 4])
        if length < 4 or off + length > len(data):
            fail("bad payload length")
        out.append((np, data[off:off + 4], data[off + 4:off + length]))
        np, off = nxt, off + length
    return out


# --- charon logs ---------------------------------------------------------------------------------
def log_dumps(path):
    """[(label, bytes)] of every '%B' hex dump charon logged at IKE level, in order."""
    raw = Path(path).read_bytes()
    if path.endswith(".gz"):
        import gzip
        raw = gzip.decompress(raw)
    lines = raw.decode(errors="replace").splitlines()
    head = re.compile(r"^\S+ (\d+)\[IKE\] (?:<[^>]*> )?(.*?) => (\d+) bytes @ 0x[0-9a-f]+$")
    out = []
    for i, line in enumerate(lines):
        m = head.match(line)
        if not m:
            continue
        thread, label, n = m.group(1), m.group(2), int(m.group(3))
        body = re.compile(r"^\S+ " + thread + r"\[IKE\] (?:<[^>]*> )?\s*\d+: ((?:[0-9A-F]{2} )+)")
        data = bytearray()
        j = i + 1
        while len(data) < n and j < len(lines):
            b = body.match(lines[j])
            if b:
                data += bytes.fromhex(b.group(1))
            j += 1
        if len(data) < n:
            fail(f"{path}: short dump for {label}")
        out.append((label, bytes(data[:n])))
    return out


def logged(dumps, label):
    return [v for k, v in dumps if k == label]


# --- IKEv2 key schedule (RFC 7296 2.13, 2.14, 2.17, 2.18), HMAC-SHA2-256 only -------------------
def prf(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def prf_plus(key, seed, n):
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = prf(key, t + seed + bytes([i]))
        out += t
        i += 1
    return out[:n]


SUITES = {
    # name: (SK_a length, SK_e length, IV length, ICV length, aead)
    "aes128gcm16": (0, 20, 8, 16, True),
    "aes256gcm16": (0, 36, 8, 16, True),
    "aes256-sha256": (32, 32, 16, 16, False),
    "aes128-sha256": (32, 16, 16, 16, False),
}


def split_keys(keymat, suite):
    a, e = SUITES[suite][0], SUITES[suite][1]
    names, sizes = ["sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr"], [32, a, a, e, e, 32, 32]
    out, off = {}, 0
    for name, size in zip(names, sizes):
        out[name], off = keymat[off:off + size], off + size
    return out


def decrypt_sk(raw, keys, suite, from_initiator):
    """Plaintext payload chain (and its first payload type) of a message's SK payload."""
    hdr = parse_header(raw)
    if hdr["np"] != PT_SK:
        fail("message has no SK payload first")
    sk_len = struct.unpack("!H", raw[30:32])[0]
    a_len, e_len, iv_len, icv_len, aead = SUITES[suite]
    body = raw[32:28 + sk_len]
    iv, ct, icv = body[:iv_len], body[iv_len:-icv_len], body[-icv_len:]
    ek = keys["sk_ei" if from_initiator else "sk_er"]
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    if aead:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        # RFC 5282 5.1: nonce = salt | IV; AAD = IKE header and SK payload header, IV excluded.
        key, salt = ek[:-4], ek[-4:]
        plain = AESGCM(key).decrypt(salt + iv, ct + icv, raw[:32])
    else:
        ak = keys["sk_ai" if from_initiator else "sk_ar"]
        want = hmac.new(ak, raw[:-icv_len], hashlib.sha256).digest()[:icv_len]
        if want != icv:
            fail("integrity checksum mismatch")
        d = Cipher(algorithms.AES(ek), modes.CBC(iv)).decryptor()
        plain = d.update(ct) + d.finalize()
    pad = plain[-1]
    return plain[:-1 - pad], raw[28]


def hexlines(data, indent=""):
    return "\n".join(indent + " ".join(f"{b:02x}" for b in data[i:i + 16])
                     for i in range(0, len(data), 16))


# --- the run ---------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--log-initiator", required=True)
    ap.add_argument("--log-responder", required=True)
    ap.add_argument("--psk", required=True)
    ap.add_argument("--id-i", required=True)
    ap.add_argument("--id-r", required=True)
    ap.add_argument("--ike", required=True, help="IKE proposal, strongSwan notation")
    ap.add_argument("--esp", required=True, help="ESP proposal, strongSwan notation")
    ap.add_argument("--xfrm", action="append", default=[],
                    help="`ip xfrm state` of the initiator, to cross-check CHILD keys (repeatable)")
    ap.add_argument("--note", action="append", default=[])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    suite = "-".join(args.ike.split("-")[:2]) if "gcm" not in args.ike else args.ike.split("-")[0]
    if suite not in SUITES:
        fail(f"no cipher suite {suite}")
    psk = args.psk.encode()
    msgs = ike_messages(args.pcap)
    if not msgs:
        fail("no IKE messages in the capture")
    dumps_i = log_dumps(args.log_initiator)
    dumps_r = log_dumps(args.log_responder)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.hex"):
        old.unlink()
    keys_txt = [
        "# strongSwan 5.9.8 capture: see README.md beside this folder. Values hex unless noted.",
        *[f"# {n}" for n in args.note],
        f"ike_proposal = {args.ike} (text)",
        f"esp_proposal = {args.esp} (text)",
        f"psk = {psk.hex()}",
        f"psk_text = {args.psk} (text)",
        f"id_i = FQDN {args.id_i} (text)",
        f"id_r = FQDN {args.id_r} (text)",
    ]

    # Walk the exchanges in order, keeping the IKE SA's state as RFC 7296 defines it.
    sa = None  # {"spi_i", "spi_r", "ni", "nr", "keys"}
    init_req = init_resp = None
    auth_payloads = {}
    kinds = {}  # (SPIi, message id) of a CREATE_CHILD_SA request -> its kind
    children = {}  # kind -> {"ni", "nr", "spi_i", "spi_r", "sk_d"}
    rekey = None
    n_file = 0
    dh_i = logged(dumps_i, "shared Diffie Hellman secret")
    dh_r = logged(dumps_r, "shared Diffie Hellman secret")
    if dh_i != dh_r:
        fail("the two charons logged different DH secrets")
    seeds_i = logged(dumps_i, "SKEYSEED")
    for m in msgs:
        raw = m["raw"]
        h = parse_header(raw)
        exch = EXCHANGES.get(h["exchange"], str(h["exchange"]))
        is_resp = bool(h["flags"] & FLAG_RESPONSE)
        from_orig_initiator = bool(h["flags"] & FLAG_INITIATOR)
        n_file += 1
        name = f"{n_file:02d}_{exch.lower()}_{'response' if is_resp else 'request'}"
        summary = []
        if exch == "IKE_SA_INIT":
            pl = payloads(raw[28:], h["np"])
            summary = [t for t, _, _ in pl]
            nonce = next(b for t, _, b in pl if t == PT_NONCE)
            ke = next(b for t, _, b in pl if t == PT_KE)
            who = "r" if is_resp else "i"
            keys_txt.append(f"nonce_{who} = {nonce.hex()}")
            keys_txt.append(f"ke_group_{who} = {struct.unpack('!H', ke[:2])[0]} (decimal)")
            keys_txt.append(f"ke_{who} = {ke[4:].hex()}")
            if is_resp:
                init_resp = raw
                sa = {"spi_i": h["spi_i"], "spi_r": h["spi_r"], "ni": sa_ni, "nr": nonce}
                keys_txt.append(f"spi_i = {h['spi_i'].hex()}")
                keys_txt.append(f"spi_r = {h['spi_r'].hex()}")
                # RFC 7296 2.14
                gir = dh_i[0]
                skeyseed = prf(sa["ni"] + sa["nr"], gir)
                if skeyseed != seeds_i[0]:
                    fail("SKEYSEED differs from charon's")
                a, e = SUITES[suite][0], SUITES[suite][1]
                keymat = prf_plus(skeyseed, sa["ni"] + sa["nr"] + sa["spi_i"] + sa["spi_r"],
                                  32 * 3 + 2 * a + 2 * e)
                sa["keys"] = split_keys(keymat, suite)
                for label, k in (("Sk_d secret", "sk_d"), ("Sk_ei secret", "sk_ei"),
                                 ("Sk_er secret", "sk_er"), ("Sk_pi secret", "sk_pi"),
                                 ("Sk_pr secret", "sk_pr"), ("Sk_ai secret", "sk_ai"),
                                 ("Sk_ar secret", "sk_ar")):
                    got = logged(dumps_i, label)
                    if sa["keys"][k] and (not got or got[0] != sa["keys"][k]):
                        fail(f"{k} differs from charon's")
                keys_txt.append(f"dh_shared = {gir.hex()}")
                keys_txt.append(f"skeyseed = {skeyseed.hex()}")
                for k in ("sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr"):
                    keys_txt.append(f"{k} = {sa['keys'][k].hex()}")
            else:
                init_req = raw
                sa_ni = nonce
        else:
            cur = sa
            if rekey and h["spi_i"] == rekey["spi_i"] and h["spi_r"] == rekey["spi_r"]:
                cur = rekey
            elif h["spi_i"] != sa["spi_i"]:
                fail(f"{name}: message of an unknown IKE SA")
            plain, first = decrypt_sk(raw, cur["keys"], suite, from_orig_initiator)
            pl = payloads(plain, first)
            summary = ["SK"] + [t for t, _, _ in pl]
            (out / f"{name}.plain.hex").write_text(
                f"# decrypted content of {name}.hex (payload chain, first payload type {first})\n"
                + hexlines(plain) + "\n")
            if exch == "IKE_AUTH":
                for t, hdr, body in pl:
                    if t in (PT_IDI, PT_IDR, PT_AUTH, PT_SA, PT_TSI, PT_TSR):
                        auth_payloads[("r" if is_resp else "i", t)] = body
            elif exch == "CREATE_CHILD_SA":
                nonce = next((b for t, _, b in pl if t == PT_NONCE), None)
                ke = next((b for t, _, b in pl if t == PT_KE), None)
                sa_body = next((b for t, _, b in pl if t == PT_SA), None)
                rekey_notify = any(t == PT_NOTIFY and struct.unpack("!H", b[2:4])[0] == 16393
                                   for t, _, b in pl)
                # First proposal's SPI: 8 octets for an IKE SA, 4 for a CHILD SA.
                # (RFC 7296 3.3.1: last, reserved, length(2), number, protocol, SPI size, count)
                spi_size = sa_body[6] if sa_body else 0
                spi = sa_body[8:8 + spi_size] if sa_body else b""
                if is_resp:
                    kind = kinds[(h["spi_i"], h["msgid"])]
                else:
                    kind = ("ike_rekey" if spi_size == 8 else
                            "child_rekey" if rekey_notify else "new_child")
                    kinds[(h["spi_i"], h["msgid"])] = kind
                who = "r" if is_resp else "i"
                if kind != "ike_rekey":
                    c = children.setdefault(kind, {"sk_d": cur["keys"]["sk_d"]})
                    c["n" + who], c["spi_" + who] = nonce, spi
                if nonce:
                    keys_txt.append(f"{kind}_nonce_{who} = {nonce.hex()}")
                if ke:
                    keys_txt.append(f"{kind}_ke_{who} = {ke[4:].hex()}")
                keys_txt.append(f"{kind}_spi_{who} = {spi.hex()}")
                if kind == "ike_rekey":
                    if not is_resp:
                        pending = {"spi_i": spi, "ni": nonce}
                    else:
                        # RFC 7296 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
                        new = {"spi_i": pending["spi_i"], "spi_r": spi, "ni": pending["ni"],
                               "nr": nonce}
                        if len(dh_i) < 2:
                            fail("no logged DH secret for the IKE rekey")
                        gir = dh_i[1]
                        seed = prf(sa["keys"]["sk_d"], gir + new["ni"] + new["nr"])
                        if len(seeds_i) < 2 or seed != seeds_i[1]:
                            fail("rekey SKEYSEED differs from charon's")
                        a, e = SUITES[suite][0], SUITES[suite][1]
                        km = prf_plus(seed, new["ni"] + new["nr"] + new["spi_i"] + new["spi_r"],
                                      32 * 3 + 2 * a + 2 * e)
                        new["keys"] = split_keys(km, suite)
                        if new["keys"]["sk_d"] != logged(dumps_i, "Sk_d secret")[1]:
                            fail("rekey SK_d differs from charon's")
                        keys_txt.append(f"ike_rekey_dh_shared = {gir.hex()}")
                        keys_txt.append(f"ike_rekey_skeyseed = {seed.hex()}")
                        for k in ("sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr"):
                            keys_txt.append(f"ike_rekey_{k} = {new['keys'][k].hex()}")
                        rekey = new
        h_txt = (f"# {exch} {'response' if is_resp else 'request'} from {m['src']} to {m['dst']}, "
                 f"message id {h['msgid']}, {len(raw)} octets\n"
                 f"# SPIi {h['spi_i'].hex()} SPIr {h['spi_r'].hex()} flags 0x{h['flags']:02x}"
                 f"{' (original initiator)' if from_orig_initiator else ''}\n"
                 f"# payloads: {' '.join(map(str, summary))}\n")
        (out / f"{name}.hex").write_text(h_txt + hexlines(raw) + "\n")

    # RFC 7296 2.15: AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
    if not (init_req and init_resp and ("i", PT_AUTH) in auth_payloads):
        fail("the capture lacks IKE_SA_INIT or IKE_AUTH")
    k = prf(psk, b"Key Pad for IKEv2")
    octets_i = init_req + sa["nr"] + prf(sa["keys"]["sk_pi"], auth_payloads[("i", PT_IDI)])
    octets_r = init_resp + sa["ni"] + prf(sa["keys"]["sk_pr"], auth_payloads[("r", PT_IDR)])
    auth_i, auth_r = prf(k, octets_i), prf(k, octets_r)
    if auth_payloads[("i", PT_AUTH)][4:] != auth_i:
        fail("initiator AUTH does not verify")
    if auth_payloads[("r", PT_AUTH)][4:] != auth_r:
        fail("responder AUTH does not verify")
    if auth_i not in logged(dumps_i, "AUTH = prf(prf(secret, keypad), octets)"):
        fail("charon logged another initiator AUTH")
    keys_txt.append(f"auth_method = {auth_payloads[('i', PT_AUTH)][0]} (decimal)")
    keys_txt.append(f"auth_i = {auth_i.hex()}")
    keys_txt.append(f"auth_r = {auth_r.hex()}")
    keys_txt.append(f"signed_octets_i = {octets_i.hex()}")
    keys_txt.append(f"signed_octets_r = {octets_r.hex()}")

    # RFC 7296 2.17: KEYMAT = prf+(SK_d, Ni | Nr) for the CHILD SA of IKE_AUTH (the IKE SA's
    # nonces) and for CHILD SAs of CREATE_CHILD_SA without PFS (that exchange's nonces). For
    # AES-GCM-16 ESP (RFC 4106) each direction takes key + 4-octet salt, initiator to responder
    # first; that direction's SA has the SPI the responder chose.
    if ("r", PT_SA) in auth_payloads:
        children["child_auth"] = {"sk_d": sa["keys"]["sk_d"], "ni": sa["ni"], "nr": sa["nr"],
                                  "spi_i": auth_payloads[("i", PT_SA)][8:12],
                                  "spi_r": auth_payloads[("r", PT_SA)][8:12]}
    xfrm = "".join(Path(x).read_text() for x in args.xfrm if Path(x).exists())
    if args.esp.startswith("aes128gcm16"):
        for kind in sorted(children):
            c = children[kind]
            if not all(k in c for k in ("ni", "nr", "spi_i", "spi_r")):
                continue
            km = prf_plus(c["sk_d"], c["ni"] + c["nr"], 40)
            prefix = "child" if kind == "child_auth" else kind
            keys_txt.append(f"{prefix}_esp_spi_i = {c['spi_i'].hex()}")
            keys_txt.append(f"{prefix}_esp_spi_r = {c['spi_r'].hex()}")
            keys_txt.append(f"{prefix}_keymat = {km.hex()}")
            if xfrm:
                for spi, key in ((c["spi_r"], km[:20]), (c["spi_i"], km[20:])):
                    pat = rf"spi 0x{spi.hex()}.*?aead rfc4106\(gcm\(aes\)\) 0x([0-9a-f]+)"
                    mm = re.search(pat, xfrm, re.S)
                    if not mm or bytes.fromhex(mm.group(1)) != key:
                        fail(f"kernel SA {spi.hex()} has another key than KEYMAT says")
                keys_txt.append(f"# {prefix}_keymat checked against the kernel's SAs (ip xfrm state)")
    (out / "keys.txt").write_text("\n".join(keys_txt) + "\n")
    print(f"extract: {n_file} messages, keys and AUTH verified -> {out}")


if __name__ == "__main__":
    main()
