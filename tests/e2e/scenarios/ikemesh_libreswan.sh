# e2e: ikemeshd and Libreswan 4.10's pluto in transport mode, both directions: ESP both ways, CHILD rekeys by either side, deletes by either side
# e2e-timeout: 600
# e2e-cost: 65
#
#                       +--------------------------------+
#                       | sw          [br0]              |
#                       |   a           b           c    |
#                       +---|-----------|-----------|----+
#                           |veth       |veth       |veth
#              +------------+--+ +------+-------+ +-+-------------+
#              | a  ikemeshd   | | b  pluto     | | c  pluto      |
#              | 10.0.5.1/24   | | 10.0.5.2/24  | | 10.0.5.3/24   |
#              +---------------+ +--------------+ +---------------+
#   b -> a: pluto initiates (a's peer b is passive): PSK, X25519, AES-GCM-16 IKE and ESP
#   a -> c: ikemeshd initiates: PSK, MODP-3072, AES-CBC + HMAC-SHA2-256 IKE and ESP
#
# The second reference peer with real ESP (on the host, tests/integration/libreswan.sh can only
# check IKE). For each pair: UDP and TCP both ways pass as ESP (counted by both kernels); a CHILD
# rekey started by pluto and one started by ikemeshd each leave exactly one SA pair on both sides;
# then pluto deletes the pair it initiated and ikemeshd the one it initiated, and the kernel state
# goes on both sides. Libreswan is unpacked on the host before the guest boots (tests/e2e/run).

requires esp
requires cmd:certutil
# shellcheck source=tests/interop/libreswan.sh
. "$IKEMESH_SOURCE/tests/interop/libreswan.sh"
[ -f "$LS_ROOT/.unpacked" ] || _fail "Libreswan is not unpacked in $LS_ROOT (tests/e2e/run does it)"

switch sw
host a
host b
host c
link a sw 10.0.5.1/24
link b sw 10.0.5.2/24
link c sw 10.0.5.3/24
# shellcheck source=tests/e2e/lib/ikemesh.sh
. "$IKEMESH_SOURCE/tests/e2e/lib/ikemesh.sh"

# pluto_conf NODE IKE ESP: pluto's conn "peer" to a.
pluto_conf() {
    cat <<EOF
conn peer
    left=$(ip4 "$1")
    right=$(ip4 a)
    leftid=@$1.mesh.test
    rightid=@a.mesh.test
    authby=secret
    ikev2=insist
    type=transport
    ike=$2
    esp=$3
    pfs=no
    initial-contact=yes
    auto=add
EOF
}

ikm_node a
ikm_peer a b 'start = "passive"'
ikm_peer a c 'ike = ["aes256-sha256-modp3072"]' 'esp = ["aes256-sha256"]'
PSK=$(cat "$IKM_RUN/mesh.psk")
B=$E2E_LOG/pluto-b
C=$E2E_LOG/pluto-c
pluto_conf b aes_gcm128-sha2_256-dh31 aes_gcm128 >"$B.conf"
pluto_conf c aes-sha2_256-modp3072 aes256-sha2_256 >"$C.conf"
for n in b c; do
    # mesh.psk is 0s + base64, the notation Libreswan reads unquoted too
    echo "@$n.mesh.test @a.mesh.test : PSK $PSK" >"$E2E_LOG/pluto-$n.secrets"
done
at_exit ls_stop "$B"
at_exit ls_stop "$C"
on - ls_start "$B" "$(ns_of b)"
on - ls_start "$C" "$(ns_of c)"
on - ls_load "$B" "$B.conf" "$B.secrets"
on - ls_load "$C" "$C.conf" "$C.secrets"
for n in a b c; do
    daemon "$n" "echo-$n" e2e-probe serve both 5001 --timeout 300
done
ikm_start a

note "a -> c (ikemeshd initiates, MODP-3072, AES-CBC + HMAC-SHA2-256)"
ikm_wait_pairs 60 a 1
ikm_one_pair c 1
expect c "enc cbc\\(aes\\)" ip xfrm state
ikm_both_ways c
read -r _ _ _ _ IN _ <<<"$(ikm_sas a spis c)"
on - ikm_ctl a rekey c
ikm_rekeyed c "$IN"
ikm_one_pair c 1
read -r _ _ _ _ IN _ <<<"$(ikm_sas a spis c)"
on - ls_rekey "$C" peer ipsec
ikm_rekeyed c "$IN"
ikm_one_pair c 1
ikm_both_ways c

note "b -> a (pluto initiates, X25519, AES-GCM-16)"
expect - "established Child SA" ls_initiate "$B" peer
ikm_one_pair b 2
expect b "aead rfc4106\\(gcm\\(aes\\)\\)" ip xfrm state
ikm_both_ways b
read -r _ _ _ _ IN _ <<<"$(ikm_sas a spis b)"
on - ls_rekey "$B" peer ipsec
ikm_rekeyed b "$IN"
ikm_one_pair b 2
read -r _ _ _ _ IN _ <<<"$(ikm_sas a spis b)"
on - ikm_ctl a rekey b
ikm_rekeyed b "$IN"
ikm_one_pair b 2
ikm_both_ways b

note "deletes: pluto terminates the pair it initiated, ikemeshd the one it initiated"
on - ls_terminate "$B" peer
eventually 30 - "^0$" ikm_esp_states b
expect - "^ike - - child - -\$" ikm_sas a spis b
on - ikm_ctl a terminate c
eventually 30 - "^0$" ikm_esp_states c
eventually 30 - "^kernel 0\$" ikm_sas a kernel
stop ikemeshd-a
