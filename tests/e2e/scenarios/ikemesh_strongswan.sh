# e2e: ikemeshd and strongSwan 5.9.8 in transport mode, both directions, PSK and ECDSA, AES-GCM and AES-CBC+SHA256 ESP
# e2e-timeout: 600
# e2e-cost: 92
#
#                       +--------------------------------+
#                       | sw          [br0]              |
#                       |   a           b           c    |
#                       +---|-----------|-----------|----+
#                           |veth       |veth       |veth
#              +------------+--+ +------+-------+ +-+-------------+
#              | a  ikemeshd   | | b  charon    | | c  charon     |
#              | 10.0.4.1/24   | | 10.0.4.2/24  | | 10.0.4.3/24   |
#              +---------------+ +--------------+ +---------------+
#   a -> b: ikemeshd initiates (start always), ESP aes128gcm16
#   c -> a: charon initiates (a's peer c is passive), ESP aes128-sha256 (AES-CBC + HMAC-SHA2-256-128)
#
# Round 1, PSK: for each pair, UDP and TCP both ways pass as ESP (counted by both kernels); a CHILD
# rekey started by ikemeshd and one started by charon each leave exactly one SA pair on both sides;
# then a delete (ikemeshd's `terminate` towards b, charon's terminate towards a) removes the kernel
# state on both sides. Round 2, ECDSA P-256 certificates (RFC 7427) made on the spot: a restarts
# with `auth = "cert"`, the charons reload; both pairs come up again and pass traffic as ESP.

requires esp
requires cmd:swanctl
requires cmd:openssl
# shellcheck source=tests/interop/strongswan.sh
. "$IKEMESH_SOURCE/tests/interop/strongswan.sh"
# shellcheck source=tests/interop/pki.sh
. "$IKEMESH_SOURCE/tests/interop/pki.sh"

switch sw
host a
host b
host c
link a sw 10.0.4.1/24
link b sw 10.0.4.2/24
link c sw 10.0.4.3/24
# shellcheck source=tests/e2e/lib/ikemesh.sh
. "$IKEMESH_SOURCE/tests/e2e/lib/ikemesh.sh"

# swan_conf NODE ESP AUTH(psk|pubkey): charon's swanctl.conf for its connection "peer" to a.
swan_conf() {
    local n=$1 esp=$2 auth=$3 certs=""
    [ "$auth" = psk ] || certs="certs = $n.pem"
    cat <<EOF
connections {
    peer {
        local_addrs = $(ip4 "$n")
        remote_addrs = $(ip4 a)
        proposals = aes128gcm16-prfsha256-x25519
        local {
            auth = $auth
            id = $n.mesh.test
            $certs
        }
        remote {
            auth = $auth
            id = a.mesh.test
        }
        children {
            peer {
                mode = transport
                esp_proposals = $esp
            }
        }
    }
}
EOF
    [ "$auth" != psk ] || cat <<EOF
secrets {
    ike-a {
        id-a = a.mesh.test
        id-n = $n.mesh.test
        secret = $(cat "$IKM_RUN/mesh.psk")
    }
}
EOF
}

B=$E2E_LOG/charon-b
C=$E2E_LOG/charon-c
mkdir -p "$B" "$C"
at_exit swan_stop "$B"
at_exit swan_stop "$C"
on - swan_start "$B" "$(ns_of b)"
on - swan_start "$C" "$(ns_of c)"
for n in a b c; do
    daemon "$n" "echo-$n" e2e-probe serve both 5001 --timeout 300
done

note "round 1: PSK"
ikm_node a
ikm_peer a b
ikm_peer a c 'start = "passive"' 'esp = ["aes128-sha256"]'
swan_conf b aes128gcm16 psk >"$B.conf"
swan_conf c aes128-sha256 psk >"$C.conf"
expect - "loaded connection 'peer'" swan_load "$B" "$B.conf"
expect - "loaded connection 'peer'" swan_load "$C" "$C.conf"
ikm_start a

note "a -> b (ikemeshd initiates, AES-GCM-16)"
ikm_wait_pairs 60 a 1
expect - "INSTALLED, TRANSPORT" swan_list_sas "$B"
expect - "ESP:AES_GCM_16-128" swan_list_sas "$B"
ikm_both_ways b
read -r _ _ _ _ IN _ <<<"$(ikm_sas a spis b)"
on - ikm_ctl a rekey b
ikm_rekeyed b "$IN"
ikm_one_pair b 1
read -r _ _ _ _ IN _ <<<"$(ikm_sas a spis b)"
expect - "rekey completed" swan_rekey "$B" --child peer
ikm_rekeyed b "$IN"
ikm_one_pair b 1
ikm_both_ways b

note "c -> a (charon initiates, AES-CBC + HMAC-SHA2-256)"
expect - "initiate completed successfully" swan_initiate "$C" --child peer
expect - "ESP:AES_CBC-128/HMAC_SHA2_256_128" swan_list_sas "$C"
ikm_one_pair c 2
ikm_both_ways c
read -r _ _ _ _ IN _ <<<"$(ikm_sas a spis c)"
expect - "rekey completed" swan_rekey "$C" --child peer
ikm_rekeyed c "$IN"
ikm_one_pair c 2
read -r _ _ _ _ IN _ <<<"$(ikm_sas a spis c)"
on - ikm_ctl a rekey c
ikm_rekeyed c "$IN"
ikm_one_pair c 2
ikm_both_ways c

note "deletes: ikemeshd terminates b, charon c terminates a"
on - ikm_ctl a terminate b
eventually 30 - "^0$" ikm_esp_states b
expect_not - "ESTABLISHED" swan_list_sas "$B"
expect - "terminate completed" swan_terminate "$C" --ike peer
eventually 30 - "^0$" ikm_esp_states c
eventually 30 - "^kernel 0\$" ikm_sas a kernel
expect - "^ike - - child - -\$" ikm_sas a spis c

note "round 2: ECDSA P-256 certificates"
stop ikemeshd-a
pki=$E2E_LOG/pki
on - pki_ca "$pki" "ikemesh e2e CA"
for n in a b c; do
    on - pki_cert "$pki" "$n" "$n.mesh.test"
done
for n in b c; do
    on - swan_creds "$pki" "$n" "$pki/$n-swan"
done
swan_conf b aes128gcm16 pubkey >"$pki/b-swan/swanctl.conf"
swan_conf c aes128-sha256 pubkey >"$pki/c-swan/swanctl.conf"
expect - "loaded certificate from .*b.pem" swan_load "$B" "$pki/b-swan/swanctl.conf"
expect - "loaded certificate from .*c.pem" swan_load "$C" "$pki/c-swan/swanctl.conf"
IKM_PKI=$pki ikm_node a
ikm_start a
ikm_wait_pairs 60 a 1
ikm_both_ways b
expect - "initiate completed successfully" swan_initiate "$C" --child peer
ikm_one_pair c 2
ikm_both_ways c
expect - "authentication of 'a.mesh.test' with (ECDSA|RFC7427).*successful" \
    cat "$B/charon.log"
expect - "authentication of 'a.mesh.test' with (ECDSA|RFC7427).*successful" \
    cat "$C/charon.log"
stop ikemeshd-a
eventually 30 - "^0$" ikm_esp_states b
eventually 30 - "^0$" ikm_esp_states c
