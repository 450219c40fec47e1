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

host a
host b
wire a b 10.0.1.1/30 10.0.1.2/30

pki=$E2E_LOG/pki
mkdir -p "$pki"
on - openssl ecparam -name prime256v1 -genkey -noout -out "$pki/ca.key"
on - openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=ikemesh e2e CA" -days 2 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$pki/ca.pem"
for n in a b; do
    mkdir -p "$pki/$n/x509" "$pki/$n/x509ca" "$pki/$n/pkcs8"
    on - openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/$n/pkcs8/$n.key"
    on - openssl req -new -key "$pki/$n/pkcs8/$n.key" -subj "/CN=$n.e2e.test" -out "$pki/$n.csr"
    printf 'subjectAltName=DNS:%s.e2e.test\nkeyUsage=critical,digitalSignature\n' "$n" >"$pki/$n.ext"
    on - openssl x509 -req -in "$pki/$n.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
        -CAcreateserial -days 2 -extfile "$pki/$n.ext" -out "$pki/$n/x509/$n.pem"
    cp "$pki/ca.pem" "$pki/$n/x509ca/ca.pem"
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
