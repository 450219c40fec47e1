// A hand-built engine snapshot shared by the daemon tests: three peers, one established with one
// IKE SA and one CHILD SA, one connecting, one down with a reason.
#pragma once

#include "ike/status.hpp"

namespace ikemesh::daemon::test {

inline ike::EngineStatus sample_status() {
    ike::EngineStatus st;
    st.half_open = 1;

    ike::PeerStatus node2;
    node2.name = "node2";
    node2.address = *IpAddress::parse("10.0.0.2");
    node2.local_address = *IpAddress::parse("10.0.0.1");
    node2.id = "node2.example.net";
    node2.start = "always";
    node2.state = "established";
    ike::IkeSaStatus sa;
    sa.spi_i = IkeSpi{0x0123456789abcdefull};
    sa.spi_r = IkeSpi{0xfedcba9876543210ull};
    sa.initiator = true;
    sa.state = "established";
    sa.proposal = "aes128gcm16-prfsha256-x25519";
    sa.local = Endpoint{*IpAddress::parse("10.0.0.1"), 500};
    sa.remote = Endpoint{*IpAddress::parse("10.0.0.2"), 500};
    sa.established_seconds = 125;
    sa.rekey_in_seconds = 3600;
    sa.last_heard_seconds = 3;
    node2.ike_sas.push_back(sa);
    ike::ChildSaStatus child;
    child.spi_in = EspSpi{0xc0000001u};
    child.spi_out = EspSpi{0x0000abcdu};
    child.reqid = ReqId{7};
    child.state = "installed";
    child.proposal = "aes128gcm16";
    child.bytes_in = 1536;
    child.bytes_out = 3 * 1024 * 1024;
    child.packets_in = 12;
    child.packets_out = 2048;
    child.established_seconds = 120;
    child.rekey_in_seconds = 3000;
    node2.child_sas.push_back(child);
    st.peers.push_back(node2);

    ike::PeerStatus node3;
    node3.name = "node3";
    node3.address = *IpAddress::parse("2001:db8::3");
    node3.id = "node3.example.net";
    node3.start = "always";
    node3.state = "connecting";
    ike::IkeSaStatus half;
    half.spi_i = IkeSpi{0x1111111111111111ull};
    half.spi_r = IkeSpi{0};
    half.initiator = true;
    half.state = "connecting";
    node3.ike_sas.push_back(half);
    st.peers.push_back(node3);

    ike::PeerStatus node4;
    node4.name = "node4";
    node4.address = *IpAddress::parse("10.0.0.4");
    node4.local_address = *IpAddress::parse("10.0.0.1");
    node4.id = "node4.example.net";
    node4.start = "always";
    node4.state = "down";
    node4.last_error = "peer not responding";
    st.peers.push_back(node4);
    return st;
}

}  // namespace ikemesh::daemon::test
