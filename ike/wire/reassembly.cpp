#include "ike/wire/reassembly.hpp"

#include <string>

namespace ikemesh::wire {

void FragmentReassembler::reset() {
    id_ = MessageId{};
    total_ = 0;
    received_ = 0;
    first_ = PayloadType::none;
    slots_.clear();
    data_.clear();
}

Result<OpenedChain> FragmentReassembler::add(MessageId id, const OpenedFragment& f) {
    if (f.number == 0 || f.total == 0 || f.number > f.total) {
        return Error{Errc::fragment_invalid,
                     "fragment " + std::to_string(f.number) + " of " + std::to_string(f.total)};
    }
    if (f.total > limits_.max_fragments) {
        return Error{Errc::fragment_invalid,
                     "total of " + std::to_string(f.total) + " fragments exceeds the limit"};
    }
    if (collecting() && id == id_) {
        // RFC 7383 2.5.2/2.6: a larger total means the sender re-fragmented (smaller fragments);
        // the old set is useless. A smaller total belongs to an older attempt.
        if (f.total < total_) {
            return Error{Errc::fragment_invalid, "total " + std::to_string(f.total) +
                                                     " smaller than the set's " +
                                                     std::to_string(total_)};
        }
        if (f.total > total_) reset();
    } else if (collecting()) {
        reset();
    }
    if (!collecting()) {
        id_ = id;
        total_ = f.total;
        slots_.assign(f.total, Slot{});
    }

    Slot& slot = slots_[f.number - 1];
    if (slot.present) return Errc::fragment_incomplete;  // a duplicate: keep the first copy
    if (data_.size() + f.data.size() > limits_.max_bytes) {
        reset();
        return Error{Errc::fragment_invalid, "fragments exceed the reassembly byte limit"};
    }
    slot.offset = data_.size();
    slot.size = f.data.size();
    slot.present = true;
    data_.insert(data_.end(), f.data.begin(), f.data.end());
    if (f.number == 1) first_ = f.first;
    if (++received_ < total_) return Errc::fragment_incomplete;

    assembled_.clear();
    for (const Slot& s : slots_) {
        assembled_.insert(assembled_.end(), data_.begin() + static_cast<ptrdiff_t>(s.offset),
                          data_.begin() + static_cast<ptrdiff_t>(s.offset + s.size));
    }
    OpenedChain out{first_, assembled_};
    reset();
    return out;
}

}  // namespace ikemesh::wire
