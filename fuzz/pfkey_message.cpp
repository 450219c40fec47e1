// Fuzzes everything ikemesh parses from PF_KEY: one datagram as either socket of the PF_KEY
// backend receives it (replies, errors in sadb_msg_errno, SA and policy dump entries, REGISTER
// replies, ACQUIRE/EXPIRE/deletion/flush notifications), parsed, its policy id and counters
// read, and mapped to engine events for "ours" and "someone else's".
#include "kernel/pfkey_message.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace ikemesh::kernel;
    auto m = pfkey::parse_message({data, size});
    if (!m) return 0;
    (void)pfkey::policy_id(*m);
    (void)pfkey::counters(*m);
    // A marking that owns every reqid and priority, and the default one.
    pfkey::Marking all;
    all.reqid_base = 0;
    all.reqid_count = 0xffffffff;
    all.priority_base = 0;
    all.priority_span = 0xffffffff;
    if (auto e = pfkey::to_event(*m, 0, all)) (void)describe(*e);
    (void)pfkey::to_event(*m, m->pid, pfkey::Marking{});
    return 0;
}
