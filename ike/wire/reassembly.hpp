// Reassembly of IKE fragments (RFC 7383 2.6) as a plain value with no clock and no I/O.
//
// The engine keeps one FragmentReassembler per IKE SA and direction and feeds it fragments that
// open_skf() has already authenticated and decrypted. The reassembler only collects: it checks the
// fragment numbering, ignores duplicates, lets a set with a larger Total Fragments replace the one
// being collected (the sender re-fragmented smaller after PMTU trouble, RFC 7383 2.5.2) while a
// smaller total is refused, and bounds memory by a fragment count and a byte budget. Deciding which
// message ids are acceptable, discarding a stale set after a timeout, and answering retransmits of
// fragment 1 (RFC 7383 2.6.1) stay with the engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "common/types.hpp"
#include "ike/wire/encrypted.hpp"

namespace ikemesh::wire {

struct ReassemblyLimits {
    uint16_t max_fragments = 64;   // Total Fragments above this is refused
    size_t max_bytes = 64 * 1024;  // decrypted octets held at once; an IKE message fits in 64 KiB
};

class FragmentReassembler {
  public:
    explicit FragmentReassembler(ReassemblyLimits limits = {}) : limits_(limits) {}

    // Adds one decrypted fragment of message `id`. A fragment of another message id than the set
    // being collected starts a new set (the engine passes only ids it accepts). Returns
    //  - the complete inner chain once every fragment 1..total is present; it views storage owned
    //    by the reassembler, valid until the next add() or reset();
    //  - Errc::fragment_incomplete while fragments are missing (also for an ignored duplicate);
    //  - Errc::fragment_invalid for a fragment that is dropped: number 0 or above the total, a
    //    total smaller than the set's, more fragments or octets than the limits allow (the set
    //    being collected is then discarded as well).
    Result<OpenedChain> add(MessageId id, const OpenedFragment& fragment);

    void reset();
    bool collecting() const { return total_ != 0; }
    MessageId message_id() const { return id_; }
    uint16_t total() const { return total_; }
    uint16_t received() const { return received_; }

  private:
    struct Slot {
        size_t offset = 0;
        size_t size = 0;
        bool present = false;
    };

    ReassemblyLimits limits_;
    MessageId id_;
    uint16_t total_ = 0;  // 0: nothing being collected
    uint16_t received_ = 0;
    PayloadType first_ = PayloadType::none;
    std::vector<Slot> slots_;  // index = fragment number - 1
    Bytes data_;               // fragment bodies in arrival order
    Bytes assembled_;          // the last completed chain
};

}  // namespace ikemesh::wire
