// Fuzzes everything ikemesh parses from XFRM netlink: a datagram as the request or event socket
// receives it (ACKs with extended TLVs, multipart dump replies, ACQUIRE/EXPIRE/deletion/flush
// notifications), split into messages, parsed, and mapped to engine events.
#include <cstddef>
#include <cstdint>

#include "kernel/xfrm_messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace ikemesh::kernel;
    auto messages = xfrm::split_messages({data, size});
    if (!messages) return 0;
    for (const auto& m : *messages) {
        auto parsed = xfrm::parse_message(m);
        if (!parsed) continue;
        // Both "ours" and "someone else's" paths of the event mapping, with a tag that matches
        // anything the input claims and one that matches nothing.
        (void)xfrm::to_event(m, *parsed, m.pid, OwnerTag{});
        if (auto e = xfrm::to_event(m, *parsed, 0, OwnerTag{0})) (void)describe(*e);
    }
    return 0;
}
