# e2e: two charons authenticate with ECDSA P-256 certificates (RFC 7427), IKE only; also on the host
# e2e-timeout: 300
# e2e-suite: harness
#
#   +--------------+                      +--------------+
#   | a (charon)   |                      | b (charon)   |
#   | eth0         |------ veth pair -----| eth0         |
#   | 10.0.1.1/30  |                      | 10.0.1.2/30  |
#   +--------------+                      +--------------+
#
# The certificate path of tests/interop/strongswan.sh: a CA and two node certificates made with
# openssl on the spot (P-256, SAN dNSName = the IKE identity), loaded from swanctl's credential
# folders; IKE SA established with signature authentication both ways, then rekeyed and deleted.
# Needs no ESP (the IKE SA stands without a CHILD SA), so it runs on the host as well.

requires cmd:swanctl
requires cmd:openssl
# shellcheck source=tests/interop/strongswan.sh
. "$IKEMESH_SOURCE/tests/interop/strongswan.sh"
# shellcheck source=tests/interop/pki.sh
. "$IKEMESH_SOURCE/tests/interop/pki.sh"

host a
host b
wire a b 10.0.1.1/30 10.0.1.2/30

pki=$E2E_LOG/pki
on - pki_ca "$pki" "ikemesh e2e CA"
for n in a b; do
    on - pki_cert "$pki" "$n" "$n.e2e.test"
    on - swan_creds "$pki" "$n" "$pki/$n"
done

# conf LOCAL REMOTE ME PEER: written beside the credential folders swanctl loads them from.
conf() {
    cat >"$pki/$3/swanctl.conf" <<CONF
connections {
    peer {
        local_addrs = $1
        remote_addrs = $2
        proposals = aes128gcm16-prfsha256-ecp256
        local {
            auth = pubkey
            certs = $3.pem
            id = $3.e2e.test
        }
        remote {
            auth = pubkey
            id = $4.e2e.test
        }
    }
}
CONF
}
conf "$(ip4 a)" "$(ip4 b)" a b
conf "$(ip4 b)" "$(ip4 a)" b a

at_exit swan_stop "$E2E_LOG/charon-a"
at_exit swan_stop "$E2E_LOG/charon-b"
on - swan_start "$E2E_LOG/charon-a" "$(ns_of a)"
on - swan_start "$E2E_LOG/charon-b" "$(ns_of b)"
expect - "loaded certificate from .*a.pem" swan_load "$E2E_LOG/charon-a" "$pki/a/swanctl.conf"
expect - "loaded certificate from .*b.pem" swan_load "$E2E_LOG/charon-b" "$pki/b/swanctl.conf"
expect - "initiate completed successfully" swan_initiate "$E2E_LOG/charon-a" --ike peer
expect - "ESTABLISHED.*" swan_list_sas "$E2E_LOG/charon-b"
expect - "authentication of 'b.e2e.test' with (ECDSA|RFC7427).*successful" \
    cat "$E2E_LOG/charon-a/charon.log"
expect - "authentication of 'a.e2e.test' with (ECDSA|RFC7427).*successful" \
    cat "$E2E_LOG/charon-b/charon.log"
expect - "rekey completed" swan_rekey "$E2E_LOG/charon-b" --ike peer
expect - "terminate completed" swan_terminate "$E2E_LOG/charon-a" --ike peer
expect_not - "ESTABLISHED" swan_list_sas "$E2E_LOG/charon-b"
