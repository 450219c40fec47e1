// libFuzzer harness for IKE fragment reassembly (RFC 7383 2.6): the input is split into fragment
// records [message id (1) | number (2) | total (2) | first payload (1) | length (1) | data] fed to
// one FragmentReassembler with small limits; each completed chain is parsed. Invariants (a
// violation traps): a completed chain never exceeds the byte limit, and the reassembler never
// holds more fragments than the set's total.
#include <cstdint>

#include "ike/wire/parse.hpp"
#include "ike/wire/reassembly.hpp"

using namespace ikemesh;
using namespace ikemesh::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    constexpr ReassemblyLimits kLimits{16, 1024};
    FragmentReassembler reassembler(kLimits);
    ByteReader r(ByteView(data, size));
    while (r.remaining() >= 7) {
        const MessageId id{r.u8()};
        OpenedFragment f;
        f.number = r.u16();
        f.total = r.u16();
        f.first = static_cast<PayloadType>(r.u8());
        f.data = r.bytes(r.u8());
        if (!r.ok()) break;
        auto done = reassembler.add(id, f);
        if (reassembler.received() > reassembler.total()) __builtin_trap();
        if (!done) continue;
        if (done->chain.size() > kLimits.max_bytes) __builtin_trap();
        PayloadList list;
        (void)parse_payloads(done->first, done->chain, list);
    }
    return 0;
}
