#include "daemon/natt.hpp"

#include <algorithm>
#include <cstring>

namespace ikemesh::daemon {

NattDatagram classify_natt(ByteView datagram) {
    if (datagram.size() == 1 && datagram[0] == kNatKeepalive) return {NattKind::keepalive, {}};
    if (datagram.size() < kNonEspMarker.size()) return {NattKind::invalid, {}};
    if (std::equal(kNonEspMarker.begin(), kNonEspMarker.end(), datagram.begin())) {
        return {NattKind::ike, datagram.subspan(kNonEspMarker.size())};
    }
    return {NattKind::esp, {}};
}

Bytes frame_ike(ByteView ike, bool natt) {
    size_t offset = natt ? kNonEspMarker.size() : 0;
    Bytes out(offset + ike.size(), 0);  // the marker is all zeros
    if (!ike.empty()) std::memcpy(out.data() + offset, ike.data(), ike.size());
    return out;
}

}  // namespace ikemesh::daemon
