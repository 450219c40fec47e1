# shellcheck shell=bash
# A throwaway P-256 PKI for the interop tests (tests/integration/strongswan.sh and the e2e
# scenarios with certificates), made with openssl on the spot, valid for two days.
#
#   pki_ca DIR CN               DIR/ca.key, DIR/ca.pem (a CA for keyCertSign and cRLSign)
#   pki_cert DIR NAME SAN...    DIR/NAME.key (PKCS#8, mode 0600) and DIR/NAME.pem, signed by DIR's
#                               CA: subject CN = the first SAN, every SAN a dNSName,
#                               keyUsage digitalSignature
#   swan_creds DIR NAME DEST    NAME's key and certificate and the CA, laid out under DEST as
#                               swanctl loads them (x509/, x509ca/, pkcs8/)

pki_ca() {
    mkdir -p "$1" &&
        openssl ecparam -name prime256v1 -genkey -noout -out "$1/ca.key" &&
        openssl req -x509 -new -key "$1/ca.key" -subj "/CN=$2" -days 2 \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1/ca.pem"
}

pki_cert() {
    local dir=$1 n=$2 san="" s
    shift 2
    for s in "$@"; do san="$san${san:+,}DNS:$s"; done
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$n.key" &&
        chmod 0600 "$dir/$n.key" &&
        openssl req -new -key "$dir/$n.key" -subj "/CN=$1" -out "$dir/$n.csr" &&
        printf 'subjectAltName=%s\nkeyUsage=critical,digitalSignature\n' "$san" >"$dir/$n.ext" &&
        openssl x509 -req -in "$dir/$n.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
            -CAcreateserial -days 2 -extfile "$dir/$n.ext" -out "$dir/$n.pem"
}

swan_creds() {
    mkdir -p "$3/x509" "$3/x509ca" "$3/pkcs8" &&
        cp "$1/$2.pem" "$3/x509/" && cp "$1/ca.pem" "$3/x509ca/" && cp "$1/$2.key" "$3/pkcs8/"
}
