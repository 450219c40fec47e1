#!/bin/sh
# Regenerates the test PKI used by tests/unit/crypto (certificate and signature tests).
# Test data only: these keys are public and must never be used for anything real.
#
#   ca            ECDSA P-256 root, CA:TRUE
#   intermediate  ECDSA P-256, CA:TRUE, signed by ca
#   node1         ECDSA P-256, signed by ca; SAN DNS:node1.example, IP:192.0.2.1,
#                 email:node1@example.org (key in PKCS#8 and in traditional "EC PRIVATE KEY" form)
#   node2         Ed25519, signed by ca; SAN DNS:node2.example, IP:2001:db8::2
#   node3         RSA 2048, signed by ca; SAN DNS:node3.example (key in traditional RSA form)
#   node4         ECDSA P-384, signed by intermediate; SAN DNS:node4.example
#   other-ca      an unrelated root; rogue is a P-256 leaf it signed
#   fake          signed by node1 (a leaf, CA:FALSE): must not verify
#   short-rsa     RSA 1024 key (refused for IKE signatures)
# Usage: tests/vectors/pki/make-pki.sh   (writes next to itself)
set -eu
cd "$(dirname "$0")"
rm -f ./*.pem ./*.der ./*.srl ./*.cnf
DAYS=36500  # validity long enough that the committed certificates do not expire

ext() {  # ext NAME BASIC-CONSTRAINTS [SAN]
    {
        echo "basicConstraints=critical,$2"
        if [ "$2" = "CA:TRUE" ]; then
            echo "keyUsage=critical,keyCertSign,cRLSign"
        else
            echo "keyUsage=critical,digitalSignature"
        fi
        echo "subjectKeyIdentifier=hash"
        echo "authorityKeyIdentifier=keyid"
        if [ -n "${3:-}" ]; then echo "subjectAltName=$3"; fi
    } > "$1.cnf"
}

root() {  # root NAME CN
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1-key.pem"
    openssl req -new -x509 -key "$1-key.pem" -subj "/O=ikemesh test/CN=$2" -days $DAYS \
        -sha256 -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.pem"
}

leaf() {  # leaf NAME ISSUER CN BASIC SAN KEYFILE
    openssl req -new -key "$6" -subj "/O=ikemesh test/CN=$3" -out "$1.csr.pem"
    ext "$1" "$4" "${5:-}"
    openssl x509 -req -in "$1.csr.pem" -CA "$2.pem" -CAkey "$2-key.pem" -CAcreateserial \
        -days $DAYS -sha256 -extfile "$1.cnf" -out "$1.pem"
    rm -f "$1.csr.pem" "$1.cnf"
}

root ca "ikemesh test CA"
root other-ca "unrelated CA"

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out intermediate-key.pem
leaf intermediate ca "ikemesh test intermediate" "CA:TRUE" "" intermediate-key.pem

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out node1-key.pem
openssl ec -in node1-key.pem -out node1-key-traditional.pem 2>/dev/null
leaf node1 ca node1 "CA:FALSE" "DNS:node1.example,IP:192.0.2.1,email:node1@example.org" \
    node1-key.pem
openssl x509 -in node1.pem -outform DER -out node1.der

openssl genpkey -algorithm ED25519 -out node2-key.pem
leaf node2 ca node2 "CA:FALSE" "DNS:node2.example,IP:2001:db8::2" node2-key.pem

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out node3-pkcs8.pem
openssl rsa -in node3-pkcs8.pem -traditional -out node3-key.pem 2>/dev/null
rm -f node3-pkcs8.pem
leaf node3 ca node3 "CA:FALSE" "DNS:node3.example" node3-key.pem

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out node4-key.pem
leaf node4 intermediate node4 "CA:FALSE" "DNS:node4.example" node4-key.pem

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out rogue-key.pem
leaf rogue other-ca rogue "CA:FALSE" "DNS:rogue.example" rogue-key.pem

# node1 is a leaf; node1-key.pem doubles as the "CA" key of a certificate it must not issue.
cp node1-key.pem node1-as-ca-key.pem
cp node1.pem node1-as-ca.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out fake-key.pem
leaf fake node1-as-ca fake "CA:FALSE" "DNS:fake.example" fake-key.pem
rm -f node1-as-ca-key.pem node1-as-ca.pem

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out short-rsa-key.pem

rm -f ./*.srl
echo "test PKI written to $(pwd)"
