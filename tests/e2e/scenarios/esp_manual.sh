# e2e: hand-made ESP transport SA pairs (AES-GCM, AES-CBC+HMAC-SHA256, ChaCha20-Poly1305, IPv6)
# e2e-timeout: 600
# e2e-suite: harness
#
#   +-------------+         +-----------------+         +-------------+
#   | a           |         | sw              |         | b           |
#   | eth0        |--veth---| a   [br0]   b   |--veth---| eth0        |
#   | 10.0.0.1/24 |         |  tcpdump on br0 |         | 10.0.0.2/24 |
#   | fd00::1/64  |         +-----------------+         | fd00::2/64  |
#   +-------------+                                     +-------------+
#
# Proves the guest kernel does ESP in transport mode with each algorithm ikemesh negotiates, that
# UDP and TCP pass, that the SA counters grow, and that only ESP, never the plaintext, is on the
# wire. Also the harness's own first proof: namespaces, switch, daemons, expectations.

requires esp
requires cmd:tcpdump

switch sw
host a
host b
link a sw 10.0.0.1/24 fd00::1/64
link b sw 10.0.0.2/24 fd00::2/64

expect a "1 received" ping -c 1 -W 2 "$(ip4 b)"

MARK=ikemesh-plaintext-marker

# esp_pair ADDR_A ADDR_B SPI_AB SPI_BA: one SA per direction with the algorithm in ALGO, and the
# policies that require ESP between the two addresses (in, out) on both hosts. One `ip -batch`
# per host: process starts are what costs under emulation.
esp_pair() {
    local x=$1 y=$2 h src dst t batch
    for h in a b; do
        batch=$E2E_LOG/xfrm-$h-$3.batch
        : >"$batch"
        echo "xfrm state add src $x dst $y proto esp spi $3 reqid 7 mode transport ${ALGO[*]}" >>"$batch"
        echo "xfrm state add src $y dst $x proto esp spi $4 reqid 7 mode transport ${ALGO[*]}" >>"$batch"
        if [ "$h" = a ]; then src=$x dst=$y; else src=$y dst=$x; fi
        echo "xfrm policy add src $src dst $dst dir out tmpl src $src dst $dst proto esp reqid 7" \
            "mode transport" >>"$batch"
        echo "xfrm policy add src $dst dst $src dir in tmpl src $dst dst $src proto esp reqid 7" \
            "mode transport" >>"$batch"
        case "$x" in
            *:*) # Neighbour discovery must stay in the clear, or the hosts cannot find each other.
                for t in 135 136; do
                    echo "xfrm policy add src ::/0 dst ::/0 proto ipv6-icmp type $t dir out priority 1"
                    echo "xfrm policy add src ::/0 dst ::/0 proto ipv6-icmp type $t dir in priority 1"
                done >>"$batch"
                ;;
        esac
        on "$h" ip -batch "$batch"
    done
}

esp_flush() {
    on a ip -batch - <<<$'xfrm policy flush\nxfrm state flush'
    on b ip -batch - <<<$'xfrm policy flush\nxfrm state flush'
}

# traffic LABEL ADDR_B SPI_AB SPI_BA: UDP and TCP from a to b through the SAs, captured on the
# switch; the counters of both SAs grow on both hosts, the wire shows ESP with these SPIs only.
traffic() {
    local label=$1 dst=$2 spi_ab=$3 spi_ba=$4 before after pcap
    pcap=$E2E_LOG/$label.pcap
    daemon sw "tcpdump-$label" tcpdump -Z root -U -n -i br0 -c 400 -w "$pcap" ip or ip6
    daemon b "echo-$label" e2e-probe serve both 5001 --timeout 30
    eventually 20 - "listening on" cat "$E2E_LOG/tcpdump-$label.log"
    before=$(esp_counter a "$spi_ab" packets)
    expect a "udp ok 5/5 tcp ok 5/5" e2e-probe send both "$dst" 5001 --count 5 --timeout 20 \
        --message "$MARK"
    after=$(esp_counter a "$spi_ab" packets)
    note "$label: outbound SA $spi_ab on a carried $before -> $after packets"
    at_least "a's outbound SA $spi_ab packets before" "$before" 0
    at_least "a's outbound SA $spi_ab packets after" "$after" $((before + 10))
    at_least "packets through b's inbound SA $spi_ab" "$(esp_counter b "$spi_ab" packets)" 10
    at_least "packets through a's inbound SA $spi_ba" "$(esp_counter a "$spi_ba" packets)" 10
    stop "echo-$label"
    sleep 0.5 # let tcpdump write out the last packets
    stop "tcpdump-$label"
    on - sh -c "tcpdump -n -r '$pcap' >'$pcap.txt' 2>/dev/null"
    expect - "ESP\\(spi=$spi_ab," cat "$pcap.txt"
    expect - "ESP\\(spi=$spi_ba," cat "$pcap.txt"
    # Nothing but ESP (and ICMPv6 neighbour discovery) between the two hosts.
    expect_not - "UDP|Flags \\[" grep -v ICMP6 "$pcap.txt"
    fails - grep -qa "$MARK" "$pcap"
}

note "AES-GCM-16 (rfc4106), 128-bit key"
ALGO=(aead 'rfc4106(gcm(aes))' 0x000102030405060708090a0b0c0d0e0f10111213 128)
esp_pair "$(ip4 a)" "$(ip4 b)" 0x00001001 0x00001002
traffic gcm "$(ip4 b)" 0x00001001 0x00001002
esp_flush

note "AES-CBC-128 with HMAC-SHA2-256-128 (RFC 4868)"
ALGO=(enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff
    auth-trunc 'hmac(sha256)' 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 128)
esp_pair "$(ip4 a)" "$(ip4 b)" 0x00002001 0x00002002
traffic cbc "$(ip4 b)" 0x00002001 0x00002002
esp_flush

note "ChaCha20-Poly1305 (rfc7539esp, RFC 7634)"
ALGO=(aead 'rfc7539esp(chacha20,poly1305)'
    0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223 128)
esp_pair "$(ip4 a)" "$(ip4 b)" 0x00003001 0x00003002
traffic chacha "$(ip4 b)" 0x00003001 0x00003002
esp_flush

note "AES-GCM-16 over IPv6"
ALGO=(aead 'rfc4106(gcm(aes))' 0x1f1e1d1c1b1a191817161514131211100f0e0d0c 128)
esp_pair "$(ip6 a)" "$(ip6 b)" 0x00004001 0x00004002
traffic gcm6 "$(ip6 b)" 0x00004001 0x00004002
esp_flush
